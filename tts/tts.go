package tts

import (
	"context"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Voice parameters, as in the seed API.
type Voice struct {
	// Lang is a language code such as "en" or "en-us"; "" means "en".
	Lang string
	// Gender is "male" or "female"; "" means "female".
	Gender string
	// Pitch and Rate are 0..9; 5 is the engine's default.
	Pitch, Rate int
}

// DefaultVoice is English, female, default pitch and rate.
var DefaultVoice = Voice{Lang: "en", Gender: "female", Pitch: 5, Rate: 5}

// Normalize fills defaults and checks the ranges.
func (v Voice) Normalize() (Voice, error) {
	if v.Lang == "" {
		v.Lang = "en"
	}
	if v.Gender == "" {
		v.Gender = "female"
	}
	if v.Gender != "male" && v.Gender != "female" {
		return v, fmt.Errorf("%w: gender %q, want male or female", ErrBadVoice, v.Gender)
	}
	if v.Pitch < 0 || v.Pitch > 9 || v.Rate < 0 || v.Rate > 9 {
		return v, fmt.Errorf("%w: pitch %d and rate %d must be 0..9", ErrBadVoice, v.Pitch, v.Rate)
	}
	return v, nil
}

// Synthesizer renders text with a voice into 8 kHz mono PCM.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string, v Voice) ([]int16, error)
}

// SynthesizerFunc adapts a function to Synthesizer.
type SynthesizerFunc func(ctx context.Context, text string, v Voice) ([]int16, error)

// Synthesize calls f.
func (f SynthesizerFunc) Synthesize(ctx context.Context, text string, v Voice) ([]int16, error) {
	return f(ctx, text, v)
}

// MaxTextLen is the longest prompt accepted, in characters.
const MaxTextLen = 1000

// Errors of text-to-speech.
var (
	ErrEmptyText    = errors.New("text is empty")
	ErrTextTooLong  = errors.New("text is longer than 1000 characters")
	ErrControlChar  = errors.New("text contains a control character")
	ErrBadVoice     = errors.New("invalid voice")
	ErrUnsupported  = errors.New("language not supported by the engine")
	ErrNotInstalled = errors.New("text-to-speech engine not installed")
)

// CheckText validates prompt text before it reaches an engine.
func CheckText(text string) error {
	trimmed := 0
	for _, r := range text {
		if !unicode.IsSpace(r) {
			trimmed++
		}
		if r == '\n' || r == '\t' || r == '\r' {
			continue
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("%w (%U)", ErrControlChar, r)
		}
	}
	if trimmed == 0 {
		return ErrEmptyText
	}
	if utf8.RuneCountInString(text) > MaxTextLen {
		return ErrTextTooLong
	}
	return nil
}
