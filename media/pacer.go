package media

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxBurst is how many frames a pacer sends back to back to catch up
// after a late wake-up (100 ms). A longer stall skips frames instead.
const DefaultMaxBurst = 5

// PacerPhases is how many phases a pacer splits the 20 ms frame period
// into (1 ms apart). Each stream belongs to one phase, so a pacer carrying
// many streams sends a twentieth of them every millisecond instead of all
// of them at once: no stream waits behind the whole population.
const PacerPhases = 20

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
	// Workers is how many goroutines share the phases (phase k belongs to
	// worker k mod Workers). Zero means GOMAXPROCS, capped at PacerPhases.
	Workers int
}

// frameSender is what a pacer drives: one call per 20 ms frame. skipped is
// how many frames were skipped just before this one (after a stall).
type frameSender interface {
	sendFrame(now time.Time, skipped int)
}

// phase is one slot of the frame period: its streams are due at
// begin + offset + n × 20 ms.
type phase struct {
	offset  time.Duration
	streams atomic.Pointer[[]frameSender] // copy on write under Pacer.mu
	wake    chan struct{}                 // the owning worker's wake-up (buffered 1)
	mu      sync.Mutex                    // guards n (one worker, or Step)
	n       int64                         // frames sent (or skipped) since begin
}

// Pacer sends one frame of every attached stream every 20 ms, against
// absolute deadlines (start + phase offset + n × 20 ms) so timing never
// drifts. Streams are spread over PacerPhases phases and the phases over a
// few worker goroutines, so one pacer carries thousands of streams on all
// cores. A stream created without a pacer gets a private one. Start and
// Close own the goroutines.
type Pacer struct {
	now      func() time.Time
	maxBurst int
	workers  int

	mu      sync.Mutex
	phases  [PacerPhases]phase
	all     []*phase // every phase, for Step
	started bool
	begin   time.Time
	skipped atomic.Uint64

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewPacer returns a pacer; call Start to run it.
func NewPacer(cfg PacerConfig) *Pacer {
	p := &Pacer{now: cfg.Now, maxBurst: cfg.MaxBurst, workers: cfg.Workers, stop: make(chan struct{})}
	if p.now == nil {
		p.now = time.Now
	}
	if p.maxBurst <= 0 {
		p.maxBurst = DefaultMaxBurst
	}
	if p.workers <= 0 {
		p.workers = runtime.GOMAXPROCS(0)
	}
	p.workers = min(p.workers, PacerPhases)
	for i := range p.phases {
		ph := &p.phases[i]
		ph.offset = time.Duration(i) * FrameDuration / PacerPhases
		empty := []frameSender{}
		ph.streams.Store(&empty)
		p.all = append(p.all, ph)
	}
	return p
}

// Start runs the worker goroutines. Calling it twice is a no-op.
func (p *Pacer) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return
	}
	p.started = true
	p.begin = p.now()
	for w := 0; w < p.workers; w++ {
		var mine []*phase
		wake := make(chan struct{}, 1)
		for i := w; i < PacerPhases; i += p.workers {
			p.phases[i].wake = wake
			mine = append(mine, &p.phases[i])
		}
		p.wg.Add(1)
		go p.run(mine, wake)
	}
}

// Close stops the worker goroutines and waits for them. Attached streams
// stop sending; close them first.
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
// longer than MaxBurst frames (counted once per phase, not per stream).
func (p *Pacer) FramesSkipped() uint64 { return p.skipped.Load() }

// Streams returns how many streams are attached.
func (p *Pacer) Streams() int {
	n := 0
	for i := range p.phases {
		n += len(*p.phases[i].streams.Load())
	}
	return n
}

// add attaches s to the phase whose next slot comes soonest among those
// not much busier than the average, so a new stream's first packet (the
// start of its prompt) goes out within a few milliseconds while the
// phases stay balanced.
func (p *Pacer) add(s frameSender) {
	p.mu.Lock()
	defer p.mu.Unlock()
	total := 0
	for i := range p.phases {
		total += len(*p.phases[i].streams.Load())
	}
	limit := total/PacerPhases + total/(10*PacerPhases) + 1
	var since time.Duration
	if !p.begin.IsZero() {
		since = p.now().Sub(p.begin)
	}
	var best *phase
	var bestWait time.Duration
	for i := range p.phases {
		ph := &p.phases[i]
		if len(*ph.streams.Load()) > limit {
			continue
		}
		wait := (ph.offset - since) % FrameDuration
		if wait < 0 {
			wait += FrameDuration
		}
		if best == nil || wait < bestWait {
			best, bestWait = ph, wait
		}
	}
	old := *best.streams.Load()
	if len(old) == 0 && !p.begin.IsZero() {
		// An empty phase's frame count may be a period behind (its worker
		// only advances it when it wakes): bring it up to now so the new
		// stream starts on the next slot instead of with a late frame.
		best.mu.Lock()
		best.n = max(best.n, dueBy(since-best.offset))
		best.mu.Unlock()
	}
	next := make([]frameSender, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	best.streams.Store(&next)
	if best.wake != nil {
		select {
		case best.wake <- struct{}{}:
		default:
		}
	}
}

func (p *Pacer) remove(s frameSender) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.phases {
		ph := &p.phases[i]
		old := *ph.streams.Load()
		for j, x := range old {
			if x != s {
				continue
			}
			next := make([]frameSender, 0, len(old)-1)
			next = append(next, old[:j]...)
			next = append(next, old[j+1:]...)
			ph.streams.Store(&next)
			return
		}
	}
}

func (p *Pacer) run(mine []*phase, wake <-chan struct{}) {
	defer p.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-wake: // a stream joined: an idle worker may be asleep for a whole period
		}
		next := p.step(p.now(), mine)
		t.Reset(time.Until(next))
	}
}

// Step sends the frames that are due at now in every phase (normally one
// per stream; a few after a late wake-up; see MaxBurst) and returns the
// deadline of the next frame of any stream. Tests with a fake clock call
// it directly instead of Start (the first Step fixes the start time).
func (p *Pacer) Step(now time.Time) time.Time {
	return p.step(now, p.all)
}

// step services phases and returns their earliest next deadline; when
// none has streams, it returns the next frame period of the first.
func (p *Pacer) step(now time.Time, phases []*phase) time.Time {
	p.mu.Lock()
	if !p.started && p.begin.IsZero() {
		p.begin = now
	}
	begin := p.begin
	p.mu.Unlock()
	var next time.Time
	for _, ph := range phases {
		d, busy := p.stepPhase(now, begin, ph)
		if busy && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if next.IsZero() {
		// Nothing attached: look again one frame period later. A stream
		// added meanwhile starts on its phase's schedule, without a burst.
		ph := phases[0]
		ph.mu.Lock()
		next = begin.Add(ph.offset + time.Duration(ph.n)*FrameDuration)
		ph.mu.Unlock()
		if !next.After(now) {
			next = now.Add(FrameDuration)
		}
	}
	return next
}

// dueBy is how many frames of a phase are due when since has passed since
// its first slot.
func dueBy(since time.Duration) int64 {
	if since < 0 {
		return 0
	}
	return int64(since/FrameDuration) + 1
}

// stepPhase sends one phase's due frames; busy reports whether the phase
// has streams.
func (p *Pacer) stepPhase(now, begin time.Time, ph *phase) (next time.Time, busy bool) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	streams := *ph.streams.Load()
	due := dueBy(now.Sub(begin) - ph.offset)
	behind := due - ph.n
	if len(streams) == 0 {
		ph.n = max(ph.n, due)
		return begin.Add(ph.offset + time.Duration(ph.n)*FrameDuration), false
	}
	skip := 0
	if behind > int64(p.maxBurst) {
		skip = int(behind - 1)
		ph.n += int64(skip)
		behind = 1
		p.skipped.Add(uint64(skip))
	}
	for i := int64(0); i < behind; i++ {
		for _, s := range streams {
			s.sendFrame(now, skip)
		}
		skip = 0
	}
	if behind > 0 {
		ph.n += behind
	}
	return begin.Add(ph.offset + time.Duration(ph.n)*FrameDuration), true
}
