package sip_test

import (
	"context"
	"testing"

	"github.com/dialflow/dialflow/sip"
	"github.com/dialflow/dialflow/sip/siptest"
)

// BenchmarkDialAnswerHangup measures one whole call cycle (INVITE, 180,
// 200, ACK, RTP start, BYE) against the simulated phone over loopback.
func BenchmarkDialAnswerHangup(b *testing.B) {
	p, err := siptest.NewPhone(siptest.PhoneConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	u, err := sip.NewUA(sip.Config{Listen: "127.0.0.1:0", Trunk: p.TrunkURI()})
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000"})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Hangup(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
