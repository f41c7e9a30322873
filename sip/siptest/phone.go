package siptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// DTMF methods of a script.
const (
	MethodRFC4733 = "rfc4733"
	MethodInband  = "inband"
	MethodInfo    = "info"
)

// Rejections of a script.
const (
	RejectBusy    = "busy"
	RejectDecline = "decline"
)

// DTMFStep sends Keys at At after the answer.
type DTMFStep struct {
	At   time.Duration
	Keys string
}

// CallScript is how the phone treats one call.
type CallScript struct {
	// AnswerAfter is the ring time before answering (or rejecting).
	AnswerAfter time.Duration
	// Reject is RejectBusy (486) or RejectDecline (603); RejectCode, when
	// set, overrides it with any final status (e.g. 503, 404).
	Reject     string
	RejectCode int
	// RetryAfter is sent with a rejection when > 0 (seconds).
	RetryAfter int
	// NoAnswer rings until the caller cancels.
	NoAnswer bool
	// Provisional is how many 180 Ringing to send (default 1).
	Provisional int
	// EarlyMedia sends 183 Session Progress with SDP before the 180s.
	EarlyMedia bool
	// HangupAfter sends BYE that long after the answer (0: never).
	HangupAfter time.Duration
	// DTMF is sent after the answer by DTMFMethod (default rfc4733), each
	// key DTMFDuration long (default 100 ms).
	DTMF         []DTMFStep
	DTMFMethod   string
	DTMFDuration time.Duration
	// ReferReject answers REFER with this status instead of 202.
	ReferReject int
	// ReferResult is the final sipfrag status NOTIFYed after REFER (default
	// 200); ReferNoFinal sends only "100 Trying".
	ReferResult  int
	ReferNoFinal bool
	// Record writes what the phone hears to this WAV file (mono 8 kHz).
	Record string
}

// InviteInfo is what Decide sees of an INVITE.
type InviteInfo struct {
	CallID string
	// User is the Request-URI user (the dialed number).
	User string
	From string
	// Header returns a header's value ("" if absent).
	Header func(name string) string
}

// PhoneConfig configures a Phone.
type PhoneConfig struct {
	// Listen is the UDP address (default "127.0.0.1:0").
	Listen string
	// Script applies to every call unless Decide is set.
	Script CallScript
	// Decide, when set, chooses the script per call.
	Decide func(InviteInfo) CallScript
	// Username and Password, when set, demand digest auth; ProxyAuth uses
	// 407/Proxy-Authenticate instead of 401/WWW-Authenticate.
	Username, Password string
	ProxyAuth          bool
	// Events, when set, receives one JSON line per event.
	Events io.Writer
	// OnEvent, when set, is called for each event (from SIP goroutines).
	OnEvent func(Event)
	// Logger receives the phone's logs (default: discarded).
	Logger *slog.Logger
}

// Phone is a running simulated phone; Close ends its calls and waits.
type Phone struct {
	cfg    PhoneConfig
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dua    *sipgo.DialogUA
	conn   net.PacketConn
	addr   netip.AddrPort

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	callWG sync.WaitGroup // call goroutines (onInvite after begin)

	mu     sync.Mutex
	closed bool
	calls  map[string]*phoneCall
	nonces map[string]bool
	active int
	peak   int
	total  int

	evMu   sync.Mutex
	events []Event
	evWake chan struct{}
	outMu  sync.Mutex
}

// NewPhone starts a phone listening on cfg.Listen.
func NewPhone(cfg PhoneConfig) (*Phone, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pc, err := net.ListenPacket("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("phone listen %s: %w", cfg.Listen, err)
	}
	ap := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	p := &Phone{cfg: cfg, log: cfg.Logger, conn: pc, addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()),
		calls: map[string]*phoneCall{}, nonces: map[string]bool{}, evWake: make(chan struct{})}
	if p.addr.Addr().IsUnspecified() {
		p.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p.addr.Port())
	}
	host := p.addr.Addr().String()
	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("dialflow-phone"), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransactionLayerOptions(sipmsg.WithTransactionLayerLogger(p.log),
			sipmsg.WithTransactionLayerUnhandledResponseHandler(func(*sipmsg.Response) {})),
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(p.log)))
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("phone: %w", err)
	}
	p.srv, _ = sipgo.NewServer(p.ua, sipgo.WithServerLogger(p.log))
	p.client, _ = sipgo.NewClient(p.ua, sipgo.WithClientLogger(p.log), sipgo.WithClientHostname(host),
		sipgo.WithClientConnectionAddr(p.addr.String()))
	p.dua = &sipgo.DialogUA{Client: p.client,
		ContactHDR: sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "phone", Host: host, Port: int(p.addr.Port())}}}
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)
	p.srv.OnRefer(p.onRefer)
	p.srv.OnInfo(p.onInfo)
	p.srv.OnOptions(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	})
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(1)
	go func() { defer p.wg.Done(); _ = p.srv.ServeUDP(pc) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := p.ua.TransportLayer().GetConnection("udp", p.addr.String()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, errors.New("phone: listener never became ready")
		}
		time.Sleep(time.Millisecond)
	}
	return p, nil
}

// Addr returns the phone's SIP address.
func (p *Phone) Addr() netip.AddrPort { return p.addr }

// URI returns "sip:<user>@<addr>" for dialing the phone directly.
func (p *Phone) URI(user string) string { return "sip:" + user + "@" + p.addr.String() }

// TrunkURI returns "sip:<addr>", for using the phone as a trunk.
func (p *Phone) TrunkURI() string { return "sip:" + p.addr.String() }

// Active returns the number of calls in progress (from INVITE to the end).
func (p *Phone) Active() int { p.mu.Lock(); defer p.mu.Unlock(); return p.active }

// Peak returns the highest number of concurrent calls seen.
func (p *Phone) Peak() int { p.mu.Lock(); defer p.mu.Unlock(); return p.peak }

// Total returns the number of INVITEs that started a call.
func (p *Phone) Total() int { p.mu.Lock(); defer p.mu.Unlock(); return p.total }

// Close hangs up live calls, stops listening and waits for every goroutine.
func (p *Phone) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	// Calls see ctx end and hang up; give them a moment before the
	// transport goes away.
	done := make(chan struct{})
	go func() { p.waitCalls(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	err := p.ua.Close()
	p.conn.Close()
	p.wg.Wait()
	return err
}

// waitCalls waits until every call goroutine has returned: a call stops
// counting as active when its BYE is sent, but the BYE transaction must
// finish before the transport closes (closing under it sends the BYE, or
// its retransmission, on a fresh connection that nothing closes).
func (p *Phone) waitCalls() { p.callWG.Wait() }

func (p *Phone) begin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	p.callWG.Add(1)
	return true
}

func (p *Phone) match(req *sipmsg.Request) *phoneCall {
	id, err := sipmsg.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[id]
}

func respond(tx sipmsg.ServerTransaction, req *sipmsg.Request, code int, reason string, hdrs ...sipmsg.Header) {
	res := sipmsg.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// authorized checks digest credentials, challenging when they are missing
// or wrong.
func (p *Phone) authorized(req *sipmsg.Request, tx sipmsg.ServerTransaction) bool {
	if p.cfg.Password == "" {
		return true
	}
	hname, cname, code, reason := "Authorization", "WWW-Authenticate", 401, "Unauthorized"
	if p.cfg.ProxyAuth {
		hname, cname, code, reason = "Proxy-Authorization", "Proxy-Authenticate", 407, "Proxy Authentication Required"
	}
	if h := req.GetHeader(hname); h != nil {
		ok := digestValid(h.Value(), string(req.Method), p.cfg.Username, p.cfg.Password, func(n string) bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.nonces[n]
		})
		if ok {
			return true
		}
	}
	chal, nonce := digestChallenge("dialflow-phone")
	p.mu.Lock()
	p.nonces[nonce] = true
	p.mu.Unlock()
	p.emit(Event{Type: EventAuth, CallID: callID(req), Code: code})
	respond(tx, req, code, reason, sipmsg.NewHeader(cname, chal))
	return false
}

func callID(req *sipmsg.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func (p *Phone) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		// Re-INVITE: answer with our current description.
		if c := p.match(req); c != nil {
			res := sipmsg.NewSDPResponseFromRequest(req, c.localSDP)
			res.AppendHeader(&p.dua.ContactHDR)
			_ = tx.Respond(res)
			return
		}
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if !p.authorized(req, tx) {
		return
	}
	if !p.begin() {
		respond(tx, req, 503, "Service Unavailable")
		return
	}
	defer p.wg.Done()
	defer p.callWG.Done()
	p.mu.Lock()
	p.active++
	p.total++
	p.peak = max(p.peak, p.active)
	active := p.active
	p.mu.Unlock()
	// The call stops counting as active the moment it ends in SIP terms
	// (final refusal sent, BYE sent or received), not when its goroutine
	// has finished tearing down: the far end frees its slot at that moment
	// too, and a late decrement would show phantom concurrency.
	ended := sync.OnceFunc(func() { p.mu.Lock(); p.active--; p.mu.Unlock() })
	defer ended()

	info := InviteInfo{CallID: callID(req), User: req.Recipient.User, Header: func(n string) string {
		if h := req.GetHeader(n); h != nil {
			return h.Value()
		}
		return ""
	}}
	if f := req.From(); f != nil {
		info.From = f.Address.User
	}
	p.emit(Event{Type: EventInvite, CallID: info.CallID, From: info.From, To: info.User, Active: active})
	script := p.cfg.Script
	if p.cfg.Decide != nil {
		script = p.cfg.Decide(info)
	}
	p.runCall(req, tx, info, script, ended)
}

func (p *Phone) onAck(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if c := p.match(req); c != nil {
		_ = c.dlg.ReadAck(req, tx)
	}
}

func (p *Phone) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := p.match(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.byRemote.Store(true)
	c.ended()
	if err := c.dlg.ReadBye(req, tx); err != nil {
		respond(tx, req, 400, "Bad Request")
	}
}

func (p *Phone) onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if c := p.match(req); c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	respond(tx, req, 200, "OK")
}

func (p *Phone) onRefer(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := p.match(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	target := ""
	if h := req.GetHeader("Refer-To"); h != nil {
		target = strings.Trim(strings.TrimSpace(h.Value()), "<>")
	}
	if c.script.ReferReject != 0 {
		p.emit(Event{Type: EventRefer, CallID: c.id, Target: target, Code: c.script.ReferReject})
		respond(tx, req, c.script.ReferReject, "Refer Rejected")
		return
	}
	code := c.script.ReferResult
	if code == 0 {
		code = 200
	}
	if c.script.ReferNoFinal {
		code = 100
	}
	p.emit(Event{Type: EventRefer, CallID: c.id, Target: target, Code: code})
	respond(tx, req, 202, "Accepted")
	cseq := req.CSeq().SeqNo
	// NOTIFYs go out from the call's own goroutine.
	select {
	case c.refers <- referJob{cseq: cseq, code: code}:
	default:
	}
}
