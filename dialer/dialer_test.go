package dialer_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

func long(dialer.Call) behavior { return behavior{ring: 2 * time.Second, talk: 10 * time.Minute} }

// The seed's narrative: capacity 6, 100 calls queued; with 2 calls held by
// another app 4 start; with 5 held, 1 starts; then up to 6 run at once.
func TestSeedNarrative(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(6, long)
		r := newRig(t, "", dialer.Config{Capacity: 6}, fp)
		defer r.close()

		r.setExternal(2) // t1: BizPhone holds 2 calls
		st := r.submit("k", requestBody("_call_request_1", 100, "+849176", ""))
		if st.Status != dialer.RequestSubmitted || len(st.Details) != 100 || st.Details[0].Status != dialer.DestQueued {
			t.Fatalf("submit answer: status %q, %d details", st.Status, len(st.Details))
		}
		synctest.Wait()
		if cur, peak, _, _ := fp.snapshot(); cur != 4 || peak != 4 {
			t.Fatalf("t1: %d calls in flight (peak %d), want 4", cur, peak)
		}
		if ts := r.trunk(); ts.Active != 4 || ts.Free != 0 || ts.Queued != 96 || ts.ExternalBusy != 2 || ts.Capacity != 6 {
			t.Fatalf("t1 trunk %+v", ts)
		}

		r.setExternal(5) // t2: BizPhone holds 5 calls
		synctest.Wait()
		if cur, _, _, _ := fp.snapshot(); cur != 4 {
			t.Fatalf("raising externalBusy must not start calls: %d in flight", cur)
		}
		fp.resetPeak()
		time.Sleep(10*time.Minute + 3*time.Second) // the 4 calls end
		synctest.Wait()
		if cur, peak, _, _ := fp.snapshot(); cur != 1 || peak > 4 {
			t.Fatalf("t2: %d calls in flight (peak %d), want 1", cur, peak)
		}
		if ts := r.trunk(); ts.Free != 0 || ts.Active != 1 {
			t.Fatalf("t2 trunk %+v", ts)
		}

		r.setExternal(0) // the other app hangs up: up to 6 run
		synctest.Wait()
		if cur, _, _, _ := fp.snapshot(); cur != 6 {
			t.Fatalf("after externalBusy 0: %d in flight, want 6", cur)
		}
		for r.status("k", "_call_request_1").Status != dialer.RequestCompleted {
			time.Sleep(time.Minute)
		}
		_, peak, violations, dials := fp.snapshot()
		if len(violations) > 0 || peak != 6 || dials != 100 {
			t.Fatalf("peak %d, dials %d, violations %v", peak, dials, violations)
		}
		for _, d := range r.status("k", "_call_request_1").Details {
			if d.Status != dialer.DestCompleted || d.Attempts != 1 || d.CallStatus != dialer.OutcomeAnswered {
				t.Fatalf("detail %+v", d)
			}
		}
	})
}

// 1000 destinations in several requests, random durations and outcomes,
// externalBusy changing while they run: the limit holds at every start.
func TestCapacityNeverExceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		durations := make(map[string]behavior)
		script := func(c dialer.Call) behavior { return durations[c.Phone] }
		fp := newFakePlacer(6, script)
		r := newRig(t, "", dialer.Config{Capacity: 6}, fp)
		defer r.close()
		ids := []string{"a", "b", "c", "d", "e"}
		prefix := func(i int) string { return "+8491" + string(rune('1'+i)) }
		for i := range ids {
			for j := range 200 {
				b := behavior{ring: time.Duration(rng.IntN(5000)) * time.Millisecond, talk: time.Duration(1+rng.IntN(120)) * time.Second}
				if rng.IntN(10) == 0 {
					b.err = sipError{486}
				}
				durations[phonef(prefix(i), j)] = b
			}
		}
		for i, id := range ids {
			r.submit("k", requestBody(id, 200, prefix(i), ""))
		}
		for ts := r.trunk(); ts.Queued > 0 || ts.Active > 0; ts = r.trunk() {
			r.setExternal(rng.IntN(5))
			time.Sleep(time.Duration(5+rng.IntN(60)) * time.Second)
		}
		if !allDone(r, ids) {
			t.Fatal("queue drained but requests are not completed")
		}
		_, peak, violations, dials := fp.snapshot()
		if len(violations) > 0 {
			t.Fatalf("%d violations, first: %s", len(violations), violations[0])
		}
		if peak > 6 || peak < 2 || dials != 1000 {
			t.Fatalf("peak %d, dials %d", peak, dials)
		}
		if ts := r.trunk(); ts.Active != 0 || ts.Queued != 0 {
			t.Fatalf("trunk after the run %+v", ts)
		}
	})
}

func phonef(prefix string, j int) string {
	const digits = "0123456789"
	b := []byte(prefix + "00000")
	for k := len(b) - 1; j > 0; k-- {
		b[k] = digits[j%10]
		j /= 10
	}
	return string(b)
}

func allDone(r *rig, ids []string) bool {
	for _, id := range ids {
		if r.status("k", id).Status != dialer.RequestCompleted {
			return false
		}
	}
	return true
}

// A big request submitted first does not starve a small one.
func TestRoundRobinAcrossRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(1, func(dialer.Call) behavior { return behavior{talk: time.Minute} })
		r := newRig(t, "", dialer.Config{Capacity: 1}, fp)
		defer r.close()
		r.submit("k", requestBody("big", 10, "+8411", ""))
		r.submit("k", requestBody("small", 3, "+8422", ""))
		for !allDone(r, []string{"big", "small"}) {
			time.Sleep(time.Minute)
		}
		var order []string
		synctest.Wait() // the placer goroutines are done with fp
		for _, c := range fp.dials {
			order = append(order, c.RequestID+":"+c.Phone[len(c.Phone)-1:])
		}
		want := []string{"big:0", "small:0", "big:1", "small:1", "big:2", "small:2", "big:3", "big:4"}
		for i, w := range want {
			if order[i] != w {
				t.Fatalf("dial order %v, want it to start with %v", order, want)
			}
		}
	})
}

// Retries follow the policy: only the listed outcomes, at most maxAttempts,
// spaced by interval after the previous attempt ended, never overlapping.
func TestRetriesAndSpacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := map[string]int{}
		script := func(c dialer.Call) behavior {
			calls[c.Phone]++
			switch c.Phone {
			case "+8433300000": // always busy
				return behavior{ring: 3 * time.Second, err: sipError{486}}
			case "+8433300001": // 480: noAnswer, not retried by this policy
				return behavior{ring: 3 * time.Second, err: sipError{480}}
			case "+8433300002": // busy, then answers
				if calls[c.Phone] == 1 {
					return behavior{ring: time.Second, err: sipError{600}}
				}
			}
			return behavior{talk: 5 * time.Second}
		}
		fp := newFakePlacer(6, script)
		r := newRig(t, "", dialer.Config{Capacity: 6}, fp)
		defer r.close()
		r.submit("k", requestBody("retry", 3, "+84333", `"retry": {"maxAttempts": 3, "interval": "2m", "on": ["busy", "failed"]}`))
		for !allDone(r, []string{"retry"}) {
			time.Sleep(10 * time.Second)
		}
		st := r.status("k", "retry")
		want := []struct {
			status, callStatus string
			attempts, sip      int
		}{
			{dialer.DestFailed, dialer.OutcomeBusy, 3, 486},
			{dialer.DestFailed, dialer.OutcomeNoAnswer, 1, 480},
			{dialer.DestCompleted, dialer.OutcomeAnswered, 2, 200},
		}
		for i, w := range want {
			d := st.Details[i]
			if d.Status != w.status || d.CallStatus != w.callStatus || d.Attempts != w.attempts || d.SIPCode != w.sip {
				t.Errorf("destination %d: %s/%s attempts %d sip %d; want %+v", i, d.Status, d.CallStatus, d.Attempts, d.SIPCode, w)
			}
		}
		synctest.Wait()
		starts, ends := fp.dialTimes["+8433300000"], fp.endTimes["+8433300000"]
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(ends[i-1]); gap != 2*time.Minute {
				t.Errorf("attempt %d started %s after the previous ended, want 2m", i+1, gap)
			}
		}
		if _, _, v, _ := fp.snapshot(); len(v) > 0 {
			t.Fatal(v)
		}
	})
}

// Cancel drops queued destinations and hangs up live calls.
func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(2, long)
		r := newRig(t, "", dialer.Config{Capacity: 2}, fp)
		defer r.close()
		r.submit("k", requestBody("c", 10, "+8444", ""))
		r.submit("k", requestBody("keep", 1, "+8455", ""))
		synctest.Wait()
		if _, err := r.d.Cancel(context.Background(), "other", "c"); err == nil {
			t.Fatal("another key cancelled the request")
		}
		st, err := r.d.Cancel(context.Background(), "k", "c")
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != dialer.RequestCancelled {
			t.Fatalf("status after cancel %q", st.Status)
		}
		for i, d := range st.Details {
			if d.Status != dialer.DestCancelled || d.CallStatus == "" {
				t.Fatalf("destination %d after cancel: %+v", i, d)
			}
		}
		if st.Details[0].Attempts != 1 || st.Details[0].HangupCause != dialer.CauseCancelled || st.Details[0].CallState != dialer.StateEnded {
			t.Fatalf("live call after cancel: %+v", st.Details[0])
		}
		synctest.Wait()
		_, _, _, dials := fp.snapshot()
		if dials != 3 { // 2 of "c" that were live, then "keep"
			t.Fatalf("%d dials, want 3", dials)
		}
		if ts := r.trunk(); ts.Queued != 0 || ts.Active != 1 {
			t.Fatalf("trunk after cancel %+v", ts)
		}
	})
}

// A 503 requeues the destination without spending a retry and shrinks the
// trunk for a while.
func TestCapacityRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(3, func(c dialer.Call) behavior {
			if c.Phone == "+846600000" && c.Attempt == 1 {
				return behavior{err: sipError{503}}
			}
			return behavior{talk: 10 * time.Minute}
		})
		r := newRig(t, "", dialer.Config{Capacity: 3, CapacityBackoff: time.Minute}, fp)
		defer r.close()
		r.submit("k", requestBody("cap", 5, "+8466", ""))
		synctest.Wait()
		// Effective capacity is 2 for a minute.
		if cur, _, _, _ := fp.snapshot(); cur != 2 {
			t.Fatalf("%d in flight after a 503, want 2", cur)
		}
		d0 := r.status("k", "cap").Details[0]
		if d0.Status != dialer.DestQueued || d0.SIPCode != 503 || d0.HangupCause != dialer.CauseCapacity ||
			len(d0.CallFlowSteps) != 1 || d0.CallFlowSteps[0].Info.Status != flow.StatusConcurrentCallLimit {
			t.Fatalf("refused destination %+v", d0)
		}
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		if cur, _, _, _ := fp.snapshot(); cur != 3 {
			t.Fatalf("%d in flight after the backoff, want 3", cur)
		}
		for !allDone(r, []string{"cap"}) {
			time.Sleep(time.Minute)
		}
		d0 = r.status("k", "cap").Details[0]
		if d0.Status != dialer.DestCompleted || d0.Attempts != 2 {
			t.Fatalf("refused destination at the end %+v", d0)
		}
	})
}

// The dialer enforces the ring timeout and the maximum duration itself.
func TestRingTimeoutAndMaxDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(6, func(c dialer.Call) behavior {
			if c.Phone == "+8477700000" {
				return behavior{hangWait: true}
			}
			return behavior{ring: 4 * time.Second, talk: time.Hour}
		})
		r := newRig(t, "", dialer.Config{Capacity: 6}, fp)
		defer r.close()
		r.submit("k", requestBody("t", 2, "+84777", `"ringTimeout": "20s", "maxCallDuration": "1m"`))
		for !allDone(r, []string{"t"}) {
			time.Sleep(time.Second)
		}
		st := r.status("k", "t")
		d := st.Details[0]
		if d.Status != dialer.DestFailed || d.CallStatus != dialer.OutcomeNoAnswer || d.HangupCause != dialer.CauseRingTimeout || d.DurationSec != 20 {
			t.Fatalf("unanswered call %+v", d)
		}
		d = st.Details[1]
		if d.Status != dialer.DestCompleted || d.HangupCause != dialer.CauseMaxDuration || d.BillSec != 60 || d.HangupBy != dialer.ByEngine {
			t.Fatalf("endless call %+v", d)
		}
	})
}

// The answered part runs the flow; its steps are stored as they happen and
// appear in the status with their paths.
func TestFlowStepsAreStored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePlacer(6, func(dialer.Call) behavior { return behavior{ring: time.Second, runFlow: true} })
		r := newRig(t, "", dialer.Config{Capacity: 6}, fp)
		defer r.close()
		r.submit("k", requestBody("f", 1, "+8488", ""))
		time.Sleep(4 * time.Second) // answered at 1s, play takes 2s, gather runs
		synctest.Wait()
		d := r.status("k", "f").Details[0]
		if d.Status != dialer.DestOnProgress || d.CallState != dialer.StateOngoing || len(d.CallFlowSteps) != 1 {
			t.Fatalf("mid-call detail %+v", d)
		}
		for !allDone(r, []string{"f"}) {
			time.Sleep(time.Second)
		}
		d = r.status("k", "f").Details[0]
		var paths []string
		for _, s := range d.CallFlowSteps {
			paths = append(paths, s.StepName+"@"+s.StepPath)
		}
		want := "[play@steps[0] gather@steps[1] play@steps[1].branches[0].steps[0]]"
		if got := fmtSlice(paths); got != want {
			t.Fatalf("steps %s, want %s", got, want)
		}
		if d.CallFlowSteps[1].Info.UserPressedDigits != "1" || d.Status != dialer.DestCompleted || d.BillSec != 7 {
			t.Fatalf("final detail %+v", d)
		}
	})
}

func fmtSlice(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
