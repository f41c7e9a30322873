package tts

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingEngine renders text as its bytes and counts calls; gate, when
// set, holds every render until closed.
type countingEngine struct {
	calls atomic.Int64
	gate  chan struct{}
}

func (e *countingEngine) Synthesize(ctx context.Context, text string, v Voice) ([]int16, error) {
	e.calls.Add(1)
	if e.gate != nil {
		select {
		case <-e.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]int16, 0, len(text)+1)
	for _, b := range []byte(text) {
		out = append(out, int16(b)*100-5000)
	}
	return append(out, int16(v.Pitch)), nil
}

func TestCacheHitIsIdentical(t *testing.T) {
	eng := &countingEngine{}
	c, err := NewCache(eng, t.TempDir(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := c.Synthesize(ctx, "hello there", Voice{Pitch: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Synthesize(ctx, "hello there", Voice{Pitch: 3})
	if err != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("second render differs: %v", err)
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 1 || eng.calls.Load() != 1 {
		t.Fatalf("stats %+v calls %d", st, eng.calls.Load())
	}
	// Another voice is another key.
	if _, err := c.Synthesize(ctx, "hello there", Voice{Pitch: 4}); err != nil || eng.calls.Load() != 2 {
		t.Fatalf("voice not in key: %v %d", err, eng.calls.Load())
	}
	// A second cache on the same directory (another process) hits too.
	c2, _ := NewCache(eng, c.dir, "test", 0)
	if got, _ := c2.Synthesize(ctx, "hello there", Voice{Pitch: 3}); !reflect.DeepEqual(got, a) || eng.calls.Load() != 2 {
		t.Fatal("shared directory missed")
	}
}

func TestCacheConcurrentRendersRunOnce(t *testing.T) {
	eng := &countingEngine{gate: make(chan struct{})}
	c, _ := NewCache(eng, t.TempDir(), "test", 0)
	var wg sync.WaitGroup
	results := make([][]int16, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = c.Synthesize(context.Background(), "same text", Voice{})
		}()
	}
	for eng.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind the flight
	close(eng.gate)
	wg.Wait()
	if eng.calls.Load() != 1 {
		t.Fatalf("engine ran %d times", eng.calls.Load())
	}
	for _, r := range results {
		if !reflect.DeepEqual(r, results[0]) || len(r) == 0 {
			t.Fatal("renders differ")
		}
	}
}

func TestCacheEvictsToItsBound(t *testing.T) {
	eng := &countingEngine{}
	c, _ := NewCache(eng, t.TempDir(), "test", 600)
	for i := 0; i < 30; i++ {
		if _, err := c.Synthesize(context.Background(), string(rune('a'+i%26))+"-some prompt text of a size", Voice{Rate: i % 10}); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.Bytes > 600 || st.Evictions == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCacheRejectsBadInput(t *testing.T) {
	c, _ := NewCache(&countingEngine{}, t.TempDir(), "test", 0)
	for _, tc := range []struct {
		text string
		v    Voice
		want error
	}{{"", Voice{}, ErrEmptyText}, {"a\x00b", Voice{}, ErrControlChar}, {"ok", Voice{Rate: 12}, ErrBadVoice}} {
		if _, err := c.Synthesize(context.Background(), tc.text, tc.v); !errors.Is(err, tc.want) {
			t.Errorf("%q: %v", tc.text, err)
		}
	}
}

func TestPrerenderHandsOver(t *testing.T) {
	eng := &countingEngine{gate: make(chan struct{})}
	b := Prerender(context.Background(), eng, []Item{{"first", Voice{}}, {"second", Voice{Gender: "male"}}, {"first", Voice{}}})
	defer b.Close()
	if b.Ready() {
		t.Fatal("ready before rendering")
	}
	close(eng.gate)
	got, err := b.Synthesize(context.Background(), "first", Voice{Lang: "en", Gender: "female"}) // same voice once normalised
	if err != nil || len(got) == 0 {
		t.Fatal(err)
	}
	if _, err := b.Synthesize(context.Background(), "second", Voice{Gender: "male"}); err != nil {
		t.Fatal(err)
	}
	if !b.Ready() || eng.calls.Load() != 2 {
		t.Fatalf("ready %v calls %d (duplicates must render once, hand-over must not re-render)", b.Ready(), eng.calls.Load())
	}
	if _, err := b.Synthesize(context.Background(), "other", Voice{}); err != nil || eng.calls.Load() != 3 {
		t.Fatal("unknown prompt not passed through")
	}
}
