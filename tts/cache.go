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
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheBytes is the cache's size bound when NewCache gets 0.
const DefaultCacheBytes = 256 << 20

// cacheExt names finished cache files; anything else in the directory
// (such as another process's temporary file) is left alone by reads.
const cacheExt = ".pcm"

// Cache memoises a Synthesizer on disk, keyed by a hash of the engine
// name, the voice and the text. Files are written to a temporary name and
// renamed, so concurrent processes sharing the directory never read a
// partial file. Concurrent renders of one key in this process run the
// engine once. The directory is kept under a size bound by evicting the
// least recently used files. A Cache is safe for concurrent use.
type Cache struct {
	next     Synthesizer
	dir      string
	engine   string
	maxBytes int64

	mu       sync.Mutex
	inflight map[string]*flight
	size     int64
	tmpSeq   int64

	hits, misses, evictions, writeErrs, corrupt atomic.Int64
}

type flight struct {
	done chan struct{}
	pcm  []int16
	err  error
}

// CacheStats are the cache's counters since it was opened.
type CacheStats struct {
	// Hits counts renders served from disk or from a render in flight.
	Hits int64
	// Misses counts renders that ran the wrapped engine.
	Misses int64
	// Evictions counts files removed to keep under the size bound.
	Evictions int64
	// WriteErrors counts renders that could not be stored.
	WriteErrors int64
	// Corrupt counts cache files that were unreadable and re-rendered.
	Corrupt int64
	// Bytes is the size of the cache directory as last measured.
	Bytes int64
}

// NewCache wraps next with a disk cache in dir holding at most maxBytes
// (0 means DefaultCacheBytes). engine names the wrapped engine in the
// cache key, so two engines never share renders.
func NewCache(next Synthesizer, dir, engine string, maxBytes int64) (*Cache, error) {
	if next == nil {
		return nil, fmt.Errorf("tts cache: no engine")
	}
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tts cache: %w", err)
	}
	c := &Cache{next: next, dir: dir, engine: engine, maxBytes: maxBytes, inflight: map[string]*flight{}}
	_, c.size = c.scan()
	return c, nil
}

// Key returns the cache key of a render: the hex SHA-256 of the engine
// name, the voice fields and the text.
func Key(engine string, v Voice, text string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s\x00%s\x00%s\x00%d\x00%d\x00", len(engine), engine, v.Lang, v.Gender, v.Pitch, v.Rate)
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) path(key string) string { return filepath.Join(c.dir, key[:2], key+cacheExt) }

// Synthesize returns the cached render or renders it once and stores it.
func (c *Cache) Synthesize(ctx context.Context, text string, v Voice) ([]int16, error) {
	if err := CheckText(text); err != nil {
		return nil, err
	}
	v, err := v.Normalize()
	if err != nil {
		return nil, err
	}
	key := Key(c.engine, v, text)
	if pcm, ok := c.read(key); ok {
		c.hits.Add(1)
		return pcm, nil
	}
	c.mu.Lock()
	if f, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			if f.err != nil {
				if isCtxErr(f.err) && ctx.Err() == nil {
					// The owner of the flight gave up, not this caller.
					return c.Synthesize(ctx, text, v)
				}
				return nil, f.err
			}
			c.hits.Add(1)
			return f.pcm, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("tts cache: %w", ctx.Err())
		}
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[key] = f
	c.mu.Unlock()
	// A flight that ended between the first read and the lock above has
	// stored its render: look again before running the engine.
	if pcm, ok := c.read(key); ok {
		f.pcm = pcm
		c.finish(key, f)
		c.hits.Add(1)
		return pcm, nil
	}
	c.misses.Add(1)
	f.pcm, f.err = c.next.Synthesize(ctx, text, v)
	if f.err == nil {
		c.write(key, f.pcm)
	}
	c.finish(key, f)
	return f.pcm, f.err
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (c *Cache) finish(key string, f *flight) {
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(f.done)
}

// read loads a finished render. A file of odd length is corrupt: it is
// removed, counted and reported as a miss.
func (c *Cache) read(key string) ([]int16, bool) {
	p := c.path(key)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	pcm, err := DecodePCM(data)
	if err != nil {
		c.corrupt.Add(1)
		_ = os.Remove(p)
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // recency for eviction
	return pcm, true
}

// DecodePCM reads little-endian 16-bit samples, the cache's file format.
// It fails on an empty input or one of odd length.
func DecodePCM(data []byte) ([]int16, error) {
	if len(data) == 0 || len(data)%2 != 0 {
		return nil, fmt.Errorf("tts cache: file of %d bytes is not 16-bit PCM", len(data))
	}
	pcm := make([]int16, len(data)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return pcm, nil
}

// EncodePCM writes samples as little-endian 16-bit, the cache's file format.
func EncodePCM(pcm []int16) []byte {
	data := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(s))
	}
	return data
}

func (c *Cache) write(key string, pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.writeErrs.Add(1)
		return
	}
	c.mu.Lock()
	c.tmpSeq++
	seq := c.tmpSeq
	c.mu.Unlock()
	// The temporary name is unique per process and per write.
	tmp := p + ".tmp" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(seq, 36)
	data := EncodePCM(pcm)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		_ = os.Remove(tmp)
		c.writeErrs.Add(1)
		return
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		c.writeErrs.Add(1)
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

type cacheFile struct {
	path string
	size int64
	mod  time.Time
}

// scan lists the finished cache files and their total size.
func (c *Cache) scan() ([]cacheFile, int64) {
	var files []cacheFile
	var total int64
	_ = filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, cacheExt) {
			return nil
		}
		if info, err := d.Info(); err == nil {
			files = append(files, cacheFile{p, info.Size(), info.ModTime()})
			total += info.Size()
		}
		return nil
	})
	return files, total
}

// evict removes the least recently used files until the cache is at 90%
// of its bound. Another process may evict the same files; a file already
// gone is simply skipped.
func (c *Cache) evict() {
	files, total := c.scan()
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	target := c.maxBytes * 9 / 10
	for _, f := range files {
		if total <= target {
			break
		}
		if os.Remove(f.path) == nil {
			c.evictions.Add(1)
		}
		total -= f.size
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
	return CacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		WriteErrors: c.writeErrs.Load(), Corrupt: c.corrupt.Load(), Bytes: size,
	}
}
