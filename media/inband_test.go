package media

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// detect runs the detector over pcm frame by frame and returns the keys.
func detect(pcm []int16) string {
	d := NewToneDetector()
	var out strings.Builder
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		if k, _ := d.Frame(pcm[i : i+FrameSamples]); k != 0 {
			out.WriteRune(k)
		}
	}
	return out.String()
}

// sequence builds key tones of dur separated by gap, with an offset so that
// tones do not start on frame boundaries.
func sequence(t *testing.T, keys string, dur, gap time.Duration, amp float64) []int16 {
	t.Helper()
	pcm := make([]int16, 37) // misalign
	for _, k := range keys {
		tone, err := DTMFTone(k, dur, amp)
		if err != nil {
			t.Fatal(err)
		}
		pcm = append(pcm, tone...)
		pcm = append(pcm, make([]int16, Samples(gap))...)
	}
	return append(pcm, make([]int16, FrameSamples*3)...)
}

func TestToneDetectorAllDigitsAtSeveralLevels(t *testing.T) {
	const keys = "123A456B789C*0#D"
	// Per-tone peak amplitude: -6, -16, -26 dBFS.
	for _, amp := range []float64{16000, 5000, 1600} {
		pcm := sequence(t, keys, 70*time.Millisecond, 60*time.Millisecond, amp)
		if got := detect(pcm); got != keys {
			t.Errorf("amp %v: detected %q, want %q", amp, got, keys)
		}
	}
	// Below the energy floor nothing is reported.
	if got := detect(sequence(t, "5", 100*time.Millisecond, 50*time.Millisecond, 200)); got != "" {
		t.Errorf("-44 dBFS: detected %q", got)
	}
}

func TestToneDetectorTwistAndDuration(t *testing.T) {
	n := Samples(100 * time.Millisecond)
	within := Tone(852, 8000, n)
	AddTone(within, 1477, 8000*math.Pow(10, 6.0/20)) // +6 dB twist: accepted
	if got := detect(append(within, make([]int16, 480)...)); got != "9" {
		t.Errorf("6 dB twist: %q", got)
	}
	beyond := Tone(852, 8000, n)
	AddTone(beyond, 1477, 8000*math.Pow(10, 12.0/20)) // 12 dB twist: rejected
	if got := detect(beyond); got != "" {
		t.Errorf("12 dB twist: %q", got)
	}
	// 25 ms is too short (< 40 ms); the same key twice with a gap is two.
	if got := detect(sequence(t, "1", 25*time.Millisecond, 100*time.Millisecond, 8000)); got != "" {
		t.Errorf("25 ms tone: %q", got)
	}
	if got := detect(sequence(t, "77", 60*time.Millisecond, 60*time.Millisecond, 8000)); got != "77" {
		t.Errorf("7 7: %q", got)
	}
	// Only one group present (a single 770 Hz tone): no digit.
	if got := detect(Tone(770, 16000, 8000)); got != "" {
		t.Errorf("single tone: %q", got)
	}
}

func TestToneDetectorUnderNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const keys = "0123456789*#"
	pcm := sequence(t, keys, 80*time.Millisecond, 80*time.Millisecond, 6000)
	// White noise about 20 dB below each tone.
	for i := range pcm {
		pcm[i] = clampInt(int(pcm[i]) + int(rng.NormFloat64()*420))
	}
	if got := detect(pcm); got != keys {
		t.Fatalf("under noise: %q, want %q", got, keys)
	}
}

// speechLike synthesises a vowel-like signal: a 90-220 Hz glottal pulse train
// (rich in harmonics) shaped by formant resonators that glide, with
// syllable-rate amplitude modulation.
func speechLike(seconds float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 7))
	n := int(seconds * SampleRate)
	out := make([]int16, n)
	formants := [][3]float64{{730, 1090, 2440}, {270, 2290, 3010}, {570, 840, 2410}, {660, 1720, 2410}, {300, 870, 2240}}
	var y [3][2]float64
	phase := 0.0
	for i := 0; i < n; i++ {
		sec := float64(i) / SampleRate
		f0 := 140 + 60*math.Sin(2*math.Pi*0.7*sec) + 10*math.Sin(2*math.Pi*5*sec)
		phase += f0 / SampleRate
		x := 0.0
		if phase >= 1 {
			phase--
			x = 1
		}
		x += rng.NormFloat64() * 0.02
		v := formants[int(sec*4)%len(formants)]
		s := 0.0
		for k, f := range v {
			r := 0.97
			c := 2 * r * math.Cos(2*math.Pi*f/SampleRate)
			o := x + c*y[k][0] - r*r*y[k][1]
			y[k][1], y[k][0] = y[k][0], o
			s += o / float64(k+1)
		}
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*sec)
		out[i] = clampInt(int(s * env * 3000))
	}
	return out
}

// musicLike plays chords of three notes (triads) from the equal-tempered
// scale, changing every 250 ms.
func musicLike(seconds float64) []int16 {
	n := int(seconds * SampleRate)
	out := make([]int16, n)
	chords := [][]float64{{261.6, 329.6, 392.0}, {440, 554.4, 659.3}, {349.2, 440, 523.3}, {392, 493.9, 587.3}, {698.5, 880, 1046.5}, {784, 987.8, 1174.7}}
	for i := 0; i < n; i++ {
		sec := float64(i) / SampleRate
		ch := chords[int(sec*4)%len(chords)]
		v := 0.0
		for _, f := range ch {
			v += math.Sin(2*math.Pi*f*sec) + 0.3*math.Sin(2*math.Pi*2*f*sec)
		}
		out[i] = clampInt(int(v * 3000))
	}
	return out
}

func TestToneDetectorNoFalseDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	noise := make([]int16, 10*SampleRate)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	signals := map[string][]int16{
		"silence": make([]int16, 10*SampleRate),
		"speech":  append(speechLike(15, 1), speechLike(15, 2)...),
		"music":   musicLike(15),
		"noise":   noise,
	}
	for name, pcm := range signals {
		// The signals must be loud enough for the test to mean something.
		if e := Energy(pcm); name != "silence" && e < 1e-3 {
			t.Fatalf("%s: too quiet (%g)", name, e)
		}
		if got := detect(pcm); got != "" {
			t.Errorf("%s: false digits %q", name, got)
		}
	}
}

func BenchmarkToneDetectorFrame(b *testing.B) {
	d := NewToneDetector()
	frame := speechLike(0.02, 1)
	b.ReportAllocs()
	for b.Loop() {
		d.Frame(frame)
	}
}

// TestToneDetectorNoFalseDigitsOnRealSpeech runs the detector over speech
// synthesised by espeak-ng (several voices and pitches, resampled to 8 kHz
// with the package's own resampler), at normal and loud levels.
func TestToneDetectorNoFalseDigitsOnRealSpeech(t *testing.T) {
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Skip("espeak-ng not installed")
	}
	text := "Thank you for calling. Please press one for sales, two for support, " +
		"or stay on the line. Your call is important to us. Goodbye and have a lovely evening."
	for _, args := range [][]string{
		{"-v", "en", "-p", "50"},
		{"-v", "en+f3", "-p", "80"},
		{"-v", "en-us", "-p", "20", "-s", "190"},
	} {
		out, err := exec.Command(bin, append(args, "--stdout", text)...).Output()
		if err != nil {
			t.Fatalf("espeak-ng %v: %v", args, err)
		}
		pcm, rate, err := ParseWAVStream(out)
		if err != nil {
			t.Fatalf("espeak-ng %v output: %v", args, err)
		}
		if pcm, err = Resample(pcm, rate, SampleRate); err != nil {
			t.Fatal(err)
		}
		if len(pcm) < 3*SampleRate || Energy(pcm) < 1e-4 {
			t.Fatalf("espeak-ng %v: %d samples, energy %g: not enough speech to test", args, len(pcm), Energy(pcm))
		}
		for _, gain := range []float64{1, 3} {
			loud := make([]int16, len(pcm))
			for i, s := range pcm {
				loud[i] = clampInt(int(float64(s) * gain))
			}
			if got := detect(loud); got != "" {
				t.Errorf("espeak-ng %v gain %g: false digits %q", args, gain, got)
			}
		}
		// The same speech with a real press over a pause still yields it:
		// the detector is not simply deaf on this material.
		tone, err := DTMFTone('5', 100*time.Millisecond, 8000)
		if err != nil {
			t.Fatal(err)
		}
		mixed := append(append(append([]int16(nil), pcm...), make([]int16, 1601)...), tone...)
		mixed = append(mixed, pcm...)
		if got := detect(mixed); got != "5" {
			t.Errorf("espeak-ng %v with a press: %q, want \"5\"", args, got)
		}
	}
}

// BenchmarkToneDetectorSilence is the common case on a live call: the
// caller says nothing, and the energy gate skips the Goertzel filters.
func BenchmarkToneDetectorSilence(b *testing.B) {
	d := NewToneDetector()
	frame := make([]int16, FrameSamples)
	for i := range frame {
		frame[i] = int16(i%3) - 1 // line noise
	}
	b.ReportAllocs()
	for b.Loop() {
		d.Frame(frame)
	}
}
