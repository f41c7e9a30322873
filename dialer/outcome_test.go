package dialer_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

// outcomeErr is an error that names its outcome, as a SIP layer's no-response
// error would.
type outcomeErr string

func (e outcomeErr) Error() string   { return string(e) }
func (e outcomeErr) Outcome() string { return string(e) }

// retryAfterErr is a 503 carrying Retry-After.
type retryAfterErr struct{ after time.Duration }

func (e retryAfterErr) Error() string             { return "503 service unavailable" }
func (e retryAfterErr) SIPStatus() int            { return 503 }
func (e retryAfterErr) RetryAfter() time.Duration { return e.after }

func TestClassify(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("invite: %w", err) }
	tests := []struct {
		name     string
		answered bool
		res      dialer.Result
		err      error
		want     dialer.Outcome
	}{
		{"486 busy", false, dialer.Result{}, wrap(sipError{486}), dialer.Outcome{CallStatus: "busy", SIPCode: 486, HangupCause: "busy"}},
		{"600 busy everywhere", false, dialer.Result{}, sipError{600}, dialer.Outcome{CallStatus: "busy", SIPCode: 600, HangupCause: "busy"}},
		{"603 declined", false, dialer.Result{}, sipError{603}, dialer.Outcome{CallStatus: "declined", SIPCode: 603, HangupCause: "declined"}},
		{"408 no answer", false, dialer.Result{}, sipError{408}, dialer.Outcome{CallStatus: "noAnswer", SIPCode: 408, HangupCause: "no_answer"}},
		{"480 no answer", false, dialer.Result{}, sipError{480}, dialer.Outcome{CallStatus: "noAnswer", SIPCode: 480, HangupCause: "no_answer"}},
		{"404 invalid", false, dialer.Result{}, sipError{404}, dialer.Outcome{CallStatus: "failed", SIPCode: 404, HangupCause: "invalid_number"}},
		{"484 invalid", false, dialer.Result{}, sipError{484}, dialer.Outcome{CallStatus: "failed", SIPCode: 484, HangupCause: "invalid_number"}},
		{"604 invalid", false, dialer.Result{}, sipError{604}, dialer.Outcome{CallStatus: "failed", SIPCode: 604, HangupCause: "invalid_number"}},
		{"500 failed", false, dialer.Result{}, sipError{500}, dialer.Outcome{CallStatus: "failed", SIPCode: 500, HangupCause: "error"}},
		{"503 capacity", false, dialer.Result{}, wrap(sipError{503}), dialer.Outcome{CallStatus: "failed", SIPCode: 503, HangupCause: "capacity", Capacity: true}},
		{"503 retry-after", false, dialer.Result{}, retryAfterErr{time.Minute}, dialer.Outcome{CallStatus: "failed", SIPCode: 503, HangupCause: "capacity", Capacity: true, RetryAfter: time.Minute}},
		{"ErrCapacity", false, dialer.Result{}, wrap(dialer.ErrCapacity), dialer.Outcome{CallStatus: "failed", SIPCode: 503, HangupCause: "capacity", Capacity: true}},
		{"other capacity refusal", false, dialer.Result{}, wrap(outcomeErr("capacity")), dialer.Outcome{CallStatus: "failed", SIPCode: 503, HangupCause: "capacity", Capacity: true}},
		{"no response", false, dialer.Result{}, wrap(outcomeErr("unreachable")), dialer.Outcome{CallStatus: "unreachable", HangupCause: "unreachable"}},
		{"deadline", false, dialer.Result{}, context.DeadlineExceeded, dialer.Outcome{CallStatus: "noAnswer", HangupCause: "no_answer"}},
		{"unknown error", false, dialer.Result{}, errors.New("boom"), dialer.Outcome{CallStatus: "failed", HangupCause: "error"}},
		{"answered normal", true, dialer.Result{SIPCode: 200, HangupBy: "engine"}, nil, dialer.Outcome{CallStatus: "answered", SIPCode: 200, HangupCause: "normal", HangupBy: "engine"}},
		{"answered callee hangup", true, dialer.Result{}, wrap(flow.ErrHangup), dialer.Outcome{CallStatus: "answered", SIPCode: 200, HangupCause: "normal", HangupBy: "callee"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialer.Classify(tt.answered, tt.res, tt.err, nil); got != tt.want {
				t.Fatalf("Classify = %+v, want %+v", got, tt.want)
			}
		})
	}
}
