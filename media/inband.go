package media

import (
	"math"
	"time"
)

// DTMF frequencies (ITU-T Q.23).
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
)

// dtmfKeys maps [row][col] to the key.
var dtmfKeys = [4][4]rune{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// DTMFFreqs returns the low (row) and high (column) frequencies of a key.
func DTMFFreqs(key rune) (low, high float64, err error) {
	code, err := EventCode(key)
	if err != nil {
		return 0, 0, err
	}
	k := EventKey(code)
	for r := range dtmfKeys {
		for c := range dtmfKeys[r] {
			if dtmfKeys[r][c] == k {
				return dtmfRows[r], dtmfCols[c], nil
			}
		}
	}
	return 0, 0, ErrInvalidDigit
}

// DTMFTone returns an in-band DTMF tone for key lasting dur, with each of
// the two sines at amp peak amplitude (8000 ≈ -12 dBFS is a typical level).
func DTMFTone(key rune, dur time.Duration, amp float64) ([]int16, error) {
	lo, hi, err := DTMFFreqs(key)
	if err != nil {
		return nil, err
	}
	return DualTone(lo, hi, amp, Samples(dur)), nil
}

// Samples returns how many samples at SampleRate last d (rounded down).
func Samples(d time.Duration) int { return int(d * SampleRate / time.Second) }

// In-band detector thresholds.
const (
	// dtmfMinPower is the energy floor: a tone must have a Goertzel power
	// (full-scale sine = 1) of at least this: about -36 dBFS per tone.
	dtmfMinPower = 2.5e-4
	// dtmfTwistDB is the largest allowed level difference between the two
	// tones, either way.
	dtmfTwistDB = 8.0
	// dtmfDominance: the strongest tone of each group must exceed the other
	// tones of its group by this power ratio (≈ 9.5 dB).
	dtmfDominance = 9.0
	// dtmfPurity: the two tones must carry at least this share of the
	// frame's energy (speech and music spread theirs).
	dtmfPurity = 0.75
	// dtmfFrames: consecutive 20 ms frames needed to report (≥ 40 ms).
	dtmfFrames = 2
)

// ToneDetector finds in-band DTMF digits in 8 kHz PCM with the Goertzel
// algorithm, one 20 ms frame (160 samples) at a time. A digit is reported
// once when the same key has been seen in 2 consecutive frames (≥ 40 ms)
// with an energy floor, both tones dominant in their groups, twist within
// ±8 dB and the two tones carrying most of the frame's energy; it re-arms
// after a frame without that key. It does not allocate.
//
// It is not safe for concurrent use; the zero value is not ready: use
// NewToneDetector.
type ToneDetector struct {
	coeff    [8]float64
	pending  rune // key seen in the previous frame(s)
	count    int  // consecutive frames with pending
	reported bool
	frames   int64 // frames processed
	start    int64 // frame index where pending began
}

// NewToneDetector returns a detector for 8 kHz audio.
func NewToneDetector() *ToneDetector {
	d := &ToneDetector{}
	for i, f := range dtmfRows {
		d.coeff[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	for i, f := range dtmfCols {
		d.coeff[4+i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	return d
}

// Frame analyses one frame (normally 160 samples) and returns the key when
// a digit is confirmed by this frame, with how many frames before this one
// the tone started; it returns 0 otherwise.
func (d *ToneDetector) Frame(pcm []int16) (key rune, framesAgo int) {
	k := d.classify(pcm)
	idx := d.frames
	d.frames++
	if k == 0 || k != d.pending {
		d.pending, d.count, d.reported, d.start = k, 0, false, idx
		if k == 0 {
			return 0, 0
		}
	}
	d.count++
	if d.count >= dtmfFrames && !d.reported {
		d.reported = true
		return k, int(idx - d.start)
	}
	return 0, 0
}

// Reset forgets any tone in progress.
func (d *ToneDetector) Reset() { d.pending, d.count, d.reported = 0, 0, false }

// classify returns the key present in the frame, or 0.
func (d *ToneDetector) classify(pcm []int16) rune {
	n := len(pcm)
	if n == 0 {
		return 0
	}
	// Cheap gate first: both tones must reach dtmfMinPower and each adds
	// half its Goertzel power to the mean power, so a quieter frame (most
	// of a call: silence, pauses) cannot hold a digit.
	var sum int64
	for _, x := range pcm {
		sum += int64(x) * int64(x)
	}
	energy := float64(sum) / (32768 * 32768) / float64(n) // mean power; a sine of amplitude a gives a²/2
	if energy < dtmfMinPower {
		return 0
	}
	var s1, s2 [8]float64
	for _, x := range pcm {
		v := float64(x) / 32768
		for i := range 8 {
			s0 := v + d.coeff[i]*s1[i] - s2[i]
			s2[i], s1[i] = s1[i], s0
		}
	}
	var p [8]float64
	scale := 4 / (float64(n) * float64(n))
	for i := range 8 {
		p[i] = (s1[i]*s1[i] + s2[i]*s2[i] - d.coeff[i]*s1[i]*s2[i]) * scale
	}
	r, rp := strongest(p[0:4])
	c, cp := strongest(p[4:8])
	if rp < dtmfMinPower || cp < dtmfMinPower {
		return 0
	}
	for i := range 4 {
		if i != r && p[i]*dtmfDominance > rp {
			return 0
		}
		if i != c && p[4+i]*dtmfDominance > cp {
			return 0
		}
	}
	twist := 10 * math.Log10(cp/rp)
	if twist > dtmfTwistDB || twist < -dtmfTwistDB {
		return 0
	}
	// A sine of power p (Goertzel) contributes p/2 to the mean power.
	if (rp+cp)/2 < dtmfPurity*energy {
		return 0
	}
	return dtmfKeys[r][c]
}

func strongest(p []float64) (int, float64) {
	bi, bp := 0, p[0]
	for i := 1; i < len(p); i++ {
		if p[i] > bp {
			bi, bp = i, p[i]
		}
	}
	return bi, bp
}
