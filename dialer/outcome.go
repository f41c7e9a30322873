package dialer

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// Hangup causes recorded on attempts.
const (
	CauseNormal        = "normal"
	CauseBusy          = "busy"
	CauseNoAnswer      = "no_answer"
	CauseRingTimeout   = "ring_timeout"
	CauseDeclined      = "declined"
	CauseUnreachable   = "unreachable"
	CauseInvalidNumber = "invalid_number"
	CauseCapacity      = "capacity"
	CauseMaxDuration   = "max_duration"
	CauseCancelled     = "cancelled"
	CauseEngineRestart = "engine_restart"
	CauseError         = "error"
)

// Who hung up an answered call.
const (
	ByEngine = "engine"
	ByCallee = "callee"
)

// DefaultCapacityBackoff is how long a capacity refusal shrinks the trunk and
// delays the refused destination when the error gives no RetryAfter.
const DefaultCapacityBackoff = 30 * time.Second

// Outcome is the classification of one ended attempt.
type Outcome struct {
	// CallStatus is the call_status word (OutcomeAnswered, OutcomeBusy, ...).
	CallStatus  string
	SIPCode     int
	HangupCause string
	HangupBy    string
	// Capacity reports a capacity refusal: requeue, shrink the trunk.
	Capacity bool
	// RetryAfter is the wait the refusal asked for (0: the default).
	RetryAfter time.Duration
}

type sipStatuser interface{ SIPStatus() int }
type outcomer interface{ Outcome() string }
type retryAfterer interface{ RetryAfter() time.Duration }

// Classify turns what a Placer returned into an Outcome; it is the only place
// where SIP codes and errors become call statuses. answered says whether the
// call reached Answered; cause is context.Cause of the call's context.
func Classify(answered bool, res Result, err, cause error) Outcome {
	o := Outcome{SIPCode: res.SIPCode, HangupBy: res.HangupBy}
	var ra retryAfterer
	if errors.As(err, &ra) {
		o.RetryAfter = ra.RetryAfter()
	}
	code := 0
	var ss sipStatuser
	if errors.As(err, &ss) {
		code = ss.SIPStatus()
		o.SIPCode = code
	}
	switch {
	case errors.Is(cause, errCancelled):
		o.CallStatus, o.HangupCause, o.HangupBy = OutcomeCancelled, CauseCancelled, ByEngine
		if answered {
			o.CallStatus = OutcomeAnswered
		}
		return o
	case answered:
		o.CallStatus = OutcomeAnswered
		if o.SIPCode == 0 {
			o.SIPCode = 200
		}
		o.HangupCause = or(res.HangupCause, CauseNormal)
		if errors.Is(cause, errMaxDuration) {
			o.HangupCause, o.HangupBy = CauseMaxDuration, ByEngine
		}
		if o.HangupBy == "" {
			o.HangupBy = ByEngine
			if errors.Is(err, flow.ErrHangup) {
				o.HangupBy = ByCallee
			}
		}
		return o
	case errors.Is(cause, errRingTimeout) && !isOutcome(err, OutcomeUnreachable):
		// A trunk that never answered at all is unreachable even when the
		// ring timeout fired first (no CANCEL can go before a provisional).
		o.CallStatus, o.HangupCause, o.HangupBy = OutcomeNoAnswer, CauseRingTimeout, ByEngine
		return o
	}
	o.HangupBy = ""
	if errors.Is(err, ErrCapacity) || code == 503 || isOutcome(err, "capacity") {
		o.CallStatus, o.HangupCause, o.Capacity = OutcomeFailed, CauseCapacity, true
		if o.SIPCode == 0 {
			o.SIPCode = 503
		}
		return o
	}
	var oc outcomer
	if errors.As(err, &oc) && slices.Contains(callStatuses, oc.Outcome()) {
		o.CallStatus = oc.Outcome()
		o.HangupCause = or(res.HangupCause, causeOf(o.CallStatus))
		return o
	}
	switch {
	case code == 486 || code == 600:
		o.CallStatus, o.HangupCause = OutcomeBusy, CauseBusy
	case code == 603:
		o.CallStatus, o.HangupCause = OutcomeDeclined, CauseDeclined
	case code == 408 || code == 480 || code == 487:
		o.CallStatus, o.HangupCause = OutcomeNoAnswer, CauseNoAnswer
	case code == 404 || code == 484 || code == 604:
		o.CallStatus, o.HangupCause = OutcomeFailed, CauseInvalidNumber
	case code >= 300:
		o.CallStatus, o.HangupCause = OutcomeFailed, CauseError
	case errors.Is(err, context.DeadlineExceeded):
		o.CallStatus, o.HangupCause = OutcomeNoAnswer, CauseNoAnswer
	default:
		o.CallStatus, o.HangupCause = OutcomeFailed, or(res.HangupCause, CauseError)
	}
	return o
}

// isOutcome reports whether err classifies itself as outcome.
func isOutcome(err error, outcome string) bool {
	var oc outcomer
	return errors.As(err, &oc) && oc.Outcome() == outcome
}

var callStatuses = []string{OutcomeBusy, OutcomeNoAnswer, OutcomeDeclined, OutcomeUnreachable, OutcomeFailed}

func causeOf(status string) string {
	switch status {
	case OutcomeBusy:
		return CauseBusy
	case OutcomeNoAnswer:
		return CauseNoAnswer
	case OutcomeDeclined:
		return CauseDeclined
	case OutcomeUnreachable:
		return CauseUnreachable
	}
	return CauseError
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// shouldRetry reports whether a destination whose attempt ended with status
// after counted attempts is dialed again under policy p.
func shouldRetry(p *flow.RetryPolicy, counted int, status string) bool {
	if p == nil || counted >= p.MaxAttempts {
		return false
	}
	return slices.Contains(p.On, status)
}

// retryInterval is the wait before the next attempt under p.
func retryInterval(p *flow.RetryPolicy) time.Duration {
	if p == nil {
		return 0
	}
	return p.Interval
}
