package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/pion/rtp"
)

// maxDatagram is the read buffer size: larger datagrams are truncated by
// the socket and then rejected as malformed.
const maxDatagram = 1500

// receiver is the receive pipeline of a stream: RTP parsing, source
// checks, event decoding, reordering, G.711 decoding, in-band detection
// and the recording's left channel. It belongs to the receive goroutine
// (tests and the fuzz target drive it directly).
type receiver struct {
	s        *Stream
	hdr      rtp.Header
	events   *EventReceiver
	reorder  *reorder
	detector *ToneDetector

	haveSSRC bool
	ssrc     uint32
	now      time.Time

	// latching
	lastFromRemote time.Time
	cand           netip.AddrPort
	candCount      int

	pcm   [MaxPayload]int16
	frame [FrameSamples]int16
	fill  int

	// recording anchor: received timestamp anchorTS sits at recorder
	// position anchorPos (samples since the recording started).
	anchored  bool
	anchorTS  uint32
	anchorPos int64
	anchorRec *Recorder
}

func newReceiver(s *Stream) *receiver {
	r := &receiver{s: s}
	r.events = NewEventReceiver(s.deliver)
	r.events.SetTimeout(s.cfg.EventTimeout)
	w := s.cfg.ReorderWindow
	if w == 0 {
		w = DefaultReorderWindow
	}
	r.reorder = newReorder(w, r.audio)
	if !s.cfg.DisableInBand {
		r.detector = NewToneDetector()
	}
	return r
}

var errMalformed = errors.New("malformed rtp")

// datagram handles one received datagram from src at now.
func (r *receiver) datagram(b []byte, src netip.AddrPort, now time.Time) error {
	r.now = now
	s := r.s
	if err := r.parse(b); err != nil {
		s.stats.malformed.Add(1)
		return err
	}
	if !r.acceptSource(unmap(src), now) {
		s.stats.unexpectedSource.Add(1)
		return nil
	}
	payload := b[rtpHeaderLen(&r.hdr, b):]
	if r.hdr.Padding {
		pad := int(b[len(b)-1])
		if pad == 0 || pad > len(payload) {
			s.stats.malformed.Add(1)
			return fmt.Errorf("rtp padding %d of %d payload bytes: %w", pad, len(payload), errMalformed)
		}
		payload = payload[:len(payload)-pad]
	}
	pt := r.hdr.PayloadType
	isEvent := s.cfg.EventPT != 0 && pt == s.cfg.EventPT
	if !isEvent && pt != uint8(PCMU) && pt != uint8(PCMA) {
		s.stats.unknownPayload.Add(1)
		return nil
	}
	var ev Event
	if isEvent {
		var err error
		if ev, err = ParseEvent(payload); err != nil {
			s.stats.malformed.Add(1)
			return err
		}
	}
	s.stats.packetsReceived.Add(1)
	s.stats.bytesReceived.Add(uint64(len(b)))
	if !r.haveSSRC || r.hdr.SSRC != r.ssrc {
		if r.haveSSRC {
			s.stats.ssrcChanges.Add(1)
			r.reorder.reset()
			r.anchored = false
		}
		r.haveSSRC, r.ssrc = true, r.hdr.SSRC
	}
	if isEvent {
		r.events.Packet(r.hdr.SSRC, r.hdr.Timestamp, ev, now)
		return nil
	}
	r.events.Tick(now)
	before := r.reorder.stats
	r.reorder.push(r.hdr.SequenceNumber, r.hdr.Timestamp, pt, payload)
	after := r.reorder.stats
	s.stats.lost.Add(after.lost - before.lost)
	s.stats.late.Add(after.late - before.late)
	s.stats.duplicate.Add(after.duplicate - before.duplicate)
	s.stats.restarts.Add(after.restarts - before.restarts)
	if after.restarts != before.restarts {
		r.anchored = false
	}
	return nil
}

// parse validates the fixed header and CSRC/extension lengths.
func (r *receiver) parse(b []byte) error {
	if len(b) < rtpHeaderSize {
		return fmt.Errorf("rtp: %d bytes: %w", len(b), ErrShortPacket)
	}
	if b[0]>>6 != 2 {
		return fmt.Errorf("rtp version %d: %w", b[0]>>6, errMalformed)
	}
	n, err := r.hdr.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("rtp header: %w", errMalformed)
	}
	if n > len(b) {
		return fmt.Errorf("rtp header of %d bytes in %d: %w", n, len(b), ErrShortPacket)
	}
	return nil
}

// rtpHeaderLen is the header size including CSRCs and extension, already
// validated by parse.
func rtpHeaderLen(h *rtp.Header, b []byte) int {
	n := rtpHeaderSize + 4*int(b[0]&0x0f)
	if h.Extension && len(b) >= n+4 {
		n += 4 + 4*int(uint16(b[n+2])<<8|uint16(b[n+3]))
	}
	return min(n, len(b))
}

// acceptSource applies the latching rules (see Stream).
func (r *receiver) acceptSource(src netip.AddrPort, now time.Time) bool {
	s := r.s
	remote := *s.remote.Load()
	if src == remote {
		r.lastFromRemote = now
		r.candCount = 0
		return true
	}
	if s.cfg.DisableLatching {
		return false
	}
	if src != r.cand {
		r.cand, r.candCount = src, 0
	}
	r.candCount++
	idle := r.lastFromRemote.IsZero() || now.Sub(r.lastFromRemote) >= LatchIdle
	if r.candCount < LatchPackets || !idle {
		return false
	}
	latched := src // a fresh copy, so only latching allocates
	s.remote.Store(&latched)
	s.stats.latches.Add(1)
	s.log.Info("rtp latched to new source", "port", src.Port())
	r.lastFromRemote, r.candCount = now, 0
	return true
}

// audio receives reordered audio packets (payload nil = lost packet).
func (r *receiver) audio(ts uint32, pt uint8, payload []byte, n int) {
	pcm := r.pcm[:min(n, MaxPayload)]
	if payload == nil {
		clear(pcm)
	} else {
		Codec(pt).Decode(pcm, payload)
	}
	if rec := r.s.rec.Load(); rec != nil {
		if !r.anchored || r.anchorRec != rec {
			r.anchored, r.anchorRec, r.anchorTS = true, rec, ts
			r.anchorPos = rec.positionAt(r.now) - int64(len(pcm))
		}
		rec.putReceived(r.anchorPos+int64(int32(ts-r.anchorTS)), pcm)
	}
	if r.s.cfg.OnAudio != nil {
		r.s.cfg.OnAudio(pcm)
	}
	if r.detector == nil {
		return
	}
	for len(pcm) > 0 {
		k := copy(r.frame[r.fill:], pcm)
		r.fill += k
		pcm = pcm[k:]
		if r.fill < FrameSamples {
			break
		}
		r.fill = 0
		if key, ago := r.detector.Frame(r.frame[:]); key != 0 {
			at := r.now.Add(-time.Duration(ago+1) * FrameDuration)
			r.s.deliver(Digit{Key: key, Method: InBand, At: at, Duration: time.Duration(ago+1) * FrameDuration})
		}
	}
}

// receiveLoop reads the socket until it is closed.
func (s *Stream) receiveLoop() {
	defer s.wg.Done()
	r := s.rcv
	var buf [maxDatagram]byte
	var deadline time.Time
	for {
		// Wake up in time to report an RFC 4733 press whose ends were lost.
		want, pending := r.events.Pending()
		if !pending {
			want = time.Time{}
		}
		if !want.Equal(deadline) {
			deadline = want
			_ = s.conn.SetReadDeadline(deadline)
		}
		var (
			n   int
			src netip.AddrPort
			err error
		)
		if s.udp != nil {
			n, src, err = s.udp.ReadFromUDPAddrPort(buf[:])
		} else {
			var a net.Addr
			n, a, err = s.conn.ReadFrom(buf[:])
			if ua, ok := a.(*net.UDPAddr); ok {
				src = ua.AddrPort()
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				r.events.Tick(s.now())
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("rtp read", "err", err)
			continue
		}
		_ = r.datagram(buf[:n], src, s.now())
	}
}
