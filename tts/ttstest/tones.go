package ttstest

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/tts"
)

// Symbol frequencies: far from the DTMF rows and columns so an in-band
// DTMF detector never hears a prompt as a key.
func freqs() [8]float64 { return [8]float64{350, 450, 550, 1050, 1900, 2100, 2300, 2500} }

// Signature layout: a start tone at 3 kHz, then Symbols tones; each tone
// lasts ToneMs with GapMs of silence after it, then silence that grows
// with the text's length.
const (
	// Symbols is the number of symbol tones after the start tone.
	Symbols = 4
	// ToneMs is the length of each tone, in milliseconds.
	ToneMs = 100
	// GapMs is the silence after each tone, in milliseconds.
	GapMs = 60

	startHz  = 3000
	amp      = 9000
	perChar  = 20 // ms of silence per character after the signature
	maxTrail = 2000
)

// Engine renders tone signatures. Its zero value is ready to use.
type Engine struct{}

// Name identifies the engine in cache keys.
func (Engine) Name() string { return "tones" }

// Supports accepts every language.
func (Engine) Supports(string) bool { return true }

// Signature returns the symbol indexes (each 0..7) a text is rendered as,
// taken from the SHA-256 of the text.
func Signature(text string) [Symbols]int {
	h := sha256.Sum256([]byte(text))
	var s [Symbols]int
	for i := range s {
		s[i] = int(h[i] % byte(len(freqs())))
	}
	return s
}

// Synthesize renders the text's signature followed by silence that grows
// with the text's length (so longer prompts take longer, as speech does).
func (Engine) Synthesize(ctx context.Context, text string, v tts.Voice) ([]int16, error) {
	if err := tts.CheckText(text); err != nil {
		return nil, err
	}
	if _, err := v.Normalize(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tone := ToneMs * media.SampleRate / 1000
	gap := GapMs * media.SampleRate / 1000
	trail := min(len(text)*perChar, maxTrail) * media.SampleRate / 1000
	out := make([]int16, 0, (Symbols+1)*(tone+gap)+trail)
	out = append(out, media.Tone(startHz, amp, tone)...)
	out = append(out, make([]int16, gap)...)
	hz := freqs()
	for _, s := range Signature(text) {
		out = append(out, media.Tone(hz[s], amp, tone)...)
		out = append(out, make([]int16, gap)...)
	}
	return append(out, make([]int16, trail)...), nil
}

// Identify finds the signatures of the candidate texts in pcm (8 kHz) and
// returns the texts heard, in order. Unknown signatures are skipped.
func Identify(pcm []int16, candidates []string) []string {
	bySig := map[[Symbols]int]string{}
	for _, c := range candidates {
		bySig[Signature(c)] = c
	}
	var out []string
	for _, sig := range decode(pcm) {
		if t, ok := bySig[sig]; ok {
			out = append(out, t)
		}
	}
	return out
}

// decode scans 10 ms windows, labels each with its dominant frequency (or
// silence), groups runs into tones, and reads signatures after start tones.
func decode(pcm []int16) [][Symbols]int {
	const win = 80 // 10 ms
	hz := freqs()
	all := append([]float64{startHz}, hz[:]...)
	var labels []int // -1 silence, 0 start, 1.. symbol+1
	for off := 0; off+win <= len(pcm); off += win {
		w := pcm[off : off+win]
		e := media.Energy(w)
		best, bi := 0.0, -1
		for i, f := range all {
			if p := media.Goertzel(w, f); p > best {
				best, bi = p, i
			}
		}
		// A pure tone puts about half its energy per Goertzel bin unit;
		// demand that the winner explains most of the window's power.
		if e < 1e-4 || best < e*1.2 {
			bi = -1
		}
		labels = append(labels, bi)
	}
	// Group equal labels into runs; a dropout of at most three windows
	// (a lost 20 ms RTP frame touches three) inside a tone is bridged,
	// which cannot join two tones because the 60 ms gaps between them
	// span at least five whole windows. Runs of at least 5 windows
	// (50 ms) are tones.
	type run struct{ label, n int }
	var runs []run
	for _, l := range labels {
		if k := len(runs); k > 0 && runs[k-1].label == l {
			runs[k-1].n++
			continue
		}
		runs = append(runs, run{l, 1})
		if k := len(runs); k >= 3 && runs[k-2].label == -1 && runs[k-2].n <= 3 && runs[k-3].label == l && l >= 0 {
			runs[k-3].n += runs[k-2].n + 1
			runs = runs[:k-2]
		}
	}
	var tones []int
	for _, r := range runs {
		if r.label >= 0 && r.n >= 5 {
			tones = append(tones, r.label)
		}
	}
	var sigs [][Symbols]int
	for i := 0; i+Symbols < len(tones); i++ {
		if tones[i] != 0 {
			continue
		}
		var s [Symbols]int
		ok := true
		for k := 0; k < Symbols; k++ {
			t := tones[i+1+k]
			if t <= 0 {
				ok = false
				break
			}
			s[k] = t - 1
		}
		if ok {
			sigs = append(sigs, s)
			i += Symbols
		}
	}
	return sigs
}

// CheckDistinct reports an error naming two texts that share a signature
// (about one chance in 4096 per pair), so a test can fail loudly instead
// of misidentifying prompts.
func CheckDistinct(texts []string) error {
	seen := map[[Symbols]int]string{}
	for _, t := range texts {
		s := Signature(t)
		if other, dup := seen[s]; dup && other != t {
			return fmt.Errorf("ttstest: %q and %q share the signature %v", other, t, s)
		}
		seen[s] = t
	}
	return nil
}
