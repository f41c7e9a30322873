package media

import (
	"fmt"
	"math"
)

// Resampler converts PCM between sample rates with a polyphase
// windowed-sinc (Kaiser) low-pass filter, so content above the lower
// Nyquist frequency is removed instead of folding back as aliasing. A
// Resampler is immutable after construction and safe for concurrent use.
type Resampler struct {
	in, out int
	l, m    int         // out/in reduced to l/m
	taps    int         // filter taps per phase (input samples per output)
	coef    [][]float32 // coef[phase][tap]
}

// Resampler design: passband edge at 45% and stopband at 50% of the lower
// rate, 70 dB of stopband attenuation.
const (
	resamplePass  = 0.45
	resampleStop  = 0.50
	resampleAtten = 70.0
)

// NewResampler builds a resampler from inRate to outRate (Hz, 1000..192000).
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate < 1000 || inRate > 192000 || outRate < 1000 || outRate > 192000 {
		return nil, fmt.Errorf("resample %d Hz to %d Hz: %w", inRate, outRate, ErrUnsupportedRate)
	}
	g := gcd(inRate, outRate)
	r := &Resampler{in: inRate, out: outRate, l: outRate / g, m: inRate / g}
	if inRate == outRate {
		return r, nil
	}
	low := float64(min(inRate, outRate))
	fc := (resamplePass + resampleStop) / 2 * low / float64(inRate) // cutoff, cycles per input sample
	dw := (resampleStop - resamplePass) * low / float64(inRate) * 2 * math.Pi
	n := int(math.Ceil((resampleAtten - 8) / (2.285 * dw)))
	r.taps = (n + 1) &^ 1
	beta := 0.1102 * (resampleAtten - 8.7)
	half := float64(r.taps) / 2
	gain := 1.0
	if outRate > inRate {
		// Upsampling: the filter runs on the input grid; unity gain is kept
		// by the per-phase normalisation below.
		gain = 1
	}
	r.coef = make([][]float32, r.l)
	for p := 0; p < r.l; p++ {
		c := make([]float32, r.taps)
		sum := 0.0
		for j := 0; j < r.taps; j++ {
			t := float64(p)/float64(r.l) + half - 1 - float64(j)
			v := 2 * fc * sinc(2*fc*t) * kaiser(t, half, beta)
			c[j] = float32(v)
			sum += v
		}
		// Normalise each phase to unity DC gain (removes phase ripple).
		for j := range c {
			c[j] = float32(float64(c[j]) / sum * gain)
		}
		r.coef[p] = c
	}
	return r, nil
}

// Process resamples a whole signal and returns a new slice of
// len(in)*outRate/inRate samples.
func (r *Resampler) Process(in []int16) []int16 {
	if r.in == r.out {
		return append([]int16(nil), in...)
	}
	n := len(in) * r.l / r.m
	out := make([]int16, n)
	half := r.taps / 2
	for k := 0; k < n; k++ {
		pos := k * r.m
		base, phase := pos/r.l, pos%r.l
		c := r.coef[phase]
		start := base - half + 1
		acc := float32(0)
		j0, j1 := 0, r.taps
		if start < 0 {
			j0 = -start
		}
		if start+j1 > len(in) {
			j1 = len(in) - start
		}
		for j := j0; j < j1; j++ {
			acc += c[j] * float32(in[start+j])
		}
		out[k] = clamp16(acc)
	}
	return out
}

// Resample converts mono PCM from inRate to outRate.
func Resample(in []int16, inRate, outRate int) ([]int16, error) {
	r, err := NewResampler(inRate, outRate)
	if err != nil {
		return nil, err
	}
	return r.Process(in), nil
}

func clamp16(v float32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

func kaiser(t, half, beta float64) float64 {
	r := t / half
	if r < -1 || r > 1 {
		return 0
	}
	return bessel0(beta*math.Sqrt(1-r*r)) / bessel0(beta)
}

// bessel0 is the zeroth-order modified Bessel function of the first kind.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-12 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
