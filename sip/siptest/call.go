package siptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/media/sdp"
	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

type referJob struct {
	cseq uint32
	code int
}

type phoneCall struct {
	id       string
	dlg      *sipgo.DialogServerSession
	script   CallScript
	localSDP []byte
	byRemote atomic.Bool
	refers   chan referJob
	// ended marks the call as no longer active (idempotent).
	ended func()
}

func contentTypeSDP() sipmsg.Header { return sipmsg.NewHeader("Content-Type", "application/sdp") }

// runCall plays one call's script; it returns when the call is over.
func (p *Phone) runCall(req *sipmsg.Request, tx sipmsg.ServerTransaction, info InviteInfo, s CallScript, ended func()) {
	dlg, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		respond(tx, req, 400, "Bad Request")
		return
	}
	defer dlg.Close()
	var m sdp.Media
	d, err := sdp.Parse(req.Body())
	if err == nil {
		m, err = sdp.Negotiate(d)
	}
	if err != nil {
		p.log.Info("phone: unusable offer", "err", err)
		_ = dlg.Respond(488, "Not Acceptable Here", nil)
		p.emit(Event{Type: EventRejected, CallID: info.CallID, Code: 488})
		return
	}
	conn, err := media.ListenRTP(p.addr.Addr().String(), media.PortRange{})
	if err != nil {
		_ = dlg.Respond(500, "Server Internal Error", nil)
		return
	}
	connOwned := true
	defer func() {
		if connOwned {
			conn.Close()
		}
	}()
	c := &phoneCall{id: info.CallID, dlg: dlg, script: s, refers: make(chan referJob, 4), ended: ended,
		localSDP: sdp.Answer(sdp.Params{Addr: p.addr.Addr(), Port: conn.LocalAddr().(*net.UDPAddr).Port}, m)}
	p.mu.Lock()
	p.calls[dlg.ID] = c
	p.mu.Unlock()
	defer func() { p.mu.Lock(); delete(p.calls, dlg.ID); p.mu.Unlock() }()

	if s.EarlyMedia {
		_ = dlg.Respond(183, "Session Progress", c.localSDP, contentTypeSDP())
		p.emit(Event{Type: EventRinging, CallID: c.id, Code: 183})
	}
	n := max(s.Provisional, 1)
	for i := 0; i < n; i++ {
		if err := dlg.Respond(180, "Ringing", nil); err != nil {
			break
		}
	}
	p.emit(Event{Type: EventRinging, CallID: c.id, Code: 180})

	ring := s.AnswerAfter
	if s.NoAnswer {
		ring = 24 * time.Hour
	}
	if !p.sleep(dlg, ring) {
		ended()
		if errors.Is(context.Cause(dlg.Context()), sipmsg.ErrTransactionCanceled) || p.ctx.Err() == nil {
			p.emit(Event{Type: EventCancelled, CallID: c.id})
		} else {
			_ = dlg.Respond(480, "Temporarily Unavailable", nil)
		}
		return
	}
	if code := rejectCode(s); code != 0 {
		var hdrs []sipmsg.Header
		if s.RetryAfter > 0 {
			hdrs = append(hdrs, sipmsg.NewHeader("Retry-After", strconv.Itoa(s.RetryAfter)))
		}
		ended()
		_ = dlg.Respond(code, reasonFor(code), nil, hdrs...)
		p.emit(Event{Type: EventRejected, CallID: c.id, Code: code})
		return
	}

	var rec *recorder
	if s.Record != "" {
		if rec, err = newRecorder(s.Record); err != nil {
			p.log.Info("phone: cannot record", "err", err)
		}
	}
	codec, err := media.CodecForPayloadType(m.Codec)
	if err != nil {
		_ = dlg.Respond(488, "Not Acceptable Here", nil)
		return
	}
	// The phone never reads digits: no in-band detector on its side.
	cfg := media.StreamConfig{Remote: m.Remote, Codec: codec, Logger: p.log, DisableInBand: true}
	if m.DTMF > 0 && m.DTMF < 128 {
		cfg.EventPT = uint8(m.DTMF)
	}
	if rec != nil {
		cfg.OnAudio = rec.write
		defer rec.close()
	}
	sess, err := media.NewStream(conn, cfg)
	if err != nil {
		_ = dlg.Respond(500, "Server Internal Error", nil)
		return
	}
	connOwned = false
	defer sess.Close()
	if err := sess.Start(); err != nil {
		_ = dlg.Respond(500, "Server Internal Error", nil)
		return
	}
	if err := dlg.RespondSDP(c.localSDP); err != nil {
		p.log.Info("phone: answer not acknowledged", "err", err)
		p.emit(Event{Type: EventCancelled, CallID: c.id})
		return
	}
	p.emit(Event{Type: EventAnswered, CallID: c.id, Codec: m.CodecName})
	p.talk(c, sess, s)
}

// sleep waits d unless the dialog or the phone ends first.
func (p *Phone) sleep(dlg *sipgo.DialogServerSession, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-dlg.Context().Done():
		return false
	case <-p.ctx.Done():
		return false
	}
}

func rejectCode(s CallScript) int {
	switch {
	case s.RejectCode != 0:
		return s.RejectCode
	case s.Reject == RejectBusy:
		return 486
	case s.Reject == RejectDecline:
		return 603
	}
	return 0
}

func reasonFor(code int) string {
	switch code {
	case 486:
		return "Busy Here"
	case 603:
		return "Decline"
	case 600:
		return "Busy Everywhere"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 503:
		return "Service Unavailable"
	}
	return "Rejected"
}

type action struct {
	at  time.Duration
	key byte
	bye bool
}

// talk runs the answered call: DTMF script, hang-up timer, REFER progress.
func (p *Phone) talk(c *phoneCall, sess *media.Stream, s CallScript) {
	var plan []action
	for _, st := range s.DTMF {
		for i := 0; i < len(st.Keys); i++ {
			plan = append(plan, action{at: st.At, key: st.Keys[i]})
		}
	}
	if s.HangupAfter > 0 {
		plan = append(plan, action{at: s.HangupAfter, bye: true})
	}
	sortPlan(plan)
	start := time.Now()
	method := s.DTMFMethod
	if method == "" {
		method = MethodRFC4733
	}
	dur := s.DTMFDuration
	if dur <= 0 {
		dur = 100 * time.Millisecond
	}
	ctx := c.dlg.Context()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var next <-chan time.Time
		if len(plan) > 0 {
			timer.Reset(time.Until(start.Add(plan[0].at)))
			next = timer.C
		}
		select {
		case <-ctx.Done():
			if c.byRemote.Load() {
				p.emit(Event{Type: EventBye, CallID: c.id, By: "remote"})
			}
			return
		case <-p.ctx.Done():
			p.hangup(c)
			return
		case j := <-c.refers:
			p.notifyRefer(c, j)
		case <-next:
			a := plan[0]
			plan = plan[1:]
			if a.bye {
				p.hangup(c)
				return
			}
			if err := p.sendKey(c, sess, a.key, method, dur); err != nil {
				p.log.Info("phone: dtmf not sent", "err", err)
				continue
			}
			p.emit(Event{Type: EventDTMFSent, CallID: c.id, Digit: string(a.key), Method: method})
		}
	}
}

func sortPlan(a []action) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].at < a[j-1].at; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (p *Phone) hangup(c *phoneCall) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.ended()
	if err := c.dlg.Bye(ctx); err != nil {
		p.log.Info("phone: bye failed", "err", err)
	}
	p.emit(Event{Type: EventBye, CallID: c.id, By: "phone"})
}

func (p *Phone) sendKey(c *phoneCall, sess *media.Stream, key byte, method string, dur time.Duration) error {
	ctx := c.dlg.Context()
	if method == MethodInfo {
		req := sipmsg.NewRequest(sipmsg.INFO, c.dlg.InviteRequest.Contact().Address)
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte(fmt.Sprintf("Signal=%c\r\nDuration=%d\r\n", key, dur.Milliseconds())))
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		res, err := c.dlg.Do(rctx, req)
		if err != nil {
			return err
		}
		if !res.IsSuccess() {
			return fmt.Errorf("info answered %d", res.StatusCode)
		}
		return nil
	}
	if method == MethodInband {
		return sess.SendDTMFInBand(ctx, rune(key), dur)
	}
	return sess.SendDTMF(ctx, rune(key), dur)
}

// notifyRefer reports transfer progress: 100 Trying, 180 Ringing, then the
// scripted final status with Subscription-State terminated.
func (p *Phone) notifyRefer(c *phoneCall, j referJob) {
	codes := []int{100}
	if j.code >= 200 {
		codes = append(codes, 180, j.code)
	}
	for _, code := range codes {
		req := sipmsg.NewRequest(sipmsg.NOTIFY, c.dlg.InviteRequest.Contact().Address)
		req.AppendHeader(sipmsg.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(j.cseq), 10)))
		state := "active;expires=60"
		if code >= 200 {
			state = "terminated;reason=noresource"
		}
		req.AppendHeader(sipmsg.NewHeader("Subscription-State", state))
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
		req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, fragReason(code))))
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		_, err := c.dlg.Do(ctx, req)
		cancel()
		if err != nil {
			p.log.Info("phone: notify failed", "err", err)
			return
		}
	}
}

func fragReason(code int) string {
	switch code {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 200:
		return "OK"
	}
	return reasonFor(code)
}
