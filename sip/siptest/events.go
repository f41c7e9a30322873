package siptest

import (
	"context"
	"encoding/json"
	"time"
)

// Event types.
const (
	EventInvite    = "invite"
	EventAuth      = "auth_challenge"
	EventRinging   = "ringing"
	EventRejected  = "rejected"
	EventCancelled = "cancelled"
	EventAnswered  = "answered"
	EventDTMFSent  = "dtmf_sent"
	EventBye       = "bye"
	EventRefer     = "refer"
	EventInfo      = "info"
)

// Event is one thing the phone saw or did, printed as one JSON line.
type Event struct {
	Time   time.Time `json:"time"`
	Type   string    `json:"event"`
	CallID string    `json:"callId,omitempty"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	// Code is the status sent (ringing, rejected) or the transfer result.
	Code int `json:"code,omitempty"`
	// Digit and Method describe a DTMF key sent.
	Digit  string `json:"digit,omitempty"`
	Method string `json:"method,omitempty"`
	// By is "phone" or "remote" for bye.
	By string `json:"by,omitempty"`
	// Target is the Refer-To of a refer.
	Target string `json:"target,omitempty"`
	// Codec is the codec answered with.
	Codec string `json:"codec,omitempty"`
	// Active is the number of concurrent calls after an invite.
	Active int `json:"active,omitempty"`
}

// JSON returns the event as one line of JSON (no newline).
func (e Event) JSON() []byte {
	b, _ := json.Marshal(e)
	return b
}

// Events returns a copy of every event so far.
func (p *Phone) Events() []Event {
	p.evMu.Lock()
	defer p.evMu.Unlock()
	return append([]Event(nil), p.events...)
}

// WaitFor returns the first event (past or future) for which match is true,
// or ctx's error.
func (p *Phone) WaitFor(ctx context.Context, match func(Event) bool) (Event, error) {
	seen := 0
	for {
		p.evMu.Lock()
		for ; seen < len(p.events); seen++ {
			if match(p.events[seen]) {
				e := p.events[seen]
				p.evMu.Unlock()
				return e, nil
			}
		}
		wake := p.evWake
		p.evMu.Unlock()
		select {
		case <-ctx.Done():
			return Event{}, ctx.Err()
		case <-wake:
		}
	}
}

// WaitType waits for an event of type typ on callID ("" for any call).
func (p *Phone) WaitType(ctx context.Context, typ, callID string) (Event, error) {
	return p.WaitFor(ctx, func(e Event) bool { return e.Type == typ && (callID == "" || e.CallID == callID) })
}

func (p *Phone) emit(e Event) {
	e.Time = time.Now().UTC()
	p.evMu.Lock()
	p.events = append(p.events, e)
	close(p.evWake)
	p.evWake = make(chan struct{})
	p.evMu.Unlock()
	if p.cfg.Events != nil {
		p.outMu.Lock()
		_, _ = p.cfg.Events.Write(append(e.JSON(), '\n'))
		p.outMu.Unlock()
	}
	if p.cfg.OnEvent != nil {
		p.cfg.OnEvent(e)
	}
}
