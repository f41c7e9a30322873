package media

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// evPkt is one received telephone-event packet.
type evPkt struct {
	ssrc uint32
	seq  uint16 // kept to show that sequence numbers are not used
	ts   uint32
	hex  string // payload
	at   time.Duration
}

// sippDigit1 is the packet sequence of sipp's dtmf_2833_1.pcap (read with
// tshark): 8 packets at one timestamp, the last (end) one sent 3 times with
// the same sequence number.
func sippDigit(code byte, ts uint32, seq uint16, at time.Duration) []evPkt {
	var out []evPkt
	for i := 0; i < 8; i++ {
		e := Event{Code: code, Volume: 10, Duration: uint16(i) * 320}
		if i == 7 {
			e.End = true
		}
		var b [4]byte
		e.MarshalTo(b[:])
		p := evPkt{ssrc: 0x0e05384e, seq: seq + uint16(i), ts: ts, hex: hex.EncodeToString(b[:]), at: at + time.Duration(i)*20*time.Millisecond}
		out = append(out, p)
		if i == 7 {
			out = append(out, p, p)
		}
	}
	return out
}

func runEvents(t *testing.T, pkts []evPkt, tickAt ...time.Duration) string {
	t.Helper()
	t0 := time.Unix(1000, 0)
	var got strings.Builder
	r := NewEventReceiver(func(d Digit) {
		if d.Method != RFC4733 {
			t.Errorf("method %v", d.Method)
		}
		got.WriteRune(d.Key)
	})
	for _, p := range pkts {
		b, err := hex.DecodeString(p.hex)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		r.Packet(p.ssrc, p.ts, ev, t0.Add(p.at))
	}
	for _, at := range tickAt {
		r.Tick(t0.Add(at))
	}
	return got.String()
}

func TestEventReceiverSequences(t *testing.T) {
	ms := time.Millisecond
	cat := func(ss ...[]evPkt) []evPkt {
		var out []evPkt
		for _, s := range ss {
			out = append(out, s...)
		}
		return out
	}
	withoutEnds := func(s []evPkt) []evPkt { return s[:7] }
	reversed := func(s []evPkt) []evPkt {
		out := append([]evPkt(nil), s...)
		out[2], out[5] = out[5], out[2]
		out[6], out[8] = out[8], out[6] // an end packet before a progress packet
		return out
	}
	cases := []struct {
		name  string
		pkts  []evPkt
		ticks []time.Duration
		want  string
	}{
		{"single digit (sipp triple end, same seq)", sippDigit(1, 13280, 7984, 0), nil, "1"},
		{"1 2 3 #", cat(sippDigit(1, 1000, 10, 0), sippDigit(2, 3000, 30, 300*ms), sippDigit(3, 5000, 50, 600*ms), sippDigit(11, 7000, 70, 900*ms)), nil, "123#"},
		{"repeated digit is two presses", cat(sippDigit(5, 1000, 10, 0), sippDigit(5, 3000, 30, 300*ms)), nil, "55"},
		{"lost end packets, next event starts", cat(withoutEnds(sippDigit(7, 1000, 10, 0)), sippDigit(8, 3000, 30, 300*ms)), nil, "78"},
		{"lost end packets, timeout", withoutEnds(sippDigit(9, 1000, 10, 0)), []time.Duration{200 * ms, 500 * ms, 900 * ms}, "9"},
		{"lost end packets, no timeout yet", withoutEnds(sippDigit(9, 1000, 10, 0)), []time.Duration{200 * ms}, ""},
		{"reordered within the event", reversed(sippDigit(4, 1000, 10, 0)), nil, "4"},
		{"late packet of a previous event", cat(sippDigit(1, 1000, 10, 0), sippDigit(2, 3000, 30, 300*ms)[:3], sippDigit(1, 1000, 10, 0)[3:4], sippDigit(2, 3000, 30, 300*ms)[3:]), nil, "12"},
		{"marker and sequence ignored: same seq reused for new event", cat(sippDigit(1, 1000, 10, 0), sippDigit(1, 2000, 10, 300*ms)), nil, "11"},
		{"flash is not a digit", sippDigit(16, 1000, 10, 0), nil, ""},
		{"ssrc change starts afresh", cat(sippDigit(3, 1000, 10, 0), func() []evPkt {
			s := sippDigit(3, 1000, 10, 300*ms)
			for i := range s {
				s[i].ssrc = 42
			}
			return s
		}()), nil, "33"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runEvents(t, c.pkts, c.ticks...); got != c.want {
				t.Fatalf("digits %q, want %q", got, c.want)
			}
		})
	}
}

func TestEventReceiverReportsDurationAndStart(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var got []Digit
	r := NewEventReceiver(func(d Digit) { got = append(got, d) })
	r.Packet(1, 500, Event{Code: 11, Duration: 0}, t0)
	r.Packet(1, 500, Event{Code: 11, Duration: 800}, t0.Add(100*time.Millisecond))
	r.Packet(1, 500, Event{Code: 11, End: true, Duration: 1280}, t0.Add(160*time.Millisecond))
	if len(got) != 1 || got[0].Key != '#' || got[0].Duration != 160*time.Millisecond || !got[0].At.Equal(t0) {
		t.Fatalf("got %+v", got)
	}
}

func TestEventReceiverTimeout(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var got []Digit
	r := NewEventReceiver(func(d Digit) { got = append(got, d) })
	r.SetTimeout(time.Second)
	r.Packet(1, 500, Event{Code: 6, Duration: 400}, t0)
	if at, ok := r.Pending(); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("pending %v %v, want the press due at +1s", at, ok)
	}
	r.Tick(t0.Add(EventTimeout)) // the default would have fired here
	if len(got) != 0 {
		t.Fatalf("reported before the configured timeout: %+v", got)
	}
	r.Tick(t0.Add(time.Second))
	if len(got) != 1 || got[0].Key != '6' || got[0].Duration != 50*time.Millisecond {
		t.Fatalf("got %+v, want 6 lasting the 50 ms seen", got)
	}
	// Packets of the reported press arriving late are the same press.
	r.Packet(1, 500, Event{Code: 6, End: true, Duration: 800}, t0.Add(1100*time.Millisecond))
	if _, ok := r.Pending(); ok || len(got) != 1 {
		t.Fatalf("late end packet: pending %v, digits %+v", ok, got)
	}
	r.SetTimeout(0)
	if r.timeout != EventTimeout {
		t.Fatalf("SetTimeout(0) left %v", r.timeout)
	}
}

func TestEventPayloadRoundTrip(t *testing.T) {
	// RFC 4733 §2.3 layout: event, E|R|volume, duration.
	wire := []byte{0x0b, 0x8a, 0x03, 0x20}
	e, err := ParseEvent(wire)
	if err != nil {
		t.Fatal(err)
	}
	if e != (Event{Code: 11, End: true, Volume: 10, Duration: 800}) {
		t.Fatalf("parsed %+v", e)
	}
	var b [4]byte
	e.MarshalTo(b[:])
	if string(b[:]) != string(wire) {
		t.Fatalf("marshal % x, want % x", b, wire)
	}
	if _, err := ParseEvent(wire[:3]); !errors.Is(err, ErrShortPacket) {
		t.Fatalf("short: %v", err)
	}
	for _, k := range "0123456789*#ABCD" {
		c, err := EventCode(k)
		if err != nil || EventKey(c) != k {
			t.Fatalf("key %q: code %d err %v back %q", k, c, err, EventKey(c))
		}
	}
	if _, err := EventCode('x'); !errors.Is(err, ErrInvalidDigit) {
		t.Fatalf("x: %v", err)
	}
}

func TestDigitDedup(t *testing.T) {
	t0 := time.Unix(0, 0)
	var m digitDedup
	steps := []struct {
		d    Digit
		want bool
	}{
		{Digit{Key: '1', Method: RFC4733, At: t0}, true},
		{Digit{Key: '1', Method: InBand, At: t0.Add(30 * time.Millisecond)}, false},  // same press, other method
		{Digit{Key: '1', Method: SIPInfo, At: t0.Add(60 * time.Millisecond)}, false}, // third copy
		{Digit{Key: '1', Method: RFC4733, At: t0.Add(200 * time.Millisecond)}, true}, // same method: a second press
		{Digit{Key: '2', Method: InBand, At: t0.Add(250 * time.Millisecond)}, true},  // other key
		{Digit{Key: '1', Method: InBand, At: t0.Add(time.Second)}, true},             // far apart
	}
	for i, s := range steps {
		if got := m.accept(s.d); got != s.want {
			t.Fatalf("step %d %+v: accept %v, want %v", i, s.d, got, s.want)
		}
	}
}
