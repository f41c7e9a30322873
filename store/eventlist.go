package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/webhook"
)

// DefaultEventPageLimit is the page size of ListEvents when limit is 0.
const DefaultEventPageLimit = 500

// ListEvents returns one page of a request's events in the order they were
// stored, with their delivery state. A request of another owner is
// dialer.ErrNotFound.
func (db *DB) ListEvents(ctx context.Context, owner, requestID string, offset, limit int) (*webhook.Page, error) {
	if limit <= 0 {
		limit = DefaultEventPageLimit
	}
	offset = max(0, offset)
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	pk, _, err := requestKey(ctx, tx, owner, requestID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	p := &webhook.Page{RequestID: requestID, Offset: offset, Limit: limit, Events: []webhook.Record{}}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events e JOIN destinations d ON d.id = e.dest_pk
		WHERE d.request_pk = ?`, pk).Scan(&p.Total); err != nil {
		return nil, fmt.Errorf("list events: count: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT e.event_id, e.type, e.seq, COALESCE(json_extract(e.body, '$.callId'), ''),
		d.phone, e.state, e.attempts, e.redeliveries, e.last_error, e.created_at, e.next_try_at, e.delivered_at, e.body
		FROM events e JOIN destinations d ON d.id = e.dest_pk
		WHERE d.request_pk = ? ORDER BY e.id LIMIT ? OFFSET ?`, pk, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		p.Events = append(p.Events, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return p, nil
}

// scanRecord reads one row of the columns ListEvents and RedeliverEvent select.
func scanRecord(row interface{ Scan(...any) error }) (webhook.Record, error) {
	var r webhook.Record
	var created, next int64
	var delivered sql.NullInt64
	var body []byte
	if err := row.Scan(&r.EventID, &r.Type, &r.Sequence, &r.CallID, &r.Destination, &r.State, &r.Attempts,
		&r.Redeliveries, &r.LastError, &created, &next, &delivered, &body); err != nil {
		return r, err
	}
	r.CreatedAt = time.Unix(0, created).UTC()
	if r.State == webhook.StatePending && next != 0 && next != blockedUntil {
		t := time.Unix(0, next).UTC()
		r.NextTryAt = &t
	}
	r.DeliveredAt = fromNanos(delivered)
	r.Body = body
	return r, nil
}

// RedeliverEvent moves a delivered or dead event of owner back to pending,
// due at once with a fresh retry window; its eventId and body do not
// change. A pending event is only made due now. An unknown event, or one of
// another owner, is dialer.ErrNotFound.
func (db *DB) RedeliverEvent(ctx context.Context, owner, eventID string, at time.Time) (*webhook.Record, error) {
	var r webhook.Record
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM events WHERE event_id = ? AND owner = ?`, eventID, owner).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return dialer.ErrNotFound
		}
		if err != nil {
			return err
		}
		if state == webhook.StatePending {
			_, err = tx.ExecContext(ctx, `UPDATE events SET next_try_at = MIN(next_try_at, ?) WHERE event_id = ?`, nanos(at), eventID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE events SET state = ?, attempts = 0, next_try_at = ?, window_start = ?,
				redeliveries = redeliveries + 1, last_error = '', delivered_at = NULL WHERE event_id = ?`,
				webhook.StatePending, nanos(at), nanos(at), eventID)
		}
		if err != nil {
			return err
		}
		r, err = scanRecord(tx.QueryRowContext(ctx, `SELECT e.event_id, e.type, e.seq, COALESCE(json_extract(e.body, '$.callId'), ''),
			d.phone, e.state, e.attempts, e.redeliveries, e.last_error, e.created_at, e.next_try_at, e.delivered_at, e.body
			FROM events e JOIN destinations d ON d.id = e.dest_pk WHERE e.event_id = ?`, eventID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redeliver event %s: %w", eventID, err)
	}
	return &r, nil
}
