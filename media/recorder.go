package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
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
	// recordPendInit is the initial capacity of each of a recorder's two
	// byte buffers between the ring and the file (3 chunks).
	recordPendInit = 3 * recordChunk * 4
	// recordMaxPending bounds the audio a recorder buffers while its
	// writer is behind (8 s, 256 kB): beyond it, audio is replaced by
	// silence of the same length (counted), so a stalled disk costs
	// bounded memory and the timeline stays intact.
	recordMaxPending = 8 * SampleRate * 4
	// wavHeaderSize is the size of the canonical PCM WAV header.
	wavHeaderSize = 44
)

// recordZeros is the silence written for audio dropped by a recorder
// whose writer fell behind.
var recordZeros [4 * recordChunk * 4]byte

// Recorder writes a stereo 8 kHz 16-bit WAV of a call while it runs: left
// = audio received from the far end, right = audio we sent, aligned in
// time. Received audio is placed by its RTP timestamp (anchored at the
// arrival of its first packet), sent audio by the send schedule; gaps are
// silence. Audio is written in chunks about RecordLag behind real time,
// and the RIFF and data sizes are rewritten after every chunk, so the file
// is a valid WAV at any moment: a crash loses at most the last ~0.75 s
// (plus any chunk the background writer had not reached yet, normally
// none).
//
// The file is written by a small pool of writer goroutines shared by all
// recorders, never by the caller feeding audio (the RTP pacer), so a slow
// disk does not delay RTP. When w is an io.WriterAt (an *os.File is), audio
// and header updates are written at their offsets (pwrite) without
// seeking. If the writer falls more than 8 s behind, later audio is
// replaced by silence until it catches up.
//
// Create one with Stream.Record (or NewRecorder for a standalone file) and
// finish it with Close, which writes what is pending. The caller owns w
// and closes it after Close. Safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex // guards the fields up to fmu
	now     func() time.Time
	start   time.Time
	closed  bool
	err     error
	onClose func(*Recorder)
	done    chan struct{} // closed when Close has finished

	flushed     int64 // samples per channel taken out of the ring
	left, right [recordBuf]int16
	high        int64 // end of the furthest sample placed

	haveSent   bool
	sentFrame0 int64
	sentBase   int64

	pend      []byte // interleaved samples taken out of the ring, not yet written
	gap       int64  // bytes of silence owed after pend (audio dropped when pend was full)
	queued    bool   // in the writer queue or being written
	queueFull int64  // chunks that found the writer queue full
	dropped   int64  // samples that arrived after their position was written
	overflow  int64  // samples per channel replaced by silence (writer behind)

	fmu       sync.Mutex // serialises file access: the writer and Close
	w         io.WriteSeeker
	wa        io.WriterAt // w, when it is one
	out       []byte      // the buffer being written (swapped with pend)
	dataBytes int64       // bytes of audio in the file
	ferr      error       // first file error; the file is left alone after it
	fileDone  bool        // Close has finished the file

	written atomic.Int64 // samples per channel the file's header declares
}

// NewRecorder writes a WAV header to w and returns a recorder whose time
// zero is now (now() when now is non-nil, else time.Now).
func NewRecorder(w io.WriteSeeker, now func() time.Time) (*Recorder, error) {
	if now == nil {
		now = time.Now
	}
	r := &Recorder{
		w:     w,
		now:   now,
		start: now(),
		done:  make(chan struct{}),
		pend:  make([]byte, 0, recordPendInit),
		out:   make([]byte, 0, recordPendInit),
	}
	r.wa, _ = w.(io.WriterAt)
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

// flushLocked moves samples [flushed, upto) of both channels out of the
// ring into pend (interleaved little-endian stereo) and hands the
// recorder to the writer pool. It does no I/O and, once the buffers have
// grown to their working size, no allocation.
func (r *Recorder) flushLocked(upto int64) {
	if r.err != nil || upto <= r.flushed {
		return
	}
	for r.flushed < upto {
		k := r.flushed % recordBuf
		n := min(upto-r.flushed, recordBuf-k, recordChunk)
		nb := int(n) * 4
		if r.gap == 0 && (r.closed || len(r.pend)+nb <= recordMaxPending) {
			at := len(r.pend)
			r.pend = slices.Grow(r.pend, nb)[:at+nb]
			b := r.pend[at:]
			left, right := r.left[k:k+n], r.right[k:k+n]
			right = right[:len(left)]
			b = b[:len(left)*4]
			for i, l := range left {
				binary.LittleEndian.PutUint16(b[i*4:], uint16(l))
				binary.LittleEndian.PutUint16(b[i*4+2:], uint16(right[i]))
			}
		} else {
			r.gap += int64(nb)
			r.overflow += n
		}
		clear(r.left[k : k+n])
		clear(r.right[k : k+n])
		r.flushed += n
	}
	if r.high < r.flushed {
		r.high = r.flushed
	}
	r.kickLocked()
}

// kickLocked queues the recorder for the writer pool unless it is queued
// (or being written) already or closed. A full queue leaves the audio
// buffered for the next chunk's attempt.
func (r *Recorder) kickLocked() {
	if r.queued || r.closed || (len(r.pend) == 0 && r.gap == 0) {
		return
	}
	if enqueueRecorder(r) {
		r.queued = true
	} else {
		r.queueFull++
	}
}

// writeQueued runs on a writer goroutine: it writes what the recorder has
// buffered and patches the header, then queues the recorder again if
// more audio arrived meanwhile.
func (r *Recorder) writeQueued() {
	r.fmu.Lock()
	var err error
	if !r.fileDone {
		r.mu.Lock()
		gap := r.takeLocked()
		r.mu.Unlock()
		err = r.writeLocked(r.out, gap)
	}
	r.fmu.Unlock()
	r.mu.Lock()
	r.queued = false
	r.setErrLocked(err)
	r.kickLocked()
	r.mu.Unlock()
}

// takeLocked swaps pend with the (written) out buffer and returns the
// silence owed after it. Both r.mu and r.fmu are held.
func (r *Recorder) takeLocked() (gap int64) {
	r.pend, r.out = r.out[:0], r.pend
	gap, r.gap = r.gap, 0
	return gap
}

// setErrLocked records the first error.
func (r *Recorder) setErrLocked(err error) {
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("record: %w", err)
	}
}

// writeLocked appends b and gap bytes of silence to the file and patches
// the header (r.fmu held). After an error it leaves the file alone.
func (r *Recorder) writeLocked(b []byte, gap int64) error {
	if r.ferr != nil || (len(b) == 0 && gap == 0) {
		return nil
	}
	err := r.writeDataLocked(b)
	for err == nil && gap > 0 {
		n := min(gap, int64(len(recordZeros)))
		err = r.writeDataLocked(recordZeros[:n])
		gap -= n
	}
	if err == nil {
		err = r.patchHeaderLocked()
	}
	r.ferr = err
	return err
}

// writeDataLocked appends audio bytes after those already in the file.
func (r *Recorder) writeDataLocked(b []byte) error {
	off := wavHeaderSize + r.dataBytes
	var err error
	if r.wa != nil {
		_, err = r.wa.WriteAt(b, off)
	} else if _, err = r.w.Seek(off, io.SeekStart); err == nil {
		_, err = r.w.Write(b)
	}
	if err != nil {
		return err
	}
	r.dataBytes += int64(len(b))
	return nil
}

// wavHeader returns the 44-byte header of a stereo 8 kHz 16-bit PCM WAV
// holding dataBytes of audio.
func wavHeader(dataBytes int64) [wavHeaderSize]byte {
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(wavHeaderSize-8+dataBytes))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16) // fmt chunk size
	le.PutUint16(h[20:], 1)  // PCM
	le.PutUint16(h[22:], 2)  // channels
	le.PutUint32(h[24:], SampleRate)
	le.PutUint32(h[28:], SampleRate*4) // bytes per second
	le.PutUint16(h[32:], 4)            // bytes per frame
	le.PutUint16(h[34:], 16)           // bits per sample
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(dataBytes))
	return h
}

// patchHeaderLocked (re)writes the header for the audio in the file: one
// pwrite when w is an io.WriterAt, else a seek and a write.
func (r *Recorder) patchHeaderLocked() error {
	h := wavHeader(r.dataBytes)
	var err error
	if r.wa != nil {
		_, err = r.wa.WriteAt(h[:], 0)
	} else if _, err = r.w.Seek(0, io.SeekStart); err == nil {
		_, err = r.w.Write(h[:])
	}
	if err == nil {
		r.written.Store(r.dataBytes / 4)
	}
	return err
}

// Duration returns how much audio the file holds so far (as its header
// declares). The background writer may lag the audio fed to the recorder
// by a chunk or so; after Close it is the whole recording.
func (r *Recorder) Duration() time.Duration {
	return Duration(int(r.written.Load()))
}

// Close writes all pending audio, waiting for a write in progress,
// finalises the header (and syncs an *os.File) and detaches the recorder
// from its stream. It does not close w; it leaves w's offset at the end
// of the file. It returns the first write error met while recording.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.err
	}
	r.closed = true // from here on, put* ignore audio and nothing is queued
	onClose := r.onClose
	r.mu.Unlock()

	r.fmu.Lock() // waits for a write in progress
	// What the writer has not reached, then the rest of the ring.
	r.mu.Lock()
	gap := r.takeLocked()
	r.mu.Unlock()
	err := r.writeLocked(r.out, gap)
	if err == nil {
		r.mu.Lock()
		r.flushLocked(r.high)
		gap = r.takeLocked()
		r.mu.Unlock()
		err = r.writeLocked(r.out, gap)
	}
	if err == nil && r.ferr == nil {
		// Also when nothing was written: the header is final.
		err = r.patchHeaderLocked()
		if err == nil {
			_, err = r.w.Seek(0, io.SeekEnd)
		}
	}
	r.mu.Lock()
	r.setErrLocked(err)
	err = r.err
	r.mu.Unlock()
	if f, ok := r.w.(*os.File); ok && err == nil {
		_ = f.Sync()
	}
	r.fileDone = true
	r.fmu.Unlock()
	close(r.done)
	if onClose != nil {
		onClose(r)
	}
	return err
}
