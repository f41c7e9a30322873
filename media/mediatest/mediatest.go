package mediatest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/go-audio/wav"

	"github.com/dialflow/dialflow/media"
)

// ErrNotStereo is returned by ReadStereoWAV for a file that is not a
// 2-channel 16-bit PCM WAV.
var ErrNotStereo = errors.New("not a stereo 16-bit wav")

// Listen binds a UDP socket on 127.0.0.1 at an ephemeral port and closes it
// when the test ends (closing twice is harmless).
func Listen(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := media.ListenRTP("127.0.0.1", media.PortRange{})
	if err != nil {
		tb.Fatalf("mediatest: listen: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// AddrOf returns a UDP socket's local address.
func AddrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// Pair returns two started streams on loopback that send to each other
// and are closed when the test ends. cfgA and cfgB are used as given except
// Remote, which Pair fills; a zero Codec means PCMU.
func Pair(tb testing.TB, cfgA, cfgB media.StreamConfig) (a, b *media.Stream) {
	tb.Helper()
	ca, cb := Listen(tb), Listen(tb)
	cfgA.Remote, cfgB.Remote = AddrOf(cb), AddrOf(ca)
	var err error
	if a, err = media.NewStream(ca, cfgA); err != nil {
		tb.Fatalf("mediatest: stream a: %v", err)
	}
	if b, err = media.NewStream(cb, cfgB); err != nil {
		tb.Fatalf("mediatest: stream b: %v", err)
	}
	tb.Cleanup(func() { a.Close(); b.Close() })
	if err := a.Start(); err != nil {
		tb.Fatalf("mediatest: start a: %v", err)
	}
	if err := b.Start(); err != nil {
		tb.Fatalf("mediatest: start b: %v", err)
	}
	return a, b
}

// LevelDB returns the level of frequency freq in 8 kHz pcm in dBFS (a
// full-scale sine is 0 dBFS; silence is -inf).
func LevelDB(pcm []int16, freq float64) float64 {
	return 10 * math.Log10(media.Goertzel(pcm, freq))
}

// HasTone reports whether freq is present in pcm at minDBFS or louder.
func HasTone(pcm []int16, freq, minDBFS float64) bool {
	return LevelDB(pcm, freq) >= minDBFS
}

// Strongest returns the n candidate frequencies with the highest level in
// pcm, strongest first. Use it to tell which of a set of test tones (for
// example the ttstest prompt tones) a recording contains.
func Strongest(pcm []int16, candidates []float64, n int) []float64 {
	type fl struct{ f, l float64 }
	ls := make([]fl, len(candidates))
	for i, f := range candidates {
		ls[i] = fl{f, media.Goertzel(pcm, f)}
	}
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].l > ls[j].l })
	out := make([]float64, 0, n)
	for i := 0; i < n && i < len(ls); i++ {
		out = append(out, ls[i].f)
	}
	return out
}

// DetectDigits runs the in-band DTMF detector over a whole 8 kHz signal and
// returns the keys found, in order.
func DetectDigits(pcm []int16) string {
	d := media.NewToneDetector()
	var out strings.Builder
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		if k, _ := d.Frame(pcm[i : i+media.FrameSamples]); k != 0 {
			out.WriteRune(k)
		}
	}
	return out.String()
}

// ReadStereoWAV decodes a stereo 16-bit WAV (a call recording: left =
// received, right = sent) and returns its channels and sample rate.
func ReadStereoWAV(r io.ReadSeeker) (left, right []int16, rate int, err error) {
	d := wav.NewDecoder(r)
	if !d.IsValidFile() {
		return nil, nil, 0, fmt.Errorf("read stereo wav: %w", ErrNotStereo)
	}
	if d.NumChans != 2 || d.BitDepth != 16 {
		return nil, nil, 0, fmt.Errorf("read stereo wav: %d channels %d bits: %w", d.NumChans, d.BitDepth, ErrNotStereo)
	}
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read stereo wav: %w", err)
	}
	n := len(buf.Data) / 2
	left, right = make([]int16, n), make([]int16, n)
	for i := 0; i < n; i++ {
		left[i], right[i] = int16(buf.Data[2*i]), int16(buf.Data[2*i+1])
	}
	return left, right, int(d.SampleRate), nil
}
