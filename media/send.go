package media

import (
	"time"

	"github.com/pion/rtp"
)

// EventVolume is the volume (-dBm0) put in sent telephone events.
const EventVolume = 10

// EventEndPackets is how many times the final packet of a sent event is
// transmitted (RFC 4733 §2.5.1.4).
const EventEndPackets = 3

const rtpHeaderSize = 12

// sender is the RTP state of the sending direction. It belongs to the
// pacer goroutine (guarded by Stream.sendMu).
type sender struct {
	codec   Codec
	eventPT uint8
	hdr     rtp.Header
	marker  bool // set the marker on the next packet
	frameNo int64
	closed  bool
	pcm     [FrameSamples]int16
	buf     [rtpHeaderSize + FrameSamples]byte
	ev      *Playback // event in progress
	evTS    uint32
	evTick  int
	evEnds  int
}

func newSender(c Codec, eventPT uint8) sender {
	return sender{
		codec:   c,
		eventPT: eventPT,
		marker:  true,
		hdr: rtp.Header{
			Version:        2,
			PayloadType:    uint8(c),
			SSRC:           random32(),
			SequenceNumber: uint16(random32()),
			Timestamp:      random32(),
		},
	}
}

// SSRC returns the stream's sending SSRC.
func (s *Stream) SSRC() uint32 {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.snd.hdr.SSRC
}

// sendFrame is called by the pacer once per 20 ms slot.
func (s *Stream) sendFrame(now time.Time, skipped int) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	sn := &s.snd
	if sn.closed {
		return
	}
	if skipped > 0 {
		sn.hdr.Timestamp += uint32(skipped * FrameSamples)
		sn.frameNo += int64(skipped)
		sn.marker = true
		s.stats.framesSkipped.Add(uint64(skipped))
	}
	if sn.ev == nil {
		sn.ev = s.nextEvent()
		if sn.ev != nil {
			sn.evTS, sn.evTick, sn.evEnds = sn.hdr.Timestamp, 0, 0
		}
	}
	rec := s.rec.Load()
	if sn.ev != nil {
		s.sendEventPacket(sn)
		if rec != nil {
			clear(sn.pcm[:])
			rec.putSent(sn.frameNo, sn.pcm[:])
		}
	} else {
		s.nextAudio(sn.pcm[:])
		sn.codec.Encode(sn.buf[rtpHeaderSize:], sn.pcm[:])
		sn.hdr.PayloadType = uint8(sn.codec)
		s.writePacket(sn, FrameSamples)
		if rec != nil {
			rec.putSent(sn.frameNo, sn.pcm[:])
		}
	}
	sn.hdr.Timestamp += FrameSamples
	sn.frameNo++
	if s.poll != nil {
		s.drain()
	}
}

// maxDrain bounds the datagrams one frame slot takes from a stream's
// socket, so a flooded stream cannot hold up the pacer; the rest wait in
// the socket buffer for the next slot (a stream normally finds one).
const maxDrain = 16

// drain handles what arrived on the socket since the last frame (poll
// mode), and reports an RFC 4733 press whose end packets were lost once
// its timeout passes. It runs under sendMu.
func (s *Stream) drain() {
	r := s.rcv
	now := s.now()
	for i := 0; i < maxDrain; i++ {
		b, src, ok := s.poll.next()
		if !ok {
			break
		}
		_ = r.datagram(b, src, now)
	}
	if _, pending := r.events.Pending(); pending {
		r.events.Tick(now)
	}
}

// sendEventPacket sends one telephone-event packet of the event in
// progress (sn.ev) and finishes it after the end packets.
func (s *Stream) sendEventPacket(sn *sender) {
	p := sn.ev
	total := p.eventSamples
	dur := (sn.evTick + 1) * FrameSamples
	end := dur >= total
	if end {
		dur = total
		sn.evEnds++
	}
	if dur > 0xffff {
		dur = 0xffff
	}
	ev := Event{Code: p.eventCode, End: end, Volume: EventVolume, Duration: uint16(dur)}
	ev.MarshalTo(sn.buf[rtpHeaderSize:])
	ts := sn.hdr.Timestamp
	sn.hdr.Timestamp = sn.evTS
	sn.hdr.PayloadType = sn.eventPT
	if sn.evTick == 0 {
		sn.marker = true // RFC 4733 §2.5.1.3: first packet of an event
	}
	s.writePacket(sn, EventPayloadSize)
	s.stats.eventsSent.Add(1)
	sn.hdr.Timestamp = ts
	sn.evTick++
	if sn.evEnds >= EventEndPackets {
		sn.ev = nil
		p.finish(nil)
	}
}

// writePacket marshals sn.hdr with the payload already in sn.buf and
// sends it to the remote. It does not allocate.
func (s *Stream) writePacket(sn *sender, payloadLen int) {
	sn.hdr.Marker = sn.marker
	sn.marker = false
	n, err := sn.hdr.MarshalTo(sn.buf[:rtpHeaderSize])
	if err != nil || n != rtpHeaderSize {
		s.stats.sendErrors.Add(1)
		return
	}
	sn.hdr.SequenceNumber++
	pkt := sn.buf[:rtpHeaderSize+payloadLen]
	dst := *s.remote.Load()
	if s.poll != nil {
		err = s.poll.send(pkt, dst)
	} else if s.udp != nil {
		_, err = s.udp.WriteToUDPAddrPort(pkt, dst)
	} else {
		_, err = s.conn.WriteTo(pkt, udpAddr(dst))
	}
	if err != nil {
		s.stats.sendErrors.Add(1)
		return
	}
	s.stats.packetsSent.Add(1)
	s.stats.bytesSent.Add(uint64(len(pkt)))
}
