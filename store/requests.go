package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

// CreateRequest commits a request with its destinations queued and a
// "queued" event per destination when a callback URL is set. The same owner,
// requestId and body hash again returns Created false; another body with the
// same requestId returns dialer.ErrConflict.
func (db *DB) CreateRequest(ctx context.Context, r dialer.NewRequest) (dialer.Created, error) {
	var c dialer.Created
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var pk int64
		var hash string
		err := tx.QueryRowContext(ctx, `SELECT id, body_hash FROM requests WHERE owner = ? AND request_id = ?`,
			r.Owner, r.RequestID).Scan(&pk, &hash)
		switch {
		case err == nil && hash == r.BodyHash:
			c.RequestPK = pk
			return nil
		case err == nil:
			return dialer.ErrConflict
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find request: %w", err)
		}
		at := nanos(r.At)
		res, err := tx.ExecContext(ctx, `INSERT INTO requests (owner, request_id, body_hash, body, callback_url, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, r.Owner, r.RequestID, r.BodyHash, r.Body, r.CallbackURL, at)
		if err != nil {
			return fmt.Errorf("insert request: %w", err)
		}
		if pk, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert request: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO destinations (request_pk, idx, phone, caller, properties, status, call_state, queued_at, event_seq)
			VALUES (?, ?, ?, ?, ?, 'queued', 'queued', ?, ?)`)
		if err != nil {
			return fmt.Errorf("insert destinations: %w", err)
		}
		defer stmt.Close()
		var events *queuedEvents
		seq := 0
		if r.CallbackURL != "" {
			events, seq = newQueuedEvents(r), 1
		}
		c.DestPKs = make([]int64, len(r.Destinations))
		for i, d := range r.Destinations {
			props, err := json.Marshal(d.Properties)
			if err != nil {
				return fmt.Errorf("destinations[%d]: properties: %w", i, err)
			}
			res, err := stmt.ExecContext(ctx, pk, i, d.Phone, d.Caller, string(props), at, seq)
			if err != nil {
				return fmt.Errorf("insert destinations[%d]: %w", i, err)
			}
			if c.DestPKs[i], err = res.LastInsertId(); err != nil {
				return fmt.Errorf("insert destinations[%d]: %w", i, err)
			}
			if events != nil {
				if err := events.add(ctx, tx, c.DestPKs[i], d); err != nil {
					return err
				}
			}
		}
		c.RequestPK, c.Created = pk, true
		return nil
	})
	if err != nil {
		return dialer.Created{}, fmt.Errorf("create request: %w", err)
	}
	return c, nil
}

// requestKey finds a request by owner and id.
func requestKey(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, owner, requestID string) (pk int64, cancelled bool, err error) {
	var c sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT id, cancelled_at FROM requests WHERE owner = ? AND request_id = ?`,
		owner, requestID).Scan(&pk, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, dialer.ErrNotFound
	}
	if err != nil {
		return 0, false, fmt.Errorf("find request: %w", err)
	}
	return pk, c.Valid, nil
}

// RequestStatus returns the request's status and the details of destinations
// offset..offset+limit-1 (limit 0 means dialer.DefaultPageLimit).
func (db *DB) RequestStatus(ctx context.Context, owner, requestID string, offset, limit int) (*dialer.RequestStatus, error) {
	if limit <= 0 {
		limit = dialer.DefaultPageLimit
	}
	offset = max(0, offset)
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("request status: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	pk, cancelled, err := requestKey(ctx, tx, owner, requestID)
	if err != nil {
		return nil, fmt.Errorf("request status: %w", err)
	}
	st := &dialer.RequestStatus{RequestID: requestID, Details: []dialer.Detail{}}
	var total, open, touched int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(status IN ('queued', 'onProgress')), 0),
		COALESCE(SUM(attempts > 0 OR status != 'queued'), 0) FROM destinations WHERE request_pk = ?`, pk).
		Scan(&total, &open, &touched); err != nil {
		return nil, fmt.Errorf("request status: count: %w", err)
	}
	switch {
	case cancelled:
		st.Status = dialer.RequestCancelled
	case open == 0:
		st.Status = dialer.RequestCompleted
	case touched == 0:
		st.Status = dialer.RequestSubmitted
	default:
		st.Status = dialer.RequestOnProgress
	}
	if total > limit || offset > 0 {
		st.Total = total
	}
	steps, err := pageSteps(ctx, tx, pk, offset, limit)
	if err != nil {
		return nil, fmt.Errorf("request status: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.phone, d.caller, d.status, d.call_state, d.call_status, d.attempts, d.queued_at,
		a.id, a.call_id, a.sip_code, a.hangup_cause, a.hangup_by, a.dialed_at, a.answered_at, a.ended_at,
		a.recording_size, a.monitors
		FROM destinations d LEFT JOIN attempts a ON a.id = d.last_attempt_pk
		WHERE d.request_pk = ? AND d.idx >= ? AND d.idx < ? ORDER BY d.idx`, pk, offset, offset+limit)
	if err != nil {
		return nil, fmt.Errorf("request status: details: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := dialer.Detail{RequestID: requestID, CallFlowSteps: []flow.StepResult{}, MonitorData: []dialer.Monitor{}}
		var queued int64
		var apk, sip, recSize sql.NullInt64
		var callID, cause, by, monitors sql.NullString
		var dialed, answered, ended sql.NullInt64
		if err := rows.Scan(&d.Destination, &d.Caller, &d.Status, &d.CallState, &d.CallStatus, &d.Attempts, &queued,
			&apk, &callID, &sip, &cause, &by, &dialed, &answered, &ended, &recSize, &monitors); err != nil {
			return nil, fmt.Errorf("request status: details: %w", err)
		}
		d.QueuedAt = fromNanos(sql.NullInt64{Int64: queued, Valid: true})
		if apk.Valid {
			d.SIPCode, d.HangupCause, d.HangupBy = int(sip.Int64), cause.String, by.String
			d.DialedAt, d.AnsweredAt, d.EndedAt = fromNanos(dialed), fromNanos(answered), fromNanos(ended)
			if d.EndedAt != nil && d.DialedAt != nil {
				d.DurationSec = int(d.EndedAt.Sub(*d.DialedAt) / time.Second)
			}
			if d.EndedAt != nil && d.AnsweredAt != nil {
				d.BillSec = int(d.EndedAt.Sub(*d.AnsweredAt) / time.Second)
			}
			if recSize.Int64 > 0 {
				d.RecordingURL = "/recordings/" + callID.String + ".wav"
			}
			if err := json.Unmarshal([]byte(monitors.String), &d.MonitorData); err != nil || d.MonitorData == nil {
				d.MonitorData = []dialer.Monitor{}
			}
			if s := steps[apk.Int64]; s != nil {
				d.CallFlowSteps = s
			}
		}
		st.Details = append(st.Details, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("request status: details: %w", err)
	}
	return st, nil
}

// pageSteps loads the step results of the latest attempts of one page.
func pageSteps(ctx context.Context, tx *sql.Tx, pk int64, offset, limit int) (map[int64][]flow.StepResult, error) {
	rows, err := tx.QueryContext(ctx, `SELECT attempt_pk, step_name, step_path, info FROM step_results
		WHERE attempt_pk IN (SELECT last_attempt_pk FROM destinations WHERE request_pk = ? AND idx >= ? AND idx < ?)
		ORDER BY attempt_pk, id`, pk, offset, offset+limit)
	if err != nil {
		return nil, fmt.Errorf("steps: %w", err)
	}
	defer rows.Close()
	out := make(map[int64][]flow.StepResult)
	for rows.Next() {
		var apk int64
		var r flow.StepResult
		var info string
		if err := rows.Scan(&apk, &r.StepName, &r.StepPath, &info); err != nil {
			return nil, fmt.Errorf("steps: %w", err)
		}
		if err := json.Unmarshal([]byte(info), &r.Info); err != nil {
			return nil, fmt.Errorf("steps: attempt %d: info: %w", apk, err)
		}
		out[apk] = append(out[apk], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("steps: %w", err)
	}
	return out, nil
}

// CancelRequest marks the request cancelled and its queued destinations
// cancelled; live attempts are ended by the dialer.
func (db *DB) CancelRequest(ctx context.Context, owner, requestID string, at time.Time) (int64, error) {
	var pk int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if pk, _, err = requestKey(ctx, tx, owner, requestID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL`,
			nanos(at), pk); err != nil {
			return fmt.Errorf("mark request: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `UPDATE destinations SET status = 'cancelled', call_state = 'ended', call_status = 'cancelled'
			WHERE request_pk = ? AND status = 'queued' RETURNING id`, pk)
		if err != nil {
			return fmt.Errorf("cancel destinations: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("cancel destinations: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("cancel destinations: %w", err)
		}
		for _, id := range ids {
			if err := emit(ctx, tx, id, "ended", at, eventExtra{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel request: %w", err)
	}
	return pk, nil
}

// RecordingPath returns the recording file of a call owned by owner.
func (db *DB) RecordingPath(ctx context.Context, owner, callID string) (string, error) {
	var p string
	err := db.db.QueryRowContext(ctx, `SELECT a.recording_path FROM attempts a
		JOIN destinations d ON d.id = a.dest_pk JOIN requests r ON r.id = d.request_pk
		WHERE a.call_id = ? AND r.owner = ? AND a.recording_path != ''`, callID, owner).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("recording path: %w", dialer.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("recording path: %w", err)
	}
	return p, nil
}
