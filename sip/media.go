package sip

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/dialflow/dialflow/media/sdp"
	"github.com/dialflow/dialflow/sip/internal/rtpio"
)

// Media is the RTP side of one call, as the UA needs it.
type Media interface {
	// LocalPort is the RTP port written into the SDP offer.
	LocalPort() int
	// Start begins sending and receiving with the negotiated parameters. It
	// may be called again (early media then the final answer, re-INVITE):
	// later calls update the remote address.
	Start(m sdp.Media) error
	// InjectDigit feeds a key received by SIP INFO into the DTMF stream.
	InjectDigit(key byte)
	// Close stops the media and releases its port.
	Close() error
}

// MediaOpener opens the media of a new call on ip within ports.
type MediaOpener func(ip netip.Addr, ports PortRange) (Media, error)

// Digit methods reported in Digit.Method.
const (
	DigitRFC4733 = rtpio.MethodRFC4733
	DigitInband  = rtpio.MethodInband
	DigitInfo    = "info"
)

// Digit is one DTMF key received on a call.
type Digit struct {
	// Key is 0-9, *, #, or A-D.
	Key byte
	// Method is DigitRFC4733, DigitInband or DigitInfo.
	Method string
	// At is when the key was received.
	At time.Time
}

// dedupWindow is how close two equal keys carried by different methods must
// be to count as one press.
const dedupWindow = 150 * time.Millisecond

// RTPMedia is the built-in Media: paced G.711 with silence between prompts,
// RFC 4733 and in-band DTMF in and out, de-duplicated digits.
type RTPMedia struct {
	ip      netip.Addr
	conn    *net.UDPConn
	mu      sync.Mutex
	sess    *rtpio.Session
	started chan struct{}
	digits  chan Digit
	last    Digit
	onAudio func(pcm []int16)
}

// OpenRTPMedia is the default MediaOpener.
func OpenRTPMedia(ip netip.Addr, ports PortRange) (Media, error) {
	return NewRTPMedia(ip, ports, nil)
}

// NewRTPMedia binds an RTP port on ip within ports. onAudio, when set,
// receives every decoded 20 ms frame (reused slice) from the receive loop.
func NewRTPMedia(ip netip.Addr, ports PortRange, onAudio func(pcm []int16)) (*RTPMedia, error) {
	c, err := rtpio.Listen(ip, ports.Min, ports.Max)
	if err != nil {
		return nil, err
	}
	m := &RTPMedia{ip: ip, conn: c, started: make(chan struct{}), digits: make(chan Digit, 64), onAudio: onAudio}
	return m, nil
}

// LocalPort returns the bound RTP port.
func (m *RTPMedia) LocalPort() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess != nil {
		return m.sess.LocalPort()
	}
	return m.conn.LocalAddr().(*net.UDPAddr).Port
}

// Start begins RTP to n.Remote with n's codec and telephone-event type.
func (m *RTPMedia) Start(n sdp.Media) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess != nil {
		m.sess.SetRemote(n.Remote)
		return nil
	}
	m.sess = rtpio.Start(rtpio.Config{
		Conn: m.conn, Remote: n.Remote, Codec: n.Codec, DTMF: n.DTMF, OnAudio: m.onAudio,
		OnDigit: func(k byte, method string) { m.deliver(k, method) },
	})
	close(m.started)
	return nil
}

// Started is closed once Start ran.
func (m *RTPMedia) Started() <-chan struct{} { return m.started }

// Digits delivers received keys. The channel holds 64 keys; keys arriving
// when it is full are dropped.
func (m *RTPMedia) Digits() <-chan Digit { return m.digits }

// InjectDigit feeds a SIP INFO key into Digits.
func (m *RTPMedia) InjectDigit(key byte) { m.deliver(key, DigitInfo) }

func (m *RTPMedia) deliver(k byte, method string) {
	now := time.Now()
	m.mu.Lock()
	dup := m.last.Key == k && m.last.Method != method && now.Sub(m.last.At) < dedupWindow
	if !dup {
		m.last = Digit{Key: k, Method: method, At: now}
	}
	m.mu.Unlock()
	if dup {
		return
	}
	select {
	case m.digits <- Digit{Key: k, Method: method, At: now}:
	default:
	}
}

func (m *RTPMedia) session() (*rtpio.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == nil {
		return nil, ErrCallEnded
	}
	return m.sess, nil
}

// Play sends 8 kHz mono PCM and returns once it was sent or ctx ended.
func (m *RTPMedia) Play(ctx context.Context, pcm []int16) error {
	s, err := m.session()
	if err != nil {
		return err
	}
	done, err := s.Play(pcm)
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendDigit sends key for dur as RFC 4733 events, or as a tone when inband.
func (m *RTPMedia) SendDigit(ctx context.Context, key byte, dur time.Duration, inband bool) error {
	s, err := m.session()
	if err != nil {
		return err
	}
	done, err := s.SendDigit(key, dur, inband)
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PacketsReceived returns how many RTP packets arrived.
func (m *RTPMedia) PacketsReceived() uint64 {
	s, err := m.session()
	if err != nil {
		return 0
	}
	return s.Stats().Received
}

// Close stops the media and closes its socket.
func (m *RTPMedia) Close() error {
	m.mu.Lock()
	s := m.sess
	m.mu.Unlock()
	if s != nil {
		return s.Close()
	}
	return m.conn.Close()
}
