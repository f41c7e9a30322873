package sip

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dialflow/dialflow/media/sdp"
	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Who ended an answered call, as returned by (*Call).HangupBy.
const (
	ByEngine = "engine"
	ByCallee = "callee"
)

// Call is an answered outbound call. Its methods are safe for concurrent use.
type Call struct {
	// ID is the SIP Call-ID.
	ID string

	ua       *UA
	dlg      *sipgo.DialogClientSession
	media    Media
	neg      sdp.Media
	localSDP []byte
	log      *slog.Logger
	answered time.Time

	ackMu  sync.Mutex
	ack    *sipmsg.Request // template for re-ACKs of late 2xx retransmissions
	reAcks int

	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	err  error
	by   string

	referMu sync.Mutex
	referCh chan notifyEvent
}

// Media returns the call's media (a *StreamMedia unless Config.Media says
// otherwise), already started on the negotiated codec.
func (c *Call) Media() Media { return c.media }

// Negotiated returns what the SDP answer chose.
func (c *Call) Negotiated() sdp.Media { return c.neg }

// AnsweredAt is when the 2xx arrived.
func (c *Call) AnsweredAt() time.Time { return c.answered }

// Done is closed when the call has ended, from either side.
func (c *Call) Done() <-chan struct{} { return c.done }

// Err returns why the call ended: nil while it is live or after our own
// Hangup, ErrRemoteHangup, ErrMaxDuration or ErrClosed.
func (c *Call) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// HangupBy returns ByEngine or ByCallee once the call has ended, "" before.
func (c *Call) HangupBy() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.by
}

// InjectDigit feeds a key into the call's DTMF stream as if it came by SIP
// INFO.
func (c *Call) InjectDigit(key byte) { c.media.InjectDigit(key) }

// ReAcks reports how many late 2xx retransmissions were acknowledged again.
func (c *Call) ReAcks() int {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	return c.reAcks
}

// Hangup sends BYE (waiting for its response within ctx) and ends the call.
// It returns nil when the call had already ended.
func (c *Call) Hangup(ctx context.Context) error { return c.hangup(ctx, nil) }

func (c *Call) hangup(ctx context.Context, cause error) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	err := c.dlg.Bye(ctx)
	c.end(ByEngine, cause)
	if err != nil {
		return &CallError{Class: OutcomeFailed, Err: err}
	}
	return nil
}

// end marks the call ended once: records who and why, stops media, forgets
// the dialog.
func (c *Call) end(by string, cause error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.by, c.err = by, cause
		c.mu.Unlock()
		c.ackMu.Lock()
		c.ack = nil
		c.ackMu.Unlock()
		// Done closes before the media stops, so a prompt cut short by the
		// hangup is never mistaken for one that played to its end.
		c.ua.untrack(c)
		close(c.done)
		_ = c.media.Close()
		_ = c.dlg.Close()
		c.log.Info("call ended", "by", by, "cause", errString(cause))
	})
}

func (c *Call) reAck() {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	if c.ack == nil {
		return
	}
	noBuild := func(*sipgo.Client, *sipmsg.Request) error { return nil }
	if err := c.ua.client.WriteRequest(c.ack.Clone(), noBuild); err == nil {
		c.reAcks++
		c.log.Debug("re-acknowledged a late 2xx retransmission")
	}
}

// watch enforces the maximum duration.
func (c *Call) watch(max time.Duration) {
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-c.done:
	case <-c.ua.ctx.Done():
	case <-t.C:
		ctx, cancel := context.WithTimeout(c.ua.ctx, 5*time.Second)
		defer cancel()
		c.log.Info("maximum call duration reached")
		_ = c.hangup(ctx, ErrMaxDuration)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
