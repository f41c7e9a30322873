package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/dialflow/dialflow/media/sdp"
	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// DialRequest describes one outbound call.
type DialRequest struct {
	// To is an E.164 number, "Ext:N" or a sip:/sips: URI.
	To string
	// Caller is the caller id put in From (default "dialflow").
	Caller string
	// RingTimeout bounds the wait for an answer; CANCEL is sent when it
	// expires (0: wait for a final response). A CANCEL can only go after a
	// provisional response, so against a silent trunk the attempt lasts
	// until Timer B (64*T1).
	RingTimeout time.Duration
	// MaxDuration hangs the call up (BYE) that long after the answer; 0
	// means no limit.
	MaxDuration time.Duration
	// OnProgress, when set, sees every provisional response (180, 183, ...)
	// with earlyMedia true when it carried SDP. Called from Dial's goroutine.
	OnProgress func(code int, reason string, earlyMedia bool)
}

// errTooManyResponses is the text sipgo's WaitAnswer returns after 11
// responses (it has no sentinel; notes §7.1-b).
const errTooManyResponses = "more than 10 responses received"

// Dial places a call and returns once it is answered (media started, ACK
// sent) or has failed. Failures are *CallError values; a cancelled ctx
// returns ctx's error after CANCEL.
func (u *UA) Dial(ctx context.Context, r DialRequest) (*Call, error) {
	u.mu.Lock()
	closed := u.closed
	u.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	target, err := u.Target(r.To)
	if err != nil {
		return nil, &CallError{Class: OutcomeInvalidNumber, Err: err}
	}
	med, err := u.openMed(u.addr.Addr(), u.cfg.RTPPorts)
	if err != nil {
		return nil, &CallError{Class: OutcomeFailed, Err: fmt.Errorf("open media: %w", err)}
	}
	offer := sdp.Offer(sdp.Params{Addr: u.adv, Port: med.LocalPort(), SessionID: rand.Uint64() >> 1, Version: 1})
	caller := r.Caller
	if caller == "" {
		caller = "dialflow"
	}
	from := &sipmsg.FromHeader{
		Address: sipmsg.Uri{Scheme: "sip", User: caller, Host: u.adv.String()},
		Params:  sipmsg.NewParams(),
	}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	contact := u.contact()
	dlg, err := u.dua.Invite(ctx, target, offer,
		from, &contact,
		sipmsg.NewHeader("Content-Type", "application/sdp"),
		sipmsg.NewHeader("User-Agent", u.cfg.UserAgent),
		sipmsg.NewHeader("Allow", allowed),
	)
	if err != nil {
		med.Close()
		return nil, &CallError{Class: OutcomeUnreachable, Err: errors.Join(ErrUnreachable, err)}
	}
	callID := dlg.InviteRequest.CallID().Value()
	log := u.log.With("call_id", callID)
	log.Debug("invite sent", "to", r.To)

	ringCtx, cancel := ctx, context.CancelFunc(func() {})
	if r.RingTimeout > 0 {
		ringCtx, cancel = context.WithTimeout(ctx, r.RingTimeout)
	}
	defer cancel()
	early := false
	opts := sipgo.AnswerOptions{
		Username: u.cfg.Username,
		Password: u.cfg.Password,
		OnResponse: func(res *sipmsg.Response) error {
			if !res.IsProvisional() || res.StatusCode == 100 {
				return nil
			}
			hasSDP := len(res.Body()) > 0
			if hasSDP && !early {
				if m, err := negotiate(res.Body()); err == nil && med.Start(m) == nil {
					early = true
				}
			}
			if r.OnProgress != nil {
				r.OnProgress(res.StatusCode, res.Reason, hasSDP)
			}
			return nil
		},
	}
	for {
		err = dlg.WaitAnswer(ringCtx, opts)
		// sipgo gives up after 11 responses and leaves the INVITE
		// transaction alive: keep reading it while the ring time lasts.
		if err != nil && err.Error() == errTooManyResponses && ringCtx.Err() == nil {
			continue
		}
		break
	}
	if err != nil {
		return nil, u.dialFailed(ctx, ringCtx, dlg, med, err, log)
	}
	return u.answered(ctx, dlg, med, offer, callID, r, log)
}

// dialFailed turns a WaitAnswer error into a *CallError, handling the 2xx
// that raced our CANCEL (ACK then BYE; notes §7.1-c).
func (u *UA) dialFailed(ctx, ringCtx context.Context, dlg *sipgo.DialogClientSession, med Media, err error, log interface {
	Info(string, ...any)
}) error {
	defer med.Close()
	noResponse := dlg.InviteResponse == nil
	if errors.Is(err, sipmsg.ErrTransactionTimeout) || errors.Is(err, sipmsg.ErrTransactionTransport) {
		// Checked first: a CANCEL can only follow a provisional, so against a
		// silent trunk the ring timeout ends in Timer B.
		if noResponse || ringCtx.Err() == nil {
			return &CallError{Class: OutcomeUnreachable, Err: errors.Join(ErrUnreachable, err)}
		}
	}
	if ringCtx.Err() != nil {
		if res := dlg.InviteResponse; res != nil && res.IsSuccess() {
			log.Info("2xx raced the cancel: acknowledging and hanging up")
			bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if dlg.Ack(bctx) == nil {
				_ = dlg.Bye(bctx)
			}
			cancel()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("dial: %w", ctx.Err())
		}
		return &CallError{Code: 487, Reason: "Request Terminated", Class: OutcomeNoAnswer, Err: ErrRingTimeout}
	}
	var dr *sipgo.ErrDialogResponse
	if errors.As(err, &dr) {
		res := dr.Res
		ce := &CallError{Code: res.StatusCode, Reason: res.Reason}
		ra, has := retryAfter(res)
		ce.Retry = ra
		ce.Class = classify(res.StatusCode, has)
		if res.StatusCode == 401 || res.StatusCode == 407 {
			ce.Class, ce.Err = OutcomeFailed, ErrAuthFailed
		}
		log.Info("call refused", "sip_status", res.StatusCode, "outcome", ce.Class)
		return ce
	}
	return &CallError{Class: OutcomeFailed, Err: err}
}

func (u *UA) answered(ctx context.Context, dlg *sipgo.DialogClientSession, med Media, offer []byte, callID string, r DialRequest, log interface {
	Info(string, ...any)
	Debug(string, ...any)
}) (*Call, error) {
	c := &Call{ID: callID, ua: u, dlg: dlg, media: med, localSDP: offer, answered: time.Now(),
		done: make(chan struct{}), log: u.log.With("call_id", callID)}
	ack := newAck(dlg.InviteRequest, dlg.InviteResponse)
	if err := dlg.WriteAck(ctx, ack); err != nil {
		med.Close()
		return nil, &CallError{Code: 200, Reason: "OK", Class: OutcomeFailed, Err: fmt.Errorf("ack: %w", err)}
	}
	c.ack = ack.Clone()
	m, err := negotiate(dlg.InviteResponse.Body())
	if err == nil {
		c.neg = m
		err = med.Start(m)
	}
	if err != nil {
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = dlg.Bye(bctx)
		cancel()
		med.Close()
		return nil, &CallError{Code: 200, Reason: "OK", Class: OutcomeFailed, Err: errors.Join(ErrBadAnswer, err)}
	}
	if err := u.track(c); err != nil {
		bctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = dlg.Bye(bctx)
		cancel()
		med.Close()
		return nil, err
	}
	log.Info("call answered", "codec", m.CodecName, "dtmf_pt", m.DTMF)
	if r.MaxDuration > 0 {
		u.wg.Add(1)
		go func() { defer u.wg.Done(); c.watch(r.MaxDuration) }()
	}
	return c, nil
}

func negotiate(body []byte) (sdp.Media, error) {
	d, err := sdp.Parse(body)
	if err != nil {
		return sdp.Media{}, err
	}
	return sdp.Negotiate(d)
}

// retryAfter reads Retry-After seconds ("120" or "120;duration=60").
func retryAfter(res *sipmsg.Response) (time.Duration, bool) {
	h := res.GetHeader("Retry-After")
	if h == nil {
		return 0, false
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, true
	}
	return time.Duration(n) * time.Second, true
}

// newAck builds the ACK for a 2xx (RFC 3261 §13.2.2.4): Request-URI from the
// Contact, the INVITE's From, Call-ID and CSeq number, the 2xx's To.
func newAck(inv *sipmsg.Request, res *sipmsg.Response) *sipmsg.Request {
	ruri := inv.Recipient
	if c := res.Contact(); c != nil {
		ruri = c.Address
	}
	ack := sipmsg.NewRequest(sipmsg.ACK, *ruri.Clone())
	ack.AppendHeader(sipmsg.HeaderClone(inv.From()))
	ack.AppendHeader(sipmsg.HeaderClone(res.To()))
	ack.AppendHeader(sipmsg.HeaderClone(inv.CallID()))
	ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sipmsg.ACK})
	mf := sipmsg.MaxForwardsHeader(70)
	ack.AppendHeader(&mf)
	if c := inv.Contact(); c != nil {
		ack.AppendHeader(sipmsg.HeaderClone(c))
	}
	ack.SetBody(nil)
	ack.SetTransport(inv.Transport())
	ack.SetSource(inv.Source())
	ack.Laddr = inv.Laddr
	return ack
}
