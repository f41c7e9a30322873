package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// UA is a SIP user agent: one listening address, one trunk, many calls.
// Close hangs up live calls and waits for every goroutine it started.
type UA struct {
	cfg     Config
	log     *slog.Logger
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	dua     *sipgo.DialogUA
	udp     net.PacketConn
	tcp     net.Listener
	addr    netip.AddrPort // bound listen address
	adv     netip.Addr     // advertised address (public IP or listen IP)
	trunk   sipmsg.Uri
	hasTrk  bool
	openMed MediaOpener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	calls    map[string]*Call // by dialog id
	byCallID map[string]*Call
	closed   bool

	counters struct{ badInfo atomic.Uint64 }
}

// NewUA listens on cfg.Listen (UDP, and TCP when cfg.TCP) and returns a UA
// ready to dial: it waits until sipgo has registered the listening socket,
// so a request sent right away leaves from it (notes §7.1-a).
func NewUA(cfg Config) (*UA, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	u := &UA{cfg: c, log: c.Logger, calls: map[string]*Call{}, byCallID: map[string]*Call{}, openMed: c.Media}
	if u.openMed == nil {
		u.openMed = StreamMediaOpener(nil, c.Logger)
	}
	if c.Trunk != "" {
		_ = sipmsg.ParseUri(c.Trunk, &u.trunk)
		u.hasTrk = true
	}
	u.udp, err = net.ListenPacket("udp", c.Listen)
	if uc, ok := u.udp.(*net.UDPConn); ok && err == nil {
		// A burst of answers (hundreds of 200 OKs at once) must wait in the
		// socket, not be dropped and retransmitted 500 ms later. The kernel
		// caps this at net.core.rmem_max.
		_ = uc.SetReadBuffer(SIPReadBuffer)
	}
	if err != nil {
		return nil, fmt.Errorf("sip listen udp %s: %w", c.Listen, err)
	}
	u.addr = u.udp.LocalAddr().(*net.UDPAddr).AddrPort()
	u.addr = netip.AddrPortFrom(u.addr.Addr().Unmap(), u.addr.Port())
	if c.TCP {
		u.tcp, err = net.Listen("tcp", u.addr.String())
		if err != nil {
			u.udp.Close()
			return nil, fmt.Errorf("sip listen tcp %s: %w", u.addr, err)
		}
	}
	u.adv = u.addr.Addr()
	if c.PublicIP.IsValid() {
		u.adv = c.PublicIP
	}
	host := u.adv.String()
	u.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(c.UserAgent),
		sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransactionLayerOptions(
			sipmsg.WithTransactionLayerLogger(u.log),
			sipmsg.WithTransactionLayerUnhandledResponseHandler(u.onUnhandledResponse),
		),
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(u.log)),
	)
	if err != nil {
		u.closeSockets()
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	u.srv, _ = sipgo.NewServer(u.ua, sipgo.WithServerLogger(u.log))
	opts := []sipgo.ClientOption{
		sipgo.WithClientLogger(u.log),
		sipgo.WithClientHostname(host),
		sipgo.WithClientConnectionAddr(u.addr.String()),
	}
	if c.PublicIP.IsValid() {
		opts = append(opts, sipgo.WithClientNAT(), sipgo.WithClientPort(int(u.addr.Port())))
	}
	u.client, err = sipgo.NewClient(u.ua, opts...)
	if err != nil {
		u.ua.Close()
		u.closeSockets()
		return nil, fmt.Errorf("sip client: %w", err)
	}
	u.dua = &sipgo.DialogUA{Client: u.client, ContactHDR: u.contact(), RewriteContact: c.PublicIP.IsValid()}
	u.register()
	u.ctx, u.cancel = context.WithCancel(context.Background())

	u.wg.Add(1)
	go func() { defer u.wg.Done(); _ = u.srv.ServeUDP(u.udp) }()
	if u.tcp != nil {
		u.wg.Add(1)
		go func() { defer u.wg.Done(); _ = u.srv.ServeTCP(u.tcp) }()
	}
	if err := u.waitListening(); err != nil {
		u.Close()
		return nil, err
	}
	return u, nil
}

// waitListening polls sipgo's UDP pool until the served socket is in it.
func (u *UA) waitListening() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := u.ua.TransportLayer().GetConnection("udp", u.addr.String()); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sip listen %s: socket never became ready", u.addr)
		}
		time.Sleep(time.Millisecond)
	}
}

// Addr returns the bound listen address (useful with port 0).
func (u *UA) Addr() netip.AddrPort { return u.addr }

// contact is our Contact: the advertised address and the listen port, so
// in-dialog requests (BYE, NOTIFY) reach us (notes §7.1-g).
func (u *UA) contact() sipmsg.ContactHeader {
	return sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "dialflow", Host: u.adv.String(), Port: int(u.addr.Port())}}
}

func (u *UA) closeSockets() {
	if u.udp != nil {
		u.udp.Close()
	}
	if u.tcp != nil {
		u.tcp.Close()
	}
}

// Close hangs up every live call (BYE, 2 s each at most), stops listening
// and waits for the UA's goroutines.
func (u *UA) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	live := make([]*Call, 0, len(u.calls))
	for _, c := range u.calls {
		live = append(live, c)
	}
	u.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = c.Hangup(ctx)
		}()
	}
	wg.Wait()
	u.cancel()
	err := u.ua.Close()
	u.closeSockets()
	u.wg.Wait()
	return err
}

func (u *UA) track(c *Call) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return ErrClosed
	}
	u.calls[c.dlg.ID] = c
	u.byCallID[c.ID] = c
	return nil
}

func (u *UA) untrack(c *Call) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.calls[c.dlg.ID] == c {
		delete(u.calls, c.dlg.ID)
	}
	if u.byCallID[c.ID] == c {
		delete(u.byCallID, c.ID)
	}
}

// Active returns the number of established calls.
func (u *UA) Active() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.calls)
}

func (u *UA) match(req *sipmsg.Request) *Call {
	id, err := sipmsg.DialogIDFromRequestUAC(req)
	if err != nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[id]
}

// onUnhandledResponse re-ACKs a 2xx retransmitted after the INVITE
// transaction ended (its first ACK was lost; notes §7.1-d).
func (u *UA) onUnhandledResponse(r *sipmsg.Response) {
	cseq := r.CSeq()
	if cseq == nil || cseq.MethodName != sipmsg.INVITE || !r.IsSuccess() || r.CallID() == nil {
		return
	}
	u.mu.Lock()
	c := u.byCallID[r.CallID().Value()]
	u.mu.Unlock()
	if c == nil {
		return
	}
	c.reAck()
}

// BadInfo counts INFO requests whose DTMF body could not be read.
func (u *UA) BadInfo() uint64 { return u.counters.badInfo.Load() }
