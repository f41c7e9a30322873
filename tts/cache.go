package tts

import (
	"container/list"
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

// DefaultMemoryBytes bounds the cache's in-memory layer of decoded renders
// unless WithMemoryBytes says otherwise.
const DefaultMemoryBytes = 64 << 20

// memoryTouchEvery is how often a render served from memory refreshes its
// file's modification time, so the disk's LRU eviction still sees it used
// without a system call on every hit.
const memoryTouchEvery = time.Minute

// cacheExt names finished cache files; anything else in the directory
// (such as another process's temporary file) is left alone by reads.
const cacheExt = ".pcm"

// Cache memoises a Synthesizer on disk, keyed by a hash of the engine
// name, the voice and the text. Files are written to a temporary name and
// renamed, so concurrent processes sharing the directory never read a
// partial file. Concurrent renders of one key in this process run the
// engine once. The directory is kept under a size bound by evicting the
// least recently used files. A Cache is safe for concurrent use.
//
// In front of the directory, decoded renders are kept in memory (least
// recently used first out, bounded in bytes; see WithMemoryBytes), and
// every caller asking for the same render gets the same slice: the PCM
// Synthesize returns is shared and must not be modified.
type Cache struct {
	next     Synthesizer
	dir      string
	engine   string
	maxBytes int64
	memMax   int64

	mu       sync.Mutex
	inflight map[string]*flight
	size     int64
	tmpSeq   int64

	// memMu guards the in-memory layer: mem indexes lru, whose front is
	// the most recently used render.
	memMu    sync.Mutex
	mem      map[string]*list.Element
	lru      list.List
	memBytes int64

	hits, misses, evictions, writeErrs, corrupt atomic.Int64
	memHits, memEvictions                       atomic.Int64
}

// memEntry is one decoded render held in memory.
type memEntry struct {
	key     string
	pcm     []int16
	touched time.Time // last refresh of the file's modification time
}

// CacheOption configures NewCache.
type CacheOption func(*Cache)

// WithMemoryBytes bounds the in-memory layer of decoded renders to n bytes
// of PCM (2 bytes a sample); n <= 0 turns the layer off, so every hit reads
// and decodes the file. Without this option the bound is
// DefaultMemoryBytes.
func WithMemoryBytes(n int64) CacheOption {
	return func(c *Cache) { c.memMax = max(n, 0) }
}

type flight struct {
	done chan struct{}
	pcm  []int16
	err  error
}

// CacheStats are the cache's counters since it was opened.
type CacheStats struct {
	// Hits counts renders served from memory, from disk or from a render
	// in flight.
	Hits int64
	// MemoryHits counts the Hits served from the in-memory layer, without
	// touching the disk.
	MemoryHits int64
	// MemoryEvictions counts renders dropped from memory to keep under
	// its bound (their files stay on disk).
	MemoryEvictions int64
	// MemoryBytes is the PCM held in memory now.
	MemoryBytes int64
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
// cache key, so two engines never share renders. Options tune the
// in-memory layer.
func NewCache(next Synthesizer, dir, engine string, maxBytes int64, opts ...CacheOption) (*Cache, error) {
	if next == nil {
		return nil, fmt.Errorf("tts cache: no engine")
	}
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tts cache: %w", err)
	}
	c := &Cache{next: next, dir: dir, engine: engine, maxBytes: maxBytes, memMax: DefaultMemoryBytes,
		inflight: map[string]*flight{}, mem: map[string]*list.Element{}}
	for _, o := range opts {
		o(c)
	}
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
// The returned PCM is shared with every other caller of the same render
// (and kept by the cache): it must not be modified.
func (c *Cache) Synthesize(ctx context.Context, text string, v Voice) ([]int16, error) {
	if err := CheckText(text); err != nil {
		return nil, err
	}
	v, err := v.Normalize()
	if err != nil {
		return nil, err
	}
	key := Key(c.engine, v, text)
	if pcm, ok := c.memGet(key); ok {
		c.hits.Add(1)
		c.memHits.Add(1)
		return pcm, nil
	}
	if pcm, ok := c.read(key); ok {
		c.hits.Add(1)
		return c.memPut(key, pcm), nil
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
		f.pcm = c.memPut(key, pcm)
		c.finish(key, f)
		c.hits.Add(1)
		return f.pcm, nil
	}
	c.misses.Add(1)
	f.pcm, f.err = c.next.Synthesize(ctx, text, v)
	if f.err == nil {
		c.write(key, f.pcm)
		f.pcm = c.memPut(key, f.pcm)
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

// pcmBytes is what a render costs in memory: its whole backing array.
func pcmBytes(pcm []int16) int64 { return 2 * int64(cap(pcm)) }

// memGet returns the render held in memory, marking it most recently
// used. Now and then it refreshes the file's modification time so the
// disk eviction does not take a render that is hot in memory for cold.
func (c *Cache) memGet(key string) ([]int16, bool) {
	if c.memMax == 0 {
		return nil, false
	}
	c.memMu.Lock()
	el, ok := c.mem[key]
	if !ok {
		c.memMu.Unlock()
		return nil, false
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*memEntry)
	pcm := e.pcm
	now := time.Now()
	touch := now.Sub(e.touched) >= memoryTouchEvery
	if touch {
		e.touched = now
	}
	c.memMu.Unlock()
	if touch {
		_ = os.Chtimes(c.path(key), now, now) // a file already evicted stays gone
	}
	return pcm, true
}

// memPut stores a render in memory and returns the slice callers must
// share: the one already held when another caller stored the same render
// first, else pcm. A render larger than the whole bound is not kept.
// Least recently used renders leave until the layer fits its bound.
func (c *Cache) memPut(key string, pcm []int16) []int16 {
	n := pcmBytes(pcm)
	if c.memMax == 0 || n == 0 || n > c.memMax {
		return pcm
	}
	c.memMu.Lock()
	defer c.memMu.Unlock()
	if el, ok := c.mem[key]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*memEntry).pcm
	}
	c.mem[key] = c.lru.PushFront(&memEntry{key: key, pcm: pcm, touched: time.Now()})
	c.memBytes += n
	for c.memBytes > c.memMax {
		el := c.lru.Back()
		e := el.Value.(*memEntry)
		c.lru.Remove(el)
		delete(c.mem, e.key)
		c.memBytes -= pcmBytes(e.pcm)
		c.memEvictions.Add(1)
	}
	return pcm
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
	c.memMu.Lock()
	memBytes := c.memBytes
	c.memMu.Unlock()
	return CacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		WriteErrors: c.writeErrs.Load(), Corrupt: c.corrupt.Load(), Bytes: size,
		MemoryHits: c.memHits.Load(), MemoryEvictions: c.memEvictions.Load(), MemoryBytes: memBytes,
	}
}
