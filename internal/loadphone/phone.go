// Package loadphone is a far end for load runs: a SIP callee that answers
// many concurrent calls cheaply and measures the RTP they send. Every call
// shares one RTP socket (the SDP answer names the same port for all), read
// in batches with kernel receive timestamps, so the phone's own scheduling
// does not colour the measurements; one goroutine paces the phone's own
// packets (silence and one RFC 4733 press per call) for every call.
package loadphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialflow/dialflow/media/sdp"
	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"golang.org/x/sys/unix"
)

// Config configures a Phone.
type Config struct {
	// Listen is the SIP UDP address; RTP uses a port on the same host.
	Listen string
	// RingFor is how long the phone rings (180) before answering.
	RingFor time.Duration
	// DigitAfter is when, after the answer, the phone presses Digit with
	// RFC 4733 (0: never).
	DigitAfter time.Duration
	// Digit is the key pressed ('0'-'9', '*', '#'); zero means '1'.
	Digit byte
	// SendAudio makes the phone send silence every 20 ms like a handset
	// without voice activity detection; otherwise it sends only the press.
	SendAudio bool
	// Loss is the probability with which each packet the phone sends is
	// dropped on purpose (0..1).
	Loss float64
	// MaxCall is when the phone hangs up a call itself; zero means 5 min.
	MaxCall time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Phone is a running load far end. Close stops it.
type Phone struct {
	cfg  Config
	log  *slog.Logger
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	dua  *sipgo.DialogUA
	sip  net.PacketConn
	fd   int // the shared RTP socket, polled (see openSocket)
	port int
	addr netip.AddrPort

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	byAddr   map[netip.AddrPort]*call
	byDialog map[string]*call
	agg      aggregate
	active   int

	malformed, foreign, sendErrors atomic.Uint64
	eventPackets, eventDropped     atomic.Uint64
	audioSent, audioDropped        atomic.Uint64
	digitsSent                     atomic.Int64
}

type call struct {
	dlg      *sipgo.DialogServerSession
	remote   *net.UDPAddr
	key      netip.AddrPort
	codec    uint8
	eventPT  uint8
	digit    byte
	answered time.Time

	mu sync.Mutex // guards rx
	rx rxStats

	tx txState // owned by the send goroutine once answered
}

// New starts a phone.
func New(cfg Config) (*Phone, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Digit == 0 {
		cfg.Digit = '1'
	}
	if cfg.MaxCall <= 0 {
		cfg.MaxCall = 5 * time.Minute
	}
	if cfg.Loss < 0 || cfg.Loss > 1 {
		return nil, fmt.Errorf("loadphone: loss %v is not a probability", cfg.Loss)
	}
	if eventCode(cfg.Digit) == 0xff {
		return nil, fmt.Errorf("loadphone: digit %q is not a DTMF key", cfg.Digit)
	}
	pc, err := net.ListenPacket("udp4", cfg.Listen)
	if uc, ok := pc.(*net.UDPConn); ok && err == nil {
		_ = uc.SetReadBuffer(sockBuffer)
	}
	if err != nil {
		return nil, fmt.Errorf("loadphone listen %s: %w", cfg.Listen, err)
	}
	ap := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	p := &Phone{cfg: cfg, log: cfg.Logger, sip: pc, addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()),
		byAddr: map[netip.AddrPort]*call{}, byDialog: map[string]*call{}}
	if p.addr.Addr().IsUnspecified() {
		p.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p.addr.Port())
	}
	if p.fd, p.port, err = openSocket(p.addr.Addr().String()); err != nil {
		pc.Close()
		return nil, fmt.Errorf("loadphone rtp: %w", err)
	}
	host := p.addr.Addr().String()
	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("dialflow-loadphone"), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransactionLayerOptions(sipmsg.WithTransactionLayerLogger(p.log),
			sipmsg.WithTransactionLayerUnhandledResponseHandler(func(*sipmsg.Response) {})),
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(p.log)))
	if err != nil {
		pc.Close()
		_ = unix.Close(p.fd)
		return nil, fmt.Errorf("loadphone: %w", err)
	}
	p.srv, _ = sipgo.NewServer(p.ua, sipgo.WithServerLogger(p.log))
	client, _ := sipgo.NewClient(p.ua, sipgo.WithClientLogger(p.log), sipgo.WithClientHostname(host),
		sipgo.WithClientConnectionAddr(p.addr.String()))
	p.dua = &sipgo.DialogUA{Client: client,
		ContactHDR: sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "load", Host: host, Port: int(p.addr.Port())}}}
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if d := p.dialog(req); d != nil {
			_ = d.ReadAck(req, tx)
		}
	})
	p.srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if d := p.dialog(req); d != nil {
			_ = d.ReadBye(req, tx)
			return
		}
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	p.srv.OnOptions(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	})
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(3)
	go func() { defer p.wg.Done(); _ = p.srv.ServeUDP(pc) }()
	go p.receive()
	go p.send()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := p.ua.TransportLayer().GetConnection("udp", p.addr.String()); err == nil {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, errors.New("loadphone: listener never became ready")
		}
		time.Sleep(time.Millisecond)
	}
}

// TrunkURI returns "sip:<addr>", for using the phone as a trunk.
func (p *Phone) TrunkURI() string { return "sip:" + p.addr.String() }

// Progress is a live count of calls.
type Progress struct {
	Invites  int `json:"invites"`
	Answered int `json:"answered"`
	Active   int `json:"active"`
	Ended    int `json:"ended"`
}

// Progress returns the live counts.
func (p *Phone) Progress() Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Progress{Invites: p.agg.Invites, Answered: p.agg.Answered, Active: p.active, Ended: p.agg.Ended}
}

// Report returns what the phone measured on the calls that have ended.
func (p *Phone) Report() Report {
	p.mu.Lock()
	rep := p.agg.report()
	p.mu.Unlock()
	rep.Malformed, rep.Foreign, rep.SendErrors = p.malformed.Load(), p.foreign.Load(), p.sendErrors.Load()
	rep.EventPackets, rep.EventDropped = p.eventPackets.Load(), p.eventDropped.Load()
	rep.AudioSent, rep.AudioDropped = p.audioSent.Load(), p.audioDropped.Load()
	rep.DigitsSent = int(p.digitsSent.Load())
	return rep
}

// Close hangs up live calls and stops the phone.
func (p *Phone) Close() error {
	p.cancel()
	deadline := time.Now().Add(5 * time.Second)
	for p.Progress().Active > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	err := p.ua.Close()
	p.sip.Close()
	p.wg.Wait()
	_ = unix.Close(p.fd)
	return err
}

func (p *Phone) dialog(req *sipmsg.Request) *sipgo.DialogServerSession {
	id, err := sipmsg.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.byDialog[id]; c != nil {
		return c.dlg
	}
	return nil
}

// answeredCalls appends the calls that are sending to dst.
func (p *Phone) answeredCalls(dst []*call) []*call {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.byAddr {
		if !c.answered.IsZero() {
			dst = append(dst, c)
		}
	}
	return dst
}

func (p *Phone) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	p.mu.Lock()
	if p.ctx.Err() != nil {
		p.mu.Unlock()
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	p.agg.Invites++
	p.agg.lastInv = time.Now()
	if p.agg.firstInv.IsZero() {
		p.agg.firstInv = p.agg.lastInv
	}
	p.active++
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()
	defer func() { p.mu.Lock(); p.active--; p.mu.Unlock() }()
	p.runCall(req, tx)
}

func (p *Phone) runCall(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	dlg, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	defer dlg.Close()
	d, err := sdp.Parse(req.Body())
	var m sdp.Media
	if err == nil {
		m, err = sdp.Negotiate(d)
	}
	if err != nil {
		_ = dlg.Respond(488, "Not Acceptable Here", nil)
		return
	}
	c := &call{dlg: dlg, key: m.Remote, remote: net.UDPAddrFromAddrPort(m.Remote), codec: m.Codec, digit: eventCode(p.cfg.Digit)}
	if m.DTMF > 0 && m.DTMF < 128 {
		c.eventPT = uint8(m.DTMF)
	}
	c.tx = txState{ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(), marker: true, evTick: -1}
	p.mu.Lock()
	p.byDialog[dlg.ID] = c
	p.byAddr[c.key] = c
	p.mu.Unlock()
	defer p.forget(c)

	_ = dlg.Respond(180, "Ringing", nil)
	if !p.wait(dlg.Context(), p.cfg.RingFor) {
		return
	}
	answer := sdp.Answer(sdp.Params{Addr: p.addr.Addr(), Port: p.port}, m)
	now := time.Now()
	p.mu.Lock()
	c.answered = now
	if p.cfg.DigitAfter > 0 {
		c.tx.digitAt = now.Add(p.cfg.DigitAfter)
	}
	p.agg.Answered++
	p.mu.Unlock()
	if err := dlg.RespondSDP(answer); err != nil {
		p.log.Info("loadphone: answer not acknowledged", "err", err)
		return
	}
	if !p.wait(dlg.Context(), p.cfg.MaxCall) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := dlg.Bye(ctx); err != nil {
		p.log.Info("loadphone: bye failed", "err", err)
	}
	p.mu.Lock()
	p.agg.ByeSent++
	p.mu.Unlock()
}

// wait sleeps d; false when the dialog ended first. When the phone closes
// it hangs the call up and returns false.
func (p *Phone) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-p.ctx.Done():
		return true
	}
}

// forget removes an ended call and adds its measurements to the report.
func (p *Phone) forget(c *call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.byDialog, c.dlg.ID)
	if p.byAddr[c.key] == c {
		delete(p.byAddr, c.key)
	}
	if c.answered.IsZero() {
		return
	}
	p.agg.Ended++
	c.mu.Lock()
	p.agg.add(&c.rx, c.answered)
	c.mu.Unlock()
}

// eventCode maps a key to its RFC 4733 event code; 0xff means none.
func eventCode(k byte) byte {
	switch {
	case k >= '0' && k <= '9':
		return k - '0'
	case k == '*':
		return 10
	case k == '#':
		return 11
	}
	return 0xff
}
