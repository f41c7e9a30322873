package dialer_test

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/store"
)

// The engine dies mid-run (database closed under it, calls dropped); a new
// dialer on the same file closes the live attempts as failed/engine_restart,
// retries them only where the policy allows, and finishes the rest: no
// destination lost, none dialed twice at once.
func TestRestartRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), store.FileName)
		fp := newFakePlacer(3, long)
		r1 := newRig(t, path, dialer.Config{Capacity: 3}, fp)
		r1.setExternal(3) // hold the slots until both requests are queued
		r1.submit("k", requestBody("retrying", 10, "+8411", `"retry": {"maxAttempts": 2, "interval": "1m", "on": ["failed"]}`))
		r1.submit("k", requestBody("plain", 5, "+8422", ""))
		r1.setExternal(0)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		live := map[string]bool{}
		for _, c := range fp.dials {
			live[c.Phone] = true
		}
		if len(live) != 3 {
			t.Fatalf("%d calls live before the crash, want 3", len(live))
		}

		// Crash: the database goes away first, then the process's calls drop.
		r1.db.Close()
		r1.d.Close()

		r2 := newRig(t, path, dialer.Config{Capacity: 3}, fp)
		defer r2.close()
		st := r2.status("k", "plain")
		if d := st.Details[0]; d.Status != dialer.DestFailed || d.CallStatus != dialer.OutcomeFailed ||
			d.HangupCause != dialer.CauseEngineRestart || d.EndedAt == nil {
			t.Fatalf("interrupted call without retry after restart: %+v", d)
		}
		for !allDone(r2, []string{"retrying", "plain"}) {
			time.Sleep(time.Minute)
		}
		_, _, violations, dials := fp.snapshot()
		if len(violations) > 0 {
			t.Fatalf("violations: %v", violations)
		}
		retried := 0
		for _, id := range []string{"retrying", "plain"} {
			for _, d := range r2.status("k", id).Details {
				switch {
				case !live[d.Destination]:
					if d.Status != dialer.DestCompleted || d.Attempts != 1 {
						t.Errorf("%s %s: %s after %d attempts, want completed after 1", id, d.Destination, d.Status, d.Attempts)
					}
				case id == "retrying":
					retried++
					if d.Status != dialer.DestCompleted || d.Attempts != 2 {
						t.Errorf("interrupted %s: %s after %d attempts, want completed after 2", d.Destination, d.Status, d.Attempts)
					}
				default:
					if d.Status != dialer.DestFailed || d.Attempts != 1 || d.HangupCause != dialer.CauseEngineRestart {
						t.Errorf("interrupted %s without retry: %+v", d.Destination, d)
					}
				}
			}
		}
		if want := 15 + retried; dials != want {
			t.Fatalf("%d dials, want %d (every destination once, plus %d retries)", dials, want, retried)
		}
		if retried != 2 {
			t.Fatalf("%d interrupted destinations of the retrying request, want 2 (round-robin)", retried)
		}
	})
}

// A retry that was waiting when the engine stopped keeps its spacing after a
// restart, and a plain stop (Close) is recovered like a crash.
func TestRestartKeepsRetrySpacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), store.FileName)
		busyOnce := func(c dialer.Call) behavior {
			if c.Attempt == 1 {
				return behavior{ring: time.Second, err: sipError{486}}
			}
			return behavior{talk: time.Minute}
		}
		fp := newFakePlacer(6, busyOnce)
		r1 := newRig(t, path, dialer.Config{Capacity: 6}, fp)
		r1.submit("k", requestBody("wait", 1, "+8411", `"retry": {"maxAttempts": 2, "interval": "10m", "on": ["busy"]}`))
		time.Sleep(time.Minute) // busy at 1 s; the retry is due at 10 m 1 s
		synctest.Wait()
		r1.close()
		stopped := time.Now()

		r2 := newRig(t, path, dialer.Config{Capacity: 6}, fp)
		defer r2.close()
		if ts := r2.trunk(); ts.Queued != 1 {
			t.Fatalf("trunk after restart %+v, want the waiting retry queued", ts)
		}
		for !allDone(r2, []string{"wait"}) {
			time.Sleep(30 * time.Second)
		}
		synctest.Wait()
		starts := fp.dialTimes["+841100000"]
		if len(starts) != 2 {
			t.Fatalf("%d dials, want 2", len(starts))
		}
		if gap := starts[1].Sub(fp.endTimes["+841100000"][0]); gap != 10*time.Minute {
			t.Fatalf("retry %s after the busy attempt (restart at %s), want 10m", gap, stopped.Sub(starts[0]))
		}
	})
}
