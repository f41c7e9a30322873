package dialer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// DefaultCapacity is the trunk capacity when Config.Capacity is 0.
const DefaultCapacity = 6

// storeRetryDelay is the wait before a destination is tried again after the
// store failed to open its attempt.
const storeRetryDelay = 5 * time.Second

// Config tunes a Dialer. The zero value of each field is a documented default.
type Config struct {
	// Capacity is the trunk's concurrent calls (default DefaultCapacity).
	Capacity int
	// CallsPerSecond caps call attempts per second; 0 means no cap.
	CallsPerSecond float64
	// CapacityBackoff is how long a capacity refusal shrinks the trunk by one
	// slot and delays the refused destination (default DefaultCapacityBackoff).
	CapacityBackoff time.Duration
	// RecordingDir is where recordings go; empty disables recording.
	RecordingDir string
	// Clock is the time source (default: the system clock).
	Clock Clock
	// Logger receives the dialer's logs (default: discard).
	Logger *slog.Logger
	// Observer receives metrics (default: none).
	Observer Observer
}

// Validate reports an invalid configuration.
func (c Config) Validate() error {
	if c.Capacity < 0 {
		return fmt.Errorf("dialer config: capacity %d: %w", c.Capacity, ErrInvalid)
	}
	if c.CallsPerSecond < 0 {
		return fmt.Errorf("dialer config: calls per second %g: %w", c.CallsPerSecond, ErrInvalid)
	}
	if c.CapacityBackoff < 0 {
		return fmt.Errorf("dialer config: capacity backoff %s: %w", c.CapacityBackoff, ErrInvalid)
	}
	return nil
}

// Dialer schedules destinations onto the trunk's free slots and runs their
// attempts through a Placer. Start it, then Close it to stop and wait for
// every goroutine it started.
type Dialer struct {
	cfg    Config
	store  Store
	placer Placer
	log    *slog.Logger
	clock  Clock
	obs    Observer

	mu           sync.Mutex
	running      bool
	draining     bool // Drain called: no new call starts
	externalBusy int
	active       int
	shrink       int
	shrinkUntil  time.Time
	nextDial     time.Time // earliest next attempt under the CPS cap
	requests     map[int64]*reqState
	live         map[int64]*liveCall
	q            queue
	timer        Timer
	timerAt      time.Time

	wake     chan struct{}
	ctx      context.Context // the dialer's own lifetime
	cancel   context.CancelCauseFunc
	calls    sync.WaitGroup
	loopDone chan struct{}
}

// New returns a Dialer over st and p; call Start to run it.
func New(cfg Config, st Store, p Placer) (*Dialer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if st == nil || p == nil {
		return nil, fmt.Errorf("dialer: store and placer are required: %w", ErrInvalid)
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.CapacityBackoff == 0 {
		cfg.CapacityBackoff = DefaultCapacityBackoff
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return &Dialer{
		cfg: cfg, store: st, placer: p, log: cfg.Logger, clock: cfg.Clock, obs: cfg.Observer,
		requests: make(map[int64]*reqState),
		live:     make(map[int64]*liveCall),
		wake:     make(chan struct{}, 1),
	}, nil
}

// Start closes the attempts a previous run left open (failed, hangup cause
// engine_restart, retried if their policy allows), loads the queue and
// starts dialing. ctx bounds only this startup work.
func (d *Dialer) Start(ctx context.Context) error {
	d.mu.Lock()
	if d.running || d.loopDone != nil {
		d.mu.Unlock()
		return fmt.Errorf("dialer start: already started: %w", ErrInvalid)
	}
	d.mu.Unlock()
	if err := d.recoverLive(ctx); err != nil {
		return fmt.Errorf("dialer start: %w", err)
	}
	reqs, dests, err := d.store.LoadQueue(ctx)
	if err != nil {
		return fmt.Errorf("dialer start: load queue: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	for _, qr := range reqs {
		req, err := flow.ParseRequest(qr.Body)
		if err != nil {
			d.log.Error("stored request no longer parses; its destinations stay queued",
				"requestPK", qr.PK, "err", err)
			continue
		}
		d.requests[qr.PK] = &reqState{pk: qr.PK, owner: qr.Owner, id: qr.RequestID, req: req}
	}
	for _, qd := range dests {
		r := d.requests[qd.RequestPK]
		if r == nil {
			continue
		}
		d.q.push(&item{destPK: qd.PK, req: r, counted: qd.Counted, notBefore: qd.NextAt, heapIdx: -1}, now)
	}
	d.ctx, d.cancel = context.WithCancelCause(context.Background())
	d.running = true
	d.loopDone = make(chan struct{})
	go d.loop()
	d.kick()
	d.log.Info("dialer started", "capacity", d.cfg.Capacity, "queued", d.q.count, "requests", len(d.requests))
	return nil
}

// recoverLive closes attempts left open by a crash or a stop.
func (d *Dialer) recoverLive(ctx context.Context) error {
	lives, err := d.store.LiveAttempts(ctx)
	if err != nil {
		return fmt.Errorf("load live attempts: %w", err)
	}
	parsed := make(map[int64]*flow.Request)
	now := d.clock.Now()
	for _, la := range lives {
		req, ok := parsed[la.RequestPK]
		if !ok {
			req, _ = flow.ParseRequest(la.Body) // nil on error: no retry
			parsed[la.RequestPK] = req
		}
		end := AttemptEnd{
			AttemptPK: la.AttemptPK, DestPK: la.DestPK, CallStatus: OutcomeFailed,
			HangupCause: CauseEngineRestart, HangupBy: ByEngine, At: now, Next: DestFailed,
		}
		var policy *flow.RetryPolicy
		if req != nil {
			policy = req.Retry
		}
		switch {
		case la.Cancelled:
			end.Next = DestCancelled
		case shouldRetry(policy, la.Counted, OutcomeFailed):
			end.Next, end.NextAt = DestQueued, now.Add(retryInterval(policy))
		}
		if err := d.store.EndAttempt(ctx, end); err != nil {
			return fmt.Errorf("close interrupted attempt %d: %w", la.AttemptPK, err)
		}
	}
	if len(lives) > 0 {
		d.log.Warn("closed attempts interrupted by a restart", "count", len(lives))
	}
	return nil
}

// Drain stops starting calls (queued work stays queued, durable for the
// next start) and waits until no call is live or ctx ends; it reports how
// many calls were still live. Close afterwards hangs up what remains.
func (d *Dialer) Drain(ctx context.Context) int {
	d.mu.Lock()
	d.draining = true
	d.mu.Unlock()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		d.mu.Lock()
		n := d.active
		d.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
		}
	}
}

// Close stops dialing, hangs up live calls (their attempts stay open and are
// closed as engine_restart by the next Start) and waits for every goroutine.
func (d *Dialer) Close() error {
	d.mu.Lock()
	if !d.running {
		d.mu.Unlock()
		return nil
	}
	d.running = false
	d.cancel(errShutdown)
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
	<-d.loopDone
	d.calls.Wait()
	return nil
}

// kick wakes the scheduling loop; it never blocks.
func (d *Dialer) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Dialer) loop() {
	defer close(d.loopDone)
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-d.wake:
			d.schedule()
		}
	}
}

// schedule starts as many calls as the free slots and the CPS cap allow and
// arms a timer for the next moment something may become possible.
func (d *Dialer) schedule() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running || d.draining {
		return
	}
	now := d.clock.Now()
	next := d.q.promote(now)
	for d.freeLocked(now) > 0 {
		if wait := d.cpsWaitLocked(now); wait > 0 {
			next = earliest(next, now.Add(wait))
			break
		}
		it := d.q.pop()
		if it == nil {
			break
		}
		d.launchLocked(it, now)
	}
	if d.shrink > 0 {
		next = earliest(next, d.shrinkUntil)
	}
	d.armLocked(now, next)
	d.obs.Trunk(d.q.count, d.active, d.freeLocked(now))
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// armLocked makes sure the loop wakes at next (zero: no timer needed).
func (d *Dialer) armLocked(now, next time.Time) {
	if next.IsZero() {
		return
	}
	if d.timer != nil && !d.timerAt.After(next) && d.timerAt.After(now) {
		return
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	d.timerAt = next
	d.timer = d.clock.AfterFunc(next.Sub(now), d.kick)
}

// effectiveCapacityLocked is the capacity minus a live refusal shrink.
func (d *Dialer) effectiveCapacityLocked(now time.Time) int {
	c := d.cfg.Capacity
	if d.shrink > 0 {
		if now.Before(d.shrinkUntil) {
			c = max(1, c-d.shrink)
		} else {
			d.shrink = 0
		}
	}
	return c
}

// freeLocked is capacity − externalBusy − active, never negative.
func (d *Dialer) freeLocked(now time.Time) int {
	return max(0, d.effectiveCapacityLocked(now)-d.externalBusy-d.active)
}

// cpsWaitLocked is how long the CPS cap delays the next attempt.
func (d *Dialer) cpsWaitLocked(now time.Time) time.Duration {
	if d.cfg.CallsPerSecond <= 0 || d.nextDial.IsZero() {
		return 0
	}
	return max(0, d.nextDial.Sub(now))
}

// shrinkCapacity reacts to a capacity refusal.
func (d *Dialer) shrinkCapacity(now time.Time, backoff time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.effectiveCapacityLocked(now) > 1 {
		d.shrink++
	}
	if until := now.Add(backoff); until.After(d.shrinkUntil) {
		d.shrinkUntil = until
	}
}

// launchLocked takes a slot and starts the attempt's goroutine.
func (d *Dialer) launchLocked(it *item, now time.Time) {
	d.active++
	if d.cfg.CallsPerSecond > 0 {
		// Keep the cadence: the next slot follows this attempt's planned
		// time, not the moment the timer fired, so timer lateness does not
		// lower the rate (it did by ~15% at 200 cps); after an idle spell
		// the cadence restarts from now.
		gap := time.Duration(float64(time.Second) / d.cfg.CallsPerSecond)
		base := d.nextDial
		if base.IsZero() || now.Sub(base) > gap {
			base = now
		}
		d.nextDial = base.Add(gap)
	}
	it.req.live++
	ctx, cancel := context.WithCancelCause(d.ctx)
	lc := &liveCall{req: it.req, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	d.live[it.destPK] = lc
	d.calls.Add(1)
	go d.attempt(it, lc)
}

// attempt runs one dial and gives its slot back.
func (d *Dialer) attempt(it *item, lc *liveCall) {
	defer d.calls.Done()
	requeue, at := d.dial(it, lc)
	lc.cancel(nil)
	d.mu.Lock()
	delete(d.live, it.destPK)
	d.active--
	it.req.live--
	if requeue && !it.req.cancelled && d.running {
		it.notBefore = at
		d.q.push(it, d.clock.Now())
	}
	if it.req.pending() == 0 && d.requests[it.req.pk] == it.req {
		delete(d.requests, it.req.pk)
	}
	d.mu.Unlock()
	close(lc.done)
	d.kick()
}
