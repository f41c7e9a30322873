package sip_test

import (
	"os"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

// TestMain shortens sipgo's process-global timers once, before any test runs:
// with T1 = 50 ms, Timer B/F/M (64*T1) last 3.2 s instead of 32 s, so the
// unreachable-trunk and late-2xx tests finish quickly. Library code never
// touches these timers.
func TestMain(m *testing.M) {
	sipmsg.SetTimers(50*time.Millisecond, 200*time.Millisecond, 250*time.Millisecond)
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreCurrent()); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
