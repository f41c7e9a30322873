package flow

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustFlow(t *testing.T, js string) *Flow {
	t.Helper()
	f, err := ParseFlow([]byte(js))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if probs := ValidateFlow(f, ValidateOptions{}); probs != nil {
		t.Fatalf("validate: %v", probs)
	}
	return f
}

// brief renders step results as "path status digits branch" lines.
func brief(steps []StepResult) []string {
	var out []string
	for _, s := range steps {
		line := fmt.Sprintf("%s %s %s", s.StepPath, s.StepName, s.Info.Status)
		if s.Info.UserPressedDigits != "" {
			line += " digits=" + s.Info.UserPressedDigits
		}
		if s.Info.Branch != "" {
			line += " branch=" + s.Info.Branch
		}
		if s.Info.TransferStatus != "" {
			line += " transfer=" + s.Info.TransferStatus
		}
		if s.Info.CallState == CallStateEnded {
			line += " ended"
		}
		out = append(out, line)
	}
	return out
}

const menu = `{"steps":[
 {"name":"gather","message":{"msg":"press 1 or 2"},"maxRetries":3,"branches":[
   {"digit":"1","callFlow":{"steps":[{"name":"play","message":{"msg":"one"}}]}},
   {"digit":"2","callFlow":{"steps":[{"name":"play","message":{"msg":"two"}}]}}%s]},
 {"name":"play","message":{"msg":"bye"}}]}`

const defaultBranch = `,{"default":"true","callFlow":{"steps":[{"name":"play","message":{"msg":"default"}}]}}`

func TestGatherPaths(t *testing.T) {
	hang := gatherReply{err: fmt.Errorf("media: %w", ErrHangup)}
	cases := []struct {
		name     string
		flow     string
		replies  []gatherReply
		want     []string
		ended    string
		prompts  int
		hangups  int
		wantOpts *GatherOptions
	}{
		{
			name: "match first try", flow: fmt.Sprintf(menu, ""),
			replies: []gatherReply{{keys: "2"}},
			want: []string{"steps[0] gather success_ok digits=2 branch=2",
				"steps[0].branches[1].steps[0] play success_ok", "steps[1] play success_ok"},
			ended: EndCompleted, prompts: 1, hangups: 1,
		},
		{
			name: "invalid then match", flow: fmt.Sprintf(menu, ""),
			replies: []gatherReply{{keys: "7"}, {keys: "1"}},
			want: []string{"steps[0] gather success_ok digits=1 branch=1",
				"steps[0].branches[0].steps[0] play success_ok", "steps[1] play success_ok"},
			ended: EndCompleted, prompts: 2, hangups: 1,
		},
		{
			name: "no input max times then default", flow: fmt.Sprintf(menu, defaultBranch),
			replies: []gatherReply{{}, {}, {}},
			want: []string{"steps[0] gather success_ok branch=default",
				"steps[0].branches[2].steps[0] play success_ok", "steps[1] play success_ok"},
			ended: EndCompleted, prompts: 3, hangups: 1,
		},
		{
			name: "no input and no default", flow: fmt.Sprintf(menu, ""),
			replies: []gatherReply{{}, {}, {}},
			want:    []string{"steps[0] gather error_no_input", "steps[1] play success_ok"},
			ended:   EndCompleted, prompts: 3, hangups: 1,
		},
		{
			name: "invalid last and no default", flow: fmt.Sprintf(menu, ""),
			replies: []gatherReply{{}, {keys: "9"}, {keys: "8"}},
			want:    []string{"steps[0] gather error_invalid_input digits=8", "steps[1] play success_ok"},
			ended:   EndCompleted, prompts: 3, hangups: 1,
		},
		{
			name: "hangup during gather", flow: fmt.Sprintf(menu, defaultBranch),
			replies: []gatherReply{{}, hang},
			want:    []string{"steps[0] gather error_hangup ended"},
			ended:   EndCalleeHangup, prompts: 2, hangups: 0,
		},
		{
			name: "multi-digit with finishOnKey",
			flow: `{"steps":[{"name":"gather","message":{"msg":"account"},"numDigits":4,"finishOnKey":"*","branches":[
				{"digit":"12","callFlow":{"steps":[{"name":"play","message":{"msg":"short"}}]}},
				{"digit":"1234","callFlow":{"steps":[{"name":"play","message":{"msg":"long"}}]}}]}]}`,
			replies: []gatherReply{{keys: "12"}},
			want: []string{"steps[0] gather success_ok digits=12 branch=12",
				"steps[0].branches[0].steps[0] play success_ok"},
			ended: EndCompleted, prompts: 1, hangups: 1,
			wantOpts: &GatherOptions{NumDigits: 4, Timeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second, FinishOnKey: "*", BargeIn: true},
		},
		{
			name: "numDigits defaults to longest branch; # disabled when a branch uses it",
			flow: `{"steps":[{"name":"gather","message":{"msg":"x"},"timeout":2,"interDigitTimeout":"1.5","branches":[
				{"digit":"#","callFlow":{"steps":[]}},{"digit":"123","callFlow":{"steps":[]}}]}]}`,
			replies: []gatherReply{{keys: "123"}},
			want:    []string{"steps[0] gather success_ok digits=123 branch=123"},
			ended:   EndCompleted, prompts: 1, hangups: 1,
			wantOpts: &GatherOptions{NumDigits: 3, Timeout: 2 * time.Second, InterDigitTimeout: 1500 * time.Millisecond, FinishOnKey: "", BargeIn: true},
		},
		{
			name: "three levels deep",
			flow: `{"steps":[{"name":"gather","message":{"msg":"a"},"branches":[{"digit":"1","callFlow":{"steps":[
				{"name":"gather","message":{"msg":"b"},"branches":[{"digit":"2","callFlow":{"steps":[
					{"name":"gather","message":{"msg":"c"},"branches":[{"digit":"3","callFlow":{"steps":[
						{"name":"play","message":{"msg":"deep"}}]}}]},
					{"name":"play","message":{"msg":"after c"}}]}}]}]}}]},
				{"name":"play","message":{"msg":"end"}}]}`,
			replies: []gatherReply{{keys: "1"}, {keys: "2"}, {keys: "3"}},
			want: []string{
				"steps[0] gather success_ok digits=1 branch=1",
				"steps[0].branches[0].steps[0] gather success_ok digits=2 branch=2",
				"steps[0].branches[0].steps[0].branches[0].steps[0] gather success_ok digits=3 branch=3",
				"steps[0].branches[0].steps[0].branches[0].steps[0].branches[0].steps[0] play success_ok",
				"steps[0].branches[0].steps[0].branches[0].steps[1] play success_ok",
				"steps[1] play success_ok"},
			ended: EndCompleted, prompts: 3, hangups: 1,
		},
		{
			name: "callee hangs up inside a nested branch",
			flow: `{"steps":[{"name":"gather","message":{"msg":"a"},"branches":[{"digit":"1","callFlow":{"steps":[
				{"name":"gather","message":{"msg":"b"},"branches":[{"digit":"2","callFlow":{"steps":[]}}]},
				{"name":"play","message":{"msg":"never"}}]}}]},
				{"name":"play","message":{"msg":"never either"}}]}`,
			replies: []gatherReply{{keys: "1"}, {keys: "", err: ErrHangup}},
			want: []string{"steps[0] gather success_ok digits=1 branch=1",
				"steps[0].branches[0].steps[0] gather error_hangup ended"},
			ended: EndCalleeHangup, prompts: 2, hangups: 0,
		},
		{
			name: "default-only gather takes any key",
			flow: `{"steps":[{"name":"gather","message":{"msg":"any key"},"branches":[{"default":true,"callFlow":{"steps":[{"name":"hangup"}]}}]},
				{"name":"play","message":{"msg":"never"}}]}`,
			replies: []gatherReply{{keys: "9"}},
			want:    []string{"steps[0] gather success_ok digits=9 branch=default", "steps[0].branches[0].steps[0] hangup success_ok ended"},
			ended:   EndHangupStep, prompts: 1, hangups: 1,
		},
		{
			name:    "maxRetries 1 gives up after one attempt",
			flow:    `{"steps":[{"name":"gather","message":{"msg":"once"},"maxRetries":1,"branches":[{"digit":"1","callFlow":{"steps":[]}}]}]}`,
			replies: []gatherReply{{keys: "5"}},
			want:    []string{"steps[0] gather error_invalid_input digits=5"},
			ended:   EndCompleted, prompts: 1, hangups: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &fakeChannel{gathers: tc.replies}
			res := Run(context.Background(), mustFlow(t, tc.flow), ch, RunOptions{})
			if got := brief(res.Steps); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("steps\n got: %q\nwant: %q\nlog: %q", got, tc.want, ch.log)
			}
			if res.Ended != tc.ended {
				t.Errorf("ended = %q, want %q", res.Ended, tc.ended)
			}
			if len(ch.gatherOpts) != tc.prompts {
				t.Errorf("gather prompted %d times, want %d", len(ch.gatherOpts), tc.prompts)
			}
			if ch.hangups != tc.hangups {
				t.Errorf("hangups = %d, want %d", ch.hangups, tc.hangups)
			}
			if tc.wantOpts != nil && !reflect.DeepEqual(ch.gatherOpts[0], *tc.wantOpts) {
				t.Errorf("gather options = %+v, want %+v", ch.gatherOpts[0], *tc.wantOpts)
			}
		})
	}
}

func TestPlayTransferPauseAndErrors(t *testing.T) {
	f := mustFlow(t, `{"steps":[
		{"name":"play","message":{"msg":"hello","pitch":"7"},"loop":3},
		{"name":"play","message":{"msg":"broken"}},
		{"name":"pause","seconds":1.5},
		{"name":"transfer","destination":"+15551234567","mode":"bridge"},
		{"name":"transfer","destination":"Ext:1000"},
		{"name":"play","message":{"msg":"not reached"}}]}`)
	ch := &fakeChannel{transfer: TransferBusy, playErr: map[string]error{"broken": fmt.Errorf("espeak: %w", ErrTTS)}}
	res := Run(context.Background(), f, ch, RunOptions{})
	want := []string{
		"steps[0] play success_ok", "steps[1] play error_tts", "steps[2] pause success_ok",
		"steps[3] transfer error_transfer_failed transfer=busy", "steps[4] transfer error_transfer_failed transfer=busy",
		"steps[5] play success_ok",
	}
	if got := brief(res.Steps); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	wantLog := []string{`play "hello" x3`, `play "broken" x1`, "pause 1.5s", "transfer +15551234567 bridge",
		"transfer Ext:1000 refer", `play "not reached" x1`, "hangup"}
	if !reflect.DeepEqual(ch.log, wantLog) {
		t.Fatalf("log %q\nwant %q", ch.log, wantLog)
	}

	// An answered transfer ends the run; the steps after it do not run.
	ch = &fakeChannel{transfer: TransferAnswered}
	res = Run(context.Background(), f, ch, RunOptions{})
	if res.Ended != EndTransferred || len(res.Steps) != 4 || ch.hangups != 0 {
		t.Fatalf("answered transfer: ended=%s steps=%q hangups=%d", res.Ended, brief(res.Steps), ch.hangups)
	}
}

func TestPromptDefaults(t *testing.T) {
	f := mustFlow(t, `{"steps":[{"name":"gather","message":{"msg":"x"},"branches":[{"digit":"1","callFlow":{"steps":[]}}]}]}`)
	ch := &fakeChannel{gathers: []gatherReply{{keys: "1"}}}
	Run(context.Background(), f, ch, RunOptions{})
	m := ch.gatherPrompt[0].Message
	if m.Lang != "en" || m.Gender != "female" || *m.Pitch != 5 || *m.Rate != 5 || ch.gatherPrompt[0].Loop != 1 {
		t.Fatalf("defaults not applied: %+v", m)
	}
}

// cancelChannel cancels the run's context on the first gather.
type cancelChannel struct {
	fakeChannel
	cancel context.CancelFunc
}

func (c *cancelChannel) Gather(ctx context.Context, p Prompt, o GatherOptions) (Digits, error) {
	c.cancel()
	return Digits{}, ctx.Err()
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := &cancelChannel{cancel: cancel}
	res := Run(ctx, mustFlow(t, fmt.Sprintf(menu, "")), ch, RunOptions{})
	if res.Ended != EndCancelled || !errors.Is(res.Err, context.Canceled) || len(res.Steps) != 0 {
		t.Fatalf("got ended=%s err=%v steps=%q", res.Ended, res.Err, brief(res.Steps))
	}
}

func TestOnStepIsLiveAndOrdered(t *testing.T) {
	var seen []string
	ch := &fakeChannel{gathers: []gatherReply{{keys: "1"}}}
	res := Run(context.Background(), mustFlow(t, fmt.Sprintf(menu, "")), ch, RunOptions{OnStep: func(s StepResult) {
		seen = append(seen, s.StepPath)
	}})
	if strings.Join(seen, ",") != "steps[0],steps[0].branches[0].steps[0],steps[1]" || len(res.Steps) != 3 {
		t.Fatalf("OnStep saw %v", seen)
	}
}
