package sip

import (
	"errors"
	"fmt"
	"time"
)

// Outcome words returned by (*CallError).Outcome.
const (
	OutcomeBusy          = "busy"
	OutcomeDeclined      = "declined"
	OutcomeNoAnswer      = "noAnswer"
	OutcomeInvalidNumber = "invalidNumber"
	OutcomeCapacity      = "capacity"
	OutcomeUnreachable   = "unreachable"
	OutcomeFailed        = "failed"
)

// Sentinel errors. A *CallError wraps one of them when it has a cause that is
// not a SIP status alone.
var (
	// ErrRingTimeout reports that nobody answered before the ring timeout
	// (a CANCEL was sent).
	ErrRingTimeout = errors.New("sip: ring timeout")
	// ErrAuthFailed reports that the trunk rejected our credentials.
	ErrAuthFailed = errors.New("sip: authentication failed")
	// ErrUnreachable reports no response or a transport error.
	ErrUnreachable = errors.New("sip: trunk unreachable")
	// ErrBadAnswer reports a 2xx whose SDP answer cannot be used (the call
	// was acknowledged and hung up).
	ErrBadAnswer = errors.New("sip: unusable sdp answer")
	// ErrClosed reports use of a closed UA.
	ErrClosed = errors.New("sip: user agent closed")
	// ErrRemoteHangup is Err of a call the far end hung up.
	ErrRemoteHangup = errors.New("sip: remote hung up")
	// ErrMaxDuration is Err of a call ended by the maximum call duration.
	ErrMaxDuration = errors.New("sip: maximum call duration reached")
	// ErrTransferTimeout reports that no final NOTIFY arrived in time.
	ErrTransferTimeout = errors.New("sip: transfer timed out waiting for a final notify")
	// ErrTransferRefused reports a REFER answered with a non-2xx status.
	ErrTransferRefused = errors.New("sip: transfer refused")
	// ErrBadTarget reports a destination that is not Ext:N, E.164 or a SIP URI.
	ErrBadTarget = errors.New("sip: bad destination")
	// ErrCallEnded reports an operation on a call that has ended.
	ErrCallEnded = errors.New("sip: call ended")
)

// CallError is why a call attempt failed: the SIP status and reason (0 when
// no final response came) and the outcome class.
type CallError struct {
	// Code and Reason are the final response's status line (0, "" if none).
	Code   int
	Reason string
	// Class is one of the Outcome* words.
	Class string
	// Retry is the Retry-After the far end asked for (capacity refusals).
	Retry time.Duration
	// Err is the underlying cause (a sentinel or a transport error), if any.
	Err error
}

// Error describes the failure, e.g. "sip: busy (486 Busy Here)".
func (e *CallError) Error() string {
	s := "sip: " + e.Class
	if e.Code != 0 {
		s += fmt.Sprintf(" (%d %s)", e.Code, e.Reason)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *CallError) Unwrap() error { return e.Err }

// SIPStatus returns the final response's status code (0 when none came).
func (e *CallError) SIPStatus() int { return e.Code }

// Outcome returns the outcome class: busy, declined, noAnswer, invalidNumber,
// capacity, unreachable or failed.
func (e *CallError) Outcome() string { return e.Class }

// RetryAfter returns the wait the far end asked for, 0 when it gave none.
func (e *CallError) RetryAfter() time.Duration { return e.Retry }

// classify maps a final non-2xx status to an outcome class. A refusal that
// carries Retry-After (other than busy and decline) counts as capacity.
func classify(code int, hasRetryAfter bool) string {
	switch code {
	case 486, 600:
		return OutcomeBusy
	case 603:
		return OutcomeDeclined
	case 408, 480, 487:
		return OutcomeNoAnswer
	case 404, 484, 604:
		return OutcomeInvalidNumber
	case 503:
		return OutcomeCapacity
	}
	if hasRetryAfter && code >= 400 {
		return OutcomeCapacity
	}
	return OutcomeFailed
}
