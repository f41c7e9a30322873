package media

import (
	"fmt"
	"time"
)

// DTMFMethod says how a digit reached us.
type DTMFMethod uint8

// The DTMF transport methods.
const (
	// RFC4733 is an RTP telephone-event (RFC 4733, formerly RFC 2833).
	RFC4733 DTMFMethod = iota + 1
	// InBand is a dual tone in the audio, found by the Goertzel detector.
	InBand
	// SIPInfo is a SIP INFO request (application/dtmf-relay or
	// application/dtmf), fed in by the SIP layer through InjectDigit.
	SIPInfo
)

// String returns "rfc4733", "inband" or "sipinfo".
func (m DTMFMethod) String() string {
	switch m {
	case RFC4733:
		return "rfc4733"
	case InBand:
		return "inband"
	case SIPInfo:
		return "sipinfo"
	}
	return fmt.Sprintf("DTMFMethod(%d)", uint8(m))
}

// Digit is one DTMF key press received on a stream.
type Digit struct {
	// Key is '0'-'9', '*', '#' or 'A'-'D'.
	Key rune
	// Method is the transport that carried the press (the first one, when
	// several carried it).
	Method DTMFMethod
	// At is when the press started: arrival of the first event packet,
	// start of the detected tone, or arrival of the INFO request.
	At time.Time
	// Duration is how long the key was held, when the method tells
	// (RFC 4733 event duration, tone length); zero when unknown.
	Duration time.Duration
}

// DedupWindow is how close (by At) two presses of the same key carried by
// different methods must be to count as one press. Presses carried by the
// same method are never merged.
const DedupWindow = 300 * time.Millisecond

// digitDedup merges presses that arrive through more than one method: a
// digit joins a recent press of the same key (within DedupWindow) that its
// method has not carried yet; otherwise it is a new press. Not safe for
// concurrent use.
type digitDedup struct {
	recent [4]press
	next   int
}

type press struct {
	d       Digit
	methods uint8 // bit per method that carried it
}

// accept reports whether d is a new press, and records it.
func (m *digitDedup) accept(d Digit) bool {
	bit := uint8(1) << d.Method
	for i := range m.recent {
		p := &m.recent[i]
		if p.methods == 0 || p.d.Key != d.Key || p.methods&bit != 0 {
			continue
		}
		dt := d.At.Sub(p.d.At)
		if dt < 0 {
			dt = -dt
		}
		if dt <= DedupWindow {
			p.methods |= bit
			return false
		}
	}
	m.recent[m.next] = press{d: d, methods: bit}
	m.next = (m.next + 1) % len(m.recent)
	return true
}
