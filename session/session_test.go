package session

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// fakeCall plays audio in (fake) real time and lets the test press keys and
// hang up at chosen moments.
type fakeCall struct {
	keys     chan Key
	done     chan struct{}
	mu       sync.Mutex
	played   []time.Duration // how long each Play actually ran
	hangups  int
	transfer string
}

func newFakeCall() *fakeCall {
	return &fakeCall{keys: make(chan Key, 32), done: make(chan struct{})}
}

func (f *fakeCall) Play(ctx context.Context, pcm []int16) error {
	start := time.Now()
	d := time.Duration(len(pcm)) * time.Second / 8000
	t := time.NewTimer(d)
	defer t.Stop()
	var err error
	select {
	case <-t.C:
	case <-ctx.Done():
		err = ctx.Err()
	case <-f.done:
		err = errors.New("call ended")
	}
	f.mu.Lock()
	f.played = append(f.played, time.Since(start))
	f.mu.Unlock()
	return err
}

func (f *fakeCall) Keys() <-chan Key             { return f.keys }
func (f *fakeCall) Done() <-chan struct{}        { return f.done }
func (f *fakeCall) Hangup(context.Context) error { f.hangups++; return nil }
func (f *fakeCall) Transfer(context.Context, flow.Transfer) (string, error) {
	return f.transfer, nil
}

// press sends keys at offsets from now, from its own goroutine.
func (f *fakeCall) press(script map[time.Duration]string) {
	start := time.Now()
	for at, keys := range script {
		go func() {
			time.Sleep(at)
			for _, k := range keys {
				f.keys <- Key{Digit: k, Method: "rfc4733", At: time.Now()}
			}
		}()
	}
	_ = start
}

// twoSeconds renders every prompt as 2 s of audio.
var twoSeconds = RendererFunc(func(ctx context.Context, p flow.Prompt) ([]int16, error) {
	return make([]int16, 16000), nil
})

var opts = flow.GatherOptions{NumDigits: 2, Timeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second, FinishOnKey: "#", BargeIn: true}

func gather(t *testing.T, script map[time.Duration]string, o flow.GatherOptions) (flow.Digits, error, time.Duration, *fakeCall) {
	t.Helper()
	call := newFakeCall()
	s := New(call, twoSeconds)
	call.press(script)
	start := time.Now()
	d, err := s.Gather(context.Background(), flow.Prompt{Loop: 1}, o)
	elapsed := time.Since(start)
	synctest.Wait()
	return d, err, elapsed, call
}

func TestGatherTiming(t *testing.T) {
	cases := []struct {
		name    string
		script  map[time.Duration]string
		o       flow.GatherOptions
		keys    string
		elapsed time.Duration
		played  time.Duration
	}{
		{"no input waits prompt + timeout", nil, opts, "", 7 * time.Second, 2 * time.Second},
		{"barge-in stops the prompt", map[time.Duration]string{500 * time.Millisecond: "12"}, opts, "12", 500 * time.Millisecond, 500 * time.Millisecond},
		{"digit after the prompt", map[time.Duration]string{4 * time.Second: "1", 6 * time.Second: "2"}, opts, "12", 6 * time.Second, 2 * time.Second},
		{"inter-digit timeout ends collection", map[time.Duration]string{3 * time.Second: "1"}, opts, "1", 6 * time.Second, 2 * time.Second},
		{"finish key ends collection", map[time.Duration]string{time.Second: "3#"}, flow.GatherOptions{NumDigits: 5, Timeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second, FinishOnKey: "#"}, "3", time.Second, time.Second},
		{"numDigits ends collection", map[time.Duration]string{time.Second: "4567"}, flow.GatherOptions{NumDigits: 3, Timeout: time.Second, InterDigitTimeout: time.Second}, "456", time.Second, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d, err, elapsed, call := gather(t, tc.script, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				if d.Keys != tc.keys || elapsed != tc.elapsed {
					t.Fatalf("keys %q after %s; want %q after %s", d.Keys, elapsed, tc.keys, tc.elapsed)
				}
				if len(call.played) != 1 || call.played[0] != tc.played {
					t.Fatalf("prompt played %v, want %s", call.played, tc.played)
				}
			})
		})
	}
}

func TestTypeAheadSkipsPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		call := newFakeCall()
		s := New(call, twoSeconds)
		// Pressed during the previous play step.
		call.press(map[time.Duration]string{time.Second: "9"})
		if err := s.Play(context.Background(), flow.Prompt{Loop: 1}); err != nil {
			t.Fatal(err)
		}
		var seen []string
		s.OnKey = func(k Key) { seen = append(seen, string(k.Digit)) }
		d, err := s.Gather(context.Background(), flow.Prompt{Loop: 1}, flow.GatherOptions{NumDigits: 1, Timeout: time.Second, InterDigitTimeout: time.Second})
		if err != nil || d.Keys != "9" || len(call.played) != 1 || !reflect.DeepEqual(seen, []string{"9"}) {
			t.Fatalf("keys %q err %v plays %v seen %v", d.Keys, err, call.played, seen)
		}
		if d.Each[0].Method != "rfc4733" {
			t.Fatalf("method lost: %+v", d.Each)
		}
	})
}

func TestHangupDuringGatherAndPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		call := newFakeCall()
		s := New(call, twoSeconds)
		go func() { time.Sleep(3 * time.Second); close(call.done) }()
		_, err := s.Gather(context.Background(), flow.Prompt{Loop: 1}, opts)
		if !errors.Is(err, flow.ErrHangup) {
			t.Fatalf("gather: %v", err)
		}
		if err := s.Play(context.Background(), flow.Prompt{Loop: 1}); !errors.Is(err, flow.ErrHangup) {
			t.Fatalf("play after hangup: %v", err)
		}
		if err := s.Hangup(context.Background()); !errors.Is(err, flow.ErrHangup) || call.hangups != 0 {
			t.Fatalf("hangup after callee hangup: %v %d", err, call.hangups)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		call := newFakeCall()
		s := New(call, twoSeconds)
		go func() { time.Sleep(time.Second); close(call.done) }()
		if err := s.Play(context.Background(), flow.Prompt{Loop: 3}); !errors.Is(err, flow.ErrHangup) {
			t.Fatalf("play: %v", err)
		}
	})
}

func TestRenderFailureIsTTSError(t *testing.T) {
	call := newFakeCall()
	s := New(call, RendererFunc(func(context.Context, flow.Prompt) ([]int16, error) { return nil, errors.New("espeak exploded") }))
	if err := s.Play(context.Background(), flow.Prompt{}); !errors.Is(err, flow.ErrTTS) {
		t.Fatalf("got %v", err)
	}
}

// TestRunsAFlow drives the interpreter through the session: play, gather
// with barge-in, branch, then the engine hangs up.
func TestRunsAFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := flow.ParseFlow([]byte(`{"steps":[{"name":"play","message":{"msg":"hi"}},
			{"name":"gather","message":{"msg":"menu"},"timeout":2,"branches":[{"digit":"1","callFlow":{"steps":[{"name":"pause","seconds":1}]}}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		call := newFakeCall()
		call.press(map[time.Duration]string{2500 * time.Millisecond: "1"})
		res := flow.Run(context.Background(), f, New(call, twoSeconds), flow.RunOptions{})
		if res.Ended != flow.EndCompleted || len(res.Steps) != 3 || res.Steps[1].Info.UserPressedDigits != "1" || call.hangups != 1 {
			t.Fatalf("ended %s steps %+v hangups %d", res.Ended, res.Steps, call.hangups)
		}
		if call.played[1] != 500*time.Millisecond {
			t.Fatalf("menu prompt should stop at the barge-in after 0.5 s, played %v", call.played)
		}
	})
}
