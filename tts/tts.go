package tts

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Voice holds the voice parameters of the seed API.
type Voice struct {
	// Lang is a language code such as "en" or "en-us"; "" means "en".
	// Codes are case-insensitive.
	Lang string
	// Gender is "male" or "female"; "" means "female".
	Gender string
	// Pitch is 0..9; 5 is the engine's default.
	Pitch int
	// Rate is 0..9; 5 is the engine's default speed.
	Rate int
}

// DefaultVoice returns English, female, default pitch and rate.
func DefaultVoice() Voice { return Voice{Lang: "en", Gender: "female", Pitch: 5, Rate: 5} }

// Normalize fills the defaults of Lang and Gender, lower-cases Lang and
// checks the ranges. Pitch and Rate are taken as given (0 is a valid
// value), so callers fill their own default of 5.
func (v Voice) Normalize() (Voice, error) {
	v.Lang = strings.ToLower(strings.TrimSpace(v.Lang))
	if v.Lang == "" {
		v.Lang = "en"
	}
	if v.Gender == "" {
		v.Gender = "female"
	}
	if v.Gender != "male" && v.Gender != "female" {
		return v, fmt.Errorf("%w: gender %q, want male or female", ErrBadVoice, v.Gender)
	}
	if v.Pitch < 0 || v.Pitch > 9 {
		return v, fmt.Errorf("%w: pitch %d, want 0..9", ErrBadVoice, v.Pitch)
	}
	if v.Rate < 0 || v.Rate > 9 {
		return v, fmt.Errorf("%w: rate %d, want 0..9", ErrBadVoice, v.Rate)
	}
	return v, nil
}

// Synthesizer renders text with a voice into 8 kHz mono 16-bit PCM, the
// media package's internal format. Implementations are safe for
// concurrent use and return an error wrapping one of this package's
// sentinels for bad text or an unsupported voice.
//
// The returned PCM is read-only: an implementation may hand the same slice
// to many callers (Cache and Batch do), so callers must not modify it (copy
// it first), and an implementation must not modify it after returning it.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string, v Voice) ([]int16, error)
}

// SynthesizerFunc adapts a function to Synthesizer.
type SynthesizerFunc func(ctx context.Context, text string, v Voice) ([]int16, error)

// Synthesize calls f.
func (f SynthesizerFunc) Synthesize(ctx context.Context, text string, v Voice) ([]int16, error) {
	return f(ctx, text, v)
}

// MaxTextLen is the longest prompt accepted, in characters (runes).
const MaxTextLen = 1000

// CheckText validates prompt text before it reaches an engine: valid
// UTF-8, not blank, at most MaxTextLen characters, and no control
// characters but tab, carriage return and line feed. The error names the
// offending character and its position.
func CheckText(text string) error {
	if !utf8.ValidString(text) {
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size <= 1 {
				return fmt.Errorf("%w (byte %d)", ErrBadEncoding, i)
			}
			i += size
		}
	}
	n, visible := 0, false
	for _, r := range text {
		n++
		if !unicode.IsSpace(r) {
			visible = true
		}
		if r == '\n' || r == '\t' || r == '\r' {
			continue
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%w (%U at character %d)", ErrControlChar, r, n)
		}
	}
	if !visible {
		return ErrEmptyText
	}
	if n > MaxTextLen {
		return fmt.Errorf("%w (%d characters)", ErrTextTooLong, n)
	}
	return nil
}
