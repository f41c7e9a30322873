package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/webhook"
)

// Event states in the outbox.
const (
	eventPending   = "pending"
	eventDelivered = "delivered"
	eventDead      = "dead"
)

// emit appends an event to the outbox in tx when the destination's request
// has a callback URL. Its sequence increases per destination, across attempts.
func emit(ctx context.Context, tx *sql.Tx, destPK int64, typ string, at time.Time, fields map[string]any) error {
	var url, owner, reqID, phone, caller string
	var last sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT r.callback_url, r.owner, r.request_id, d.phone, d.caller, d.last_attempt_pk
		FROM destinations d JOIN requests r ON r.id = d.request_pk WHERE d.id = ?`, destPK).
		Scan(&url, &owner, &reqID, &phone, &caller, &last)
	if err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	if url == "" {
		return nil
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE destinations SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq`,
		destPK).Scan(&seq); err != nil {
		return fmt.Errorf("event %s: sequence: %w", typ, err)
	}
	ev := map[string]any{}
	for k, v := range fields {
		ev[k] = v
	}
	id := eventID(destPK, seq, at)
	ev["eventId"], ev["type"], ev["sequence"] = id, typ, seq
	ev["requestId"], ev["destination"], ev["caller"] = reqID, phone, caller
	ev["timestamp"] = at.UTC()
	if last.Valid {
		var callID, recPath string
		var n int
		var dialed, answered, ended, recSize sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT call_id, n, dialed_at, answered_at, ended_at, recording_size, recording_path
			FROM attempts WHERE id = ?`, last.Int64).Scan(&callID, &n, &dialed, &answered, &ended, &recSize, &recPath); err != nil {
			return fmt.Errorf("event %s: attempt: %w", typ, err)
		}
		ev["callId"], ev["attempt"] = callID, n
		if t := fromNanos(dialed); t != nil {
			ev["startedAt"] = t
		}
		if t := fromNanos(answered); t != nil {
			ev["answeredAt"] = t
			if e := fromNanos(ended); e != nil {
				ev["endedAt"], ev["billSec"] = e, int(e.Sub(*t)/time.Second)
			}
		} else if e := fromNanos(ended); e != nil {
			ev["endedAt"] = e
		}
		if recSize.Int64 > 0 {
			ev["recordingUrl"] = "/recordings/" + callID + ".wav"
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("event %s: encode: %w", typ, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (event_id, dest_pk, seq, type, owner, url, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, destPK, seq, typ, owner, url, body, nanos(at)); err != nil {
		return fmt.Errorf("event %s: insert: %w", typ, err)
	}
	return nil
}

// callKey is the ordering key of a destination's events (webhook.Event.CallID).
func callKey(destPK int64) string { return "d" + strconv.FormatInt(destPK, 10) }

// DueEvents returns up to limit pending events due at now, the lowest pending
// sequence of each destination only, oldest first, skipping busy keys.
func (db *DB) DueEvents(ctx context.Context, now time.Time, limit int, busy []string) ([]webhook.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT e.event_id, e.dest_pk, e.seq, e.owner, e.url, e.body, e.attempts, e.created_at
		FROM events e WHERE e.state = 'pending' AND e.next_try_at <= ?
		AND e.seq = (SELECT MIN(x.seq) FROM events x WHERE x.dest_pk = e.dest_pk AND x.state = 'pending')
		ORDER BY e.id LIMIT ?`, nanos(now), limit+len(busy))
	if err != nil {
		return nil, fmt.Errorf("due events: %w", err)
	}
	defer rows.Close()
	var out []webhook.Event
	for rows.Next() {
		var ev webhook.Event
		var dest, created int64
		if err := rows.Scan(&ev.ID, &dest, &ev.Sequence, &ev.Owner, &ev.URL, &ev.Body, &ev.Attempts, &created); err != nil {
			return nil, fmt.Errorf("due events: %w", err)
		}
		ev.CallID, ev.CreatedAt = callKey(dest), time.Unix(0, created)
		if slices.Contains(busy, ev.CallID) || len(out) >= limit {
			continue
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due events: %w", err)
	}
	return out, nil
}

// MarkDelivered records a 2xx answer for an event.
func (db *DB) MarkDelivered(ctx context.Context, id string, attempts int, at time.Time) error {
	return db.markEvent(ctx, "mark delivered", `UPDATE events SET state = ?, attempts = ?, delivered_at = ? WHERE event_id = ?`,
		eventDelivered, attempts, nanos(at), id)
}

// MarkRetry records a failed delivery and when to try again.
func (db *DB) MarkRetry(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	return db.markEvent(ctx, "mark retry", `UPDATE events SET attempts = ?, next_try_at = ?, last_error = ? WHERE event_id = ?`,
		attempts, nanos(next), lastErr, id)
}

// MarkDead moves an event to the dead-letter state.
func (db *DB) MarkDead(ctx context.Context, id string, attempts int, lastErr string) error {
	return db.markEvent(ctx, "mark dead", `UPDATE events SET state = ?, attempts = ?, last_error = ? WHERE event_id = ?`,
		eventDead, attempts, lastErr, id)
}

func (db *DB) markEvent(ctx context.Context, op, q string, args ...any) error {
	res, err := db.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: event %v: %w", op, args[len(args)-1], dialer.ErrNotFound)
	}
	return nil
}

// Compile-time checks that DB is what the dialer and the webhook sender need.
var (
	_ dialer.Store   = (*DB)(nil)
	_ webhook.Outbox = (*DB)(nil)
)

// queuedEvents writes the first event (sequence 1, "queued") of every
// destination of a new request, without the per-event lookups of emit.
type queuedEvents struct {
	stmt *sql.Stmt
	r    dialer.NewRequest
}

// queuedBody is the JSON of a queued event.
type queuedBody struct {
	EventID     string    `json:"eventId"`
	Type        string    `json:"type"`
	Sequence    int64     `json:"sequence"`
	RequestID   string    `json:"requestId"`
	Destination string    `json:"destination"`
	Caller      string    `json:"caller"`
	Timestamp   time.Time `json:"timestamp"`
}

func newQueuedEvents(ctx context.Context, tx *sql.Tx, r dialer.NewRequest) (*queuedEvents, error) {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (event_id, dest_pk, seq, type, owner, url, body, created_at)
		VALUES (?, ?, 1, 'queued', ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("event queued: %w", err)
	}
	return &queuedEvents{stmt: stmt, r: r}, nil
}

func (q *queuedEvents) add(ctx context.Context, destPK int64, d flow.Destination) error {
	id := eventID(destPK, 1, q.r.At)
	body, err := json.Marshal(queuedBody{EventID: id, Type: "queued", Sequence: 1, RequestID: q.r.RequestID,
		Destination: d.Phone, Caller: d.Caller, Timestamp: q.r.At.UTC()})
	if err != nil {
		return fmt.Errorf("event queued: encode: %w", err)
	}
	if _, err := q.stmt.ExecContext(ctx, id, destPK, q.r.Owner, q.r.CallbackURL, body, nanos(q.r.At)); err != nil {
		return fmt.Errorf("event queued: insert: %w", err)
	}
	return nil
}

func (q *queuedEvents) close() { q.stmt.Close() }

// eventID is an event's stable, unique id.
func eventID(destPK, seq int64, at time.Time) string {
	return "evt-" + strconv.FormatInt(destPK, 10) + "-" + strconv.FormatInt(seq, 10) + "-" + strconv.FormatInt(at.UnixNano(), 36)
}
