package main

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/sip/siptest"
)

// demoTrunk is the simulated phone that --demo uses as the trunk: it
// answers every number after a short ring and presses the digits given by
// the destination's "demoDigits" property (e.g. "1" or "1,5": one group
// per gather, a few seconds apart).
type demoTrunk struct {
	phone *siptest.Phone
	mu    sync.Mutex
	next  map[string][]string // dialed number → queued digit scripts
}

// demoDigitsProperty is the destination property read in demo mode.
const demoDigitsProperty = "demoDigits"

func newDemoTrunk(log *slog.Logger) (*demoTrunk, error) {
	d := &demoTrunk{next: map[string][]string{}}
	p, err := siptest.NewPhone(siptest.PhoneConfig{Listen: "127.0.0.1:0", Decide: d.decide, Logger: log})
	if err != nil {
		return nil, err
	}
	d.phone = p
	return d, nil
}

func number(s string) string { return strings.TrimPrefix(strings.TrimPrefix(s, "sip:"), "+") }

// expect records the digits the next call to c.Phone presses.
func (d *demoTrunk) expect(c dialer.Call) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := number(c.Phone)
	d.next[n] = append(d.next[n], c.Properties[demoDigitsProperty])
}

func (d *demoTrunk) decide(inv siptest.InviteInfo) siptest.CallScript {
	d.mu.Lock()
	n := number(inv.User)
	var digits string
	if q := d.next[n]; len(q) > 0 {
		digits, d.next[n] = q[0], q[1:]
		if len(d.next[n]) == 0 {
			delete(d.next, n)
		}
	}
	d.mu.Unlock()
	s := siptest.CallScript{AnswerAfter: time.Second, HangupAfter: 5 * time.Minute}
	// One group per gather: the first after the opening prompts, then
	// every 4 seconds.
	at := 4 * time.Second
	for _, g := range strings.Split(digits, ",") {
		if g = strings.TrimSpace(g); g != "" {
			s.DTMF = append(s.DTMF, siptest.DTMFStep{At: at, Keys: g})
			at += 4 * time.Second
		}
	}
	return s
}

func (d *demoTrunk) close() error { return d.phone.Close() }
