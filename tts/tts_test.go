package tts

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
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

func mustCache(tb testing.TB, eng Synthesizer, dir string, maxBytes int64) *Cache {
	tb.Helper()
	c, err := NewCache(eng, dir, "test", maxBytes)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestCacheHitIsIdentical(t *testing.T) {
	eng := &countingEngine{}
	c := mustCache(t, eng, t.TempDir(), 0)
	ctx := context.Background()
	a, err := c.Synthesize(ctx, "hello there", Voice{Pitch: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Synthesize(ctx, "hello there", Voice{Pitch: 3})
	if err != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("second render differs: %v", err)
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 1 || eng.calls.Load() != 1 || st.Bytes != int64(2*len(a)) {
		t.Fatalf("stats %+v calls %d", st, eng.calls.Load())
	}
	// The same voice spelled differently is the same key.
	if _, err := c.Synthesize(ctx, "hello there", Voice{Lang: "EN", Gender: "female", Pitch: 3}); err != nil || eng.calls.Load() != 1 {
		t.Fatalf("normalised voice missed: %v %d", err, eng.calls.Load())
	}
	// Another voice is another key.
	if _, err := c.Synthesize(ctx, "hello there", Voice{Pitch: 4}); err != nil || eng.calls.Load() != 2 {
		t.Fatalf("voice not in key: %v %d", err, eng.calls.Load())
	}
	// A second cache on the same directory (another process) hits too.
	c2 := mustCache(t, eng, c.dir, 0)
	if got, _ := c2.Synthesize(ctx, "hello there", Voice{Pitch: 3}); !reflect.DeepEqual(got, a) || eng.calls.Load() != 2 {
		t.Fatal("shared directory missed")
	}
	if c2.Stats().Bytes != c.Stats().Bytes {
		t.Fatalf("reopened size %d, want %d", c2.Stats().Bytes, c.Stats().Bytes)
	}
	// Another engine name shares nothing.
	c3, _ := NewCache(eng, c.dir, "other", 0)
	if _, err := c3.Synthesize(ctx, "hello there", Voice{Pitch: 3}); err != nil || eng.calls.Load() != 3 {
		t.Fatalf("engine not in key: %v %d", err, eng.calls.Load())
	}
}

func TestKeySeparatesFields(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range []string{
		Key("a", Voice{Lang: "en"}, "x"), Key("ae", Voice{Lang: "n"}, "x"),
		Key("a", Voice{Lang: "en", Gender: "male"}, "x"), Key("a", Voice{Lang: "en", Rate: 1}, "x"),
		Key("a", Voice{Lang: "en", Pitch: 1}, "x"), Key("a", Voice{Lang: "en"}, "y"),
	} {
		if keys[k] {
			t.Fatal("two renders share a key")
		}
		keys[k] = true
	}
}

func TestCacheConcurrentRendersRunOnce(t *testing.T) {
	eng := &countingEngine{gate: make(chan struct{})}
	c := mustCache(t, eng, t.TempDir(), 0)
	var wg sync.WaitGroup
	results := make([][]int16, 20)
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.Synthesize(context.Background(), "same text", Voice{})
		}()
	}
	close(eng.gate)
	wg.Wait()
	// Whether a caller waited on the flight or came after it, the engine
	// ran once: a late caller finds the stored file.
	if eng.calls.Load() != 1 {
		t.Fatalf("engine ran %d times", eng.calls.Load())
	}
	for i, r := range results {
		if errs[i] != nil || !reflect.DeepEqual(r, results[0]) || len(r) == 0 {
			t.Fatalf("render %d differs: %v", i, errs[i])
		}
	}
	if st := c.Stats(); st.Misses != 1 || st.Hits != 19 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCacheOwnerCancelled: the caller that started a render gives up; a
// caller waiting on the same render still gets it.
func TestCacheOwnerCancelled(t *testing.T) {
	eng := &countingEngine{gate: make(chan struct{})}
	c := mustCache(t, eng, t.TempDir(), 0)
	ownerCtx, cancel := context.WithCancel(context.Background())
	ownerErr := make(chan error, 1)
	go func() {
		_, err := c.Synthesize(ownerCtx, "prompt", Voice{})
		ownerErr <- err
	}()
	// Wait until the owner's flight exists, then queue a second caller.
	for {
		c.mu.Lock()
		n := len(c.inflight)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	waiter := make(chan error, 1)
	go func() {
		pcm, err := c.Synthesize(context.Background(), "prompt", Voice{})
		if err == nil && len(pcm) == 0 {
			err = errors.New("empty render")
		}
		waiter <- err
	}()
	cancel()
	if err := <-ownerErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("owner: %v", err)
	}
	close(eng.gate)
	if err := <-waiter; err != nil {
		t.Fatalf("waiter failed with the owner's cancellation: %v", err)
	}
}

func TestCacheEvictsToItsBound(t *testing.T) {
	eng := &countingEngine{}
	dir := t.TempDir()
	c := mustCache(t, eng, dir, 600)
	for i := 0; i < 30; i++ {
		if _, err := c.Synthesize(context.Background(), string(rune('a'+i%26))+"-some prompt text of a size", Voice{Rate: i % 10}); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.Bytes > 600 || st.Evictions == 0 {
		t.Fatalf("stats %+v", st)
	}
	var onDisk int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			onDisk += fi.Size()
		}
		return nil
	})
	if onDisk > 600 || onDisk != st.Bytes {
		t.Fatalf("%d bytes on disk, stats say %d", onDisk, st.Bytes)
	}
}

func TestCacheCorruptFileIsRerendered(t *testing.T) {
	eng := &countingEngine{}
	c := mustCache(t, eng, t.TempDir(), 0)
	ctx := context.Background()
	want, _ := c.Synthesize(ctx, "prompt", Voice{})
	p := c.path(Key("test", Voice{Lang: "en", Gender: "female"}, "prompt"))
	if err := os.WriteFile(p, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	// The first cache serves the render from memory now; a second cache on
	// the directory (another process, or this one restarted) reads the file.
	if got, err := c.Synthesize(ctx, "prompt", Voice{}); err != nil || !reflect.DeepEqual(got, want) || eng.calls.Load() != 1 {
		t.Fatalf("memory hit: err %v calls %d", err, eng.calls.Load())
	}
	c2 := mustCache(t, eng, c.dir, 0)
	got, err := c2.Synthesize(ctx, "prompt", Voice{})
	if err != nil || !reflect.DeepEqual(got, want) || eng.calls.Load() != 2 || c2.Stats().Corrupt != 1 {
		t.Fatalf("err %v calls %d stats %+v", err, eng.calls.Load(), c2.Stats())
	}
}

func TestCacheRejectsBadInput(t *testing.T) {
	eng := &countingEngine{}
	c := mustCache(t, eng, t.TempDir(), 0)
	for _, tc := range []struct {
		text string
		v    Voice
		want error
	}{{"", Voice{}, ErrEmptyText}, {"a\x00b", Voice{}, ErrControlChar}, {"ok", Voice{Rate: 12}, ErrBadVoice}} {
		if _, err := c.Synthesize(context.Background(), tc.text, tc.v); !errors.Is(err, tc.want) {
			t.Errorf("%q: %v", tc.text, err)
		}
	}
	if eng.calls.Load() != 0 {
		t.Fatal("bad input reached the engine")
	}
	if _, err := NewCache(nil, t.TempDir(), "x", 0); err == nil {
		t.Fatal("nil engine accepted")
	}
}

func TestPCMFormat(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768}
	data := EncodePCM(pcm)
	if !bytes.Equal(data, []byte{0, 0, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0x80}) {
		t.Fatalf("encoded % x", data)
	}
	got, err := DecodePCM(data)
	if err != nil || !reflect.DeepEqual(got, pcm) {
		t.Fatalf("decoded %v %v", got, err)
	}
	if _, err := DecodePCM(data[:3]); err == nil {
		t.Fatal("odd length accepted")
	}
}

func FuzzDecodePCM(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{0, 0x80, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, err := DecodePCM(data)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodePCM(pcm), data) {
			t.Fatal("round trip differs")
		}
	})
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

// TestPrerenderCloseStopsRendering: a call that ends while ringing stops
// its renders (goleak in TestMain checks the goroutine is gone), and a
// render cancelled by Close falls back to the engine if asked for later.
func TestPrerenderCloseStopsRendering(t *testing.T) {
	eng := &countingEngine{gate: make(chan struct{})}
	b := Prerender(context.Background(), eng, []Item{{"first", Voice{}}})
	b.Close()
	if eng.calls.Load() > 1 {
		t.Fatalf("%d renders started", eng.calls.Load())
	}
	close(eng.gate)
	if got, err := b.Synthesize(context.Background(), "first", Voice{}); err != nil || len(got) == 0 {
		t.Fatalf("after close: %v", err)
	}
	// An item with an invalid voice is skipped, never rendered.
	eng2 := &countingEngine{}
	b2 := Prerender(context.Background(), eng2, []Item{{"bad voice", Voice{Rate: 42}}})
	b2.Close()
	if !b2.Ready() || eng2.calls.Load() != 0 {
		t.Fatalf("invalid item rendered: calls %d", eng2.calls.Load())
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := mustCache(b, &countingEngine{}, b.TempDir(), 0)
	text := "a prompt of ordinary length, about one line of text"
	if _, err := c.Synthesize(context.Background(), text, Voice{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Synthesize(context.Background(), text, Voice{}); err != nil {
			b.Fatal(err)
		}
	}
}
