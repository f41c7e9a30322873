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

// LoadQueue returns the uncancelled requests with queued destinations and
// those destinations, FIFO within each request.
func (db *DB) LoadQueue(ctx context.Context) ([]dialer.QueuedRequest, []dialer.QueuedDest, error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("load queue: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.owner, r.request_id, r.body FROM requests r
		WHERE r.cancelled_at IS NULL AND EXISTS
		(SELECT 1 FROM destinations d WHERE d.request_pk = r.id AND d.status = 'queued') ORDER BY r.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("load queue: requests: %w", err)
	}
	var reqs []dialer.QueuedRequest
	for rows.Next() {
		var r dialer.QueuedRequest
		if err := rows.Scan(&r.PK, &r.Owner, &r.RequestID, &r.Body); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("load queue: requests: %w", err)
		}
		reqs = append(reqs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("load queue: requests: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT d.id, d.request_pk, d.attempts - d.refusals, d.next_at
		FROM destinations d JOIN requests r ON r.id = d.request_pk
		WHERE d.status = 'queued' AND r.cancelled_at IS NULL ORDER BY d.request_pk, d.idx`)
	if err != nil {
		return nil, nil, fmt.Errorf("load queue: destinations: %w", err)
	}
	defer rows.Close()
	var dests []dialer.QueuedDest
	for rows.Next() {
		var d dialer.QueuedDest
		var next int64
		if err := rows.Scan(&d.PK, &d.RequestPK, &d.Counted, &next); err != nil {
			return nil, nil, fmt.Errorf("load queue: destinations: %w", err)
		}
		if next != 0 {
			d.NextAt = time.Unix(0, next)
		}
		dests = append(dests, d)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("load queue: destinations: %w", err)
	}
	return reqs, dests, nil
}

// LiveAttempts returns the attempts that were never closed.
func (db *DB) LiveAttempts(ctx context.Context) ([]dialer.LiveAttempt, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT a.id, a.dest_pk, d.request_pk, d.attempts - d.refusals, r.body,
		r.cancelled_at IS NOT NULL
		FROM attempts a JOIN destinations d ON d.id = a.dest_pk JOIN requests r ON r.id = d.request_pk
		WHERE a.ended_at IS NULL ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("live attempts: %w", err)
	}
	defer rows.Close()
	var out []dialer.LiveAttempt
	for rows.Next() {
		var la dialer.LiveAttempt
		if err := rows.Scan(&la.AttemptPK, &la.DestPK, &la.RequestPK, &la.Counted, &la.Body, &la.Cancelled); err != nil {
			return nil, fmt.Errorf("live attempts: %w", err)
		}
		out = append(out, la)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live attempts: %w", err)
	}
	return out, nil
}

// StartAttempt moves a queued destination to dialing and opens an attempt;
// a destination that is not queued returns dialer.ErrNotQueued.
func (db *DB) StartAttempt(ctx context.Context, a dialer.AttemptStart) (dialer.StartedAttempt, error) {
	var s dialer.StartedAttempt
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var refusals int
		var props string
		err := tx.QueryRowContext(ctx, `UPDATE destinations SET status = 'onProgress', call_state = 'dialing', call_status = '',
			attempts = attempts + 1 WHERE id = ? AND status = 'queued'
			RETURNING attempts, refusals, phone, caller, properties`, a.DestPK).
			Scan(&s.Number, &refusals, &s.Destination.Phone, &s.Destination.Caller, &props)
		if errors.Is(err, sql.ErrNoRows) {
			return dialer.ErrNotQueued
		}
		if err != nil {
			return fmt.Errorf("claim destination: %w", err)
		}
		if err := json.Unmarshal([]byte(props), &s.Destination.Properties); err != nil {
			return fmt.Errorf("destination %d: properties: %w", a.DestPK, err)
		}
		s.Counted = s.Number - refusals
		mon, _ := json.Marshal([]dialer.Monitor{{UUID: a.CallID, Type: "call", Dest: s.Destination.Phone}})
		res, err := tx.ExecContext(ctx, `INSERT INTO attempts (dest_pk, n, call_id, state, dialed_at, recording_path, monitors)
			VALUES (?, ?, ?, 'dialing', ?, ?, ?)`, a.DestPK, s.Number, a.CallID, nanos(a.At), a.RecordingPath, string(mon))
		if err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		if s.AttemptPK, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE destinations SET last_attempt_pk = ? WHERE id = ?`, s.AttemptPK, a.DestPK); err != nil {
			return fmt.Errorf("link attempt: %w", err)
		}
		return emit(ctx, tx, a.DestPK, "dialing", a.At, eventExtra{})
	})
	if err != nil {
		return dialer.StartedAttempt{}, fmt.Errorf("start attempt: %w", err)
	}
	return s, nil
}

// MarkAttempt records dialer.StateRinging or dialer.StateOngoing.
func (db *DB) MarkAttempt(ctx context.Context, attemptPK int64, state string, at time.Time) error {
	var col, status, event string
	switch state {
	case dialer.StateRinging:
		col, event = "ringing_at", "ringing"
	case dialer.StateOngoing:
		col, status, event = "answered_at", dialer.OutcomeAnswered, "answered"
	default:
		return fmt.Errorf("mark attempt %d: state %q: %w", attemptPK, state, dialer.ErrInvalid)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var dest int64
		err := tx.QueryRowContext(ctx, `UPDATE attempts SET state = ?, `+col+` = ? WHERE id = ? AND ended_at IS NULL RETURNING dest_pk`,
			state, nanos(at), attemptPK).Scan(&dest)
		if errors.Is(err, sql.ErrNoRows) {
			return dialer.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE destinations SET call_state = ?, call_status = ? WHERE id = ?`, state, status, dest); err != nil {
			return err
		}
		return emit(ctx, tx, dest, event, at, eventExtra{})
	})
	if err != nil {
		return fmt.Errorf("mark attempt %d %s: %w", attemptPK, state, err)
	}
	return nil
}

// AddStep appends a step result to an open attempt.
func (db *DB) AddStep(ctx context.Context, attemptPK int64, r flow.StepResult, at time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var dest int64
		if err := tx.QueryRowContext(ctx, `SELECT dest_pk FROM attempts WHERE id = ?`, attemptPK).Scan(&dest); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return dialer.ErrNotFound
			}
			return err
		}
		if err := insertStep(ctx, tx, attemptPK, r, at); err != nil {
			return err
		}
		for _, ev := range stepEvents(r) {
			if err := emit(ctx, tx, dest, ev.typ, at, ev.extra); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add step to attempt %d: %w", attemptPK, err)
	}
	return nil
}

func insertStep(ctx context.Context, tx *sql.Tx, attemptPK int64, r flow.StepResult, at time.Time) error {
	info, err := json.Marshal(r.Info)
	if err != nil {
		return fmt.Errorf("step info: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO step_results (attempt_pk, step_name, step_path, info, at) VALUES (?, ?, ?, ?, ?)`,
		attemptPK, r.StepName, r.StepPath, string(info), nanos(at)); err != nil {
		return fmt.Errorf("insert step: %w", err)
	}
	return nil
}

// EndAttempt closes an open attempt and moves its destination to e.Next.
func (db *DB) EndAttempt(ctx context.Context, e dialer.AttemptEnd) error {
	switch e.Next {
	case dialer.DestQueued, dialer.DestCompleted, dialer.DestFailed, dialer.DestCancelled:
	default:
		return fmt.Errorf("end attempt %d: next status %q: %w", e.AttemptPK, e.Next, dialer.ErrInvalid)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var rec dialer.Recording
		if e.Recording != nil {
			rec = *e.Recording
		}
		set := `state = 'ended', outcome = ?, sip_code = ?, hangup_cause = ?, hangup_by = ?, ended_at = ?,
			recording_size = ?, recording_sha = ?`
		args := []any{e.CallStatus, e.SIPCode, e.HangupCause, e.HangupBy, nanos(e.At), rec.Size, rec.SHA256}
		if e.Monitors != nil {
			mon, err := json.Marshal(e.Monitors)
			if err != nil {
				return fmt.Errorf("monitors: %w", err)
			}
			set += `, monitors = ?`
			args = append(args, string(mon))
		}
		res, err := tx.ExecContext(ctx, `UPDATE attempts SET `+set+` WHERE id = ? AND dest_pk = ? AND ended_at IS NULL`,
			append(args, e.AttemptPK, e.DestPK)...)
		if err != nil {
			return fmt.Errorf("close attempt: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("close attempt: not open: %w", dialer.ErrNotFound)
		}
		for _, s := range e.Steps {
			if err := insertStep(ctx, tx, e.AttemptPK, s, e.At); err != nil {
				return err
			}
		}
		refused := 0
		if e.Refused {
			refused = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE destinations SET status = ?, call_state = 'ended', call_status = ?,
			refusals = refusals + ?, next_at = ? WHERE id = ?`, e.Next, e.CallStatus, refused, nanos(e.NextAt), e.DestPK); err != nil {
			return fmt.Errorf("move destination: %w", err)
		}
		for _, s := range e.Steps {
			for _, ev := range stepEvents(s) {
				if err := emit(ctx, tx, e.DestPK, ev.typ, e.At, ev.extra); err != nil {
					return err
				}
			}
		}
		if err := emit(ctx, tx, e.DestPK, endEvent(e.CallStatus), e.At, eventExtra{}); err != nil {
			return err
		}
		if e.Recording != nil && rec.Size > 0 {
			var callID string
			if err := tx.QueryRowContext(ctx, `SELECT call_id FROM attempts WHERE id = ?`, e.AttemptPK).Scan(&callID); err != nil {
				return fmt.Errorf("recording event: %w", err)
			}
			if err := emit(ctx, tx, e.DestPK, "recording", e.At, eventExtra{Recording: &recordingInfo{
				URL: "/recordings/" + callID + ".wav", Size: rec.Size, DurationSec: rec.DurationSec, SHA256: rec.SHA256,
			}}); err != nil {
				return err
			}
		}
		if e.Next == dialer.DestQueued {
			return emit(ctx, tx, e.DestPK, "queued", e.At, eventExtra{NextAt: e.NextAt})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("end attempt %d: %w", e.AttemptPK, err)
	}
	return nil
}

// endEvent is the webhook event type for an attempt's call status.
func endEvent(status string) string {
	switch status {
	case dialer.OutcomeBusy, dialer.OutcomeNoAnswer, dialer.OutcomeDeclined, dialer.OutcomeFailed:
		return status
	case dialer.OutcomeUnreachable:
		return "failed"
	}
	return "ended"
}
