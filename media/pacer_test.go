package media

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

type countSender struct {
	frames  int
	skipped int
	at      []time.Time
}

func (c *countSender) sendFrame(now time.Time, skipped int) {
	c.frames++
	c.skipped += skipped
	c.at = append(c.at, now)
}

func TestPacerAbsoluteDeadlines(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := NewPacer(PacerConfig{})
	var c countSender
	p.add(&c)
	now := t0
	// Wake-ups that are late by a varying amount never shift the schedule.
	for i := 0; i < 500; i++ {
		next := p.Step(now)
		if want := t0.Add(time.Duration(i+1) * FrameDuration); !next.Equal(want) {
			t.Fatalf("step %d: next deadline %v, want %v", i, next.Sub(t0), want.Sub(t0))
		}
		now = next.Add(time.Duration(i%7) * time.Millisecond) // 0-6 ms late
	}
	if c.frames != 500 || c.skipped != 0 {
		t.Fatalf("frames %d skipped %d", c.frames, c.skipped)
	}
}

func TestPacerCatchUpAndSkip(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := NewPacer(PacerConfig{MaxBurst: 5})
	var c countSender
	p.add(&c)
	p.Step(t0) // frame 0
	// 70 ms stall: frames 1-3 are due (60 ms) and sent back to back.
	next := p.Step(t0.Add(70 * time.Millisecond))
	if c.frames != 4 || c.skipped != 0 || !next.Equal(t0.Add(80*time.Millisecond)) {
		t.Fatalf("after 70 ms stall: frames %d skipped %d next %v", c.frames, c.skipped, next.Sub(t0))
	}
	// 1 s stall: 47 frames due; all but one are skipped (timestamp jumps).
	next = p.Step(t0.Add(1010 * time.Millisecond))
	if c.frames != 5 || c.skipped != 46 || !next.Equal(t0.Add(1020*time.Millisecond)) {
		t.Fatalf("after 1 s stall: frames %d skipped %d next %v", c.frames, c.skipped, next.Sub(t0))
	}
	if p.FramesSkipped() != 46 {
		t.Fatalf("FramesSkipped %d", p.FramesSkipped())
	}
	// An early wake-up sends nothing.
	p.Step(t0.Add(1015 * time.Millisecond))
	if c.frames != 5 {
		t.Fatalf("early wake-up sent a frame")
	}
}

// A stream driven by a fake clock: timestamps after a stall follow the
// schedule, and the packet after skipped frames carries the marker.
func TestStreamTimestampsAfterStall(t *testing.T) {
	p := newPeer(t)
	t0 := time.Unix(1000, 0)
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	pacer := NewPacer(PacerConfig{Now: clock})
	s := newTestStream(t, p.addr(), func(c *StreamConfig) { c.Pacer = pacer; c.Now = clock })
	if err := s.Start(); err != nil { // the caller's pacer is not started: Step drives it
		t.Fatal(err)
	}
	pacer.Step(t0)
	pacer.Step(t0.Add(20 * time.Millisecond))
	pacer.Step(t0.Add(500 * time.Millisecond)) // stall of 24 frames: 23 skipped
	var ts []uint32
	var marks []bool
	for i := 0; i < 3; i++ {
		b, _, _ := p.read(t)
		ts = append(ts, uint32(b[4])<<24|uint32(b[5])<<16|uint32(b[6])<<8|uint32(b[7]))
		marks = append(marks, b[1]&0x80 != 0)
	}
	if ts[1]-ts[0] != 160 || ts[2]-ts[1] != 24*160 {
		t.Fatalf("timestamps %v: steps %d, %d", ts, ts[1]-ts[0], ts[2]-ts[1])
	}
	if !marks[0] || marks[1] || !marks[2] {
		t.Fatalf("markers %v", marks)
	}
	if st := s.Stats(); st.FramesSkipped != 23 {
		t.Fatalf("skipped %d", st.FramesSkipped)
	}
}

// BenchmarkPacerStreams measures the send path of a pacer carrying 100
// streams over real UDP sockets: one iteration is one 20 ms tick for all of
// them. ms/stream-s is the send-path time one stream costs per second of
// call.
func BenchmarkPacerStreams(b *testing.B) {
	const n = 100
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	pacer := NewPacer(PacerConfig{})
	tone := Tone(440, 8000, SampleRate*600) // shared: Enqueue does not copy
	var streams []*Stream
	for i := 0; i < n; i++ {
		c, err := ListenRTP("127.0.0.1", PortRange{})
		if err != nil {
			b.Fatal(err)
		}
		s, err := NewStream(c, StreamConfig{Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU, Pacer: pacer})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Start(); err != nil {
			b.Fatal(err)
		}
		s.Enqueue(tone)
		streams = append(streams, s)
	}
	t0 := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pacer.Step(t0.Add(time.Duration(i) * FrameDuration))
	}
	b.StopTimer()
	perTick := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	// 50 ticks per second of call, shared by n streams.
	// The pacer goroutine runs flat out here, so wall time ≈ CPU time.
	b.ReportMetric(perTick*50/n/1e6, "ms/stream-s")
	for _, s := range streams {
		s.Close()
	}
}

func BenchmarkBuildAndMarshalPacket(b *testing.B) {
	sn := newSender(PCMU, 101)
	frame := Tone(440, 8000, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		sn.codec.Encode(sn.buf[rtpHeaderSize:], frame)
		sn.hdr.Marker = false
		if _, err := sn.hdr.MarshalTo(sn.buf[:rtpHeaderSize]); err != nil {
			b.Fatal(err)
		}
		sn.hdr.SequenceNumber++
		sn.hdr.Timestamp += FrameSamples
	}
}

// A new stream joins the phase whose slot comes next, so its first packet
// leaves within a phase step; many streams joining at once still spread
// evenly over the phases.
func TestPacerPhaseChoice(t *testing.T) {
	t0 := time.Unix(1000, 0)
	now := t0
	p := NewPacer(PacerConfig{Now: func() time.Time { return now }})
	p.Step(t0) // fixes the start
	now = t0.Add(5 * time.Millisecond)
	var first countSender
	p.add(&first)
	if n := len(*p.phases[5].streams.Load()); n != 1 {
		t.Fatalf("5 ms into the period the stream went elsewhere (phase 5, due now, has %d)", n)
	}
	for i := 0; i < 999; i++ {
		p.add(&countSender{})
	}
	for i := range p.phases {
		if n := len(*p.phases[i].streams.Load()); n > 56 {
			t.Errorf("phase %d carries %d of 1000 streams", i, n)
		}
	}
	if p.Streams() != 1000 {
		t.Fatalf("streams %d", p.Streams())
	}
}
