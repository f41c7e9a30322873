package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/session"
	"github.com/dialflow/dialflow/sip"
)

// sessionCall adapts an answered sip.Call and its media stream to
// session.Call. It owns one goroutine that relays digits.
type sessionCall struct {
	call   *sip.Call
	ua     *sip.UA // places the second leg of a bridged transfer
	caller string
	media  *media.Stream
	prog   dialer.Progress
	phone  string
	id     string // the dialer's call id, used in monitor data
	keys   chan session.Key
	stop   chan struct{}
	wg     sync.WaitGroup
}

var _ session.Call = (*sessionCall)(nil)

func newSessionCall(call *sip.Call, m *media.Stream, prog dialer.Progress, id, phone string) *sessionCall {
	sc := &sessionCall{call: call, media: m, prog: prog, phone: phone, id: id,
		keys: make(chan session.Key, 64), stop: make(chan struct{})}
	sc.wg.Add(1)
	go sc.relay()
	return sc
}

// relay copies digits into the session's buffered key channel; a full
// buffer drops the key (a caller pressing 64 keys nobody reads).
func (sc *sessionCall) relay() {
	defer sc.wg.Done()
	for {
		select {
		case d := <-sc.media.Digits():
			select {
			case sc.keys <- session.Key{Digit: d.Key, Method: d.Method.String(), At: d.At}:
			default:
			}
		case <-sc.stop:
			return
		case <-sc.call.Done():
			return
		}
	}
}

func (sc *sessionCall) close() {
	close(sc.stop)
	sc.wg.Wait()
}

// Play plays pcm; it returns flow.ErrHangup as soon as the call ends, even
// if the media stopped before it could finish the prompt.
func (sc *sessionCall) Play(ctx context.Context, pcm []int16) error {
	select {
	case <-sc.call.Done():
		return flow.ErrHangup
	default:
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- sc.media.Play(pctx, pcm) }()
	select {
	case err := <-res:
		return err
	case <-sc.call.Done():
		cancel()
		<-res
		return flow.ErrHangup
	}
}

func (sc *sessionCall) Keys() <-chan session.Key         { return sc.keys }
func (sc *sessionCall) Done() <-chan struct{}            { return sc.call.Done() }
func (sc *sessionCall) Hangup(ctx context.Context) error { return sc.call.Hangup(ctx) }

// Transfer moves the call: a blind REFER (mode refer), a second leg bridged
// through the engine (mode bridge), or REFER first and a bridge when the
// far end refuses the REFER (mode auto).
func (sc *sessionCall) Transfer(ctx context.Context, t flow.Transfer) (string, error) {
	dest := sc.phone + " " + strings.TrimPrefix(t.Destination, "Ext:")
	sc.prog.Leg(dialer.Monitor{UUID: sc.id + "-transfer", Type: "transfer", Dest: dest})
	if t.Mode == flow.ModeBridge {
		return sc.bridge(ctx, t.Destination)
	}
	st, err := sc.call.Transfer(ctx, t.Destination, nil)
	if t.Mode == flow.ModeAuto && errors.Is(err, sip.ErrTransferRefused) {
		return sc.bridge(ctx, t.Destination)
	}
	return st, err
}
