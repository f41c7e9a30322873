package sip_test

import (
	"errors"
	"github.com/dialflow/dialflow/media"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/internal/sipptest"
	"github.com/dialflow/dialflow/sip"
)

func TestSippAnswerAndRFC4733(t *testing.T) {
	r := sipptest.Start(t, filepath.Join("testdata", "sipp", "uas_dtmf.xml"))
	u := newUA(t, sip.Config{Trunk: "sip:" + r.Addr})
	ctx := ctxT(t, 20*time.Second)
	c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000", RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("dial sipp: %v\n%s", err, r.Out)
	}
	m := c.Media().(*sip.StreamMedia).Stream()
	var got strings.Builder
	for got.Len() < 3 {
		select {
		case d := <-m.Digits():
			if d.Method != media.RFC4733 {
				t.Errorf("digit %c by %s", d.Key, d.Method)
			}
			got.WriteRune(d.Key)
		case <-ctx.Done():
			t.Fatalf("digits so far %q", got.String())
		}
	}
	if got.String() != "12#" {
		t.Errorf("digits %q, want 12#", got.String())
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(t, 10*time.Second); err != nil {
		t.Errorf("sipp: %v\n%s", err, r.Out)
	}
}

func TestSippBusy(t *testing.T) {
	r := sipptest.Start(t, filepath.Join("testdata", "sipp", "uas_486.xml"))
	u := newUA(t, sip.Config{Trunk: "sip:" + r.Addr})
	_, err := u.Dial(ctxT(t, 10*time.Second), sip.DialRequest{To: "+15551230000", RingTimeout: 5 * time.Second})
	if ce := callErr(t, err); ce.SIPStatus() != 486 || ce.Outcome() != sip.OutcomeBusy {
		t.Errorf("err %v", err)
	}
	if err := r.Wait(t, 10*time.Second); err != nil {
		t.Errorf("sipp: %v\n%s", err, r.Out)
	}
}

func TestSippNoAnswerCancel(t *testing.T) {
	r := sipptest.Start(t, filepath.Join("testdata", "sipp", "uas_noanswer.xml"))
	u := newUA(t, sip.Config{Trunk: "sip:" + r.Addr})
	_, err := u.Dial(ctxT(t, 10*time.Second), sip.DialRequest{To: "+15551230000", RingTimeout: 500 * time.Millisecond})
	if ce := callErr(t, err); ce.Outcome() != sip.OutcomeNoAnswer || !errors.Is(err, sip.ErrRingTimeout) {
		t.Errorf("err %v", err)
	}
	if err := r.Wait(t, 10*time.Second); err != nil {
		t.Errorf("sipp (expects CANCEL, 200, 487, ACK): %v\n%s", err, r.Out)
	}
}
