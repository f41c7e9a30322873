package webhook_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialflow/dialflow/api"
	"github.com/dialflow/dialflow/webhook"
)

// Environment of the child process.
const (
	childDirEnv = "DIALFLOW_WEBHOOK_KILL_DIR"
	childURLEnv = "DIALFLOW_WEBHOOK_KILL_URL"
	killCalls   = 3
)

// runKillChild is the child of TestKilledWithEventsPending: the engine
// side. It stores calls whose events are pending, starts delivering them,
// says "ready" and waits to be SIGKILLed.
func runKillChild() {
	ctx := context.Background()
	tb := &childTB{}
	db := openStore(tb, os.Getenv(childDirEnv))
	if err := storeCalls(ctx, db, "killed", os.Getenv(childURLEnv), killCalls); err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	runDeliverer(tb, webhook.Config{Outbox: db, Poll: 5 * time.Millisecond, Concurrency: 2})
	fmt.Println("ready")
	select {} // until SIGKILL
}

// childTB satisfies the helpers' testing.TB in the child process.
type childTB struct{ testing.TB }

func (*childTB) Helper()               {}
func (*childTB) Cleanup(func())        {}
func (*childTB) Fatal(a ...any)        { fmt.Println("fatal:", fmt.Sprint(a...)); os.Exit(2) }
func (*childTB) Errorf(string, ...any) {}

// dialflow is SIGKILLed with events pending (one of them in flight); after
// a restart on the same database every event is delivered, in order per
// call, never under two ids.
func TestKilledWithEventsPending(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	rx := newHookReceiver(t, nil)
	hang := make(chan struct{})
	var accepted int
	rx.setGate(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		rx.mu.Lock() // setGate's lock is not held while gates run
		accepted++
		n := accepted
		rx.mu.Unlock()
		if n <= 4 {
			return false // the first deliveries get through
		}
		select { // then the receiver stalls: deliveries stay in flight
		case <-hang:
		case <-r.Context().Done():
		}
		return true
	})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childDirEnv+"="+dir, childURLEnv+"="+rx.url())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("child said %q (%v)", line, err)
	}
	waitFor(t, "deliveries stalled in flight", func() bool {
		rx.mu.Lock()
		defer rx.mu.Unlock()
		return accepted >= 5
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", werr)
	}
	close(hang)
	before := len(rx.deliveries())
	if before == 0 || before >= killCalls*eventsPerStoredCall {
		t.Fatalf("%d events delivered before the kill; want some, not all", before)
	}

	// Restart: the same database, a new sender.
	rx.setGate(nil)
	db := openStore(t, dir)
	_, stop := runDeliverer(t, webhook.Config{Outbox: db, Poll: 5 * time.Millisecond})
	defer stop()
	waitFor(t, "every event after the restart", func() bool { return countDistinct(t, rx) == killCalls*eventsPerStoredCall })
	calls := perCall(t, rx.deliveries())
	if len(calls) != killCalls {
		t.Fatalf("events of %d calls, want %d", len(calls), killCalls)
	}
	checkSequences(t, calls)
	p, err := db.ListEvents(context.Background(), api.OwnerID(apiKey), "killed", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all marked delivered", func() bool {
		p, err = db.ListEvents(context.Background(), api.OwnerID(apiKey), "killed", 0, 100)
		for _, e := range p.Events {
			if e.State != webhook.StateDelivered {
				return false
			}
		}
		return err == nil
	})
}
