package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// waitWritten waits until the background writer has written all the audio
// taken out of r's ring (the file's header declares it).
func waitWritten(r *Recorder, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		want := r.flushed
		r.mu.Unlock()
		if r.written.Load() == want {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// memFile is an in-memory io.WriteSeeker (not an io.WriterAt) whose
// Write can be made to block until released.
type memFile struct {
	mu      sync.Mutex
	buf     []byte
	pos     int64
	gate    chan struct{} // when non-nil, Write waits for it to be closed
	blocked chan struct{} // gets a value when a Write starts waiting
}

func (m *memFile) Write(p []byte) (int, error) {
	m.mu.Lock()
	gate := m.gate
	m.mu.Unlock()
	if gate != nil {
		select {
		case m.blocked <- struct{}{}:
		default:
		}
		<-gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := m.pos + int64(len(p)); end > int64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, end-int64(len(m.buf)))...)
	}
	copy(m.buf[m.pos:], p)
	m.pos += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch whence {
	case io.SeekCurrent:
		off += m.pos
	case io.SeekEnd:
		off += int64(len(m.buf))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	m.pos = off
	return off, nil
}

// block makes Writes wait until the returned function is called.
func (m *memFile) block(t *testing.T) (release func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gate := make(chan struct{})
	m.gate, m.blocked = gate, make(chan struct{}, 1)
	release = sync.OnceFunc(func() {
		m.mu.Lock()
		m.gate = nil
		m.mu.Unlock()
		close(gate)
	})
	t.Cleanup(release) // a failing test never leaves the writer stuck
	return release
}

func (m *memFile) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.buf)
}

// readStereoBytes decodes a recording held in memory (see readStereo).
func readStereoBytes(t *testing.T, b []byte) (left, right []int16) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mem.wav")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return readStereo(t, path)
}

// The recorder writes its own header: it must be the one go-audio writes.
func TestRecorderHeaderMatchesEncoder(t *testing.T) {
	var m memFile
	enc := wav.NewEncoder(&m, SampleRate, 16, 2, 1)
	if err := enc.Write(&audio.IntBuffer{Format: &audio.Format{NumChannels: 2, SampleRate: SampleRate}, SourceBitDepth: 16}); err != nil {
		t.Fatal(err)
	}
	// go-audio leaves placeholder sizes (4 and 40) for its Close to fix.
	h, got := wavHeader(0), m.bytes()
	if len(got) != wavHeaderSize || !bytes.Equal(got[:4], h[:4]) || !bytes.Equal(got[8:40], h[8:40]) {
		t.Fatalf("header\n%x, go-audio writes\n%x", h, got)
	}
}

// A writer stuck on the disk must not hold up the callers feeding audio
// (the RTP pacer): they only buffer. Close waits for the stuck write and
// then writes everything.
func TestRecorderBlockedWriterDoesNotBlockFeeding(t *testing.T) {
	m := &memFile{}
	t0 := time.Unix(0, 0)
	var nowMu sync.Mutex
	now := t0
	clock := func() time.Time { nowMu.Lock(); defer nowMu.Unlock(); return now }
	r, err := NewRecorder(m, clock)
	if err != nil {
		t.Fatal(err)
	}
	release := m.block(t)
	const frames = 250 // 5 s
	sent := Tone(700, 8000, FrameSamples)
	recv := Tone(1100, 8000, FrameSamples)
	fed := make(chan time.Duration)
	go func() {
		var worst time.Duration
		for i := 0; i < frames; i++ {
			at := t0.Add(time.Duration(i) * FrameDuration)
			nowMu.Lock()
			now = at
			nowMu.Unlock()
			start := time.Now()
			r.WriteReceived(at, recv)
			if i%2 == 0 {
				r.putSent(int64(i), sent)
			} else {
				r.WriteSent(at, sent)
			}
			worst = max(worst, time.Since(start))
		}
		fed <- worst
	}()
	select {
	case worst := <-fed:
		t.Logf("slowest frame while the writer was blocked: %v", worst)
	case <-time.After(10 * time.Second):
		t.Fatal("feeding the recorder blocked on the stuck writer")
	}
	select {
	case <-m.blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("the background writer never started writing")
	}
	if d := r.Duration(); d != 0 {
		t.Fatalf("file holds %v while its writer is stuck", d)
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a write was stuck", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	left, right := readStereoBytes(t, m.bytes())
	if len(left) != frames*FrameSamples {
		t.Fatalf("%d samples per channel, want %d", len(left), frames*FrameSamples)
	}
	if r.Duration() != Duration(len(left)) {
		t.Fatalf("Duration %v, file %v", r.Duration(), Duration(len(left)))
	}
	for i := 0; i+1600 <= len(left); i += 1600 {
		if p := Goertzel(right[i:i+1600], 700); p < 0.03 {
			t.Fatalf("right channel lost at sample %d (700 Hz power %v)", i, p)
		}
		if p := Goertzel(left[i:i+1600], 1100); p < 0.03 {
			t.Fatalf("left channel lost at sample %d (1100 Hz power %v)", i, p)
		}
	}
	if r.overflow != 0 || r.dropped != 0 {
		t.Fatalf("overflow %d dropped %d", r.overflow, r.dropped)
	}
}

// A writer stuck for longer than recordMaxPending costs bounded memory:
// the audio beyond it becomes silence of the same length, so what follows
// stays in place.
func TestRecorderBlockedWriterOverflowKeepsTimeline(t *testing.T) {
	m := &memFile{}
	t0 := time.Unix(0, 0)
	r, err := NewRecorder(m, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	release := m.block(t)
	const frames = 750 // 15 s
	sent := Tone(700, 8000, FrameSamples)
	for i := 0; i < frames; i++ {
		r.WriteSent(t0.Add(time.Duration(i)*FrameDuration), sent)
		if i == 50 { // 1 s: the first chunk has been handed over
			select {
			case <-m.blocked:
			case <-time.After(5 * time.Second):
				t.Fatal("the background writer never started writing")
			}
		}
	}
	r.mu.Lock()
	pending, overflow := len(r.pend), r.overflow
	r.mu.Unlock()
	if pending > recordMaxPending || overflow == 0 {
		t.Fatalf("%d bytes buffered (limit %d), %d samples overflowed", pending, recordMaxPending, overflow)
	}
	release()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_, right := readStereoBytes(t, m.bytes())
	if len(right) != frames*FrameSamples {
		t.Fatalf("%d samples per channel, want %d", len(right), frames*FrameSamples)
	}
	// The overflow is the one long run of silence (a tone has isolated
	// zero samples).
	run, longest := 0, 0
	for _, v := range right {
		if v != 0 {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	if int64(longest) < overflow || int64(longest) > overflow+2 {
		t.Fatalf("%d samples of silence, %d overflowed", longest, overflow)
	}
	if p := Goertzel(right[len(right)-1600:], 700); p < 0.03 {
		t.Fatal("audio after the overflow lost")
	}
}

// Idle writer goroutines exit.
func TestRecorderWritersExitWhenIdle(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "idle.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t0 := time.Unix(0, 0)
	r, err := NewRecorder(f, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		r.WriteSent(t0.Add(time.Duration(i)*FrameDuration), make([]int16, FrameSamples))
	}
	if !waitWritten(r, 5*time.Second) {
		t.Fatal("not written")
	}
	if n := recordWorkersRunning(); n < 1 || n > recordWriters {
		t.Fatalf("%d writers running", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * recordWriterIdle)
	for recordWorkersRunning() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers still running after %v idle", recordWorkersRunning(), 10*recordWriterIdle)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readStereo decodes a recording with go-audio/wav and checks its header.
func readStereo(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	if !d.IsValidFile() {
		t.Fatalf("%s: not a valid WAV", path)
	}
	if d.SampleRate != 8000 || d.NumChans != 2 || d.BitDepth != 16 {
		t.Fatalf("format %d Hz %d ch %d bit", d.SampleRate, d.NumChans, d.BitDepth)
	}
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if int64(len(buf.Data)*2+44) != fi.Size() {
		t.Fatalf("header declares %d samples, file has %d bytes", len(buf.Data), fi.Size())
	}
	for i := 0; i+1 < len(buf.Data); i += 2 {
		left = append(left, int16(buf.Data[i]))
		right = append(right, int16(buf.Data[i+1]))
	}
	return left, right
}

// onset returns the first sample index where |x| exceeds thr, or -1.
func onset(pcm []int16, thr int16) int {
	for i, v := range pcm {
		if v > thr || v < -thr {
			return i
		}
	}
	return -1
}

func TestRecorderAlignmentAndGaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	now := t0
	r, err := NewRecorder(f, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	// Right: 3 s of sent frames, a 1 kHz burst in frames 50-59 (1.0-1.2 s).
	// Left: received audio placed by time, a 500 Hz burst at 2.0-2.2 s and
	// nothing between 0.5 s and 2.0 s (a gap, to be silence).
	burst := Tone(1000, 8000, FrameSamples)
	low := Tone(500, 8000, FrameSamples)
	quiet := make([]int16, FrameSamples)
	for i := 0; i < 150; i++ {
		now = t0.Add(time.Duration(i) * FrameDuration)
		if i >= 50 && i < 60 {
			r.WriteSent(now, burst)
		} else {
			r.WriteSent(now, quiet)
		}
		switch {
		case i < 25:
			r.WriteReceived(now, Tone(300, 100, FrameSamples)) // faint
		case i >= 100 && i < 110:
			r.WriteReceived(now, low)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	left, right := readStereo(t, path)
	if len(left) != 150*FrameSamples {
		t.Fatalf("%d samples per channel, want %d", len(left), 150*FrameSamples)
	}
	if o := onset(right, 1000); o < 8000-2 || o > 8000+2 {
		t.Fatalf("right burst at sample %d, want 8000", o)
	}
	if o := onset(left, 1000); o < 16000-2 || o > 16000+2 {
		t.Fatalf("left burst at sample %d, want 16000", o)
	}
	for i := 25 * FrameSamples; i < 100*FrameSamples; i++ {
		if left[i] != 0 {
			t.Fatalf("gap not silent at %d: %d", i, left[i])
		}
	}
	if Goertzel(left[16000:16000+1600], 500) < 0.04 || Goertzel(right[8000:9600], 1000) < 0.04 {
		t.Fatal("bursts not where expected")
	}
}

// Received audio is placed by RTP timestamp: a packet that arrives late
// (jitter) still lands at its timestamp's position, and a timestamp gap
// (lost packets) is silence.
func TestRecorderPlacesReceivedByTimestamp(t *testing.T) {
	h := newRx(t, func(c *StreamConfig) { c.DisableInBand = true })
	path := filepath.Join(t.TempDir(), "ts.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := h.s.Record(f)
	if err != nil {
		t.Fatal(err)
	}
	start := h.now
	code := byte(0x90) // a loud μ-law value
	// Packets 0-9, then timestamps jump by 25 frames (sender paused, DTX),
	// and packets arrive with jitter.
	for i := 0; i < 10; i++ {
		h.feed(rtpPacket(0, uint16(i), uint32(i*160), 5, frameOf(code)))
	}
	h.now = h.now.Add(300 * time.Millisecond) // late arrival of the next ones
	for i := 10; i < 20; i++ {
		h.feed(rtpPacket(0, uint16(i), uint32((i+25)*160), 5, frameOf(code)))
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ := readStereo(t, path)
	_ = start
	first := onset(left, 100)
	if first < 0 {
		t.Fatal("no received audio recorded")
	}
	// Samples [first, first+1600) loud; next 25 frames silent; then loud.
	for i := first; i < first+1600; i++ {
		if left[i] == 0 {
			t.Fatalf("hole at %d", i)
		}
	}
	for i := first + 1600; i < first+1600+25*160; i++ {
		if left[i] != 0 {
			t.Fatalf("timestamp gap not silent at +%d", i-first)
		}
	}
	if left[first+1600+25*160] == 0 {
		t.Fatal("audio after the gap is not at its timestamp position")
	}
}

// An echoing far end: what we send comes back within a few ms, so the left
// channel must match the right one within a frame or two. (Received audio
// is anchored as if each packet was sent after its 20 ms were captured, as
// phones do; an instant echo therefore lands up to one frame early.)
func TestRecorderEchoAlignment(t *testing.T) {
	echo := newPeer(t)
	s := newTestStream(t, echo.addr(), nil)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			_ = echo.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			n, src, err := echo.conn.ReadFromUDPAddrPort(buf)
			select {
			case <-stop:
				return
			default:
			}
			if err != nil {
				continue
			}
			_, _ = echo.conn.WriteToUDPAddrPort(buf[:n], src)
		}
	}()
	defer func() { close(stop); <-done }()
	path := filepath.Join(t.TempDir(), "echo.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Record(f)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Play(context.Background(), Tone(1000, 10000, Samples(300*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	left, right := readStereo(t, path)
	ol, or := onset(left, 2000), onset(right, 2000)
	if ol < 0 || or < 0 {
		t.Fatalf("onsets left %d right %d", ol, or)
	}
	if d := ol - or; d < -2*FrameSamples || d > 2*FrameSamples {
		t.Fatalf("echo lands %d samples after the sent audio, want within ±2 frames", d)
	}
	t.Logf("echo offset %d samples", ol-or)
}

// The recorder's header is rewritten while it runs: a process killed
// before Close leaves a valid WAV with nearly all the audio.
func TestRecorderSurvivesKill(t *testing.T) {
	if path := os.Getenv("MEDIA_RECORDER_CHILD"); path != "" {
		recorderChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "killed.wav")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecorderSurvivesKill$")
	cmd.Env = append(os.Environ(), "MEDIA_RECORDER_CHILD="+path)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errorsAs(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v (want killed)", err)
	}
	left, right := readStereo(t, path)
	// 3 s were written; at most RecordLag + one chunk may be missing.
	if got := Duration(len(left)); got < 3*time.Second-RecordLag-250*time.Millisecond {
		t.Fatalf("only %v recorded", got)
	}
	if p := Goertzel(right[8000:9600], 700); p < 0.03 {
		t.Fatalf("right channel content lost (700 Hz power %v)", p)
	}
	if p := Goertzel(left[8000:9600], 1100); p < 0.03 {
		t.Fatalf("left channel content lost (1100 Hz power %v)", p)
	}
}

func recorderChild(path string) {
	f, err := os.Create(path)
	if err != nil {
		os.Exit(3)
	}
	t0 := time.Unix(0, 0)
	now := t0
	r, err := NewRecorder(f, func() time.Time { return now })
	if err != nil {
		os.Exit(4)
	}
	sent := Tone(700, 8000, FrameSamples)
	recv := Tone(1100, 8000, FrameSamples)
	for i := 0; i < 150; i++ {
		now = t0.Add(time.Duration(i) * FrameDuration)
		r.WriteReceived(now, recv)
		r.WriteSent(now, sent)
	}
	// The background writer writes within a millisecond or so of each
	// chunk in a live call; wait for it (without Close) before dying.
	if !waitWritten(r, 5*time.Second) {
		os.Exit(5)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func TestRecorderHeaderValidWhileRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Unix(0, 0)
	r, err := NewRecorder(f, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	// Right after creation: a valid, empty stereo WAV.
	if l, _ := readStereo(t, path); len(l) != 0 {
		t.Fatalf("%d samples in a new file", len(l))
	}
	for i := 0; i < 100; i++ {
		now = time.Unix(0, 0).Add(time.Duration(i) * FrameDuration)
		r.WriteSent(now, Tone(440, 4000, FrameSamples))
	}
	// The file is written by the background writer: wait for it.
	if !waitWritten(r, 5*time.Second) {
		t.Fatalf("background writer did not write the audio (file holds %v)", r.Duration())
	}
	l, _ := readStereo(t, path)
	if len(l) == 0 || Duration(len(l)) != r.Duration() {
		t.Fatalf("while running: %d samples, recorder says %v", len(l), r.Duration())
	}
	_ = r.Close()
	if l, _ := readStereo(t, path); len(l) != 100*FrameSamples {
		t.Fatalf("after close: %d samples", len(l))
	}
	var hdr [44]byte
	b, _ := os.ReadFile(path)
	copy(hdr[:], b)
	if string(hdr[0:4]) != "RIFF" || binary.LittleEndian.Uint32(hdr[4:]) != uint32(len(b)-8) {
		t.Fatalf("RIFF size %d for %d bytes", binary.LittleEndian.Uint32(hdr[4:]), len(b))
	}
}

func BenchmarkRecorderFrame(b *testing.B) { benchRecorder(b, false) }

// BenchmarkRecorderFrameDrained is BenchmarkRecorderFrame waiting for the
// background writer after every chunk: the whole cost of recording a
// frame, file writes included (what the pacer paid before the writer
// pool), where BenchmarkRecorderFrame feeds far faster than real time and
// lets the writer run alongside on another processor.
func BenchmarkRecorderFrameDrained(b *testing.B) { benchRecorder(b, true) }

func benchRecorder(b *testing.B, drained bool) {
	f, err := os.Create(filepath.Join(b.TempDir(), "bench.wav"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	now := time.Unix(0, 0)
	r, err := NewRecorder(f, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	frame := Tone(440, 8000, FrameSamples)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now = time.Unix(0, 0).Add(time.Duration(i) * FrameDuration)
		r.WriteReceived(now, frame)
		r.WriteSent(now, frame)
		for drained {
			r.mu.Lock()
			busy := r.queued
			r.mu.Unlock()
			if !busy {
				break
			}
			runtime.Gosched()
		}
	}
	b.StopTimer()
	_ = r.Close()
}
