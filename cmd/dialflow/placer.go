package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/session"
	"github.com/dialflow/dialflow/sip"
	"github.com/dialflow/dialflow/tts"
)

// callPlacer places calls through the SIP user agent and runs their flows
// with a session: the adapter between dialer.Placer and sip + session.
type callPlacer struct {
	ua     *sip.UA
	tts    tts.Synthesizer
	log    *slog.Logger
	before func(c dialer.Call) // demo hook: tell the simulated phone what to do
	ran    func(r flow.Result) // when set, sees how each answered call's flow ended
}

var _ dialer.Placer = (*callPlacer)(nil)

// prerenderCount is how many leading prompts render while the phone rings.
const prerenderCount = 3

// Place dials, runs the flow once answered, and returns when the call ended.
func (p *callPlacer) Place(ctx context.Context, c dialer.Call, prog dialer.Progress) (dialer.Result, error) {
	if p.before != nil {
		p.before(c)
	}
	batch := tts.Prerender(ctx, p.tts, firstPrompts(c.Flow, prerenderCount))
	defer batch.Close()
	rang := false
	call, err := p.ua.Dial(ctx, sip.DialRequest{
		To: c.Phone, Caller: c.Caller, RingTimeout: c.RingTimeout, MaxDuration: c.MaxDuration,
		OnProgress: func(code int, _ string, _ bool) {
			if (code == 180 || code == 183) && !rang {
				rang = true
				prog.Ringing()
			}
		},
	})
	if err != nil {
		var se interface{ SIPStatus() int }
		res := dialer.Result{}
		if errors.As(err, &se) {
			res.SIPCode = se.SIPStatus()
		}
		return res, err
	}
	prog.Answered()
	sm, ok := call.Media().(*sip.StreamMedia)
	var stream *media.Stream
	if ok {
		stream = sm.Stream()
	}
	if stream == nil {
		_ = call.Hangup(context.WithoutCancel(ctx))
		return dialer.Result{SIPCode: 200}, errors.New("answered call has no media stream")
	}
	rec, err := startRecording(stream, c.RecordingPath)
	if err != nil {
		p.log.Warn("recording not started", "call_id", c.ID, "err", err)
	}
	sc := newSessionCall(call, stream, prog, c.ID, c.Phone)
	sc.ua, sc.caller = p.ua, c.Caller
	defer sc.close()
	s := session.New(sc, session.RendererFunc(func(ctx context.Context, pr flow.Prompt) ([]int16, error) {
		return render(ctx, batch, pr)
	}))
	res := flow.Run(ctx, c.Flow, s, flow.RunOptions{OnStep: prog.Step})
	if p.ran != nil {
		p.ran(res)
	}
	p.log.Debug("flow ended", "call_id", c.ID, "ended", res.Ended, "steps", len(res.Steps))
	if res.Ended == flow.EndCancelled {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = call.Hangup(hctx)
		cancel()
	}
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
	}
	result := dialer.Result{SIPCode: 200, HangupBy: call.HangupBy()}
	if rec != nil {
		if err := rec.close(); err != nil {
			p.log.Warn("recording incomplete", "call_id", c.ID, "err", err)
		} else {
			result.Recorded = true
		}
	}
	return result, ctx.Err()
}

// recording is a call's WAV file and the recorder writing it.
type recording struct {
	f   *os.File
	rec *media.Recorder
}

// startRecording records the stream to path (stereo: left the callee,
// right what we played); an empty path records nothing.
func startRecording(s *media.Stream, path string) (*recording, error) {
	if path == "" {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	r, err := s.Record(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &recording{f: f, rec: r}, nil
}

// close finalises the WAV header and closes the file.
func (r *recording) close() error {
	err := r.rec.Close()
	return errors.Join(err, r.f.Close())
}

// firstPrompts lists the first n prompts of a flow in the order a call
// would most likely reach them (document order, branches after their
// gather).
func firstPrompts(f *flow.Flow, n int) []tts.Item {
	var out []tts.Item
	var walk func(f *flow.Flow)
	walk = func(f *flow.Flow) {
		for _, s := range f.Steps {
			if len(out) >= n {
				return
			}
			if s.Message != nil && s.Audio == "" {
				out = append(out, tts.Item{Text: s.Message.Msg, Voice: voiceOf(s.Message)})
			}
			for _, b := range s.Branches {
				walk(&b.CallFlow)
			}
		}
	}
	walk(f)
	return out
}

func voiceOf(m *flow.Message) tts.Voice {
	v := tts.Voice{Lang: m.Lang, Gender: m.Gender, Pitch: flow.DefaultPitch, Rate: flow.DefaultRate}
	if m.Pitch != nil {
		v.Pitch = *m.Pitch
	}
	if m.Rate != nil {
		v.Rate = *m.Rate
	}
	return v
}

// render turns a prompt into 8 kHz PCM: a WAV file, or speech.
func render(ctx context.Context, s tts.Synthesizer, p flow.Prompt) ([]int16, error) {
	if p.Audio != "" {
		f, err := os.Open(p.Audio)
		if err != nil {
			return nil, fmt.Errorf("audio prompt: %w", err)
		}
		defer f.Close()
		return media.LoadWAV(f)
	}
	if p.Message == nil {
		return nil, errors.New("prompt has neither message nor audio")
	}
	return s.Synthesize(ctx, p.Message.Msg, voiceOf(p.Message))
}
