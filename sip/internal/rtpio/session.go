package rtpio

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// Frame is the packet time: 20 ms, 160 samples at 8 kHz.
const (
	Frame        = 20 * time.Millisecond
	FrameSamples = 160
)

// Digit methods reported by OnDigit.
const (
	MethodRFC4733 = "rfc4733"
	MethodInband  = "inband"
)

// Config describes one session. Conn is owned by the session from Start on.
type Config struct {
	Conn *net.UDPConn
	// Remote is where RTP goes until a packet arrives from elsewhere
	// (symmetric RTP: the sender latches to the source of received RTP).
	Remote netip.AddrPort
	// Codec is 0 (PCMU) or 8 (PCMA).
	Codec uint8
	// DTMF is the telephone-event payload type, or -1 when not negotiated.
	DTMF int
	// OnAudio, when set, receives each decoded 20 ms frame (the slice is
	// reused: copy what you keep). Called from the receive goroutine.
	OnAudio func(pcm []int16)
	// OnDigit, when set, receives each DTMF key with its method. Called from
	// the receive goroutine.
	OnDigit func(key byte, method string)
	Logger  *slog.Logger
}

// Stats counts what the session saw.
type Stats struct {
	Sent, Received, Dropped uint64
}

type job struct {
	pcm    []int16 // audio to play
	event  byte    // RFC 4733 event code when isEvt
	isEvt  bool
	frames int // event length in frames
	done   chan struct{}
}

// Session is a running RTP endpoint with one sender and one receiver
// goroutine; Close stops and waits for both.
type Session struct {
	cfg    Config
	remote atomic.Pointer[netip.AddrPort]
	jobs   chan job
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	stats  struct{ sent, recv, dropped atomic.Uint64 }
}

// Start runs a session on cfg.Conn.
func Start(cfg Config) *Session {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Session{cfg: cfg, jobs: make(chan job, 64), stop: make(chan struct{})}
	r := cfg.Remote
	s.remote.Store(&r)
	s.wg.Add(2)
	go s.sendLoop()
	go s.recvLoop()
	return s
}

// LocalPort returns the RTP port the session sends from and listens on.
func (s *Session) LocalPort() int { return s.cfg.Conn.LocalAddr().(*net.UDPAddr).Port }

// SetRemote changes where RTP goes (a new answer or a re-INVITE).
func (s *Session) SetRemote(r netip.AddrPort) { s.remote.Store(&r) }

// Stats returns the packet counters.
func (s *Session) Stats() Stats {
	return Stats{Sent: s.stats.sent.Load(), Received: s.stats.recv.Load(), Dropped: s.stats.dropped.Load()}
}

// Play queues 8 kHz PCM; the returned channel closes once it was sent.
func (s *Session) Play(pcm []int16) (<-chan struct{}, error) {
	return s.enqueue(job{pcm: pcm, done: make(chan struct{})})
}

// SendDigit queues the key d for dur (at least 40 ms) followed by 60 ms of
// silence, as RFC 4733 events (inband false) or as a dual tone (inband true).
// The returned channel closes once it was sent.
func (s *Session) SendDigit(d byte, dur time.Duration, inband bool) (<-chan struct{}, error) {
	code, ok := eventCode(d)
	if !ok {
		return nil, errors.New("rtpio: not a dtmf key: " + string(rune(d)))
	}
	frames := max(int(dur/Frame), 2)
	if inband {
		pcm := append(dualTone(d, frames*FrameSamples), make([]int16, 3*FrameSamples)...)
		return s.enqueue(job{pcm: pcm, done: make(chan struct{})})
	}
	if s.cfg.DTMF < 0 {
		return nil, errors.New("rtpio: telephone-event was not negotiated")
	}
	if _, err := s.enqueue(job{event: code, isEvt: true, frames: frames}); err != nil {
		return nil, err
	}
	return s.enqueue(job{pcm: make([]int16, 3*FrameSamples), done: make(chan struct{})})
}

func (s *Session) enqueue(j job) (<-chan struct{}, error) {
	select {
	case <-s.stop:
		return nil, ErrClosed
	case s.jobs <- j:
		return j.done, nil
	}
}

// Close stops both goroutines, waits for them and closes the socket.
func (s *Session) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		err = s.cfg.Conn.Close()
		s.wg.Wait()
	})
	return err
}

func (s *Session) sendLoop() {
	defer s.wg.Done()
	hdr := rtp.Header{Version: 2, PayloadType: s.cfg.Codec, SequenceNumber: uint16(rand.Uint32()),
		Timestamp: rand.Uint32(), SSRC: rand.Uint32(), Marker: true}
	buf := make([]byte, 12+FrameSamples)
	payload := make([]byte, FrameSamples)
	var cur job
	var pos, evtFrame int
	have := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	start := time.Now()
	for n := 0; ; n++ {
		select {
		case <-s.stop:
			if have && cur.done != nil {
				close(cur.done)
			}
			return
		case <-timer.C:
		}
		if !have {
			select {
			case cur = <-s.jobs:
				have, pos, evtFrame = true, 0, 0
			default:
			}
		}
		h := hdr
		var body []byte
		switch {
		case have && cur.isEvt:
			// RFC 4733: one timestamp per event, growing duration, end sent 3 times.
			end := evtFrame >= cur.frames
			dur := uint16(min(evtFrame+1, cur.frames) * FrameSamples)
			h.PayloadType = uint8(s.cfg.DTMF)
			h.Marker = evtFrame == 0
			payload[0] = cur.event
			payload[1] = 10
			if end {
				payload[1] |= 0x80
			}
			binary.BigEndian.PutUint16(payload[2:4], dur)
			body = payload[:4]
			evtFrame++
			if evtFrame >= cur.frames+3 {
				hdr.Timestamp += uint32(cur.frames * FrameSamples)
				have = false
				hdr.SequenceNumber++
				s.write(&h, body, buf)
				s.schedule(timer, start, n+1)
				continue
			}
			hdr.SequenceNumber++
			s.write(&h, body, buf)
			s.schedule(timer, start, n+1)
			continue
		case have:
			end := min(pos+FrameSamples, len(cur.pcm))
			s.encode(payload, cur.pcm[pos:end])
			pos = end
			if pos >= len(cur.pcm) {
				have = false
				close(cur.done)
			}
		default:
			s.encode(payload, nil)
		}
		body = payload
		s.write(&h, body, buf)
		hdr.Marker = false
		hdr.SequenceNumber++
		hdr.Timestamp += FrameSamples
		s.schedule(timer, start, n+1)
	}
}

// schedule arms timer for the absolute deadline start+n*Frame, so late
// wake-ups do not accumulate drift.
func (s *Session) schedule(t *time.Timer, start time.Time, n int) {
	t.Reset(time.Until(start.Add(time.Duration(n) * Frame)))
}

func (s *Session) encode(dst []byte, pcm []int16) {
	for i := range dst {
		var v int16
		if i < len(pcm) {
			v = pcm[i]
		}
		if s.cfg.Codec == 8 {
			dst[i] = g711.EncodeAlawFrame(v)
		} else {
			dst[i] = g711.EncodeUlawFrame(v)
		}
	}
}

func (s *Session) write(h *rtp.Header, payload, buf []byte) {
	n, err := h.MarshalTo(buf)
	if err != nil {
		return
	}
	n += copy(buf[n:], payload)
	if _, err := s.cfg.Conn.WriteToUDPAddrPort(buf[:n], *s.remote.Load()); err == nil {
		s.stats.sent.Add(1)
	}
}

func (s *Session) recvLoop() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	r := newReceiver(s.cfg)
	latched := false
	for {
		n, from, err := s.cfg.Conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !r.packet(buf[:n]) {
			s.stats.dropped.Add(1)
			continue
		}
		s.stats.recv.Add(1)
		if !latched {
			f := netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
			s.remote.Store(&f)
			latched = true
		}
	}
}
