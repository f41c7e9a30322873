package dialer

import (
	"context"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// Call is one attempt the dialer asks a Placer to make.
type Call struct {
	// ID is the call's unique id: the monitor uuid and the recording name.
	ID        string
	RequestID string
	// Attempt numbers the dials of this destination, starting at 1.
	Attempt int
	Phone   string
	Caller  string
	// Flow is the request's flow rendered for this destination.
	Flow *flow.Flow
	// Properties are the destination's properties (read-only).
	Properties map[string]string
	// RecordingPath is where the WAV goes; empty means do not record.
	RecordingPath string
	// RingTimeout and MaxDuration are enforced by the dialer too (it cancels
	// the context); a Placer may use them to send CANCEL or BYE itself.
	RingTimeout time.Duration
	MaxDuration time.Duration
}

// Progress receives what a call does while it runs. A Placer calls it from
// one goroutine at a time.
type Progress interface {
	// Ringing reports a provisional response (180/183).
	Ringing()
	// Answered reports the 2xx; the ring timeout stops and the maximum
	// duration starts.
	Answered()
	// Step stores one flow step result as soon as it is decided.
	Step(r flow.StepResult)
	// Leg reports another call leg, such as a transfer.
	Leg(m Monitor)
}

// Result is what a Placer reports about a call that ended.
type Result struct {
	// SIPCode is the final response code of the INVITE (200 when answered).
	SIPCode int
	// HangupCause overrides the cause the dialer derives (e.g. "normal").
	HangupCause string
	// HangupBy is "engine" or "callee" for an answered call.
	HangupBy string
	// Recorded reports that the recording file is final.
	Recorded bool
}

// Placer places one call, runs its flow once answered and returns when the
// call has ended. A failed call returns an error that may carry
// SIPStatus() int, Outcome() string or RetryAfter() time.Duration; see
// Classify. Place must return promptly once ctx is done.
type Placer interface {
	Place(ctx context.Context, c Call, p Progress) (Result, error)
}

// PlacerFunc adapts a function to Placer.
type PlacerFunc func(ctx context.Context, c Call, p Progress) (Result, error)

// Place calls f.
func (f PlacerFunc) Place(ctx context.Context, c Call, p Progress) (Result, error) {
	return f(ctx, c, p)
}

// Observer receives the dialer's gauges and counters (Prometheus metrics in
// production). Methods must be cheap and safe for concurrent use.
type Observer interface {
	// Trunk reports queue depth, active calls and free slots after a change.
	Trunk(queued, active, free int)
	// CallEnded counts one attempt by its call_status word.
	CallEnded(outcome string)
	// StepDone observes how long one flow step took.
	StepDone(step string, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) Trunk(int, int, int)            {}
func (nopObserver) CallEnded(string)               {}
func (nopObserver) StepDone(string, time.Duration) {}
