package rtpio

import (
	"net/netip"
	"testing"

	"github.com/pion/rtp"
)

func BenchmarkGoertzelFrame(b *testing.B) {
	g := newGoertzel()
	frame := dualTone('5', FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if g.detect(frame) != '5' {
			b.Fatal("tone not detected")
		}
	}
}

func BenchmarkEncodeAndWritePacket(b *testing.B) {
	lo := netip.MustParseAddr("127.0.0.1")
	c, err := Listen(lo, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	sink, err := Listen(lo, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	s := &Session{cfg: Config{Conn: c, Codec: 0}}
	r := netip.AddrPortFrom(lo, uint16(sink.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()))
	s.remote.Store(&r)
	defer c.Close()
	pcm := dualTone('1', FrameSamples)
	payload := make([]byte, FrameSamples)
	buf := make([]byte, 12+FrameSamples)
	h := rtp.Header{Version: 2, SSRC: 1}
	b.ReportAllocs()
	for b.Loop() {
		s.encode(payload, pcm)
		h.SequenceNumber++
		s.write(&h, payload, buf)
	}
}
