package sip_test

import (
	"errors"
	"github.com/dialflow/dialflow/media"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip"
	"github.com/dialflow/dialflow/sip/siptest"
)

func TestAnswerAndDTMFByEachMethod(t *testing.T) {
	for _, method := range []string{siptest.MethodRFC4733, siptest.MethodInband, siptest.MethodInfo} {
		t.Run(method, func(t *testing.T) {
			p := newPhone(t, siptest.PhoneConfig{Script: siptest.CallScript{
				AnswerAfter: 50 * time.Millisecond,
				DTMF:        []siptest.DTMFStep{{At: 200 * time.Millisecond, Keys: "12#"}, {At: 900 * time.Millisecond, Keys: "0"}},
				DTMFMethod:  method,
			}})
			u := newUA(t, sip.Config{Trunk: p.TrunkURI()})
			ctx := ctxT(t, 10*time.Second)
			c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000", Caller: "+15550001111", RingTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if c.Negotiated().CodecName != "PCMU" || c.Negotiated().DTMF != 101 {
				t.Errorf("negotiated %+v", c.Negotiated())
			}
			inv, _ := p.WaitType(ctx, siptest.EventInvite, c.ID)
			if inv.To != "+15551230000" || inv.From != "+15550001111" {
				t.Errorf("phone saw to=%q from=%q", inv.To, inv.From)
			}
			m := c.Media().(*sip.StreamMedia).Stream()
			want := map[string]media.DTMFMethod{siptest.MethodRFC4733: media.RFC4733, siptest.MethodInband: media.InBand, siptest.MethodInfo: media.SIPInfo}[method]
			var got []string
			for len(got) < 4 {
				select {
				case d := <-m.Digits():
					if d.Method != want {
						t.Errorf("digit %c came by %s, want %s", d.Key, d.Method, want)
					}
					got = append(got, string(d.Key))
				case <-ctx.Done():
					t.Fatalf("digits so far %v", got)
				}
			}
			if strings.Join(got, "") != "12#0" {
				t.Errorf("digits %v, want 12#0", got)
			}
			if err := c.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			bye, err := p.WaitType(ctx, siptest.EventBye, c.ID)
			if err != nil || bye.By != "remote" {
				t.Errorf("phone bye event %+v %v", bye, err)
			}
			if c.HangupBy() != sip.ByEngine || c.Err() != nil {
				t.Errorf("hangup by %q err %v", c.HangupBy(), c.Err())
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		name    string
		script  siptest.CallScript
		code    int
		outcome string
		retry   time.Duration
	}{
		{"busy", siptest.CallScript{Reject: siptest.RejectBusy}, 486, sip.OutcomeBusy, 0},
		{"decline", siptest.CallScript{Reject: siptest.RejectDecline}, 603, sip.OutcomeDeclined, 0},
		{"busy everywhere", siptest.CallScript{RejectCode: 600}, 600, sip.OutcomeBusy, 0},
		{"capacity", siptest.CallScript{RejectCode: 503, RetryAfter: 30}, 503, sip.OutcomeCapacity, 30 * time.Second},
		{"not found", siptest.CallScript{RejectCode: 404}, 404, sip.OutcomeInvalidNumber, 0},
		{"unavailable", siptest.CallScript{RejectCode: 480}, 480, sip.OutcomeNoAnswer, 0},
		{"forbidden", siptest.CallScript{RejectCode: 403}, 403, sip.OutcomeFailed, 0},
	}
	p := newPhone(t, siptest.PhoneConfig{Decide: func(inv siptest.InviteInfo) siptest.CallScript {
		for _, c := range cases {
			if strings.ReplaceAll(c.name, " ", "") == inv.User {
				return c.script
			}
		}
		return siptest.CallScript{}
	}})
	u := newUA(t, sip.Config{Listen: "127.0.0.1:0"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := u.Dial(ctxT(t, 10*time.Second), sip.DialRequest{To: p.URI(strings.ReplaceAll(c.name, " ", "")), RingTimeout: 5 * time.Second})
			ce := callErr(t, err)
			if ce.SIPStatus() != c.code || ce.Outcome() != c.outcome || ce.RetryAfter() != c.retry {
				t.Errorf("got %d %s retry %v (%v), want %d %s %v", ce.SIPStatus(), ce.Outcome(), ce.RetryAfter(), err, c.code, c.outcome, c.retry)
			}
		})
	}
}

func TestNoAnswerSendsCancel(t *testing.T) {
	p := newPhone(t, siptest.PhoneConfig{Script: siptest.CallScript{NoAnswer: true}})
	u := newUA(t, sip.Config{Trunk: p.TrunkURI()})
	ctx := ctxT(t, 10*time.Second)
	var rang []int
	_, err := u.Dial(ctx, sip.DialRequest{To: "Ext:1000", RingTimeout: 400 * time.Millisecond,
		OnProgress: func(code int, _ string, _ bool) { rang = append(rang, code) }})
	ce := callErr(t, err)
	if ce.Outcome() != sip.OutcomeNoAnswer || !errors.Is(err, sip.ErrRingTimeout) {
		t.Errorf("err %v", err)
	}
	if len(rang) == 0 || rang[0] != 180 {
		t.Errorf("progress %v, want 180 first", rang)
	}
	if _, err := p.WaitType(ctx, siptest.EventCancelled, ""); err != nil {
		t.Errorf("phone never saw the CANCEL: %v", err)
	}
}

func TestFarEndHangup(t *testing.T) {
	p := newPhone(t, siptest.PhoneConfig{Script: siptest.CallScript{HangupAfter: 300 * time.Millisecond}})
	u := newUA(t, sip.Config{Trunk: p.TrunkURI()})
	ctx := ctxT(t, 10*time.Second)
	c, err := u.Dial(ctx, sip.DialRequest{To: "+4930123456", RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("far-end BYE never ended the call")
	}
	if c.HangupBy() != sip.ByCallee || !errors.Is(c.Err(), sip.ErrRemoteHangup) {
		t.Errorf("hangup by %q err %v", c.HangupBy(), c.Err())
	}
	if u.Active() != 0 {
		t.Errorf("%d calls still tracked", u.Active())
	}
}

func TestMaxDuration(t *testing.T) {
	p := newPhone(t, siptest.PhoneConfig{})
	u := newUA(t, sip.Config{Trunk: p.TrunkURI()})
	ctx := ctxT(t, 10*time.Second)
	c, err := u.Dial(ctx, sip.DialRequest{To: "+4930123456", MaxDuration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("max duration never ended the call")
	}
	if c.HangupBy() != sip.ByEngine || !errors.Is(c.Err(), sip.ErrMaxDuration) {
		t.Errorf("hangup by %q err %v", c.HangupBy(), c.Err())
	}
	if e, err := p.WaitType(ctx, siptest.EventBye, c.ID); err != nil || e.By != "remote" {
		t.Errorf("phone bye %+v %v", e, err)
	}
}

func TestDigestAuth(t *testing.T) {
	for _, proxy := range []bool{false, true} {
		name := map[bool]string{false: "401", true: "407"}[proxy]
		t.Run(name, func(t *testing.T) {
			p := newPhone(t, siptest.PhoneConfig{Username: "alice", Password: "s3cret", ProxyAuth: proxy})
			ctx := ctxT(t, 10*time.Second)
			good := newUA(t, sip.Config{Trunk: p.TrunkURI(), Username: "alice", Password: "s3cret"})
			c, err := good.Dial(ctx, sip.DialRequest{To: "+15551230000"})
			if err != nil {
				t.Fatalf("with the right password: %v", err)
			}
			c.Hangup(ctx)

			bad := newUA(t, sip.Config{Trunk: p.TrunkURI(), Username: "alice", Password: "wrong"})
			_, err = bad.Dial(ctx, sip.DialRequest{To: "+15551230000"})
			ce := callErr(t, err)
			code := map[bool]int{false: 401, true: 407}[proxy]
			if !errors.Is(err, sip.ErrAuthFailed) || ce.SIPStatus() != code || ce.Outcome() != sip.OutcomeFailed {
				t.Errorf("wrong password: %v (code %d)", err, ce.SIPStatus())
			}
			if !strings.Contains(err.Error(), "authentication failed") {
				t.Errorf("error %q does not say authentication failed", err)
			}
		})
	}
}

// A carrier that repeats 180 many times must still be answered and ACKed
// (sipgo's WaitAnswer stops after 11 responses; notes §7.1-b).
func TestManyProvisionalResponses(t *testing.T) {
	p := newPhone(t, siptest.PhoneConfig{Script: siptest.CallScript{Provisional: 25, EarlyMedia: true, AnswerAfter: 200 * time.Millisecond}})
	u := newUA(t, sip.Config{Trunk: p.TrunkURI()})
	ctx := ctxT(t, 10*time.Second)
	n, early := 0, false
	c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000", RingTimeout: 5 * time.Second,
		OnProgress: func(_ int, _ string, e bool) { n++; early = early || e }})
	if err != nil {
		t.Fatal(err)
	}
	// The phone reports "answered" only once our ACK arrived.
	if _, err := p.WaitType(ctx, siptest.EventAnswered, c.ID); err != nil {
		t.Fatalf("phone never saw the ACK: %v", err)
	}
	// 26 are sent; UDP may let the 200 overtake the last ones, but more
	// than 11 must have been read for the cap to matter.
	if n <= 11 || !early {
		t.Errorf("saw %d provisional responses (early media %v), want more than 11 with early media", n, early)
	}
	c.Hangup(ctx)
}

func TestListenerReadyImmediately(t *testing.T) {
	p := newPhone(t, siptest.PhoneConfig{})
	ctx := ctxT(t, 20*time.Second)
	for i := 0; i < 5; i++ {
		u, err := sip.NewUA(sip.Config{Listen: "127.0.0.1:0", Trunk: p.TrunkURI()})
		if err != nil {
			t.Fatal(err)
		}
		c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000"})
		if err != nil {
			u.Close()
			t.Fatalf("dial %d right after NewUA: %v", i, err)
		}
		c.Hangup(ctx)
		u.Close()
	}
}

func TestUnreachable(t *testing.T) {
	u := newUA(t, sip.Config{Trunk: "sip:127.0.0.1:9"})
	ctx := ctxT(t, 15*time.Second)
	_, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000", RingTimeout: time.Second})
	ce := callErr(t, err)
	if ce.Outcome() != sip.OutcomeUnreachable || !errors.Is(err, sip.ErrUnreachable) {
		t.Errorf("err %v", err)
	}
}

func TestBadTargets(t *testing.T) {
	u := newUA(t, sip.Config{})
	for _, to := range []string{"", "12", "+0123", "Ext:12a", "hello", "sip:"} {
		_, err := u.Dial(ctxT(t, time.Second), sip.DialRequest{To: to})
		if !errors.Is(err, sip.ErrBadTarget) {
			t.Errorf("%q: err %v, want ErrBadTarget", to, err)
		}
	}
	if _, err := u.Dial(ctxT(t, time.Second), sip.DialRequest{To: "+15551230000"}); !errors.Is(err, sip.ErrBadTarget) {
		t.Errorf("number without a trunk: %v", err)
	}
}

func TestRTPPortRange(t *testing.T) {
	p := newPhone(t, siptest.PhoneConfig{})
	lo := 41000 + 2*int(time.Now().UnixNano()%500)
	u := newUA(t, sip.Config{Trunk: p.TrunkURI(), RTPPorts: sip.PortRange{Min: lo, Max: lo + 40}})
	ctx := ctxT(t, 5*time.Second)
	c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Hangup(ctx)
	if port := c.Media().LocalPort(); port < lo || port > lo+40 || port%2 != 0 {
		t.Errorf("rtp port %d outside %d-%d or odd", port, lo, lo+40)
	}
}
