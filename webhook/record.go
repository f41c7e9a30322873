package webhook

import (
	"encoding/json"
	"time"
)

// Delivery states of a stored event.
const (
	// StatePending means the event waits for (another) delivery attempt.
	StatePending = "pending"
	// StateDelivered means the receiver answered 2xx.
	StateDelivered = "delivered"
	// StateDead means retries ran out (or the owner has no key): the event
	// is dead-lettered until someone redelivers it.
	StateDead = "dead"
)

// Record is a stored event with its delivery state, as the API shows it to
// polling clients and auditors.
type Record struct {
	EventID  string `json:"eventId"`
	Type     string `json:"type"`
	Sequence int64  `json:"sequence"`
	// CallID is the call the event is about ("" before the first dial).
	CallID      string `json:"callId"`
	Destination string `json:"destination"`
	// State is StatePending, StateDelivered or StateDead.
	State string `json:"state"`
	// Attempts counts delivery attempts in the current retry window.
	Attempts int `json:"attempts"`
	// Redeliveries counts manual redeliveries.
	Redeliveries int        `json:"redeliveries"`
	LastError    string     `json:"lastError,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
	NextTryAt    *time.Time `json:"nextTryAt,omitempty"`
	DeliveredAt  *time.Time `json:"deliveredAt,omitempty"`
	// Body is the event exactly as it is (or was) sent and signed.
	Body json.RawMessage `json:"body"`
}

// Page is one page of a request's events, in the order they were stored.
type Page struct {
	RequestID string   `json:"requestId"`
	Total     int      `json:"total"`
	Offset    int      `json:"offset"`
	Limit     int      `json:"limit"`
	Events    []Record `json:"events"`
}
