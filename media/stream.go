package media

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// StreamConfig configures a Stream.
type StreamConfig struct {
	// Remote is the far end's RTP address from its SDP. Required.
	Remote netip.AddrPort
	// Codec is the negotiated audio codec (PCMU or PCMA) used for sending.
	// Received audio is decoded by its payload type, whichever of the two.
	Codec Codec
	// EventPT is the negotiated telephone-event payload type (RFC 4733),
	// 0 when none was negotiated (then SendDTMF fails and only in-band and
	// SIP INFO digits are received).
	EventPT uint8
	// Logger receives diagnostics; nil discards them. Digits are logged at
	// Debug only.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. It stamps digits
	// and places received audio in recordings.
	Now func() time.Time
	// Pacer, when set, carries this stream together with others; the
	// caller owns it (starts and closes it). Nil gives the stream a
	// private pacer that Start and Close manage.
	Pacer *Pacer
	// DisableInBand turns off the in-band (Goertzel) DTMF detector.
	DisableInBand bool
	// DisableLatching keeps sending to Remote even when RTP arrives from
	// another address (by default the stream latches, see Stream).
	DisableLatching bool
	// ReorderWindow is how many packets past a missing one are awaited
	// before the gap is filled with silence and counted lost; 0 means
	// DefaultReorderWindow, negative means no waiting.
	ReorderWindow int
	// EventTimeout is how long a received RFC 4733 press may go without
	// packets before it is reported anyway (its end packets were lost); 0
	// means the package's EventTimeout.
	EventTimeout time.Duration
	// DigitBuffer is the capacity of the Digits channel; 0 means 32. When
	// it is full, new digits are dropped and counted in Stats.
	DigitBuffer int
	// OnAudio, when set, receives every decoded received frame from the
	// receive goroutine (the slice is reused: copy what you keep). It must
	// not block.
	OnAudio func(pcm []int16)
	// ReceiveGoroutine reads the socket on a goroutine of the stream's own
	// instead of letting the pacer drain it every 20 ms (the default on
	// Linux for UDP sockets: no goroutine and no wake-up per packet, at the
	// price of up to one frame of added receive delay).
	ReceiveGoroutine bool
	// FirstAudioWait, when positive, holds the stream's first packet until
	// something is queued (Enqueue, Play, SendDTMF) or this long has passed
	// since Start, whichever comes first; the stream then joins its pacer in
	// the phase due soonest. A call's first packet then carries the start
	// of its first prompt instead of a frame of silence that pushes the
	// prompt to the next 20 ms slot. Zero sends silence from Start on.
	FirstAudioWait time.Duration
}

// LatchPackets is how many consecutive valid RTP packets from one new
// source address make a stream latch onto it.
const LatchPackets = 3

// LatchIdle is how long the current remote must have been silent before a
// stream latches onto another source that has already sent RTP from it.
const LatchIdle = time.Second

// Stream is one bidirectional G.711 RTP session on a UDP socket.
//
// Sending: after Start, a pacer sends one packet every 20 ms against
// absolute deadlines: prompt audio while something plays (Play, Enqueue),
// silence otherwise, telephone events for SendDTMF. SSRC, first sequence
// number and first timestamp are random; the timestamp advances 160 per
// frame and the marker bit is set on the first packet only (and on the
// first after a long stall, when frames were skipped). Packets leave from
// the stream's own socket (symmetric RTP).
//
// Receiving: packets from the remote address are decoded by payload type
// (PCMU/PCMA), reordered within a small window, gaps filled with silence,
// and duplicates, late, malformed and foreign packets counted. When RTP
// comes from another address (NAT), the stream latches onto it after
// LatchPackets consecutive valid packets, provided the configured remote
// has sent nothing yet or has been silent for LatchIdle; until then such
// packets are dropped. An SSRC change restarts sequence tracking.
//
// DTMF from RFC 4733 events, in-band tones and InjectDigit (SIP INFO) are
// de-duplicated and delivered on Digits.
//
// All methods are safe for concurrent use.
type Stream struct {
	cfg   StreamConfig
	log   *slog.Logger
	now   func() time.Time
	conn  net.PacketConn
	udp   *net.UDPConn // conn, when it is one (allocation-free I/O)
	pacer *Pacer
	own   bool // pacer is private

	remote atomic.Pointer[netip.AddrPort]
	stats  counters

	digits chan Digit
	dmu    sync.Mutex
	dedup  digitDedup

	lifeMu    sync.Mutex
	started   bool
	closed    bool
	joined    bool        // attached to the pacer
	joinTimer *time.Timer // FirstAudioWait
	wg        sync.WaitGroup

	// send side: guarded by sendMu (the pacer goroutine and Close).
	sendMu sync.Mutex
	snd    sender

	// playback queue: guarded by playMu.
	playMu sync.Mutex
	queue  []*Playback

	rec atomic.Pointer[Recorder]

	// receive side: owned by the receive goroutine, or in poll mode by the
	// pacer goroutine under sendMu.
	rcv  *receiver
	poll *poller // non-nil: the pacer drains the socket (no receive goroutine)
}

// NewStream returns a stream that sends to cfg.Remote and reads from conn.
// The stream owns conn from now on and closes it in Close. Nothing is sent
// or read until Start.
func NewStream(conn net.PacketConn, cfg StreamConfig) (*Stream, error) {
	if conn == nil {
		return nil, fmt.Errorf("new stream: nil conn")
	}
	if !cfg.Remote.IsValid() {
		return nil, fmt.Errorf("new stream: %w", ErrNoRemote)
	}
	if _, err := CodecForPayloadType(uint8(cfg.Codec)); err != nil {
		return nil, fmt.Errorf("new stream: %w", err)
	}
	if cfg.EventPT != 0 && (cfg.EventPT < 96 || cfg.EventPT > 127) {
		return nil, fmt.Errorf("new stream: telephone-event payload type %d is not dynamic (96-127)", cfg.EventPT)
	}
	s := &Stream{cfg: cfg, conn: conn, log: cfg.Logger, now: cfg.Now, pacer: cfg.Pacer}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.pacer == nil {
		s.pacer = NewPacer(PacerConfig{Now: cfg.Now})
		s.own = true
	}
	s.udp, _ = conn.(*net.UDPConn)
	if s.udp != nil && !cfg.ReceiveGoroutine {
		s.poll = newPoller(s.udp)
	}
	remote := unmap(cfg.Remote)
	s.remote.Store(&remote)
	n := cfg.DigitBuffer
	if n <= 0 {
		n = 32
	}
	s.digits = make(chan Digit, n)
	s.snd = newSender(cfg.Codec, cfg.EventPT)
	s.rcv = newReceiver(s)
	return s, nil
}

// Start begins sending (silence until something plays) and receiving.
// Calling it again is a no-op; after Close it returns ErrClosed.
func (s *Stream) Start() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return fmt.Errorf("start stream: %w", ErrClosed)
	}
	if s.started {
		return nil
	}
	s.started = true
	if s.poll == nil {
		s.wg.Add(1)
		go s.receiveLoop()
	}
	if s.own {
		s.pacer.Start()
	}
	if s.cfg.FirstAudioWait > 0 {
		s.joinTimer = time.AfterFunc(s.cfg.FirstAudioWait, s.join)
		return nil
	}
	s.joinLocked()
	return nil
}

// join attaches a started, open stream to its pacer (once).
func (s *Stream) join() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.joinLocked()
}

func (s *Stream) joinLocked() {
	if !s.started || s.closed || s.joined {
		return
	}
	s.joined = true
	if s.joinTimer != nil {
		s.joinTimer.Stop()
	}
	s.pacer.add(s)
}

// Close stops sending and receiving, waits for the stream's goroutines,
// ends pending playbacks with ErrClosed, closes an attached recorder and
// the socket. Digits is closed. Calling it again returns nil.
func (s *Stream) Close() error {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	if s.joinTimer != nil {
		s.joinTimer.Stop()
	}
	s.lifeMu.Unlock()

	s.pacer.remove(s)
	if s.own {
		s.pacer.Close()
	}
	s.sendMu.Lock()
	s.snd.closed = true
	s.sendMu.Unlock()
	var err error
	if s.poll != nil {
		err = s.poll.close() // conn was closed when the poller took it over
	} else {
		err = s.conn.Close()
	}
	if started {
		s.wg.Wait()
	}
	s.playMu.Lock()
	for _, p := range s.queue {
		p.finish(ErrClosed)
	}
	s.queue = nil
	s.playMu.Unlock()
	if r := s.rec.Swap(nil); r != nil {
		if rerr := r.Close(); rerr != nil && err == nil {
			err = rerr
		}
	}
	s.dmu.Lock()
	close(s.digits)
	s.dmu.Unlock()
	if err != nil {
		return fmt.Errorf("close stream: %w", err)
	}
	return nil
}

// LocalAddr returns the socket's local address (the port to advertise).
func (s *Stream) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// Remote returns where packets are sent now (the configured address, or
// the latched source).
func (s *Stream) Remote() netip.AddrPort { return *s.remote.Load() }

// SetRemote changes where packets are sent (re-INVITE, early media then
// answer). Latching may still move it later.
func (s *Stream) SetRemote(addr netip.AddrPort) {
	a := unmap(addr)
	s.remote.Store(&a)
}

// Codec returns the sending codec.
func (s *Stream) Codec() Codec { return s.cfg.Codec }

// String describes the stream for logs (no addresses of people, only
// sockets and codec).
func (s *Stream) String() string {
	return fmt.Sprintf("Stream(%s %s->%s telephone-event=%d)", s.cfg.Codec, s.conn.LocalAddr(), s.Remote(), s.cfg.EventPT)
}

// Digits delivers received DTMF presses, de-duplicated across methods, in
// arrival order. The channel is buffered (StreamConfig.DigitBuffer); when
// full, new digits are dropped and counted. It is closed by Close.
func (s *Stream) Digits() <-chan Digit { return s.digits }

// InjectDigit adds a digit received outside RTP (SIP INFO) to the same
// de-duplicated stream as RTP digits. A zero at means now. An invalid key
// returns an error wrapping ErrInvalidDigit.
func (s *Stream) InjectDigit(key rune, method DTMFMethod, at time.Time) error {
	if !ValidKey(key) {
		return fmt.Errorf("inject digit: %w", ErrInvalidDigit)
	}
	if method < RFC4733 || method > SIPInfo {
		return fmt.Errorf("inject digit: unknown method %d", uint8(method))
	}
	if at.IsZero() {
		at = s.now()
	}
	s.deliver(Digit{Key: key, Method: method, At: at})
	return nil
}

// deliver de-duplicates and queues a digit.
func (s *Stream) deliver(d Digit) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.lifeMu.Lock()
	closed := s.closed
	s.lifeMu.Unlock()
	if closed || !s.dedup.accept(d) {
		if !closed {
			s.stats.digitsMerged.Add(1)
		}
		return
	}
	s.log.Debug("dtmf digit", "method", d.Method.String(), "key", string(d.Key))
	select {
	case s.digits <- d:
		s.stats.digits.Add(1)
	default:
		s.stats.digitsDropped.Add(1)
	}
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func random32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return binary.BigEndian.Uint32(b[:])
}
