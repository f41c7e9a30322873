package dialer

import "errors"

// Sentinel errors of the dialer. ErrNotFound and ErrConflict live in status.go.
var (
	// ErrNotQueued is returned by a Store when a destination is no longer
	// queued (cancelled, finished or already dialing), so it must not be dialed.
	ErrNotQueued = errors.New("destination is not queued")
	// ErrCapacity marks a call refused by the trunk for capacity (SIP 503 or
	// similar). A Placer wraps it, or returns an error whose SIPStatus is 503.
	ErrCapacity = errors.New("trunk refused the call for capacity")
	// ErrClosed is returned by operations on a dialer that is not running.
	ErrClosed = errors.New("dialer is not running")
	// ErrInvalid is returned for an invalid argument, such as a negative
	// externalBusy.
	ErrInvalid = errors.New("invalid argument")
)

// Causes a call's context is cancelled with; see context.Cause.
var (
	errRingTimeout = errors.New("ring timeout")
	errMaxDuration = errors.New("maximum call duration reached")
	errCancelled   = errors.New("request cancelled")
	errShutdown    = errors.New("dialer shutting down")
)
