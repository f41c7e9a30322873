package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// Call is the live call a session runs on.
type Call interface {
	// Play plays 8 kHz mono PCM and returns when it was played, or early
	// (with ctx's error) when ctx ends; it must stop within a frame. pcm
	// is shared (see Renderer): Play must not modify it.
	Play(ctx context.Context, pcm []int16) error
	// Keys delivers received DTMF digits, de-duplicated across methods. The
	// channel is buffered: keys pressed while nobody reads are type-ahead.
	Keys() <-chan Key
	// Done is closed when the call ended (the callee hung up).
	Done() <-chan struct{}
	// Hangup ends the call from our side.
	Hangup(ctx context.Context) error
	// Transfer moves the call (flow.ModeRefer, ModeBridge or ModeAuto) and
	// returns the final transfer status (flow.Transfer* words).
	Transfer(ctx context.Context, t flow.Transfer) (string, error)
}

// Renderer turns a prompt into 8 kHz mono PCM: speech for a message, or a
// loaded file for an audio prompt. The PCM it returns may be shared with
// other calls (a tts.Cache hands every call the same slice of a prompt), so
// the session and its Call only read it; nothing may modify it.
type Renderer interface {
	Render(ctx context.Context, p flow.Prompt) ([]int16, error)
}

// RendererFunc adapts a function to Renderer.
type RendererFunc func(ctx context.Context, p flow.Prompt) ([]int16, error)

// Render calls f.
func (f RendererFunc) Render(ctx context.Context, p flow.Prompt) ([]int16, error) { return f(ctx, p) }

// Session implements flow.Channel for one call.
type Session struct {
	call   Call
	render Renderer
	// OnKey, when set, sees every digit as it is consumed by a gather.
	OnKey func(Key)
}

// New returns a session on call using render for prompts.
func New(call Call, render Renderer) *Session {
	return &Session{call: call, render: render}
}

var _ flow.Channel = (*Session)(nil)

func (s *Session) hungUp() bool {
	select {
	case <-s.call.Done():
		return true
	default:
		return false
	}
}

// mapErr turns an error seen while the call may have ended into ErrHangup.
func (s *Session) mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if s.hungUp() {
		return fmt.Errorf("%w: %v", flow.ErrHangup, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (s *Session) audio(ctx context.Context, p flow.Prompt) ([]int16, error) {
	pcm, err := s.render.Render(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", flow.ErrTTS, err)
	}
	return pcm, nil
}

// Play renders and plays the prompt Loop times.
func (s *Session) Play(ctx context.Context, p flow.Prompt) error {
	if s.hungUp() {
		return flow.ErrHangup
	}
	pcm, err := s.audio(ctx, p)
	if err != nil {
		return err
	}
	for i := 0; i < max(p.Loop, 1); i++ {
		if err := s.call.Play(ctx, pcm); err != nil {
			return s.mapErr(ctx, err)
		}
		if s.hungUp() {
			return flow.ErrHangup
		}
	}
	return nil
}

// Gather plays the prompt with barge-in and collects digits (SPEC §4).
func (s *Session) Gather(ctx context.Context, p flow.Prompt, o flow.GatherOptions) (flow.Digits, error) {
	if s.hungUp() {
		return flow.Digits{}, flow.ErrHangup
	}
	pcm, err := s.audio(ctx, p)
	if err != nil {
		return flow.Digits{}, err
	}
	c := &collector{keys: s.call.Keys(), hangup: s.call.Done(), opts: o, start: time.Now(), onKey: s.OnKey}
	// Type-ahead: a key already waiting skips the prompt.
	select {
	case k := <-c.keys:
		if c.add(k) {
			return c.got, nil
		}
		return c.afterFirst(ctx)
	default:
	}
	for i := 0; i < max(p.Loop, 1); i++ {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.call.Play(pctx, pcm) }()
		k, r, err := c.wait(ctx, nil, done)
		cancel()
		if r != promptEnded {
			<-done // the player stops within a frame once cancelled
		}
		switch r {
		case gotKey:
			if c.add(k) {
				return c.got, nil
			}
			return c.afterFirst(ctx)
		case hungUp:
			return c.got, s.mapErr(ctx, err)
		case promptEnded:
			if err != nil {
				return c.got, s.mapErr(ctx, err)
			}
		}
	}
	t := time.NewTimer(o.Timeout)
	defer t.Stop()
	k, r, err := c.wait(ctx, t.C, nil)
	switch r {
	case gotKey:
		if c.add(k) {
			return c.got, nil
		}
		return c.afterFirst(ctx)
	case timedOut:
		return c.got, nil
	}
	return c.got, s.mapErr(ctx, err)
}

// Transfer hands the transfer to the call.
func (s *Session) Transfer(ctx context.Context, t flow.Transfer) (string, error) {
	if s.hungUp() {
		return "", flow.ErrHangup
	}
	st, err := s.call.Transfer(ctx, t)
	if err != nil && s.hungUp() && st != flow.TransferAnswered {
		return st, flow.ErrHangup
	}
	return st, err
}

// Pause keeps the call up (silence is sent) for d.
func (s *Session) Pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.call.Done():
		return flow.ErrHangup
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hangup ends the call; a call already ended by the callee is ErrHangup.
func (s *Session) Hangup(ctx context.Context) error {
	if s.hungUp() {
		return flow.ErrHangup
	}
	if err := s.call.Hangup(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
