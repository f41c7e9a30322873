package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Transfer status words (SPEC transfer_status).
const (
	TransferTrying   = "trying"
	TransferRinging  = "ringing"
	TransferAnswered = "answered"
	TransferBusy     = "busy"
	TransferNoAnswer = "noAnswer"
	TransferDeclined = "declined"
	TransferFailed   = "failed"
)

type notifyEvent struct {
	code       int
	terminated bool
}

// ParseSipfrag reads the status code of a message/sipfrag body
// ("SIP/2.0 180 Ringing").
func ParseSipfrag(body []byte) (int, error) {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.Fields(strings.TrimSpace(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0, fmt.Errorf("sipfrag %q has no status line", clip(line))
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, fmt.Errorf("sipfrag status %q is not a sip status", clip(f[1]))
	}
	return code, nil
}

// TransferStatus maps a sipfrag status code to a transfer status word.
func TransferStatus(code int) string {
	switch {
	case code < 180:
		return TransferTrying
	case code < 200:
		return TransferRinging
	case code < 300:
		return TransferAnswered
	case code == 486 || code == 600:
		return TransferBusy
	case code == 408 || code == 480 || code == 487:
		return TransferNoAnswer
	case code == 603:
		return TransferDeclined
	}
	return TransferFailed
}

func (c *Call) notify(req *sipmsg.Request) {
	ev := ""
	if h := req.GetHeader("Event"); h != nil {
		ev = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	if !strings.HasPrefix(ev, "refer") {
		return
	}
	n := notifyEvent{}
	if h := req.GetHeader("Subscription-State"); h != nil {
		n.terminated = strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "terminated")
	}
	code, err := ParseSipfrag(req.Body())
	if err != nil && !n.terminated {
		c.log.Debug("notify without a usable sipfrag", "err", err)
		return
	}
	n.code = code
	c.referMu.Lock()
	ch := c.referCh
	c.referMu.Unlock()
	if ch != nil {
		select {
		case ch <- n:
		default:
		}
	}
}

// Transfer blindly transfers the call to target (Ext:N, E.164 or a SIP URI)
// with REFER and follows the NOTIFY progress. onProgress, when set, sees each
// intermediate status. It returns the final status; on TransferAnswered the
// call is hung up (BYE). A refused REFER returns TransferFailed and a
// *CallError wrapping ErrTransferRefused with the status; no final NOTIFY
// within Config.TransferTimeout returns ErrTransferTimeout.
func (c *Call) Transfer(ctx context.Context, target string, onProgress func(status string)) (string, error) {
	select {
	case <-c.done:
		return TransferFailed, ErrCallEnded
	default:
	}
	to, err := c.ua.Target(target)
	if err != nil {
		return TransferFailed, err
	}
	ch := make(chan notifyEvent, 16)
	// Register before sending: the first NOTIFY may beat the 202.
	c.referMu.Lock()
	c.referCh = ch
	c.referMu.Unlock()
	defer func() {
		c.referMu.Lock()
		c.referCh = nil
		c.referMu.Unlock()
	}()
	ruri := c.dlg.InviteRequest.Recipient
	if ct := c.dlg.InviteResponse.Contact(); ct != nil {
		ruri = ct.Address
	}
	req := sipmsg.NewRequest(sipmsg.REFER, *ruri.Clone())
	req.AppendHeader(sipmsg.NewHeader("Refer-To", "<"+to.String()+">"))
	contact := c.ua.contact()
	req.AppendHeader(sipmsg.NewHeader("Referred-By", "<"+contact.Address.String()+">"))
	c.log.Debug("sending refer", "target", to.String())
	res, err := c.dlg.Do(ctx, req)
	if err != nil {
		return TransferFailed, &CallError{Class: OutcomeFailed, Err: fmt.Errorf("refer: %w", err)}
	}
	if !res.IsSuccess() {
		return TransferFailed, &CallError{Code: res.StatusCode, Reason: res.Reason, Class: OutcomeFailed, Err: ErrTransferRefused}
	}
	timer := time.NewTimer(c.ua.cfg.TransferTimeout)
	defer timer.Stop()
	status := TransferTrying
	for {
		select {
		case <-ctx.Done():
			return status, ctx.Err()
		case <-c.done:
			return status, ErrCallEnded
		case <-timer.C:
			return TransferFailed, ErrTransferTimeout
		case n := <-ch:
			if n.code != 0 {
				status = TransferStatus(n.code)
			}
			final := n.code >= 200 || n.terminated
			if !final {
				if onProgress != nil {
					onProgress(status)
				}
				continue
			}
			if n.code == 0 || (n.code < 200 && n.terminated) {
				status = TransferFailed
			}
			if status == TransferAnswered {
				bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				err := c.Hangup(bctx)
				cancel()
				if err != nil && !errors.Is(err, ErrCallEnded) {
					c.log.Info("bye after transfer failed", "err", err)
				}
			}
			return status, nil
		}
	}
}
