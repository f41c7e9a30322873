package dialer

import (
	"errors"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// Errors the dialer's read and write operations return; the API maps them
// to HTTP statuses.
var (
	// ErrNotFound means the request (or recording) does not exist for this owner.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the requestId exists with a different body.
	ErrConflict = errors.New("requestId exists with a different body")
)

// Request statuses (SPEC §3, exact strings).
const (
	RequestSubmitted  = "submitted"
	RequestOnProgress = "onProgress"
	RequestCompleted  = "completed"
	RequestCancelled  = "cancelled"
)

// Destination statuses (SPEC §3, exact strings).
const (
	DestQueued     = "queued"
	DestOnProgress = "onProgress"
	DestCompleted  = "completed"
	DestFailed     = "failed"
	DestCancelled  = "cancelled"
)

// Call states (SPEC §3, exact strings).
const (
	StateQueued  = "queued"
	StateDialing = "dialing"
	StateRinging = "ringing"
	StateOngoing = "ongoing"
	StateEnded   = "ended"
)

// Call statuses, the outcome of an attempt (SPEC §3, exact strings).
const (
	OutcomeAnswered    = "answered"
	OutcomeBusy        = "busy"
	OutcomeNoAnswer    = "noAnswer"
	OutcomeDeclined    = "declined"
	OutcomeUnreachable = "unreachable"
	OutcomeFailed      = "failed"
	OutcomeCancelled   = "cancelled"
)

// RequestStatus is GET /status/{requestId}: the request and one Detail per
// destination (a page of them when paginated).
type RequestStatus struct {
	RequestID string   `json:"requestId"`
	Status    string   `json:"status"`
	Details   []Detail `json:"details"`
	// Total is the number of destinations; set when details are paginated.
	Total int `json:"total,omitempty"`
}

// Detail is one destination's status, in the seed's shape plus SPEC's fields.
// The call fields describe the latest attempt.
type Detail struct {
	RequestID     string            `json:"requestId"`
	Caller        string            `json:"caller"`
	Destination   string            `json:"destination"`
	Status        string            `json:"status"`
	CallFlowSteps []flow.StepResult `json:"callFlowSteps"`
	MonitorData   []Monitor         `json:"monitorData"`
	CallState     string            `json:"call_state"`
	CallStatus    string            `json:"call_status,omitempty"`
	Attempts      int               `json:"attempts"`
	SIPCode       int               `json:"sipCode,omitempty"`
	HangupCause   string            `json:"hangupCause,omitempty"`
	HangupBy      string            `json:"hangupBy,omitempty"`
	QueuedAt      *time.Time        `json:"queuedAt,omitempty"`
	DialedAt      *time.Time        `json:"dialedAt,omitempty"`
	AnsweredAt    *time.Time        `json:"answeredAt,omitempty"`
	EndedAt       *time.Time        `json:"endedAt,omitempty"`
	DurationSec   int               `json:"durationSec"`
	BillSec       int               `json:"billSec"`
	RecordingURL  string            `json:"recordingUrl,omitempty"`
}

// Monitor identifies a call leg: the call itself or a transfer.
type Monitor struct {
	UUID string `json:"uuid"`
	Type string `json:"type"`
	Dest string `json:"dest"`
}

// TrunkStatus is GET /trunk.
type TrunkStatus struct {
	Capacity     int `json:"capacity"`
	ExternalBusy int `json:"externalBusy"`
	Active       int `json:"active"`
	Free         int `json:"free"`
	Queued       int `json:"queued"`
}
