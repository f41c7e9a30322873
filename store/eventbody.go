package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// eventBody is the JSON of every webhook event (SPEC §7). The common fields
// come first; the call fields of the seeds (stamps, hangup cause, billsec,
// digits, recording URL, call-flow path) appear once the call has them.
type eventBody struct {
	EventID     string    `json:"eventId"`
	Type        string    `json:"type"`
	Sequence    int64     `json:"sequence"`
	RequestID   string    `json:"requestId"`
	CallID      string    `json:"callId"`
	Destination string    `json:"destination"`
	Caller      string    `json:"caller"`
	Attempt     int       `json:"attempt"`
	Timestamp   time.Time `json:"timestamp"`

	CallState    string      `json:"call_state,omitempty"`
	CallStatus   string      `json:"call_status,omitempty"`
	QueuedAt     *time.Time  `json:"queuedAt,omitempty"`
	DialedAt     *time.Time  `json:"dialedAt,omitempty"`
	RingingAt    *time.Time  `json:"ringingAt,omitempty"`
	AnsweredAt   *time.Time  `json:"answeredAt,omitempty"`
	EndedAt      *time.Time  `json:"endedAt,omitempty"`
	DurationSec  *int        `json:"durationSec,omitempty"`
	BillSec      *int        `json:"billSec,omitempty"`
	SIPCode      int         `json:"sipCode,omitempty"`
	HangupCause  string      `json:"hangupCause,omitempty"`
	HangupBy     string      `json:"hangupBy,omitempty"`
	DigitsDialed []string    `json:"digitsDialed,omitempty"`
	CallFlow     []flowPoint `json:"callFlow,omitempty"`
	RecordingURL string      `json:"recordingUrl,omitempty"`
	NextAt       *time.Time  `json:"nextAt,omitempty"`

	// Step is the step result of a "step" event.
	Step *flow.StepResult `json:"step,omitempty"`
	// DTMF is the digit of a "dtmf" event.
	DTMF *dtmfInfo `json:"dtmf,omitempty"`
	// Transfer is the outcome of a "transfer" event.
	Transfer *transferInfo `json:"transfer,omitempty"`
	// Recording describes the final file of a "recording" event.
	Recording *recordingInfo `json:"recording,omitempty"`
}

// flowPoint is one step of the call-flow path so far.
type flowPoint struct {
	StepName string `json:"stepName"`
	StepPath string `json:"stepPath"`
	Status   string `json:"status"`
}

// dtmfInfo is one digit the callee pressed.
type dtmfInfo struct {
	Digit    string `json:"digit"`
	Method   string `json:"method,omitempty"`
	StepPath string `json:"stepPath"`
	// AtMs is the time since the step started, in milliseconds.
	AtMs int64 `json:"atMs"`
}

// transferInfo is the outcome of a transfer step.
type transferInfo struct {
	StepPath       string `json:"stepPath"`
	TransferStatus string `json:"transfer_status"`
	Status         string `json:"status"`
}

// recordingInfo describes a final recording file.
type recordingInfo struct {
	URL         string  `json:"url"`
	Size        int64   `json:"size"`
	DurationSec float64 `json:"durationSec"`
	SHA256      string  `json:"sha256"`
}

// eventExtra is what one emit adds to the snapshot of the call.
type eventExtra struct {
	NextAt    time.Time
	Step      *flow.StepResult
	DTMF      *dtmfInfo
	Transfer  *transferInfo
	Recording *recordingInfo
}

// destSnapshot is the request and destination an event belongs to.
type destSnapshot struct {
	url, owner, reqID, phone, caller string
	state, status                    string
	queued                           int64
	last                             sql.NullInt64
}

// loadDest reads the request and destination of destPK.
func loadDest(ctx context.Context, tx *sql.Tx, destPK int64) (destSnapshot, error) {
	var s destSnapshot
	err := tx.QueryRowContext(ctx, `SELECT r.callback_url, r.owner, r.request_id, d.phone, d.caller,
		d.call_state, d.call_status, d.queued_at, d.last_attempt_pk
		FROM destinations d JOIN requests r ON r.id = d.request_pk WHERE d.id = ?`, destPK).
		Scan(&s.url, &s.owner, &s.reqID, &s.phone, &s.caller, &s.state, &s.status, &s.queued, &s.last)
	return s, err
}

// fillAttempt adds the latest attempt's call fields to b: its id and
// number, stamps, durations, hangup facts, digits, the call-flow path so
// far and the recording URL once the file is final.
func fillAttempt(ctx context.Context, tx *sql.Tx, attemptPK int64, b *eventBody) error {
	var n int
	var sip int
	var cause, by, sha string
	var dialed, ringing, answered, ended, recSize sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT call_id, n, sip_code, hangup_cause, hangup_by, dialed_at, ringing_at,
		answered_at, ended_at, recording_size, recording_sha FROM attempts WHERE id = ?`, attemptPK).
		Scan(&b.CallID, &n, &sip, &cause, &by, &dialed, &ringing, &answered, &ended, &recSize, &sha); err != nil {
		return fmt.Errorf("attempt: %w", err)
	}
	b.Attempt, b.SIPCode, b.HangupCause, b.HangupBy = n, sip, cause, by
	b.DialedAt, b.RingingAt, b.AnsweredAt, b.EndedAt = fromNanos(dialed), fromNanos(ringing), fromNanos(answered), fromNanos(ended)
	if b.EndedAt != nil && b.DialedAt != nil {
		d := int(b.EndedAt.Sub(*b.DialedAt) / time.Second)
		b.DurationSec = &d
	}
	if b.EndedAt != nil {
		bill := 0
		if b.AnsweredAt != nil {
			bill = int(b.EndedAt.Sub(*b.AnsweredAt) / time.Second)
		}
		b.BillSec = &bill
	}
	if recSize.Int64 > 0 {
		b.RecordingURL = "/recordings/" + b.CallID + ".wav"
	}
	rows, err := tx.QueryContext(ctx, `SELECT step_name, step_path, info FROM step_results WHERE attempt_pk = ? ORDER BY id`, attemptPK)
	if err != nil {
		return fmt.Errorf("steps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p flowPoint
		var raw string
		if err := rows.Scan(&p.StepName, &p.StepPath, &raw); err != nil {
			return fmt.Errorf("steps: %w", err)
		}
		var info flow.StepInfo
		if err := json.Unmarshal([]byte(raw), &info); err != nil {
			return fmt.Errorf("steps: %s: info: %w", p.StepPath, err)
		}
		p.Status = info.Status
		b.CallFlow = append(b.CallFlow, p)
		b.DigitsDialed = append(b.DigitsDialed, stepDigits(info)...)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("steps: %w", err)
	}
	return nil
}

// stepDigits lists the digits a step received, one string per key.
func stepDigits(info flow.StepInfo) []string {
	if len(info.Digits) > 0 {
		out := make([]string, 0, len(info.Digits))
		for _, d := range info.Digits {
			out = append(out, d.Digit)
		}
		return out
	}
	out := make([]string, 0, len(info.UserPressedDigits))
	for _, r := range info.UserPressedDigits {
		out = append(out, string(r))
	}
	return out
}

// stepEvent is one event a step result produces.
type stepEvent struct {
	typ   string
	extra eventExtra
}

// stepEvents returns the events a stored step result produces, in order:
// one "dtmf" per digit it received, the "step" itself, then a "transfer"
// for a transfer step.
func stepEvents(r flow.StepResult) []stepEvent {
	var out []stepEvent
	if len(r.Info.Digits) > 0 {
		for _, d := range r.Info.Digits {
			out = append(out, stepEvent{"dtmf", eventExtra{DTMF: &dtmfInfo{Digit: d.Digit, Method: d.Method, StepPath: r.StepPath, AtMs: d.AtMs}}})
		}
	} else {
		for _, k := range r.Info.UserPressedDigits {
			out = append(out, stepEvent{"dtmf", eventExtra{DTMF: &dtmfInfo{Digit: string(k), StepPath: r.StepPath}}})
		}
	}
	step := r
	out = append(out, stepEvent{"step", eventExtra{Step: &step}})
	if r.StepName == "transfer" && r.Info.TransferStatus != "" {
		out = append(out, stepEvent{"transfer", eventExtra{Transfer: &transferInfo{
			StepPath: r.StepPath, TransferStatus: r.Info.TransferStatus, Status: r.Info.Status}}})
	}
	return out
}
