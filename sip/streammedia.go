package sip

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/media/sdp"
)

// FirstAudioWait is how long a call's stream holds its first packet for
// the first prompt (see media.StreamConfig.FirstAudioWait): the prompt is
// normally queued within a few milliseconds of the answer, and its first
// packet then goes out at once instead of one 20 ms slot after silence.
const FirstAudioWait = 100 * time.Millisecond

// StreamMedia is a call's media on the media engine: a media.Stream
// (paced G.711, RFC 4733 / in-band / SIP INFO digits, recording) bound to
// an RTP port from the configured range.
type StreamMedia struct {
	conn  *net.UDPConn
	pacer *media.Pacer
	log   *slog.Logger

	onAudio atomic.Pointer[func(pcm []int16)]

	mu      sync.Mutex
	stream  *media.Stream
	closed  bool
	started chan struct{}
}

// StreamMediaOpener returns a MediaOpener that builds StreamMedia. pacer,
// when not nil, carries every call's stream (one goroutine paces them all;
// the caller starts and closes it); nil gives each stream its own pacer.
func StreamMediaOpener(pacer *media.Pacer, log *slog.Logger) MediaOpener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ip netip.Addr, ports PortRange) (Media, error) {
		conn, err := media.ListenRTP(ip.String(), media.PortRange{Min: ports.Min, Max: ports.Max})
		if err != nil {
			return nil, fmt.Errorf("rtp port: %w", err)
		}
		return &StreamMedia{conn: conn, pacer: pacer, log: log, started: make(chan struct{})}, nil
	}
}

// LocalPort is the bound RTP port.
func (m *StreamMedia) LocalPort() int { return m.conn.LocalAddr().(*net.UDPAddr).Port }

// Start creates and starts the stream on the first call (early media or the
// answer) and moves it to the new remote address on later calls.
func (m *StreamMedia) Start(n sdp.Media) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return media.ErrClosed
	}
	if m.stream != nil {
		m.stream.SetRemote(n.Remote)
		return nil
	}
	codec, err := media.CodecForPayloadType(n.Codec)
	if err != nil {
		return err
	}
	cfg := media.StreamConfig{Remote: n.Remote, Codec: codec, Pacer: m.pacer, Logger: m.log, OnAudio: m.audio,
		FirstAudioWait: FirstAudioWait}
	if n.DTMF > 0 && n.DTMF < 128 {
		cfg.EventPT = uint8(n.DTMF)
	}
	s, err := media.NewStream(m.conn, cfg)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		_ = s.Close()
		return err
	}
	m.stream = s
	close(m.started)
	return nil
}

// SetOnAudio sets (or with nil clears) the function that receives every
// decoded received frame, from the receive goroutine; the slice is reused,
// so copy what you keep, and do not block.
func (m *StreamMedia) SetOnAudio(fn func(pcm []int16)) {
	if fn == nil {
		m.onAudio.Store(nil)
		return
	}
	m.onAudio.Store(&fn)
}

func (m *StreamMedia) audio(pcm []int16) {
	if fn := m.onAudio.Load(); fn != nil {
		(*fn)(pcm)
	}
}

// Stream returns the running stream, or nil before Start.
func (m *StreamMedia) Stream() *media.Stream {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stream
}

// Started is closed once the stream runs.
func (m *StreamMedia) Started() <-chan struct{} { return m.started }

// InjectDigit feeds a SIP INFO key into the stream's digits.
func (m *StreamMedia) InjectDigit(key byte) {
	if s := m.Stream(); s != nil {
		if err := s.InjectDigit(rune(key), media.SIPInfo, time.Now()); err != nil {
			m.log.Debug("sip info digit dropped", "err", err)
		}
	}
}

// Close stops the stream (or releases the port when it never started).
func (m *StreamMedia) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.stream != nil {
		err := m.stream.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		return err
	}
	return m.conn.Close()
}
