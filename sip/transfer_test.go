package sip_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip"
	"github.com/dialflow/dialflow/sip/siptest"
)

func TestTransfer(t *testing.T) {
	cases := []struct {
		name    string
		script  siptest.CallScript
		target  string
		wantTo  string
		status  string
		err     error
		ended   bool
		refused int
	}{
		{"answered ext", siptest.CallScript{}, "Ext:1000", "sip:1000@", sip.TransferAnswered, nil, true, 0},
		{"answered e164", siptest.CallScript{}, "+4930999", "sip:+4930999@", sip.TransferAnswered, nil, true, 0},
		{"answered uri", siptest.CallScript{}, "sip:agent@192.0.2.10:5080", "sip:agent@192.0.2.10:5080", sip.TransferAnswered, nil, true, 0},
		{"busy", siptest.CallScript{ReferResult: 486}, "Ext:1000", "sip:1000@", sip.TransferBusy, nil, false, 0},
		{"no answer", siptest.CallScript{ReferResult: 480}, "Ext:1000", "sip:1000@", sip.TransferNoAnswer, nil, false, 0},
		{"declined", siptest.CallScript{ReferResult: 603}, "Ext:1000", "sip:1000@", sip.TransferDeclined, nil, false, 0},
		{"failed", siptest.CallScript{ReferResult: 500}, "Ext:1000", "sip:1000@", sip.TransferFailed, nil, false, 0},
		{"refused", siptest.CallScript{ReferReject: 403}, "Ext:1000", "sip:1000@", sip.TransferFailed, sip.ErrTransferRefused, false, 403},
		{"no final notify", siptest.CallScript{ReferNoFinal: true}, "Ext:1000", "sip:1000@", sip.TransferFailed, sip.ErrTransferTimeout, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPhone(t, siptest.PhoneConfig{Script: c.script})
			u := newUA(t, sip.Config{Trunk: p.TrunkURI(), TransferTimeout: 700 * time.Millisecond})
			ctx := ctxT(t, 10*time.Second)
			call, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000"})
			if err != nil {
				t.Fatal(err)
			}
			var progress []string
			status, err := call.Transfer(ctx, c.target, func(s string) { progress = append(progress, s) })
			if status != c.status || !errors.Is(err, c.err) {
				t.Fatalf("transfer = %q, %v; want %q, %v", status, err, c.status, c.err)
			}
			if c.refused != 0 && callErr(t, err).SIPStatus() != c.refused {
				t.Errorf("refusal code %d", callErr(t, err).SIPStatus())
			}
			ev, werr := p.WaitType(ctx, siptest.EventRefer, call.ID)
			if werr != nil || len(ev.Target) < len(c.wantTo) || ev.Target[:len(c.wantTo)] != c.wantTo {
				t.Errorf("phone saw refer to %q, want prefix %q", ev.Target, c.wantTo)
			}
			if c.err == nil && c.refused == 0 && (len(progress) == 0 || progress[0] != sip.TransferTrying) {
				t.Errorf("progress %v, want trying first", progress)
			}
			select {
			case <-call.Done():
				if !c.ended {
					t.Error("call ended after a failed transfer")
				}
				if _, err := p.WaitType(ctx, siptest.EventBye, call.ID); err != nil {
					t.Errorf("no BYE after the transfer: %v", err)
				}
			case <-time.After(200 * time.Millisecond):
				if c.ended {
					t.Error("call still up after a successful transfer")
				}
				call.Hangup(ctx)
			}
		})
	}
}

func TestTransferBadTarget(t *testing.T) {
	p := newPhone(t, siptest.PhoneConfig{})
	u := newUA(t, sip.Config{Trunk: p.TrunkURI()})
	ctx := ctxT(t, 5*time.Second)
	call, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000"})
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(ctx)
	if _, err := call.Transfer(ctx, "Ext:", nil); !errors.Is(err, sip.ErrBadTarget) {
		t.Errorf("err %v", err)
	}
}
