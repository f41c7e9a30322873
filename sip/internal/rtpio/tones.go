package rtpio

import "math"

// dtmfFreqs maps a DTMF key to its low and high frequencies (Hz).
func dtmfFreqs(d byte) (lo, hi float64, ok bool) {
	const keys = "123A456B789C*0#D"
	lows := [4]float64{697, 770, 852, 941}
	highs := [4]float64{1209, 1336, 1477, 1633}
	for i := 0; i < len(keys); i++ {
		if keys[i] == d {
			return lows[i/4], highs[i%4], true
		}
	}
	return 0, 0, false
}

// eventCode maps a DTMF key to its RFC 4733 event code.
func eventCode(d byte) (byte, bool) {
	switch {
	case d >= '0' && d <= '9':
		return d - '0', true
	case d == '*':
		return 10, true
	case d == '#':
		return 11, true
	case d >= 'A' && d <= 'D':
		return 12 + d - 'A', true
	}
	return 0, false
}

// eventKey maps an RFC 4733 event code to its key; 0 when not a DTMF key.
func eventKey(e byte) byte {
	const keys = "0123456789*#ABCD"
	if int(e) < len(keys) {
		return keys[e]
	}
	return 0
}

// ValidDigit reports whether d is a DTMF key (0-9, *, #, A-D).
func ValidDigit(d byte) bool { _, ok := eventCode(d); return ok }

// dualTone returns n samples of the DTMF tone for d at about -9 dBFS per tone.
func dualTone(d byte, n int) []int16 {
	lo, hi, _ := dtmfFreqs(d)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / 8000
		v := 0.35*math.Sin(2*math.Pi*lo*t) + 0.35*math.Sin(2*math.Pi*hi*t)
		out[i] = int16(v * 32767 * 0.9)
	}
	return out
}

// goertzel holds the coefficients for DTMF detection on 160-sample frames.
type goertzel struct {
	coef [8]float64
}

func newGoertzel() goertzel {
	var g goertzel
	freqs := [8]float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}
	for i, f := range freqs {
		k := math.Round(160 * f / 8000)
		g.coef[i] = 2 * math.Cos(2*math.Pi*k/160)
	}
	return g
}

// detect returns the DTMF key present in frame, or 0.
func (g *goertzel) detect(frame []int16) byte {
	var energy float64
	for _, s := range frame {
		v := float64(s)
		energy += v * v
	}
	if energy < 1e8*float64(len(frame))/160 {
		return 0
	}
	var p [8]float64
	for i, c := range g.coef {
		var s1, s2 float64
		for _, s := range frame {
			s0 := float64(s) + c*s1 - s2
			s2, s1 = s1, s0
		}
		p[i] = s1*s1 + s2*s2 - c*s1*s2
	}
	lo, hi := 0, 4
	for i := 1; i < 4; i++ {
		if p[i] > p[lo] {
			lo = i
		}
		if p[4+i] > p[hi] {
			hi = 4 + i
		}
	}
	// Each tone must dominate its group, twist within ~8 dB, and the pair
	// must carry most of the frame's energy.
	for i := 0; i < 4; i++ {
		if i != lo && p[i]*8 > p[lo] {
			return 0
		}
		if 4+i != hi && p[4+i]*8 > p[hi] {
			return 0
		}
	}
	if p[lo] > 6.3*p[hi] || p[hi] > 6.3*p[lo] {
		return 0
	}
	// Parseval: a pure sine of power P gives |X|^2 = (N/2)^2 * A^2/4 ...; the
	// ratio below is calibrated so a clean dual tone scores about 1.
	if (p[lo]+p[hi])*2/(float64(len(frame))*energy) < 0.5 {
		return 0
	}
	const keys = "123A456B789C*0#D"
	return keys[lo*4+hi-4]
}
