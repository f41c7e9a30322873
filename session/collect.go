package session

import (
	"context"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// Key is one DTMF digit as the session sees it.
type Key struct {
	Digit  rune
	Method string
	At     time.Time
}

// collector gathers digits for one gather attempt from a key channel.
// It owns no goroutine; the caller's goroutine runs it.
type collector struct {
	keys   <-chan Key
	hangup <-chan struct{}
	opts   flow.GatherOptions
	start  time.Time
	onKey  func(Key)
	got    flow.Digits
}

// outcome of waiting for the next key.
type waitResult int

const (
	gotKey waitResult = iota
	timedOut
	hungUp
	promptEnded
)

// add takes one key; it reports whether collection is complete.
func (c *collector) add(k Key) bool {
	if c.onKey != nil {
		c.onKey(k)
	}
	d := string(k.Digit)
	c.got.Each = append(c.got.Each, flow.DigitInfo{Digit: d, Method: k.Method, AtMs: k.At.Sub(c.start).Milliseconds()})
	if c.opts.FinishOnKey != "" && d == c.opts.FinishOnKey {
		return true
	}
	c.got.Keys += d
	return len(c.got.Keys) >= c.opts.NumDigits
}

// wait blocks for a key, the timer, a hangup, ctx, or (when promptDone is
// not nil) the end of the prompt.
func (c *collector) wait(ctx context.Context, timer <-chan time.Time, promptDone <-chan error) (Key, waitResult, error) {
	select {
	case k := <-c.keys:
		return k, gotKey, nil
	case <-timer:
		return Key{}, timedOut, nil
	case <-c.hangup:
		return Key{}, hungUp, flow.ErrHangup
	case err := <-promptDone:
		return Key{}, promptEnded, err
	case <-ctx.Done():
		return Key{}, hungUp, ctx.Err()
	}
}

// afterFirst collects the remaining digits once the first one arrived:
// each further digit must come within InterDigitTimeout.
func (c *collector) afterFirst(ctx context.Context) (flow.Digits, error) {
	for {
		t := time.NewTimer(c.opts.InterDigitTimeout)
		k, r, err := c.wait(ctx, t.C, nil)
		t.Stop()
		switch r {
		case gotKey:
			if c.add(k) {
				return c.got, nil
			}
		case timedOut:
			return c.got, nil
		default:
			return c.got, err
		}
	}
}
