package webhook_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// childEnv switches the test binary into the child process of
// TestKilledWithEventsPending: it stores events, starts delivering, and
// waits to be killed.
const childEnv = "DIALFLOW_WEBHOOK_KILL_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runKillChild()
		return
	}
	goleak.VerifyTestMain(m)
}
