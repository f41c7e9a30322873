package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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

// runTTS is `dialflow tts`: render one prompt to an 8 kHz mono WAV file,
// or list the engine's languages.
func runTTS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	text := fs.String("text", "", "the prompt text, plain text, at most 1000 characters (required)")
	out := fs.String("out", "", "output WAV file, 8 kHz mono 16-bit (required)")
	lang := fs.String("lang", "en", "language code (see --languages)")
	gender := fs.String("gender", "female", "male or female")
	pitch := fs.Int("pitch", 5, "pitch 0..9 (5 is the engine's default)")
	rate := fs.Int("rate", 5, "speaking rate 0..9 (5 is the engine's default)")
	name := fs.String("tts", "espeak", "engine: espeak, or tones (deterministic test tones)")
	list := fs.Bool("languages", false, "list the engine's languages and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dialflow tts --text \"...\" [--lang en --gender female --pitch 5 --rate 5] [--tts espeak] --out file.wav")
		fmt.Fprintln(stderr, "       dialflow tts --languages [--tts espeak]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dialflow tts: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if !*list && (*text == "" || *out == "") {
		fmt.Fprintln(stderr, "dialflow tts: --text and --out are required")
		fs.Usage()
		return fmt.Errorf("%w: --text and --out are required", errUsage)
	}
	eng, err := newEngine(*name)
	if err != nil {
		return fmt.Errorf("tts: %w", err)
	}
	if *list {
		return listLanguages(eng, stdout)
	}
	if !eng.Supports(*lang) {
		return fmt.Errorf("tts: --lang: %w: %q (see dialflow tts --languages)", tts.ErrUnsupported, *lang)
	}
	pcm, err := eng.Synthesize(ctx, *text, tts.Voice{Lang: *lang, Gender: *gender, Pitch: *pitch, Rate: *rate})
	if err != nil {
		return fmt.Errorf("tts: %w", err)
	}
	if err := writeWAVFile(*out, pcm); err != nil {
		return fmt.Errorf("tts: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %.2f s, 8000 Hz mono\n", *out, float64(len(pcm))/media.SampleRate)
	return nil
}

// listLanguages prints one language code per line.
func listLanguages(eng engine, stdout io.Writer) error {
	l, ok := eng.(interface{ Languages() []string })
	if !ok {
		fmt.Fprintln(stdout, "(any: the "+eng.Name()+" engine accepts every language)")
		return nil
	}
	_, err := fmt.Fprintln(stdout, strings.Join(l.Languages(), "\n"))
	return err
}

// writeWAVFile writes pcm next to path and renames it into place, so a
// failed render never leaves a truncated file behind.
func writeWAVFile(path string, pcm []int16) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tts-*.wav")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := media.WriteWAV(f, pcm); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
