package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/tts"
	"github.com/dialflow/dialflow/tts/espeak"
	"github.com/dialflow/dialflow/tts/ttstest"
)

// engine is a synthesizer that also knows its languages.
type engine interface {
	tts.Synthesizer
	Name() string
	Supports(lang string) bool
}

// newEngine builds the --tts engine by name.
func newEngine(name string) (engine, error) {
	switch name {
	case "espeak", "espeak-ng":
		return espeak.New(espeak.Config{})
	case "tones":
		return ttstest.Engine{}, nil
	}
	return nil, fmt.Errorf("unknown tts engine %q (want espeak or tones)", name)
}

// runTTS is `dialflow tts`: render one prompt to an 8 kHz mono WAV file.
func runTTS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	text := fs.String("text", "", "the prompt text (required)")
	out := fs.String("out", "", "output WAV file (required)")
	lang := fs.String("lang", "en", "language code")
	gender := fs.String("gender", "female", "male or female")
	pitch := fs.Int("pitch", 5, "pitch 0..9")
	rate := fs.Int("rate", 5, "rate 0..9")
	name := fs.String("tts", "espeak", "engine: espeak or tones")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dialflow tts --text \"...\" [--lang en --gender female --pitch 5 --rate 5] [--tts espeak] --out file.wav")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *text == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	eng, err := newEngine(*name)
	if err != nil {
		return err
	}
	if !eng.Supports(*lang) {
		return fmt.Errorf("%w: %q (see espeak-ng --voices)", tts.ErrUnsupported, *lang)
	}
	pcm, err := eng.Synthesize(ctx, *text, tts.Voice{Lang: *lang, Gender: *gender, Pitch: *pitch, Rate: *rate})
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := media.WriteWAV(f, pcm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %.2f s, 8000 Hz mono\n", *out, float64(len(pcm))/media.SampleRate)
	return nil
}
