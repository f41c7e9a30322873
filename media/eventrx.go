package media

import "time"

// EventTimeout is the default for how long an RFC 4733 event may go without
// packets before it is reported anyway (all its end packets were lost).
const EventTimeout = 300 * time.Millisecond

// recentEvents is how many finished event timestamps are remembered to
// ignore late (reordered) or retransmitted packets of them.
const recentEvents = 8

// EventReceiver turns received RFC 4733 telephone-event packets into digits.
// Events are keyed on their RTP timestamp and the end bit (RFC 4733 §2.5.2):
// all packets of one press share a timestamp; the press is reported on the
// first end packet, further end packets (retransmissions, even with the
// same sequence number) are ignored; a press whose end packets are all lost
// is reported when the next event starts or after the timeout (SetTimeout,
// EventTimeout by default); a new
// timestamp is a new press, so the same key pressed twice is two digits.
// The marker bit and sequence numbers are not used. Reordered packets of an
// already reported event are ignored.
//
// It is not safe for concurrent use. The zero value is not ready: use
// NewEventReceiver.
type EventReceiver struct {
	emit    func(Digit)
	timeout time.Duration

	active   bool
	ended    bool
	ts       uint32
	ssrc     uint32
	code     uint8
	duration uint16
	start    time.Time
	lastSeen time.Time

	recent  [recentEvents]uint32
	nRecent int
	next    int
}

// NewEventReceiver returns a receiver that calls emit for each press.
func NewEventReceiver(emit func(Digit)) *EventReceiver {
	return &EventReceiver{emit: emit, timeout: EventTimeout}
}

// SetTimeout sets how long a press may go without packets before it is
// reported with the duration seen so far; d <= 0 restores EventTimeout.
func (r *EventReceiver) SetTimeout(d time.Duration) {
	if d <= 0 {
		d = EventTimeout
	}
	r.timeout = d
}

// Packet feeds one telephone-event packet (its SSRC, RTP timestamp and
// parsed payload) received at now.
func (r *EventReceiver) Packet(ssrc, ts uint32, ev Event, now time.Time) {
	if r.active && ssrc == r.ssrc && ts == r.ts {
		r.lastSeen = now
		if ev.Duration > r.duration {
			r.duration = ev.Duration
		}
		if ev.End && !r.ended {
			r.ended = true
			r.report()
		}
		return
	}
	if r.isRecent(ssrc, ts) {
		return // a late packet of an event already reported
	}
	if r.active && !r.ended {
		r.report() // its end packets were all lost
	}
	if r.active {
		r.remember(r.ts)
	}
	if ssrc != r.ssrc {
		r.nRecent = 0
	}
	*r = EventReceiver{emit: r.emit, timeout: r.timeout, recent: r.recent, nRecent: r.nRecent, next: r.next,
		active: true, ts: ts, ssrc: ssrc, code: ev.Code, duration: ev.Duration, start: now, lastSeen: now}
	if ev.End {
		r.ended = true
		r.report()
	}
}

// Tick reports a pending press whose packets stopped arriving the timeout
// ago. Call it periodically (for example on every received packet or
// read timeout).
func (r *EventReceiver) Tick(now time.Time) {
	if r.active && !r.ended && now.Sub(r.lastSeen) >= r.timeout {
		r.ended = true
		r.report()
	}
}

// Pending reports whether a press is in progress, and when Tick should next
// be called for it.
func (r *EventReceiver) Pending() (time.Time, bool) {
	if r.active && !r.ended {
		return r.lastSeen.Add(r.timeout), true
	}
	return time.Time{}, false
}

func (r *EventReceiver) report() {
	key := EventKey(r.code)
	if key == 0 {
		return // flash or a non-DTMF event
	}
	r.emit(Digit{Key: key, Method: RFC4733, At: r.start, Duration: Duration(int(r.duration))})
}

func (r *EventReceiver) remember(ts uint32) {
	r.recent[r.next] = ts
	r.next = (r.next + 1) % recentEvents
	if r.nRecent < recentEvents {
		r.nRecent++
	}
}

func (r *EventReceiver) isRecent(ssrc, ts uint32) bool {
	if ssrc != r.ssrc {
		return false
	}
	for i := 0; i < r.nRecent; i++ {
		if r.recent[i] == ts {
			return true
		}
	}
	// An event older than the current one (serial-number arithmetic) that
	// was never seen is a very late packet: too late to matter.
	return r.active && int32(ts-r.ts) < 0
}
