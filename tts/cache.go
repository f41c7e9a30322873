package tts

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Cache memoises a Synthesizer on disk, keyed by a hash of the engine
// name, the voice and the text. Files are written to a temporary name and
// renamed, so concurrent processes sharing the directory never read a
// partial file. Concurrent renders of one key in this process run the
// engine once. The directory is kept under a size bound by evicting the
// least recently used files.
type Cache struct {
	next     Synthesizer
	dir      string
	engine   string
	maxBytes int64

	mu       sync.Mutex
	inflight map[string]*flight
	size     int64

	hits, misses, evictions atomic.Int64
}

type flight struct {
	done chan struct{}
	pcm  []int16
	err  error
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Hits, Misses, Evictions int64
	Bytes                   int64
}

// NewCache wraps next with a disk cache in dir holding at most maxBytes
// (0 means 256 MiB). engine names the wrapped engine in the cache key.
func NewCache(next Synthesizer, dir, engine string, maxBytes int64) (*Cache, error) {
	if maxBytes <= 0 {
		maxBytes = 256 << 20
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tts cache: %w", err)
	}
	c := &Cache{next: next, dir: dir, engine: engine, maxBytes: maxBytes, inflight: map[string]*flight{}}
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				c.size += info.Size()
			}
		}
		return nil
	})
	return c, nil
}

// Key returns the cache key of a render.
func Key(engine string, v Voice, text string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%d\x00", engine, v.Lang, v.Gender, v.Pitch, v.Rate)
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) path(key string) string { return filepath.Join(c.dir, key[:2], key+".pcm") }

// Synthesize returns the cached render or renders it once.
func (c *Cache) Synthesize(ctx context.Context, text string, v Voice) ([]int16, error) {
	if err := CheckText(text); err != nil {
		return nil, err
	}
	v, err := v.Normalize()
	if err != nil {
		return nil, err
	}
	key := Key(c.engine, v, text)
	if pcm, err := c.read(key); err == nil {
		c.hits.Add(1)
		return pcm, nil
	}
	c.mu.Lock()
	if f, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			c.hits.Add(1)
			return f.pcm, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[key] = f
	c.mu.Unlock()
	c.misses.Add(1)
	f.pcm, f.err = c.next.Synthesize(ctx, text, v)
	if f.err == nil {
		c.write(key, f.pcm)
	}
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(f.done)
	return f.pcm, f.err
}

func (c *Cache) read(key string) ([]int16, error) {
	p := c.path(key)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if len(data)%2 != 0 {
		return nil, errors.New("tts cache: odd file size")
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // recency for eviction
	pcm := make([]int16, len(data)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return pcm, nil
}

func (c *Cache) write(key string, pcm []int16) {
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	data := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(s))
	}
	tmp := p + ".tmp" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return
	}
	c.mu.Lock()
	c.size += int64(len(data))
	over := c.size > c.maxBytes
	c.mu.Unlock()
	if over {
		c.evict()
	}
}

// evict removes the least recently used files until the cache is at 90%
// of its bound.
func (c *Cache) evict() {
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	_ = filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			files = append(files, file{p, info.Size(), info.ModTime()})
			total += info.Size()
		}
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	target := c.maxBytes * 9 / 10
	for _, f := range files {
		if total <= target {
			break
		}
		if os.Remove(f.path) == nil {
			total -= f.size
			c.evictions.Add(1)
		}
	}
	c.mu.Lock()
	c.size = total
	c.mu.Unlock()
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	size := c.size
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(), Bytes: size}
}
