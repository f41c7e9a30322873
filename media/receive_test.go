package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// rtpPacket builds an RTP packet with a payload of n bytes of value fill.
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := []byte{0x80, pt, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

// frameOf returns a μ-law payload whose samples all decode to v's code.
func frameOf(code byte) []byte {
	p := make([]byte, FrameSamples)
	for i := range p {
		p[i] = code
	}
	return p
}

// rxHarness drives a stream's receive pipeline directly (no goroutines).
type rxHarness struct {
	s      *Stream
	remote netip.AddrPort
	frames [][]int16
	now    time.Time
}

func newRx(t *testing.T, mod func(*StreamConfig)) *rxHarness {
	t.Helper()
	h := &rxHarness{remote: netip.MustParseAddrPort("127.0.0.1:40000"), now: time.Unix(100, 0)}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := StreamConfig{Remote: h.remote, Codec: PCMU, EventPT: 101, Now: func() time.Time { return h.now },
		OnAudio: func(p []int16) { h.frames = append(h.frames, append([]int16(nil), p...)) }}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewStream(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h.s = s
	return h
}

func (h *rxHarness) feed(b []byte) {
	h.now = h.now.Add(FrameDuration)
	_ = h.s.rcv.datagram(b, h.remote, h.now)
}

// codes returns the first sample of each released frame, as the μ-law code
// that produced it (0 = a silence-filled gap).
func (h *rxHarness) order() []int16 {
	var out []int16
	for _, f := range h.frames {
		out = append(out, f[0])
	}
	return out
}

func TestReceiveReorderLossDuplicates(t *testing.T) {
	h := newRx(t, nil)
	val := func(seq uint16) byte { return byte(0x80 + seq%16) } // distinct non-zero codes
	send := func(seq uint16) {
		h.feed(rtpPacket(0, seq, uint32(seq)*160, 7, frameOf(val(seq))))
	}
	for _, seq := range []uint16{10, 12, 11, 13, 13, 15, 16, 17, 18, 14, 19} {
		send(seq)
	}
	// 14 is declared lost once 17 (3 packets past it) arrives; its late
	// arrival is counted, not played.
	want := []uint16{10, 11, 12, 13, 0, 15, 16, 17, 18}
	var got []int16
	for _, f := range h.frames {
		got = append(got, f[0])
	}
	wantSamples := []int16{}
	for _, s := range append(want, 19) {
		if s == 0 {
			wantSamples = append(wantSamples, 0)
			continue
		}
		wantSamples = append(wantSamples, PCMUDecode(val(s)))
	}
	if len(got) != len(wantSamples) {
		t.Fatalf("released %d frames %v, want %v", len(got), got, wantSamples)
	}
	for i := range got {
		if got[i] != wantSamples[i] {
			t.Fatalf("frame %d = %d, want %d (all %v)", i, got[i], wantSamples[i], got)
		}
	}
	st := h.s.Stats()
	if st.Lost != 1 || st.Duplicate != 1 || st.Late != 1 || st.PacketsReceived != 11 {
		t.Fatalf("stats %+v", st)
	}
}

// PCMUDecode decodes one μ-law byte.
func PCMUDecode(b byte) int16 {
	var out [1]int16
	PCMU.Decode(out[:], []byte{b})
	return out[0]
}

func TestReceiveSSRCChangeAndRestart(t *testing.T) {
	h := newRx(t, nil)
	for i := uint16(0); i < 5; i++ {
		h.feed(rtpPacket(0, 100+i, 1000+uint32(i)*160, 1, frameOf(0x90)))
	}
	// New SSRC with an unrelated sequence: no loss counted.
	for i := uint16(0); i < 5; i++ {
		h.feed(rtpPacket(8, 60000+i, 5+uint32(i)*160, 2, frameOf(0x55)))
	}
	st := h.s.Stats()
	if st.SSRCChanges != 1 || st.Lost != 0 || st.Late != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(h.frames) != 10 {
		t.Fatalf("%d frames", len(h.frames))
	}
	var a [1]int16
	PCMA.Decode(a[:], []byte{0x55})
	if h.frames[9][0] != a[0] {
		t.Fatalf("PCMA frame decoded as %d, want %d", h.frames[9][0], a[0])
	}
}

func TestReceiveDropsBadPackets(t *testing.T) {
	h := newRx(t, nil)
	good := rtpPacket(0, 1, 160, 9, frameOf(0x90))
	cases := map[string][]byte{
		"short":            good[:5],
		"version 1":        append([]byte{0x40}, good[1:]...),
		"csrc past end":    append([]byte{0x8f}, good[1:20]...),
		"bad padding":      append(append([]byte{0xa0}, good[1:]...), 200),
		"ext past end":     append([]byte{0x90}, good[1:13]...),
		"short event":      rtpPacket(101, 2, 320, 9, []byte{1, 2}),
		"unknown pt":       rtpPacket(18, 3, 480, 9, frameOf(1)),
		"foreign source":   good,
		"zero padding len": append(append([]byte{0xa0}, good[1:]...), 0),
	}
	for name, b := range cases {
		src := h.remote
		if name == "foreign source" {
			src = netip.MustParseAddrPort("127.0.0.1:1")
		}
		_ = h.s.rcv.datagram(b, src, h.now)
	}
	st := h.s.Stats()
	if st.Malformed != 7 || st.UnknownPayload != 1 || st.UnexpectedSource != 1 || st.PacketsReceived != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(h.frames) != 0 {
		t.Fatalf("bad packets produced audio")
	}
}

func TestReceiveRFC4733FromPackets(t *testing.T) {
	h := newRx(t, func(c *StreamConfig) { c.DisableInBand = true })
	for _, p := range sippDigit(1, 13280, 7984, 0) {
		b := make([]byte, 4)
		copy(b, mustHex(p.hex))
		h.feed(rtpPacket(101, p.seq, p.ts, p.ssrc, b))
	}
	select {
	case d := <-h.s.Digits():
		if d.Key != '1' || d.Method != RFC4733 {
			t.Fatalf("digit %+v", d)
		}
	default:
		t.Fatal("no digit")
	}
	select {
	case d := <-h.s.Digits():
		t.Fatalf("extra digit %+v", d)
	default:
	}
	// Events neither count as lost audio nor produce audio frames.
	if st := h.s.Stats(); st.Lost != 0 || st.Duplicate != 0 || len(h.frames) != 0 {
		t.Fatalf("stats %+v frames %d", st, len(h.frames))
	}
}

func mustHex(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			default:
				v |= byte(c-'a') + 10
			}
		}
		b[i] = v
	}
	return b
}

func FuzzReceiveDatagram(f *testing.F) {
	f.Add(rtpPacket(0, 1, 160, 9, frameOf(0x90)))
	f.Add(rtpPacket(101, 2, 320, 9, []byte{1, 0x8a, 1, 0x40}))
	f.Add(append([]byte{0xa0}, rtpPacket(8, 1, 1, 1, []byte{1, 2, 3, 2})[1:]...))
	f.Add(append([]byte{0x91}, rtpPacket(0, 1, 1, 1, []byte{0, 0, 0, 0, 0xbe, 0xde, 0, 1, 1, 2, 3, 4})[1:]...))
	f.Add([]byte{})
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	remote := netip.MustParseAddrPort("127.0.0.1:40000")
	s, err := NewStream(c, StreamConfig{Remote: remote, Codec: PCMU, EventPT: 101, DigitBuffer: 1})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	now := time.Unix(0, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Feed the datagram whole and in a few variants of its header.
		now = now.Add(FrameDuration)
		_ = s.rcv.datagram(b, remote, now)
		if len(b) > 3 {
			b[3]++
			_ = s.rcv.datagram(b, remote, now)
		}
		if _, err := ParseEvent(b); err == nil && len(b) < EventPayloadSize {
			t.Fatal("short event parsed")
		}
	})
}

func BenchmarkReceivePacket(b *testing.B) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	remote := netip.MustParseAddrPort("127.0.0.1:40000")
	s, err := NewStream(c, StreamConfig{Remote: remote, Codec: PCMU, EventPT: 101})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pkt := rtpPacket(0, 0, 0, 1, frameOf(0x90))
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
		now = now.Add(FrameDuration)
		_ = s.rcv.datagram(pkt, remote, now)
	}
}
