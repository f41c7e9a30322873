package dialer

import (
	"context"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// NewRequest is a request to persist with its destinations.
type NewRequest struct {
	Owner     string
	RequestID string
	// BodyHash identifies the body for idempotency (hex SHA-256).
	BodyHash    string
	Body        []byte
	CallbackURL string
	// Destinations are stored in order; their index is their FIFO position.
	Destinations []flow.Destination
	At           time.Time
}

// Created is what CreateRequest stored.
type Created struct {
	RequestPK int64
	// DestPKs are the destinations' keys in request order (empty when not created).
	DestPKs []int64
	// Created is false when the same owner, requestId and body already existed.
	Created bool
}

// QueuedRequest is a request with work left, as loaded at start.
type QueuedRequest struct {
	PK        int64
	Owner     string
	RequestID string
	Body      []byte
}

// QueuedDest is a destination waiting to be dialed.
type QueuedDest struct {
	PK        int64
	RequestPK int64
	// Counted is the number of attempts that count toward the retry policy.
	Counted int
	// NextAt is the earliest time of the next dial (zero: now).
	NextAt time.Time
}

// LiveAttempt is an attempt that was open when the engine stopped.
type LiveAttempt struct {
	AttemptPK int64
	DestPK    int64
	RequestPK int64
	// Counted includes this attempt.
	Counted   int
	Body      []byte
	Cancelled bool
}

// AttemptStart opens an attempt; the destination must be queued.
type AttemptStart struct {
	DestPK        int64
	CallID        string
	RecordingPath string
	At            time.Time
}

// StartedAttempt is an attempt the store opened.
type StartedAttempt struct {
	AttemptPK int64
	// Number counts every dial of the destination, this one included.
	Number int
	// Counted counts the dials that count toward retries, this one included.
	Counted     int
	Destination flow.Destination
}

// Recording describes a final recording file.
type Recording struct {
	Path        string
	Size        int64
	DurationSec float64
	SHA256      string
}

// AttemptEnd closes an attempt and moves its destination on.
type AttemptEnd struct {
	AttemptPK   int64
	DestPK      int64
	CallStatus  string
	SIPCode     int
	HangupCause string
	HangupBy    string
	At          time.Time
	// Refused marks a capacity refusal: it does not count toward retries.
	Refused bool
	// Next is the destination's new status (DestQueued to dial again).
	Next string
	// NextAt is the earliest next dial when Next is DestQueued.
	NextAt   time.Time
	Monitors []Monitor
	// Steps are extra step results recorded at the end (a capacity refusal).
	Steps     []flow.StepResult
	Recording *Recording
}

// RequestStore keeps requests and answers the API's reads.
type RequestStore interface {
	// CreateRequest commits the request and its queued destinations; the same
	// body again returns Created false; another body with the same id is ErrConflict.
	CreateRequest(ctx context.Context, r NewRequest) (Created, error)
	// RequestStatus returns one page of details, or ErrNotFound.
	RequestStatus(ctx context.Context, owner, requestID string, offset, limit int) (*RequestStatus, error)
	// CancelRequest marks the request cancelled and its queued destinations
	// cancelled, returning the request's key, or ErrNotFound.
	CancelRequest(ctx context.Context, owner, requestID string, at time.Time) (int64, error)
	// RecordingPath returns a call's recording path for its owner, or ErrNotFound.
	RecordingPath(ctx context.Context, owner, callID string) (string, error)
}

// QueueStore loads the work left after a start.
type QueueStore interface {
	// LoadQueue returns the requests with queued destinations and those
	// destinations, FIFO within each request.
	LoadQueue(ctx context.Context) ([]QueuedRequest, []QueuedDest, error)
	// LiveAttempts returns the attempts that have no end.
	LiveAttempts(ctx context.Context) ([]LiveAttempt, error)
}

// AttemptStore records attempts as they happen.
type AttemptStore interface {
	// StartAttempt moves a queued destination to dialing, or returns ErrNotQueued.
	StartAttempt(ctx context.Context, a AttemptStart) (StartedAttempt, error)
	// MarkAttempt records a call state (StateRinging or StateOngoing).
	MarkAttempt(ctx context.Context, attemptPK int64, state string, at time.Time) error
	// AddStep appends a step result to the attempt.
	AddStep(ctx context.Context, attemptPK int64, r flow.StepResult, at time.Time) error
	// EndAttempt closes the attempt and sets the destination's next status.
	EndAttempt(ctx context.Context, e AttemptEnd) error
}

// Store is everything the dialer persists. The store package implements it.
type Store interface {
	RequestStore
	QueueStore
	AttemptStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}
