package media

import "math"

// Tone returns n samples of a sine at freq Hz and the given peak amplitude
// (0..32767), starting at phase zero.
func Tone(freq float64, amp float64, n int) []int16 {
	out := make([]int16, n)
	AddTone(out, freq, amp)
	return out
}

// AddTone adds a sine at freq Hz to pcm in place, clamping.
func AddTone(pcm []int16, freq, amp float64) {
	w := 2 * math.Pi * freq / SampleRate
	for i := range pcm {
		pcm[i] = clampInt(int(pcm[i]) + int(math.Round(amp*math.Sin(w*float64(i)))))
	}
}

// DualTone returns n samples of two sines of peak amplitude amp each.
func DualTone(f1, f2, amp float64, n int) []int16 {
	out := Tone(f1, amp, n)
	AddTone(out, f2, amp)
	return out
}

// Goertzel returns the power of frequency freq in pcm (8 kHz), normalised so
// that a full-scale sine gives about 1 regardless of len(pcm).
func Goertzel(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x)/32768 + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	n := float64(len(pcm))
	return p * 4 / (n * n)
}

// Energy returns the mean power of pcm, normalised like Goertzel
// (a full-scale sine gives about 0.5).
func Energy(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var e float64
	for _, x := range pcm {
		v := float64(x) / 32768
		e += v * v
	}
	return e / float64(len(pcm))
}
