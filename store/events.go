package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/webhook"
)

// emit appends an event to the outbox in tx when the destination's request
// has a callback URL. Its sequence increases per destination, across
// attempts. The body is a snapshot of the call as tx sees it, so emit runs
// after the state change it reports.
func emit(ctx context.Context, tx *sql.Tx, destPK int64, typ string, at time.Time, extra eventExtra) error {
	d, err := loadDest(ctx, tx, destPK)
	if err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	if d.url == "" {
		return nil
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE destinations SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq`,
		destPK).Scan(&seq); err != nil {
		return fmt.Errorf("event %s: sequence: %w", typ, err)
	}
	b := eventBody{EventID: eventID(destPK, seq, at), Type: typ, Sequence: seq, RequestID: d.reqID,
		Destination: d.phone, Caller: d.caller, Timestamp: at.UTC(), CallState: d.state, CallStatus: d.status,
		QueuedAt: fromNanos(sql.NullInt64{Int64: d.queued, Valid: true}),
		Step:     extra.Step, DTMF: extra.DTMF, Transfer: extra.Transfer, Recording: extra.Recording}
	if !extra.NextAt.IsZero() {
		n := extra.NextAt.UTC()
		b.NextAt = &n
	}
	if d.last.Valid {
		if err := fillAttempt(ctx, tx, d.last.Int64, &b); err != nil {
			return fmt.Errorf("event %s: %w", typ, err)
		}
	}
	return insertEvent(ctx, tx, destPK, d.owner, d.url, &b, at)
}

// insertEvent encodes b and stores it as a pending event.
func insertEvent(ctx context.Context, tx *sql.Tx, destPK int64, owner, url string, b *eventBody, at time.Time) error {
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("event %s: encode: %w", b.Type, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (event_id, dest_pk, seq, type, owner, url, body, created_at, window_start, next_try_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,
		CASE WHEN EXISTS (SELECT 1 FROM events WHERE dest_pk = ? AND state = 'pending') THEN ? ELSE 0 END)`,
		b.EventID, destPK, b.Sequence, b.Type, owner, url, body, nanos(at), nanos(at), destPK, blockedUntil); err != nil {
		return fmt.Errorf("event %s: insert: %w", b.Type, err)
	}
	return nil
}

// callKey is the ordering key of a destination's events (webhook.Event.CallID).
func callKey(destPK int64) string { return "d" + strconv.FormatInt(destPK, 10) }

// DueEvents returns up to limit pending events due at now, the lowest pending
// sequence of each destination only, skipping busy keys: events never tried
// first (oldest first), then retries in the order they fell due.
func (db *DB) DueEvents(ctx context.Context, now time.Time, limit int, busy []string) ([]webhook.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT e.event_id, e.dest_pk, e.seq, e.owner, e.url, e.body, e.attempts, e.window_start
		FROM events e WHERE e.state = 'pending' AND e.next_try_at <= ?
		AND e.seq = (SELECT MIN(x.seq) FROM events x WHERE x.dest_pk = e.dest_pk AND x.state = 'pending')
		ORDER BY e.next_try_at, e.id LIMIT ?`, nanos(now), limit+len(busy))
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
	return db.finishEvent(ctx, "mark delivered", `UPDATE events SET state = ?, attempts = ?, delivered_at = ? WHERE event_id = ?
		AND state = 'pending' RETURNING dest_pk`, webhook.StateDelivered, attempts, nanos(at), id)
}

// MarkRetry records a failed delivery and when to try again.
func (db *DB) MarkRetry(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE events SET attempts = ?, next_try_at = ?, last_error = ? WHERE event_id = ?`,
		attempts, nanos(next), lastErr, id)
	if err != nil {
		return fmt.Errorf("mark retry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mark retry: event %s: %w", id, dialer.ErrNotFound)
	}
	return nil
}

// MarkDead moves an event to the dead-letter state.
func (db *DB) MarkDead(ctx context.Context, id string, attempts int, lastErr string) error {
	return db.finishEvent(ctx, "mark dead", `UPDATE events SET state = ?, attempts = ?, last_error = ? WHERE event_id = ?
		AND state = 'pending' RETURNING dest_pk`, webhook.StateDead, attempts, lastErr, id)
}

// finishEvent takes a pending event out of delivery (q returns its dest_pk)
// and makes the next pending event of the same destination due.
func (db *DB) finishEvent(ctx context.Context, op, q string, args ...any) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var dest int64
		err := tx.QueryRowContext(ctx, q, args...).Scan(&dest)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("event %v: %w", args[len(args)-1], dialer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE events SET next_try_at = 0
			WHERE id = (SELECT id FROM events WHERE dest_pk = ? AND state = 'pending' ORDER BY seq LIMIT 1) AND next_try_at = ?`,
			dest, blockedUntil)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// blockedUntil is the next_try_at of a pending event behind an earlier
// pending event of its destination: it is not looked at until that one is
// delivered or dead-lettered (finishEvent), so a receiver that is down does
// not make DueEvents scan every queued event.
const blockedUntil = math.MaxInt64

// Compile-time checks that DB is what the dialer and the webhook sender need.
var (
	_ dialer.Store   = (*DB)(nil)
	_ webhook.Outbox = (*DB)(nil)
)

// queuedEvents writes the first event (sequence 1, "queued") of every
// destination of a new request, without the per-event lookups of emit.
type queuedEvents struct {
	r dialer.NewRequest
}

func newQueuedEvents(r dialer.NewRequest) *queuedEvents { return &queuedEvents{r: r} }

func (q *queuedEvents) add(ctx context.Context, tx *sql.Tx, destPK int64, d flow.Destination) error {
	at := q.r.At.UTC()
	b := eventBody{EventID: eventID(destPK, 1, q.r.At), Type: "queued", Sequence: 1, RequestID: q.r.RequestID,
		Destination: d.Phone, Caller: d.Caller, Timestamp: at, CallState: dialer.StateQueued, QueuedAt: &at}
	return insertEvent(ctx, tx, destPK, q.r.Owner, q.r.CallbackURL, &b, q.r.At)
}

// eventID is an event's stable, unique id.
func eventID(destPK, seq int64, at time.Time) string {
	return "evt-" + strconv.FormatInt(destPK, 10) + "-" + strconv.FormatInt(seq, 10) + "-" + strconv.FormatInt(at.UnixNano(), 36)
}
