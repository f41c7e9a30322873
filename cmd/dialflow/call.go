package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/sip"
)

// callOptions are the flags of `dialflow call`.
type callOptions struct {
	to, from, flowFile, record, trunk, user, password string
	sipListen, rtpPorts, publicIP, ttsName            string
	ringTimeout                                       time.Duration
	props                                             stringList
}

// runCall is `dialflow call`: one call without the HTTP server. Progress
// goes to stderr, the final status (GET /status's details[0]) to stdout;
// the exit code is 0 only when the call was answered and its flow completed.
func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o callOptions
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.to, "to", "", "number (E.164) or sip: URI to call (required)")
	fs.StringVar(&o.flowFile, "flow", "", "flow or request file (required)")
	fs.StringVar(&o.from, "from", "", "caller id")
	fs.Var(&o.props, "prop", "placeholder property key=value (repeatable)")
	fs.StringVar(&o.record, "record", "", "record the call to this stereo WAV file")
	fs.DurationVar(&o.ringTimeout, "ring-timeout", 0, "ring timeout (default 30s)")
	fs.StringVar(&o.trunk, "trunk", "", "SIP trunk URI (required unless --to is a sip: URI)")
	fs.StringVar(&o.user, "trunk-user", "", "digest user")
	fs.StringVar(&o.password, "trunk-password", "", "digest password")
	fs.StringVar(&o.sipListen, "sip-listen", "127.0.0.1:0", "SIP listen address")
	fs.StringVar(&o.rtpPorts, "rtp-ports", "0", "RTP port range MIN-MAX (0 = any)")
	fs.StringVar(&o.publicIP, "public-ip", "", "address for SDP and Contact behind NAT")
	fs.StringVar(&o.ttsName, "tts", "espeak", "text-to-speech engine: espeak or tones")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if o.to == "" || o.flowFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: dialflow call --to NUMBER --flow FILE [--from C] [--prop k=v]... [--record out.wav] [--ring-timeout 30s] [--trunk URI --trunk-user U --trunk-password P]")
		return errUsage
	}
	c, err := o.prepare()
	if err != nil {
		return err
	}
	eng, err := newEngine(o.ttsName)
	if err != nil {
		return err
	}
	ports := sip.PortRange{}
	if o.rtpPorts != "0" {
		if ports, err = sip.ParsePortRange(o.rtpPorts); err != nil {
			return err
		}
	}
	pacer := media.NewPacer(media.PacerConfig{})
	pacer.Start()
	defer pacer.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sc := sip.Config{Listen: o.sipListen, Trunk: o.trunk, Username: o.user, Password: o.password, RTPPorts: ports,
		Media: sip.StreamMediaOpener(pacer, log), Logger: log}
	if o.publicIP != "" {
		if sc.PublicIP, err = netip.ParseAddr(o.publicIP); err != nil {
			return fmt.Errorf("--public-ip: %w", err)
		}
	}
	ua, err := sip.NewUA(sc)
	if err != nil {
		return err
	}
	defer ua.Close()
	pr := &cliProgress{w: stderr, d: dialer.Detail{RequestID: "call", Caller: c.Caller, Destination: c.Phone,
		CallState: dialer.StateDialing, Attempts: 1, CallFlowSteps: []flow.StepResult{}}}
	var ended string
	placer := &callPlacer{ua: ua, tts: eng, log: log, ran: func(r flow.Result) { ended = r.Ended }}
	now := time.Now()
	pr.d.DialedAt = &now
	pr.d.MonitorData = []dialer.Monitor{{UUID: c.ID, Type: "call", Dest: c.Phone}}
	fmt.Fprintf(stderr, "dialing %s\n", c.Phone)
	callCtx, cancel := context.WithTimeout(ctx, c.MaxDuration+c.RingTimeout+10*time.Second)
	defer cancel()
	res, perr := placer.Place(callCtx, c, pr)
	out := dialer.Classify(pr.answered(), res, perr, context.Cause(callCtx))
	end := time.Now()
	d := pr.detail()
	d.EndedAt, d.CallState, d.CallStatus = &end, dialer.StateEnded, out.CallStatus
	d.SIPCode, d.HangupCause, d.HangupBy = out.SIPCode, out.HangupCause, out.HangupBy
	d.DurationSec = int(end.Sub(now).Seconds())
	if d.AnsweredAt != nil {
		d.BillSec = int(end.Sub(*d.AnsweredAt).Seconds())
	}
	if res.Recorded {
		d.RecordingURL = c.RecordingPath
	}
	ok := d.AnsweredAt != nil && (ended == flow.EndCompleted || ended == flow.EndHangupStep || ended == flow.EndTransferred)
	d.Status = dialer.DestFailed
	if d.AnsweredAt != nil {
		d.Status = dialer.DestCompleted
	}
	fmt.Fprintf(stderr, "ended: %s (%s)\n", d.CallStatus, d.HangupCause)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	if !ok {
		return exitError{code: 1}
	}
	return nil
}

// prepare reads the flow file and builds the one call to place.
func (o *callOptions) prepare() (dialer.Call, error) {
	data, err := os.ReadFile(o.flowFile)
	if err != nil {
		return dialer.Call{}, err
	}
	c := dialer.Call{ID: fmt.Sprintf("call-%d", time.Now().UnixNano()), RequestID: "call", Attempt: 1,
		RingTimeout: flow.DefaultRingTimeout, MaxDuration: flow.DefaultMaxCallDuration}
	dest := flow.Destination{Phone: o.to, Caller: o.from, Properties: map[string]string{}}
	var f *flow.Flow
	if flow.IsRequestDocument(data) {
		req, err := flow.ParseRequest(data)
		if err != nil {
			return c, err
		}
		f = &req.CallFlow
		if len(req.Destinations) > 0 {
			for k, v := range req.Destinations[0].Properties {
				dest.Properties[k] = v
			}
			if dest.Caller == "" {
				dest.Caller = req.Destinations[0].Caller
			}
		}
		if req.RingTimeout > 0 {
			c.RingTimeout = req.RingTimeout
		}
		if req.MaxCallDuration > 0 {
			c.MaxDuration = req.MaxCallDuration
		}
		if req.EnableCallRecording && o.record == "" {
			o.record = "call-" + time.Now().Format("20060102-150405") + ".wav"
		}
	} else if f, err = flow.ParseFlow(data); err != nil {
		return c, err
	}
	if probs := flow.ValidateFlow(f, flow.ValidateOptions{}); len(probs) > 0 {
		return c, probs
	}
	for _, kv := range o.props {
		k, v, found := strings.Cut(kv, "=")
		if !found || k == "" {
			return c, fmt.Errorf("--prop %q: want key=value", kv)
		}
		dest.Properties[k] = v
	}
	if !flow.IsE164(o.to) && !flow.IsSIPURI(o.to) {
		return c, fmt.Errorf("--to %q: not an E.164 number or a sip: URI", o.to)
	}
	if o.trunk == "" && !flow.IsSIPURI(o.to) {
		return c, errors.New("--trunk is required to call a number")
	}
	if o.ringTimeout > 0 {
		c.RingTimeout = o.ringTimeout
	}
	rendered, err := flow.RenderFlow(f, dest)
	if err != nil {
		return c, err
	}
	c.Flow, c.Phone, c.Caller, c.Properties, c.RecordingPath = rendered, dest.Phone, dest.Caller, dest.Properties, o.record
	return c, nil
}

// cliProgress prints a call's progress and collects its status.
type cliProgress struct {
	w io.Writer
	d dialer.Detail
}

func (p *cliProgress) answered() bool { return p.d.AnsweredAt != nil }

func (p *cliProgress) detail() dialer.Detail { return p.d }

// Ringing reports a provisional response.
func (p *cliProgress) Ringing() {
	p.d.CallState = dialer.StateRinging
	fmt.Fprintln(p.w, "ringing")
}

// Answered reports the answer.
func (p *cliProgress) Answered() {
	now := time.Now()
	p.d.AnsweredAt, p.d.CallState = &now, dialer.StateOngoing
	fmt.Fprintln(p.w, "answered")
}

// Step prints one step result.
func (p *cliProgress) Step(r flow.StepResult) {
	p.d.CallFlowSteps = append(p.d.CallFlowSteps, r)
	line := fmt.Sprintf("step %s %s: %s", r.StepPath, r.StepName, r.Info.Status)
	if r.Info.UserPressedDigits != "" {
		line += " digits=" + r.Info.UserPressedDigits
	}
	if r.Info.TransferStatus != "" {
		line += " transfer=" + r.Info.TransferStatus
	}
	fmt.Fprintln(p.w, line)
}

// Leg records another call leg.
func (p *cliProgress) Leg(m dialer.Monitor) { p.d.MonitorData = append(p.d.MonitorData, m) }

var _ dialer.Progress = (*cliProgress)(nil)
