package main

import (
	"os"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

// TestMain shortens sipgo's process-global timers once (T1 = 50 ms, so
// Timer B is 3.2 s and the unreachable-trunk test does not wait 32 s), and
// checks that no goroutine outlives the servers the tests started.
func TestMain(m *testing.M) {
	sipmsg.SetTimers(50*time.Millisecond, 200*time.Millisecond, 250*time.Millisecond)
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener")); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
