package dialer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// dial runs one attempt of it and reports whether (and when) the destination
// is dialed again.
func (d *Dialer) dial(it *item, lc *liveCall) (requeue bool, at time.Time) {
	// Store writes outlive a cancelled call: its end must be recorded.
	bg := context.WithoutCancel(lc.ctx)
	r := it.req.req
	callID := newCallID()
	rec := ""
	if r.EnableCallRecording && d.cfg.RecordingDir != "" {
		rec = filepath.Join(d.cfg.RecordingDir, callID+".wav")
	}
	now := d.clock.Now()
	st, err := d.store.StartAttempt(bg, AttemptStart{DestPK: it.destPK, CallID: callID, RecordingPath: rec, At: now})
	if errors.Is(err, ErrNotQueued) {
		return false, time.Time{}
	}
	if err != nil {
		d.log.Error("open attempt", "destPK", it.destPK, "err", err)
		return true, now.Add(storeRetryDelay)
	}
	it.counted = st.Counted
	end := AttemptEnd{AttemptPK: st.AttemptPK, DestPK: it.destPK, Monitors: []Monitor{{UUID: callID, Type: "call", Dest: st.Destination.Phone}}}
	if cause := context.Cause(lc.ctx); cause != nil {
		if errors.Is(cause, errShutdown) {
			return false, time.Time{} // left open: the next Start closes it
		}
		return d.finish(bg, it, end, Classify(false, Result{}, nil, cause), nil)
	}
	f, err := flow.RenderFlow(&r.CallFlow, st.Destination)
	if err != nil {
		d.log.Error("render flow", "destPK", it.destPK, "err", err)
		return d.finish(bg, it, end, Outcome{CallStatus: OutcomeFailed, HangupCause: CauseError}, nil)
	}
	call := Call{
		ID: callID, RequestID: it.req.id, Attempt: st.Number,
		Phone: st.Destination.Phone, Caller: st.Destination.Caller, Flow: f,
		Properties:    st.Destination.Properties,
		RecordingPath: rec,
		RingTimeout:   orDur(r.RingTimeout, flow.DefaultRingTimeout),
		MaxDuration:   orDur(r.MaxCallDuration, flow.DefaultMaxCallDuration),
	}
	p := &progress{d: d, lc: lc, bg: bg, attemptPK: st.AttemptPK, call: call, monitors: end.Monitors}
	p.mu.Lock()
	p.ring = d.clock.AfterFunc(call.RingTimeout, p.ringTimeout)
	p.mu.Unlock()
	res, perr := d.placer.Place(lc.ctx, call, p)
	answered, monitors := p.stop()
	cause := context.Cause(lc.ctx)
	if errors.Is(cause, errShutdown) {
		return false, time.Time{}
	}
	end.Monitors = monitors
	o := Classify(answered, res, perr, cause)
	if perr != nil {
		d.log.Debug("call ended with error", "callId", callID, "err", perr)
	}
	var recd *Recording
	if res.Recorded && rec != "" {
		recd = describeRecording(rec)
	}
	return d.finish(bg, it, end, o, recd)
}

// finish decides the destination's next status from o and stores the end.
func (d *Dialer) finish(ctx context.Context, it *item, end AttemptEnd, o Outcome, rec *Recording) (bool, time.Time) {
	now := d.clock.Now()
	end.CallStatus, end.SIPCode, end.HangupCause, end.HangupBy = o.CallStatus, o.SIPCode, o.HangupCause, o.HangupBy
	end.At, end.Recording = now, rec
	policy := it.req.req.Retry
	switch {
	case o.HangupCause == CauseCancelled:
		end.Next = DestCancelled
	case o.Capacity:
		backoff := o.RetryAfter
		if backoff <= 0 {
			backoff = d.cfg.CapacityBackoff
		}
		d.shrinkCapacity(now, backoff)
		end.Refused, end.Next, end.NextAt = true, DestQueued, now.Add(backoff)
		end.Steps = []flow.StepResult{refusalStep(it.req.req)}
	case o.CallStatus == OutcomeAnswered:
		end.Next = DestCompleted
	case shouldRetry(policy, it.counted, o.CallStatus):
		end.Next, end.NextAt = DestQueued, now.Add(retryInterval(policy))
	default:
		end.Next = DestFailed
	}
	if err := d.store.EndAttempt(ctx, end); err != nil {
		// The attempt stays open; the next Start closes it as engine_restart.
		d.log.Error("close attempt", "attemptPK", end.AttemptPK, "err", err)
		return false, time.Time{}
	}
	d.obs.CallEnded(o.CallStatus)
	return end.Next == DestQueued, end.NextAt
}

// refusalStep is the step result recorded when the trunk refused a call for
// capacity: the first step could not run.
func refusalStep(r *flow.Request) flow.StepResult {
	name := "dial"
	if len(r.CallFlow.Steps) > 0 {
		name = r.CallFlow.Steps[0].Name
	}
	return flow.StepResult{StepName: name, StepPath: "steps[0]", Info: flow.StepInfo{
		CallState: flow.CallStateEnded, CallStatus: OutcomeFailed, Status: flow.StatusConcurrentCallLimit,
	}}
}

func orDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// progress is the Progress of one attempt; it enforces the ring timeout and
// the maximum duration through the call's context.
//
// Answered does not wait for the store: its write runs on a goroutine so
// that the flow starts playing at once. Every later write of the attempt
// (Ringing, Step, and the end, which follows stop) first waits for that write
// through awaitAnswered, so the stored rows and events keep the call's order.
type progress struct {
	d         *Dialer
	lc        *liveCall
	bg        context.Context
	attemptPK int64
	call      Call

	mu       sync.Mutex
	rang     bool
	answered bool
	timedOut bool
	stopped  bool
	ring     Timer
	maxDur   Timer
	lastStep time.Time
	monitors []Monitor
	// answerWritten is closed when Answered's store write has finished; nil
	// before Answered.
	answerWritten chan struct{}
}

// awaitAnswered waits until Answered's store write, if any, has finished.
func (p *progress) awaitAnswered() {
	p.mu.Lock()
	done := p.answerWritten
	p.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (p *progress) ringTimeout() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.answered && !p.stopped {
		p.timedOut = true
		p.lc.cancel(errRingTimeout)
	}
}

func (p *progress) maxDuration() { p.lc.cancel(errMaxDuration) }

// Ringing records the ringing state once (180 and 183 may both arrive).
func (p *progress) Ringing() {
	p.mu.Lock()
	again := p.rang || p.answered || p.stopped
	p.rang = true
	p.mu.Unlock()
	if again {
		return
	}
	p.awaitAnswered()
	if err := p.d.store.MarkAttempt(p.bg, p.attemptPK, StateRinging, p.d.clock.Now()); err != nil {
		p.d.log.Error("store ringing", "attemptPK", p.attemptPK, "err", err)
	}
}

// Answered stops the ring timer and starts the maximum duration, then
// records the answer in the background: it returns without waiting for the
// store, and the attempt's later writes wait for this one.
func (p *progress) Answered() {
	p.mu.Lock()
	if p.answered || p.timedOut || p.stopped {
		p.mu.Unlock()
		return
	}
	p.answered = true
	p.ring.Stop()
	p.maxDur = p.d.clock.AfterFunc(p.call.MaxDuration, p.maxDuration)
	now := p.d.clock.Now()
	p.lastStep = now
	done := make(chan struct{})
	p.answerWritten = done
	p.mu.Unlock()
	go func() {
		defer close(done)
		if err := p.d.store.MarkAttempt(p.bg, p.attemptPK, StateOngoing, now); err != nil {
			p.d.log.Error("store answered", "attemptPK", p.attemptPK, "err", err)
		}
	}()
}

// Step stores one step result and observes its duration.
func (p *progress) Step(r flow.StepResult) {
	now := p.d.clock.Now()
	p.mu.Lock()
	since := now.Sub(p.lastStep)
	p.lastStep = now
	p.mu.Unlock()
	p.d.obs.StepDone(r.StepName, since)
	p.awaitAnswered()
	if err := p.d.store.AddStep(p.bg, p.attemptPK, r, now); err != nil {
		p.d.log.Error("store step", "attemptPK", p.attemptPK, "err", err)
	}
}

// Leg remembers another call leg for monitorData.
func (p *progress) Leg(m Monitor) {
	p.mu.Lock()
	p.monitors = append(p.monitors, m)
	p.mu.Unlock()
}

// stop ends the timers, waits for Answered's store write (so the attempt's
// end is stored after it and no write outlives the call) and returns what
// the call reached.
func (p *progress) stop() (answered bool, monitors []Monitor) {
	p.mu.Lock()
	p.stopped = true
	p.ring.Stop()
	if p.maxDur != nil {
		p.maxDur.Stop()
	}
	answered, monitors = p.answered, p.monitors
	p.mu.Unlock()
	p.awaitAnswered()
	return answered, monitors
}

// describeRecording measures a final recording; nil when it is unreadable.
func describeRecording(path string) *Recording {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil
	}
	const wavHeader, bytesPerSec = 44, 8000 * 2 * 2 // stereo 8 kHz 16-bit
	return &Recording{Path: path, Size: n, DurationSec: float64(max(0, n-wavHeader)) / bytesPerSec, SHA256: hex.EncodeToString(h.Sum(nil))}
}

// newCallID returns a random UUID (version 4).
func newCallID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
