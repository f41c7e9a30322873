package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Event is one stored event waiting for delivery.
type Event struct {
	// ID is the eventId, unique and stable across redeliveries.
	ID string
	// CallID orders events: one call's events are delivered in Sequence order.
	CallID   string
	Sequence int64
	// Owner identifies the API key whose secret signs the event.
	Owner string
	URL   string
	// Body is the JSON exactly as stored; it is sent and signed as is.
	Body []byte
	// Attempts counts deliveries tried so far in the current retry window.
	Attempts int
	// CreatedAt starts the retry window: the event's creation, or its last
	// redelivery. The event is dead-lettered once a retry would fall
	// MaxAge after it.
	CreatedAt time.Time
}

// Outbox is the store side of delivery.
type Outbox interface {
	// DueEvents returns up to limit undelivered, not dead events whose next
	// attempt is due at now, at most one per call (the lowest pending
	// Sequence of that call), oldest first, skipping the calls in busy.
	DueEvents(ctx context.Context, now time.Time, limit int, busy []string) ([]Event, error)
	// MarkDelivered records a 2xx answer.
	MarkDelivered(ctx context.Context, id string, attempts int, at time.Time) error
	// MarkRetry records a failed attempt and when to try again.
	MarkRetry(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error
	// MarkDead moves an event to the dead-letter state.
	MarkDead(ctx context.Context, id string, attempts int, lastErr string) error
}

// Config tunes a Deliverer. Zero values take the documented defaults.
type Config struct {
	Outbox Outbox
	// Key returns the signing secret of an owner; false dead-letters the event.
	Key func(owner string) ([]byte, bool)
	// Client sends the requests; nil means a client with Timeout that does
	// not follow redirects (a redirect counts as a failed delivery).
	Client *http.Client
	// Timeout bounds one delivery (default 10s).
	Timeout time.Duration
	// Concurrency bounds deliveries in flight (default 8).
	Concurrency int
	// BaseBackoff is the first retry delay (default 1s); it doubles per
	// attempt up to MaxBackoff (default 5m), with jitter.
	BaseBackoff, MaxBackoff time.Duration
	// MaxAge is how long after its creation an event is retried before it
	// is dead-lettered (default 24h).
	MaxAge time.Duration
	// Poll is how often the outbox is read when nothing wakes the loop
	// (default 1s).
	Poll time.Duration
	// UserAgent is sent with every delivery.
	UserAgent string
	Now       func() time.Time
	Logger    *slog.Logger
}

// Deliverer posts due events. Run owns its goroutines.
type Deliverer struct {
	cfg  Config
	wake chan struct{}

	mu       sync.Mutex
	inflight map[string]bool // call IDs with a delivery in progress
}

// New returns a Deliverer with defaults filled in.
func New(cfg Config) *Deliverer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "dialflow-webhook/1"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout: cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return &Deliverer{cfg: cfg, wake: make(chan struct{}, 1), inflight: map[string]bool{}}
}

// Notify wakes the delivery loop: new events were stored.
func (d *Deliverer) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers events until ctx ends, then waits for deliveries in flight.
func (d *Deliverer) Run(ctx context.Context) error {
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.wake:
		}
		free := cap(sem) - len(sem)
		if free > 0 {
			evs, err := d.cfg.Outbox.DueEvents(ctx, d.cfg.Now(), free, d.busy())
			if err != nil && ctx.Err() == nil {
				d.cfg.Logger.Warn("webhook outbox read failed", "err", err)
			}
			for _, ev := range evs {
				if !d.claim(ev.CallID) {
					continue
				}
				sem <- struct{}{}
				wg.Add(1)
				go func(ev Event) {
					defer wg.Done()
					defer func() { <-sem; d.release(ev.CallID); d.Notify() }()
					d.deliver(ctx, ev)
				}(ev)
			}
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(d.cfg.Poll)
	}
}

func (d *Deliverer) busy() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.inflight))
	for k := range d.inflight {
		out = append(out, k)
	}
	return out
}

func (d *Deliverer) claim(call string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inflight[call] {
		return false
	}
	d.inflight[call] = true
	return true
}

func (d *Deliverer) release(call string) {
	d.mu.Lock()
	delete(d.inflight, call)
	d.mu.Unlock()
}

// deliver makes one attempt and records its outcome.
func (d *Deliverer) deliver(ctx context.Context, ev Event) {
	attempts := ev.Attempts + 1
	log := d.cfg.Logger.With("event_id", ev.ID, "call_id", ev.CallID, "sequence", ev.Sequence, "attempt", attempts)
	key, ok := d.cfg.Key(ev.Owner)
	if !ok {
		d.mark(ctx, log, d.cfg.Outbox.MarkDead(ctx, ev.ID, attempts, "no signing key for the request's owner"))
		return
	}
	err := d.post(ctx, ev, key)
	now := d.cfg.Now()
	if err == nil {
		d.mark(ctx, log, d.cfg.Outbox.MarkDelivered(ctx, ev.ID, attempts, now))
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the event stays due and is tried after restart
	}
	next := now.Add(Backoff(d.cfg.BaseBackoff, d.cfg.MaxBackoff, attempts))
	if next.After(ev.CreatedAt.Add(d.cfg.MaxAge)) {
		log.Warn("webhook dead-lettered", "err", err)
		d.mark(ctx, log, d.cfg.Outbox.MarkDead(ctx, ev.ID, attempts, err.Error()))
		return
	}
	log.Info("webhook delivery failed; will retry", "err", err, "next", next)
	d.mark(ctx, log, d.cfg.Outbox.MarkRetry(ctx, ev.ID, attempts, next, err.Error()))
}

func (d *Deliverer) mark(ctx context.Context, log *slog.Logger, err error) {
	if err != nil && ctx.Err() == nil {
		log.Error("webhook outbox update failed", "err", err)
	}
}

func (d *Deliverer) post(ctx context.Context, ev Event, key []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ev.URL, bytes.NewReader(ev.Body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.cfg.UserAgent)
	req.Header.Set("X-Dialflow-Event-Id", ev.ID)
	req.Header.Set(SignatureHeader, Sign(key, d.cfg.Now(), ev.Body))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return fmt.Errorf("no answer within %s: %w", d.cfg.Timeout, err)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return fmt.Errorf("receiver answered %d (redirects are not followed)", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}

// isTimeout reports a network timeout (the client's own Timeout).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Backoff returns the delay before attempt+1: base·2^(attempt-1) capped at
// max, with jitter drawn from the upper half so retries of many events
// spread out without collapsing to zero.
func Backoff(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}
