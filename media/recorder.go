package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// Recorder tuning.
const (
	// recordBuf is how many samples per channel a recorder holds before
	// writing them (4 s).
	recordBuf = 4 * SampleRate
	// RecordLag is how far behind the newest sent audio the recorder
	// writes, so received audio delayed by jitter still lands in place.
	RecordLag = 500 * time.Millisecond
	// recordChunk is the least amount written at once (and so the header
	// refresh period): 250 ms.
	recordChunk = SampleRate / 4
	// wavHeaderSize and wavDataSizeAt describe go-audio/wav's PCM header.
	wavHeaderSize = 44
	wavDataSizeAt = 40
)

// Recorder writes a stereo 8 kHz 16-bit WAV of a call while it runs: left
// = audio received from the far end, right = audio we sent, aligned in
// time. Received audio is placed by its RTP timestamp (anchored at the
// arrival of its first packet), sent audio by the send schedule; gaps are
// silence. Audio is written in chunks about RecordLag behind real time,
// and the RIFF and data sizes are rewritten after every chunk, so the file
// is a valid WAV at any moment: a crash loses at most the last ~0.75 s.
//
// Create one with Stream.Record (or NewRecorder for a standalone file) and
// finish it with Close, which writes what is pending. The caller owns w
// and closes it after Close. Safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	w       io.WriteSeeker
	now     func() time.Time
	start   time.Time
	closed  bool
	err     error
	onClose func(*Recorder)

	flushed     int64 // samples per channel already in the file
	left, right [recordBuf]int16
	high        int64 // end of the furthest sample placed

	haveSent   bool
	sentFrame0 int64
	sentBase   int64

	scratch   [recordChunk * 4]byte
	dataBytes int64
	dropped   int64
}

// NewRecorder writes a WAV header to w and returns a recorder whose time
// zero is now (now() when now is non-nil, else time.Now).
func NewRecorder(w io.WriteSeeker, now func() time.Time) (*Recorder, error) {
	if now == nil {
		now = time.Now
	}
	enc := wav.NewEncoder(w, SampleRate, 16, 2, 1)
	// An empty write emits the 44-byte header with a data chunk.
	if err := enc.Write(&audio.IntBuffer{Format: &audio.Format{NumChannels: 2, SampleRate: SampleRate}, SourceBitDepth: 16}); err != nil {
		return nil, fmt.Errorf("new recorder: %w", err)
	}
	r := &Recorder{w: w, now: now, start: now()}
	if err := r.patchHeaderLocked(); err != nil {
		return nil, fmt.Errorf("new recorder: %w", err)
	}
	return r, nil
}

// Record starts recording the stream to w (see Recorder); a recorder
// already attached is closed first. The stream closes the recorder when
// the stream closes; closing the recorder earlier detaches it.
func (s *Stream) Record(w io.WriteSeeker) (*Recorder, error) {
	if !s.isStarted() {
		// Recording before Start is fine, but not after Close.
		s.lifeMu.Lock()
		closed := s.closed
		s.lifeMu.Unlock()
		if closed {
			return nil, fmt.Errorf("record: %w", ErrClosed)
		}
	}
	r, err := NewRecorder(w, s.now)
	if err != nil {
		return nil, err
	}
	r.onClose = func(r *Recorder) { s.rec.CompareAndSwap(r, nil) }
	if old := s.rec.Swap(r); old != nil {
		if err := old.Close(); err != nil {
			s.log.Warn("closing previous recorder", "err", err)
		}
	}
	return r, nil
}

// positionAt converts a time into a sample position of the recording.
func (r *Recorder) positionAt(t time.Time) int64 {
	return int64(t.Sub(r.start) * SampleRate / time.Second)
}

// putSent places one sent frame; frameNo is the sender's frame counter.
func (r *Recorder) putSent(frameNo int64, pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if !r.haveSent {
		r.haveSent, r.sentFrame0 = true, frameNo
		r.sentBase = r.positionAt(r.now())
	}
	pos := r.sentBase + (frameNo-r.sentFrame0)*FrameSamples
	r.placeLocked(r.right[:], pos, pcm)
	if target := pos + int64(len(pcm)) - int64(Samples(RecordLag)); target-r.flushed >= recordChunk {
		r.flushLocked(target)
	}
}

// putReceived places received audio at sample position pos.
func (r *Recorder) putReceived(pos int64, pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.placeLocked(r.left[:], pos, pcm)
}

// WriteReceived places received (left channel) audio at time at. It lets
// callers other than a Stream (a bridge, a test) feed a recorder.
func (r *Recorder) WriteReceived(at time.Time, pcm []int16) {
	r.putReceived(r.positionAt(at), pcm)
}

// WriteSent places sent (right channel) audio at time at and writes what
// is older than RecordLag.
func (r *Recorder) WriteSent(at time.Time, pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	pos := r.positionAt(at)
	r.placeLocked(r.right[:], pos, pcm)
	if target := pos + int64(len(pcm)) - int64(Samples(RecordLag)); target-r.flushed >= recordChunk {
		r.flushLocked(target)
	}
}

// placeLocked copies pcm into ch at absolute position pos. Audio before
// what is already written is dropped (counted); audio too far ahead forces
// older audio out first.
func (r *Recorder) placeLocked(ch []int16, pos int64, pcm []int16) {
	if pos < r.flushed {
		skip := r.flushed - pos
		if skip >= int64(len(pcm)) {
			r.dropped += int64(len(pcm))
			return
		}
		r.dropped += skip
		pcm, pos = pcm[skip:], r.flushed
	}
	end := pos + int64(len(pcm))
	if end-r.flushed > recordBuf {
		r.flushLocked(end - recordBuf)
		if pos < r.flushed { // more than the whole buffer at once
			pcm, pos = pcm[r.flushed-pos:], r.flushed
		}
	}
	for i, v := range pcm {
		ch[(pos+int64(i))%recordBuf] = v
	}
	if end > r.high {
		r.high = end
	}
}

// flushLocked writes samples [flushed, upto) of both channels and clears
// their ring slots.
func (r *Recorder) flushLocked(upto int64) {
	if r.err != nil || upto <= r.flushed {
		return
	}
	for r.flushed < upto {
		n := min(upto-r.flushed, recordChunk)
		b := r.scratch[:n*4]
		for i := int64(0); i < n; i++ {
			k := (r.flushed + i) % recordBuf
			binary.LittleEndian.PutUint16(b[i*4:], uint16(r.left[k]))
			binary.LittleEndian.PutUint16(b[i*4+2:], uint16(r.right[k]))
			r.left[k], r.right[k] = 0, 0
		}
		if _, err := r.w.Write(b); err != nil {
			r.err = fmt.Errorf("record: %w", err)
			return
		}
		r.dataBytes += int64(len(b))
		r.flushed += n
	}
	if r.high < r.flushed {
		r.high = r.flushed
	}
	if err := r.patchHeaderLocked(); err != nil {
		r.err = fmt.Errorf("record: %w", err)
	}
}

// patchHeaderLocked rewrites the RIFF and data sizes for what is written.
func (r *Recorder) patchHeaderLocked() error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(wavHeaderSize-8+r.dataBytes))
	if _, err := r.w.Seek(4, io.SeekStart); err != nil {
		return err
	}
	if _, err := r.w.Write(b[:]); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:], uint32(r.dataBytes))
	if _, err := r.w.Seek(wavDataSizeAt, io.SeekStart); err != nil {
		return err
	}
	if _, err := r.w.Write(b[:]); err != nil {
		return err
	}
	_, err := r.w.Seek(0, io.SeekEnd)
	return err
}

// Duration returns how much audio has been written to the file so far.
func (r *Recorder) Duration() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Duration(int(r.flushed))
}

// Close writes all pending audio, finalises the header (and syncs an
// *os.File) and detaches the recorder from its stream. It does not close
// w. It returns the first write error met while recording.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.err
	}
	r.closed = true
	r.flushLocked(r.high)
	if r.err == nil {
		// go-audio's Encoder.Close would size the data chunk from its own
		// frame count (zero here): the header is patched by hand instead.
		if err := r.patchHeaderLocked(); err != nil {
			r.err = fmt.Errorf("record: %w", err)
		}
	}
	if f, ok := r.w.(*os.File); ok && r.err == nil {
		_ = f.Sync()
	}
	err, onClose := r.err, r.onClose
	r.mu.Unlock()
	if onClose != nil {
		onClose(r)
	}
	return err
}
