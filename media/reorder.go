package media

// Receive-side reordering limits.
const (
	// MaxPayload is the largest audio payload accepted (60 ms of G.711).
	MaxPayload = 480
	// reorderSlots is the ring size; the window is at most reorderSlots-1.
	reorderSlots = 16
	// DefaultReorderWindow is how many packets ahead of a missing one are
	// waited for before the gap is declared lost (3 packets ≈ 60 ms).
	DefaultReorderWindow = 3
	// seqRestart is a sequence jump (either way) treated as a sender restart
	// rather than loss or lateness.
	seqRestart = 1000
)

type slot struct {
	used bool
	seq  uint16
	ts   uint32
	pt   uint8
	n    int
	data [MaxPayload]byte
}

// reorderStats are the counters the buffer keeps.
type reorderStats struct {
	lost, late, duplicate, restarts uint64
}

// reorder puts audio packets of one source back in sequence order within a
// small window, drops duplicates and late packets, and reports gaps so the
// caller can fill them with silence. It never allocates after creation.
type reorder struct {
	window  int
	started bool
	next    uint16 // next sequence number to release
	nextTS  uint32 // expected timestamp of next
	lastN   int    // samples in the last released packet
	seen    uint64 // bit i: next-1-i was released
	slots   [reorderSlots]slot
	stats   reorderStats
	// out is called for each released packet in order; lost packets are
	// released with payload nil and n = expected samples.
	out func(ts uint32, pt uint8, payload []byte, n int)
}

func newReorder(window int, out func(ts uint32, pt uint8, payload []byte, n int)) *reorder {
	if window < 0 {
		window = 0
	}
	if window > reorderSlots-1 {
		window = reorderSlots - 1
	}
	return &reorder{window: window, out: out}
}

// reset releases what is buffered and forgets the sequence state (new SSRC).
func (r *reorder) reset() {
	if r.started {
		r.flush()
	}
	r.started = false
}

// flush releases every buffered packet in order, skipping holes silently.
func (r *reorder) flush() {
	for i := 0; i < reorderSlots; i++ {
		s := &r.slots[(int(r.next)+i)%reorderSlots]
		if s.used && s.seq == r.next+uint16(i) {
			r.release(s)
		}
		s.used = false
	}
}

// push adds one packet (payload is copied).
func (r *reorder) push(seq uint16, ts uint32, pt uint8, payload []byte) {
	if len(payload) > MaxPayload {
		payload = payload[:MaxPayload]
	}
	if !r.started {
		r.start(seq, ts)
	}
	d := int16(seq - r.next)
	if d > seqRestart/2 || d < -seqRestart/2 {
		r.stats.restarts++
		r.flush()
		r.start(seq, ts)
		d = 0
	}
	if d < 0 {
		back := int(-d) - 1 // 0 = next-1
		if back < 64 && r.seen&(1<<back) != 0 {
			r.stats.duplicate++
		} else {
			r.stats.late++
		}
		return
	}
	s := &r.slots[int(seq)%reorderSlots]
	if s.used && s.seq == seq {
		r.stats.duplicate++
		return
	}
	if int(d) >= reorderSlots {
		// Far ahead of the window: declare everything before it lost.
		r.skipTo(seq - uint16(r.window))
		s = &r.slots[int(seq)%reorderSlots]
	}
	s.used, s.seq, s.ts, s.pt, s.n = true, seq, ts, pt, copy(s.data[:], payload)
	r.drain()
	// Give up on holes once a packet window ahead has arrived.
	for int(int16(seq-r.next)) >= r.window {
		r.lose()
		r.drain()
	}
}

func (r *reorder) start(seq uint16, ts uint32) {
	r.started, r.next, r.nextTS, r.lastN, r.seen = true, seq, ts, FrameSamples, 0
	for i := range r.slots {
		r.slots[i].used = false
	}
}

// drain releases consecutive packets from next on.
func (r *reorder) drain() {
	for {
		s := &r.slots[int(r.next)%reorderSlots]
		if !s.used || s.seq != r.next {
			return
		}
		r.release(s)
	}
}

func (r *reorder) release(s *slot) {
	s.used = false
	r.out(s.ts, s.pt, s.data[:s.n], s.n)
	r.lastN = s.n
	if s.n == 0 {
		r.lastN = FrameSamples
	}
	r.nextTS = s.ts + uint32(s.n)
	r.next = s.seq + 1
	r.seen = r.seen<<1 | 1
}

// lose releases the missing packet at next as a gap.
func (r *reorder) lose() {
	r.stats.lost++
	r.out(r.nextTS, 0, nil, r.lastN)
	r.nextTS += uint32(r.lastN)
	r.next++
	r.seen <<= 1
}

// skipTo loses every packet up to (not including) seq, releasing what is
// buffered on the way.
func (r *reorder) skipTo(seq uint16) {
	for int16(seq-r.next) > 0 {
		s := &r.slots[int(r.next)%reorderSlots]
		if s.used && s.seq == r.next {
			r.release(s)
		} else {
			r.lose()
		}
	}
}
