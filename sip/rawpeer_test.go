package sip_test

import (
	"fmt"
	"github.com/dialflow/dialflow/media"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip"
	sipmsg "github.com/emiago/sipgo/sip"
)

// rawPeer is a hand-driven SIP endpoint on a real UDP socket: it reads and
// writes whole SIP messages so a test can produce exact races.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newRawPeer(t *testing.T) *rawPeer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c}
}

func (p *rawPeer) uri(user string) string { return "sip:" + user + "@" + p.conn.LocalAddr().String() }

// read returns the next message that is not filtered out by skip.
func (p *rawPeer) read(d time.Duration, skip func(sipmsg.Message) bool) (sipmsg.Message, *net.UDPAddr) {
	p.t.Helper()
	buf := make([]byte, 65535)
	deadline := time.Now().Add(d)
	for {
		p.conn.SetReadDeadline(deadline)
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			p.t.Fatalf("raw peer read: %v", err)
		}
		m, err := sipmsg.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			p.t.Fatalf("raw peer parse: %v", err)
		}
		if skip != nil && skip(m) {
			continue
		}
		return m, from
	}
}

func (p *rawPeer) request(d time.Duration, method sipmsg.RequestMethod) (*sipmsg.Request, *net.UDPAddr) {
	p.t.Helper()
	m, from := p.read(d, func(m sipmsg.Message) bool {
		r, ok := m.(*sipmsg.Request)
		return !ok || r.Method != method
	})
	return m.(*sipmsg.Request), from
}

func (p *rawPeer) send(m sipmsg.Message, to *net.UDPAddr) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDP([]byte(m.String()), to); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rawPeer) answer(inv *sipmsg.Request, code int, reason string, tag string) *sipmsg.Response {
	var body []byte
	if code == 200 {
		body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")
	}
	res := sipmsg.NewResponseFromRequest(inv, code, reason, body)
	if code > 100 {
		res.To().Params.Add("tag", tag)
	}
	if code == 200 {
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: p.conn.LocalAddr().(*net.UDPAddr).Port}})
	}
	return res
}

func TestPublicIPInContactAndSDP(t *testing.T) {
	peer := newRawPeer(t)
	u := newUA(t, sip.Config{PublicIP: netip.MustParseAddr("203.0.113.9")})
	ctx := ctxT(t, 5*time.Second)
	go u.Dial(ctx, sip.DialRequest{To: peer.uri("1"), RingTimeout: 300 * time.Millisecond})
	inv, from := peer.request(3*time.Second, sipmsg.INVITE)
	ct := inv.Contact()
	if ct == nil || ct.Address.Host != "203.0.113.9" || ct.Address.Port != int(u.Addr().Port()) {
		t.Errorf("contact %v, want 203.0.113.9:%d", ct, u.Addr().Port())
	}
	if from.Port != int(u.Addr().Port()) {
		t.Errorf("invite left from port %d, not the listen port %d", from.Port, u.Addr().Port())
	}
	if !strings.Contains(string(inv.Body()), "c=IN IP4 203.0.113.9") {
		t.Errorf("sdp does not carry the public ip:\n%s", inv.Body())
	}
	if v := inv.Via(); v == nil || !v.Params.Has("rport") {
		t.Errorf("via %v lacks rport behind nat", v)
	}
	peer.send(peer.answer(inv, 486, "Busy Here", "x"), from)
}

func TestContactIsReachableListenAddress(t *testing.T) {
	peer := newRawPeer(t)
	u := newUA(t, sip.Config{})
	ctx := ctxT(t, 5*time.Second)
	go u.Dial(ctx, sip.DialRequest{To: peer.uri("1"), RingTimeout: 300 * time.Millisecond})
	inv, from := peer.request(3*time.Second, sipmsg.INVITE)
	if ct := inv.Contact(); ct.Address.Host != "127.0.0.1" || ct.Address.Port != int(u.Addr().Port()) {
		t.Errorf("contact %v, want %s", ct, u.Addr())
	}
	peer.send(peer.answer(inv, 603, "Decline", "x"), from)
}

// A 200 that crosses our CANCEL must be ACKed and then hung up (notes §7.1-c).
func TestOKRacingCancel(t *testing.T) {
	peer := newRawPeer(t)
	u := newUA(t, sip.Config{})
	ctx := ctxT(t, 10*time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := u.Dial(ctx, sip.DialRequest{To: peer.uri("1"), RingTimeout: 300 * time.Millisecond})
		errc <- err
	}()
	inv, from := peer.request(3*time.Second, sipmsg.INVITE)
	peer.send(peer.answer(inv, 180, "Ringing", "race"), from)
	cancel, _ := peer.request(3*time.Second, sipmsg.CANCEL)
	// Answer the INVITE first, then the CANCEL, as a UAS that already
	// answered does.
	peer.send(peer.answer(inv, 200, "OK", "race"), from)
	peer.send(sipmsg.NewResponseFromRequest(cancel, 200, "OK", nil), from)
	ack, _ := peer.request(3*time.Second, sipmsg.ACK)
	if ack.To().Params.GetOr("tag", "") != "race" {
		t.Errorf("ack to-tag %q", ack.To().Params.GetOr("tag", ""))
	}
	bye, _ := peer.request(3*time.Second, sipmsg.BYE)
	peer.send(sipmsg.NewResponseFromRequest(bye, 200, "OK", nil), from)
	err := <-errc
	if ce := callErr(t, err); ce.Outcome() != sip.OutcomeNoAnswer {
		t.Errorf("dial err %v, want noAnswer", err)
	}
}

// A 2xx retransmitted after the INVITE transaction ended (Timer M) is
// acknowledged again (notes §7.1-d), and in-dialog requests are answered.
func TestLate2xxAndInDialogRequests(t *testing.T) {
	peer := newRawPeer(t)
	u := newUA(t, sip.Config{})
	ctx := ctxT(t, 15*time.Second)
	type result struct {
		c   *sip.Call
		err error
	}
	rc := make(chan result, 1)
	go func() {
		c, err := u.Dial(ctx, sip.DialRequest{To: peer.uri("1")})
		rc <- result{c, err}
	}()
	inv, from := peer.request(3*time.Second, sipmsg.INVITE)
	ok := peer.answer(inv, 200, "OK", "late")
	peer.send(ok, from)
	peer.request(3*time.Second, sipmsg.ACK)
	r := <-rc
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.c.Negotiated().CodecName != "PCMA" {
		t.Errorf("codec %+v, want PCMA from the answer", r.c.Negotiated())
	}
	// Timer M is 64*T1 = 3.2 s under TestMain's timers.
	time.Sleep(3500 * time.Millisecond)
	peer.send(ok, from)
	peer.request(3*time.Second, sipmsg.ACK)
	if r.c.ReAcks() != 1 {
		t.Errorf("re-acks %d, want 1", r.c.ReAcks())
	}

	// In-dialog requests from the far end, built on the dialog.
	inDialog := func(method sipmsg.RequestMethod, ctype, body string) *sipmsg.Response {
		req := sipmsg.NewRequest(method, inv.Contact().Address)
		vp := sipmsg.NewParams()
		vp.Add("branch", sipmsg.GenerateBranch())
		req.AppendHeader(&sipmsg.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1",
			Port: peer.conn.LocalAddr().(*net.UDPAddr).Port, Params: vp})
		fromH := &sipmsg.FromHeader{Address: ok.To().Address, Params: ok.To().Params.Clone()}
		toH := &sipmsg.ToHeader{Address: inv.From().Address, Params: inv.From().Params.Clone()}
		req.AppendHeader(fromH)
		req.AppendHeader(toH)
		req.AppendHeader(sipmsg.HeaderClone(inv.CallID()))
		req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 100 + uint32(len(method)), MethodName: method})
		req.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", Host: "127.0.0.1", Port: peer.conn.LocalAddr().(*net.UDPAddr).Port}})
		mf := sipmsg.MaxForwardsHeader(70)
		req.AppendHeader(&mf)
		if ctype != "" {
			req.AppendHeader(sipmsg.NewHeader("Content-Type", ctype))
		}
		req.SetBody([]byte(body))
		peer.send(req, from)
		m, _ := peer.read(3*time.Second, func(m sipmsg.Message) bool {
			res, ok := m.(*sipmsg.Response)
			return !ok || res.CSeq().MethodName != method
		})
		return m.(*sipmsg.Response)
	}
	if res := inDialog(sipmsg.INVITE, "application/sdp", string(ok.Body())); res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio") {
		t.Errorf("re-invite answered %d with body %q", res.StatusCode, res.Body())
	}
	if res := inDialog(sipmsg.UPDATE, "", ""); res.StatusCode != 200 {
		t.Errorf("update answered %d", res.StatusCode)
	}
	if res := inDialog(sipmsg.INFO, "application/dtmf-relay", "Signal=7\r\nDuration=100\r\n"); res.StatusCode != 200 {
		t.Errorf("info answered %d", res.StatusCode)
	}
	select {
	case d := <-r.c.Media().(*sip.StreamMedia).Stream().Digits():
		if d.Key != '7' || d.Method != media.SIPInfo {
			t.Errorf("digit %+v", d)
		}
	case <-time.After(2 * time.Second):
		t.Error("INFO digit never reached the media digits")
	}
	if res := inDialog(sipmsg.INFO, "application/dtmf-relay", "Signal=x\r\n"); res.StatusCode != 415 || u.BadInfo() != 1 {
		t.Errorf("bad info answered %d, counted %d", res.StatusCode, u.BadInfo())
	}
	if res := inDialog(sipmsg.BYE, "", ""); res.StatusCode != 200 {
		t.Errorf("bye answered %d", res.StatusCode)
	}
	select {
	case <-r.c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("bye did not end the call")
	}
}

func TestOutOfDialogRequests(t *testing.T) {
	peer := newRawPeer(t)
	u := newUA(t, sip.Config{})
	to := net.UDPAddrFromAddrPort(u.Addr())
	send := func(method sipmsg.RequestMethod) *sipmsg.Response {
		raw := fmt.Sprintf("%s sip:dialflow@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s\r\nFrom: <sip:x@127.0.0.1>;tag=a\r\nTo: <sip:dialflow@%s>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			method, u.Addr(), peer.conn.LocalAddr(), sipmsg.GenerateBranch(), u.Addr(), sipmsg.GenerateBranch(), method)
		if _, err := peer.conn.WriteToUDP([]byte(raw), to); err != nil {
			t.Fatal(err)
		}
		m, _ := peer.read(3*time.Second, func(m sipmsg.Message) bool { _, ok := m.(*sipmsg.Response); return !ok })
		return m.(*sipmsg.Response)
	}
	if res := send(sipmsg.OPTIONS); res.StatusCode != 200 || res.GetHeader("Allow") == nil {
		t.Errorf("options answered %d", res.StatusCode)
	}
	if res := send(sipmsg.INVITE); res.StatusCode != 403 || !strings.Contains(res.Reason, "inbound") {
		t.Errorf("inbound invite answered %d %q", res.StatusCode, res.Reason)
	}
	for _, m := range []sipmsg.RequestMethod{sipmsg.BYE, sipmsg.NOTIFY, sipmsg.INFO} {
		if res := send(m); res.StatusCode != 481 {
			t.Errorf("%s outside a dialog answered %d", m, res.StatusCode)
		}
	}
	// Garbage is dropped without harm: the UA still answers afterwards.
	peer.conn.WriteToUDP([]byte("NOT SIP AT ALL\r\n\r\n"), to)
	if res := send(sipmsg.OPTIONS); res.StatusCode != 200 {
		t.Errorf("options after garbage answered %d", res.StatusCode)
	}
}

func TestTCPListener(t *testing.T) {
	u := newUA(t, sip.Config{TCP: true})
	conn, err := net.DialTimeout("tcp", u.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatalf("tcp listener: %v", err)
	}
	defer conn.Close()
	raw := fmt.Sprintf("OPTIONS sip:dialflow@%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=%s\r\nFrom: <sip:x@127.0.0.1>;tag=a\r\nTo: <sip:dialflow@%s>\r\nCall-ID: tcp-%s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		u.Addr(), conn.LocalAddr(), sipmsg.GenerateBranch(), u.Addr(), sipmsg.GenerateBranch())
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Errorf("options over tcp: %q %v", buf[:n], err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]sip.Config{
		"no listen":  {},
		"bad listen": {Listen: "localhost"},
		"wildcard":   {Listen: "0.0.0.0:0"},
		"bad trunk":  {Listen: "127.0.0.1:0", Trunk: "http://x"},
	} {
		if _, err := sip.NewUA(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := sip.ParsePortRange("30000-20000"); err == nil {
		t.Error("reversed port range accepted")
	}
	if r, err := sip.ParsePortRange("20000-29999"); err != nil || r.Min != 20000 || r.Max != 29999 {
		t.Errorf("port range %+v %v", r, err)
	}
}
