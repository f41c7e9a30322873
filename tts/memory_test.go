package tts

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"sync"
	"testing"
)

func mustCacheOpts(tb testing.TB, eng Synthesizer, dir string, opts ...CacheOption) *Cache {
	tb.Helper()
	c, err := NewCache(eng, dir, "test", 0, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func sameArray(a, b []int16) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// TestCacheMemoryHitSharesRender: a second render of the same prompt is
// the very same slice, served without the disk (the file is gone).
func TestCacheMemoryHitSharesRender(t *testing.T) {
	eng := &countingEngine{}
	c := mustCache(t, eng, t.TempDir(), 0)
	ctx := context.Background()
	a, err := c.Synthesize(ctx, "hello there", Voice{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Fatal(err)
	}
	b, err := c.Synthesize(ctx, "hello there", Voice{Lang: "EN"})
	if err != nil || !sameArray(a, b) || len(a) != len(b) {
		t.Fatalf("second render is not the shared slice: %v", err)
	}
	st := c.Stats()
	if st.Hits != 1 || st.MemoryHits != 1 || st.Misses != 1 || eng.calls.Load() != 1 || st.MemoryBytes != int64(2*cap(a)) {
		t.Fatalf("stats %+v calls %d", st, eng.calls.Load())
	}
}

// TestCacheDiskHitIsKeptInMemory: a render read from the file (written by
// another process) is decoded once, then shared.
func TestCacheDiskHitIsKeptInMemory(t *testing.T) {
	eng := &countingEngine{}
	dir := t.TempDir()
	ctx := context.Background()
	want, _ := mustCache(t, eng, dir, 0).Synthesize(ctx, "prompt", Voice{})
	c := mustCache(t, eng, dir, 0)
	a, err := c.Synthesize(ctx, "prompt", Voice{})
	if err != nil || !reflect.DeepEqual(a, want) {
		t.Fatalf("disk hit: %v", err)
	}
	b, _ := c.Synthesize(ctx, "prompt", Voice{})
	if !sameArray(a, b) {
		t.Fatal("disk hit was not kept in memory")
	}
	if st := c.Stats(); st.Hits != 2 || st.MemoryHits != 1 || st.Misses != 0 || eng.calls.Load() != 1 {
		t.Fatalf("stats %+v calls %d", st, eng.calls.Load())
	}
}

// TestCacheMemoryEvictsByBytes: the layer keeps the most recently used
// renders that fit its byte bound.
func TestCacheMemoryEvictsByBytes(t *testing.T) {
	eng := &countingEngine{}
	// Each text is 9 bytes: 10 samples, 20 bytes of PCM; three fit.
	c := mustCacheOpts(t, eng, t.TempDir(), WithMemoryBytes(60))
	ctx := context.Background()
	text := func(i int) string { return "prompt #" + strconv.Itoa(i) }
	r := make([][]int16, 4)
	for i := range 3 {
		r[i], _ = c.Synthesize(ctx, text(i), Voice{})
	}
	if got, _ := c.Synthesize(ctx, text(0), Voice{}); !sameArray(got, r[0]) { // 0 is now the most recent
		t.Fatal("render 0 not in memory")
	}
	r[3], _ = c.Synthesize(ctx, text(3), Voice{}) // evicts 1, the least recently used
	st := c.Stats()
	if st.MemoryEvictions != 1 || st.MemoryBytes != 60 || eng.calls.Load() != 4 {
		t.Fatalf("stats %+v calls %d", st, eng.calls.Load())
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2, 3} {
		if got, _ := c.Synthesize(ctx, text(i), Voice{}); !sameArray(got, r[i]) {
			t.Fatalf("render %d left memory", i)
		}
	}
	if eng.calls.Load() != 4 {
		t.Fatalf("engine ran %d times for renders in memory", eng.calls.Load())
	}
	if got, _ := c.Synthesize(ctx, text(1), Voice{}); sameArray(got, r[1]) || eng.calls.Load() != 5 {
		t.Fatalf("evicted render 1 still served (calls %d)", eng.calls.Load())
	}
	if st := c.Stats(); st.MemoryBytes > 60 {
		t.Fatalf("memory over its bound: %+v", st)
	}
}

func TestCacheMemoryBoundEdges(t *testing.T) {
	ctx := context.Background()
	// A render larger than the whole bound is served but not kept.
	eng := &countingEngine{}
	c := mustCacheOpts(t, eng, t.TempDir(), WithMemoryBytes(10))
	a, _ := c.Synthesize(ctx, "longer than ten bytes", Voice{})
	b, _ := c.Synthesize(ctx, "longer than ten bytes", Voice{})
	if sameArray(a, b) || !reflect.DeepEqual(a, b) || c.Stats().MemoryBytes != 0 || c.Stats().MemoryHits != 0 {
		t.Fatalf("oversized render kept: %+v", c.Stats())
	}
	// WithMemoryBytes(0) turns the layer off: every hit reads the disk.
	c = mustCacheOpts(t, eng, t.TempDir(), WithMemoryBytes(0))
	a, _ = c.Synthesize(ctx, "x", Voice{})
	b, _ = c.Synthesize(ctx, "x", Voice{})
	if sameArray(a, b) || !reflect.DeepEqual(a, b) || c.Stats().MemoryHits != 0 || c.Stats().Hits != 1 {
		t.Fatalf("memory layer not off: %+v", c.Stats())
	}
}

// TestCacheMemoryConcurrent hammers a layer too small for its renders
// (so it evicts all the time) and one large enough for them (so every
// caller shares one slice per prompt); run it with -race.
func TestCacheMemoryConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bound  int64
		shared bool
	}{{"evicting", 100, false}, {"roomy", 1 << 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			eng := &countingEngine{}
			c := mustCacheOpts(t, eng, t.TempDir(), WithMemoryBytes(tc.bound))
			ctx := context.Background()
			const keys, workers, rounds = 8, 16, 200
			text := func(i int) string { return "concurrent prompt " + strconv.Itoa(i) }
			first := make([][]int16, keys)
			for i := range keys {
				first[i], _ = c.Synthesize(ctx, text(i), Voice{})
			}
			var wg sync.WaitGroup
			errs := make(chan string, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						k := (w + r) % keys
						got, err := c.Synthesize(ctx, text(k), Voice{})
						if err != nil || !reflect.DeepEqual(got, first[k]) {
							errs <- "wrong render of " + text(k)
							return
						}
						if tc.shared && !sameArray(got, first[k]) {
							errs <- "not the shared slice: " + text(k)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatal(e)
			}
			st := c.Stats()
			if st.MemoryBytes > tc.bound || st.Hits != workers*rounds || st.Misses != keys || eng.calls.Load() != keys {
				t.Fatalf("stats %+v calls %d", st, eng.calls.Load())
			}
			if tc.shared && st.MemoryHits != workers*rounds {
				t.Fatalf("roomy layer missed: %+v", st)
			}
			if !tc.shared && st.MemoryEvictions == 0 {
				t.Fatalf("small layer never evicted: %+v", st)
			}
		})
	}
}

// BenchmarkCacheHit20s serves a 20-second prompt (160,000 samples) from the
// in-memory layer and, with the layer off, from the disk file.
func BenchmarkCacheHit20s(b *testing.B) {
	const samples = 20 * 8000
	eng := SynthesizerFunc(func(context.Context, string, Voice) ([]int16, error) {
		pcm := make([]int16, samples)
		for i := range pcm {
			pcm[i] = int16(i * 7)
		}
		return pcm, nil
	})
	for _, bc := range []struct {
		name string
		opts []CacheOption
	}{{"memory", nil}, {"disk", []CacheOption{WithMemoryBytes(0)}}} {
		b.Run(bc.name, func(b *testing.B) {
			c := mustCacheOpts(b, eng, b.TempDir(), bc.opts...)
			ctx := context.Background()
			if _, err := c.Synthesize(ctx, "a twenty second prompt", Voice{}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Synthesize(ctx, "a twenty second prompt", Voice{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
