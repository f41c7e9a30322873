package siptest

import (
	"fmt"
	"os"
	"sync"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// recorder writes what the phone hears as mono 8 kHz 16-bit WAV.
type recorder struct {
	mu  sync.Mutex
	f   *os.File
	enc *wav.Encoder
	buf audio.IntBuffer
	n   int
}

func newRecorder(path string) (*recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &recorder{f: f, enc: wav.NewEncoder(f, 8000, 16, 1, 1)}
	r.buf = audio.IntBuffer{Format: &audio.Format{NumChannels: 1, SampleRate: 8000}, SourceBitDepth: 16, Data: make([]int, 0, 480)}
	// An empty write gives a valid header even for a call with no audio.
	if err := r.enc.Write(&r.buf); err != nil {
		f.Close()
		return nil, fmt.Errorf("record: %w", err)
	}
	return r, nil
}

func (r *recorder) write(pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.enc == nil {
		return
	}
	r.buf.Data = r.buf.Data[:0]
	for _, s := range pcm {
		r.buf.Data = append(r.buf.Data, int(s))
	}
	if r.enc.Write(&r.buf) == nil {
		r.n += len(pcm)
	}
}

func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.enc == nil {
		return nil
	}
	err := r.enc.Close()
	r.enc = nil
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}
