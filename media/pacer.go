package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxBurst is how many frames a pacer sends back to back to catch up
// after a late wake-up (100 ms). A longer stall skips frames instead.
const DefaultMaxBurst = 5

// PacerConfig configures a Pacer. The zero value is valid.
type PacerConfig struct {
	// Now returns the current time; nil means time.Now. Tests inject a
	// fake clock and drive the pacer with Step.
	Now func() time.Time
	// MaxBurst bounds catch-up: after a stall of up to MaxBurst frames the
	// missed frames are sent back to back; after a longer stall all but the
	// last are skipped (streams advance their RTP timestamp over the gap and
	// mark the next packet). Zero means DefaultMaxBurst.
	MaxBurst int
}

// frameSender is what a pacer drives: one call per 20 ms frame. skipped is
// how many frames were skipped just before this one (after a stall).
type frameSender interface {
	sendFrame(now time.Time, skipped int)
}

// Pacer sends one frame of every attached stream every 20 ms, against
// absolute deadlines (start + n × 20 ms) so timing never drifts. One pacer
// goroutine can carry many streams; a stream created without a pacer gets
// a private one. Start and Close own the goroutine.
type Pacer struct {
	now      func() time.Time
	maxBurst int

	mu      sync.Mutex
	streams atomic.Pointer[[]frameSender] // copy on write
	started bool
	begin   time.Time
	n       int64 // frames sent (or skipped) since begin
	skipped atomic.Uint64

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewPacer returns a pacer; call Start to run it.
func NewPacer(cfg PacerConfig) *Pacer {
	p := &Pacer{now: cfg.Now, maxBurst: cfg.MaxBurst, stop: make(chan struct{})}
	if p.now == nil {
		p.now = time.Now
	}
	if p.maxBurst <= 0 {
		p.maxBurst = DefaultMaxBurst
	}
	empty := []frameSender{}
	p.streams.Store(&empty)
	return p
}

// Start runs the pacer goroutine. Calling it twice is a no-op.
func (p *Pacer) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return
	}
	p.started = true
	p.begin = p.now()
	p.wg.Add(1)
	go p.run()
}

// Close stops the pacer goroutine and waits for it. Attached streams stop
// sending; close them first.
func (p *Pacer) Close() error {
	p.mu.Lock()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// FramesSkipped returns how many frame slots were skipped after stalls
// longer than MaxBurst frames.
func (p *Pacer) FramesSkipped() uint64 { return p.skipped.Load() }

// Streams returns how many streams are attached.
func (p *Pacer) Streams() int { return len(*p.streams.Load()) }

func (p *Pacer) add(s frameSender) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.streams.Load()
	next := make([]frameSender, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	p.streams.Store(&next)
}

func (p *Pacer) remove(s frameSender) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.streams.Load()
	next := make([]frameSender, 0, len(old))
	for _, x := range old {
		if x != s {
			next = append(next, x)
		}
	}
	p.streams.Store(&next)
}

func (p *Pacer) run() {
	defer p.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		next := p.Step(p.now())
		t.Reset(time.Until(next))
	}
}

// Step sends the frames that are due at now (normally one; a few after a
// late wake-up; see MaxBurst) and returns the deadline of the next frame.
// The pacer goroutine calls it; tests with a fake clock call it directly
// (without Start, the first Step fixes the start time).
func (p *Pacer) Step(now time.Time) time.Time {
	p.mu.Lock()
	if !p.started && p.begin.IsZero() {
		p.begin = now
	}
	begin := p.begin
	due := int64(now.Sub(begin)/FrameDuration) + 1 // frames due by now
	behind := due - p.n
	skip := 0
	if behind > int64(p.maxBurst) {
		skip = int(behind - 1)
		p.n += int64(skip)
		behind = 1
		p.skipped.Add(uint64(skip))
	}
	p.mu.Unlock()
	streams := *p.streams.Load()
	for i := int64(0); i < behind; i++ {
		for _, s := range streams {
			s.sendFrame(now, skip)
		}
		skip = 0
	}
	p.mu.Lock()
	if behind > 0 {
		p.n += behind
	}
	next := begin.Add(time.Duration(p.n) * FrameDuration)
	p.mu.Unlock()
	return next
}
