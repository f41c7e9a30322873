package sip

import (
	"github.com/dialflow/dialflow/media/sdp"
	sipmsg "github.com/emiago/sipgo/sip"
)

const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, INFO, UPDATE, REFER"

func (u *UA) register() {
	u.srv.OnBye(u.onBye)
	u.srv.OnNotify(u.onNotify)
	u.srv.OnInfo(u.onInfo)
	u.srv.OnInvite(u.onInvite)
	u.srv.OnUpdate(u.onUpdate)
	u.srv.OnOptions(u.onOptions)
	u.srv.OnAck(func(*sipmsg.Request, sipmsg.ServerTransaction) {}) // ACK of our re-INVITE 200
}

func respond(tx sipmsg.ServerTransaction, req *sipmsg.Request, code int, reason string, body []byte, hdrs ...sipmsg.Header) {
	res := sipmsg.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (u *UA) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := u.match(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	if err := c.dlg.ReadBye(req, tx); err != nil {
		respond(tx, req, 500, "Server Internal Error", nil)
	}
	c.end(ByCallee, ErrRemoteHangup)
}

func (u *UA) onNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := u.match(req)
	if c == nil {
		// Late NOTIFYs (after our BYE) are answered, never dropped.
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	// Hand the progress over before answering: the notifier sends its next
	// NOTIFY only after this 200, so the transfer sees them in order.
	c.notify(req)
	respond(tx, req, 200, "OK", nil)
}

func (u *UA) onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := u.match(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	key, err := ParseInfoDTMF(ct, req.Body())
	switch {
	case err == nil:
		respond(tx, req, 200, "OK", nil)
		c.log.Debug("sip info dtmf", "key", string(key))
		c.media.InjectDigit(key)
	case len(req.Body()) == 0:
		respond(tx, req, 200, "OK", nil) // keepalive INFO
	default:
		c.ua.counters.badInfo.Add(1)
		respond(tx, req, 415, "Unsupported Media Type: "+err.Error(), nil)
	}
}

// onInvite answers a re-INVITE with our current SDP and rejects INVITEs
// outside any dialog: dialflow only places calls.
func (u *UA) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if to := req.To(); to == nil || !to.Params.Has("tag") {
		respond(tx, req, 403, "Forbidden (dialflow does not accept inbound calls)", nil)
		return
	}
	c := u.match(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	u.refresh(c, req, tx)
}

func (u *UA) onUpdate(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := u.match(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	u.refresh(c, req, tx)
}

// refresh handles a target/session refresh: a new SDP offer updates where
// our RTP goes; the answer is our current description.
func (u *UA) refresh(c *Call, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if body := req.Body(); len(body) > 0 {
		d, err := sdp.Parse(body)
		if err == nil {
			var m sdp.Media
			if m, err = sdp.Negotiate(d); err == nil {
				err = c.media.Start(m)
			}
		}
		if err != nil {
			respond(tx, req, 488, "Not Acceptable Here", nil)
			return
		}
	}
	contact := u.contact()
	respond(tx, req, 200, "OK", c.localSDP, sipmsg.NewHeader("Content-Type", "application/sdp"), &contact)
}

func (u *UA) onOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	respond(tx, req, 200, "OK", nil, sipmsg.NewHeader("Allow", allowed), sipmsg.NewHeader("Accept", "application/sdp"))
}
