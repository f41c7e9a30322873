package flow

import (
	"context"
	"fmt"
	"time"
)

// gatherReply is one scripted answer to a Gather call.
type gatherReply struct {
	keys string
	err  error
}

// fakeChannel is a scripted Channel: gathers answer from a queue, transfers
// answer with a fixed status, and every call is logged.
type fakeChannel struct {
	gathers      []gatherReply
	transfer     string
	transferErr  error
	playErr      map[string]error // by message text
	log          []string
	hangups      int
	gatherOpts   []GatherOptions
	gatherPrompt []Prompt
}

func (f *fakeChannel) Play(ctx context.Context, p Prompt) error {
	text := p.Audio
	if p.Message != nil {
		text = p.Message.Msg
	}
	f.log = append(f.log, fmt.Sprintf("play %q x%d", text, p.Loop))
	return f.playErr[text]
}

func (f *fakeChannel) Gather(ctx context.Context, p Prompt, o GatherOptions) (Digits, error) {
	f.gatherOpts = append(f.gatherOpts, o)
	f.gatherPrompt = append(f.gatherPrompt, p)
	text := p.Audio
	if p.Message != nil {
		text = p.Message.Msg
	}
	if len(f.gathers) == 0 {
		f.log = append(f.log, fmt.Sprintf("gather %q -> (nothing scripted)", text))
		return Digits{}, nil
	}
	r := f.gathers[0]
	f.gathers = f.gathers[1:]
	f.log = append(f.log, fmt.Sprintf("gather %q -> %q", text, r.keys))
	var each []DigitInfo
	for i, k := range r.keys {
		each = append(each, DigitInfo{Digit: string(k), Method: "rfc4733", AtMs: int64(100 * (i + 1))})
	}
	return Digits{Keys: r.keys, Each: each}, r.err
}

func (f *fakeChannel) Transfer(ctx context.Context, t Transfer) (string, error) {
	f.log = append(f.log, fmt.Sprintf("transfer %s %s", t.Destination, t.Mode))
	return f.transfer, f.transferErr
}

func (f *fakeChannel) Pause(ctx context.Context, d time.Duration) error {
	f.log = append(f.log, fmt.Sprintf("pause %s", d))
	return nil
}

func (f *fakeChannel) Hangup(ctx context.Context) error {
	f.hangups++
	f.log = append(f.log, "hangup")
	return nil
}
