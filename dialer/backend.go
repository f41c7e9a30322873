package dialer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/dialflow/dialflow/flow"
)

// DefaultPageLimit is the number of details returned when limit is 0.
const DefaultPageLimit = 1000

// Submit stores the request (committed before returning) and queues its
// destinations. The same owner, requestId and body again returns the current
// status with created false; the same requestId with another body is ErrConflict.
func (d *Dialer) Submit(ctx context.Context, owner string, body []byte, req *flow.Request) (*RequestStatus, bool, error) {
	if req == nil {
		return nil, false, fmt.Errorf("submit: nil request: %w", ErrInvalid)
	}
	if !d.isRunning() {
		return nil, false, fmt.Errorf("submit: %w", ErrClosed)
	}
	sum := sha256.Sum256(body)
	c, err := d.store.CreateRequest(ctx, NewRequest{
		Owner: owner, RequestID: req.RequestID, BodyHash: hex.EncodeToString(sum[:]), Body: body,
		CallbackURL: req.CallbackURL, Destinations: req.Destinations, At: d.clock.Now(),
	})
	if err != nil {
		return nil, false, fmt.Errorf("submit: %w", err)
	}
	// Read the answer before dialing starts, so a new request reads as
	// submitted with every destination queued.
	st, err := d.store.RequestStatus(ctx, owner, req.RequestID, 0, DefaultPageLimit)
	if c.Created {
		d.enqueue(c, owner, req)
	}
	if err != nil {
		return nil, c.Created, fmt.Errorf("submit: %w", err)
	}
	return st, c.Created, nil
}

func (d *Dialer) isRunning() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running
}

// enqueue adds a freshly stored request unless the start-up load saw it.
func (d *Dialer) enqueue(c Created, owner string, req *flow.Request) {
	d.mu.Lock()
	if _, ok := d.requests[c.RequestPK]; ok || !d.running {
		d.mu.Unlock()
		return
	}
	r := &reqState{pk: c.RequestPK, owner: owner, id: req.RequestID, req: req}
	d.requests[c.RequestPK] = r
	now := d.clock.Now()
	for _, pk := range c.DestPKs {
		d.q.push(&item{destPK: pk, req: r, heapIdx: -1}, now)
	}
	d.mu.Unlock()
	d.kick()
}

// Status returns a page of details (limit 0 means DefaultPageLimit); an
// unknown request or another owner's is ErrNotFound.
func (d *Dialer) Status(ctx context.Context, owner, requestID string, offset, limit int) (*RequestStatus, error) {
	if offset < 0 || limit < 0 {
		return nil, fmt.Errorf("status: negative offset or limit: %w", ErrInvalid)
	}
	if limit == 0 {
		limit = DefaultPageLimit
	}
	st, err := d.store.RequestStatus(ctx, owner, requestID, offset, limit)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// Cancel drops the request's queued destinations, hangs up its live calls,
// waits (bounded by ctx) until they are recorded, and returns the status.
func (d *Dialer) Cancel(ctx context.Context, owner, requestID string) (*RequestStatus, error) {
	pk, err := d.store.CancelRequest(ctx, owner, requestID, d.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("cancel: %w", err)
	}
	var waits []chan struct{}
	d.mu.Lock()
	if r := d.requests[pk]; r != nil {
		r.cancelled = true
		d.q.drop(r)
		for _, lc := range d.live {
			if lc.req == r {
				lc.cancel(errCancelled)
				waits = append(waits, lc.done)
			}
		}
		if r.pending() == 0 {
			delete(d.requests, pk)
		}
	}
	d.mu.Unlock()
	d.kick()
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return nil, fmt.Errorf("cancel: %w", ctx.Err())
		}
	}
	return d.Status(ctx, owner, requestID, 0, 0)
}

// Trunk returns the slot counts of GET /trunk.
func (d *Dialer) Trunk(ctx context.Context) (TrunkStatus, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	return TrunkStatus{
		Capacity: d.cfg.Capacity, ExternalBusy: d.externalBusy, Active: d.active,
		Free: d.freeLocked(now), Queued: d.q.count,
	}, nil
}

// SetExternalBusy records the calls other systems hold on the trunk and
// re-evaluates the free slots.
func (d *Dialer) SetExternalBusy(ctx context.Context, n int) (TrunkStatus, error) {
	if n < 0 {
		return TrunkStatus{}, fmt.Errorf("set external busy: %d is negative: %w", n, ErrInvalid)
	}
	d.mu.Lock()
	d.externalBusy = n
	d.mu.Unlock()
	d.kick()
	return d.Trunk(ctx)
}

// RecordingPath returns the WAV file of a call owned by owner, or ErrNotFound.
func (d *Dialer) RecordingPath(ctx context.Context, owner, callID string) (string, error) {
	p, err := d.store.RecordingPath(ctx, owner, callID)
	if err != nil {
		return "", fmt.Errorf("recording: %w", err)
	}
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("recording: %w", ErrNotFound)
	}
	return p, nil
}

// Ready reports whether the dialer runs and the store answers.
func (d *Dialer) Ready(ctx context.Context) error {
	if !d.isRunning() {
		return fmt.Errorf("ready: %w", ErrClosed)
	}
	if err := d.store.Ping(ctx); err != nil {
		return fmt.Errorf("ready: store: %w", err)
	}
	return nil
}
