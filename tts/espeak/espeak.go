// Package espeak is the espeak-ng text-to-speech engine: one espeak-ng
// process per prompt, text on stdin (never on the command line), output
// resampled from 22050 Hz to 8 kHz with the media resampler.
package espeak

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/tts"
)

// Config tunes the engine; zero values take the defaults.
type Config struct {
	// Binary is the espeak-ng executable (default "espeak-ng" on PATH).
	Binary string
	// Timeout bounds one synthesis (default 10s).
	Timeout time.Duration
	// MaxProcs bounds concurrent espeak-ng processes (default 4).
	MaxProcs int
}

// Engine runs espeak-ng. It is safe for concurrent use.
type Engine struct {
	bin   string
	cfg   Config
	sem   chan struct{}
	langs map[string]bool
}

// New finds espeak-ng and reads the languages it speaks. It fails with
// install instructions when espeak-ng is missing.
func New(cfg Config) (*Engine, error) {
	if cfg.Binary == "" {
		cfg.Binary = "espeak-ng"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxProcs <= 0 {
		cfg.MaxProcs = 4
	}
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found (install it: apt-get install espeak-ng)", tts.ErrNotInstalled, cfg.Binary)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--voices").Output()
	if err != nil {
		return nil, fmt.Errorf("espeak-ng --voices: %w", err)
	}
	langs := ParseVoices(out)
	if len(langs) == 0 {
		return nil, fmt.Errorf("espeak-ng --voices listed no languages")
	}
	return &Engine{bin: bin, cfg: cfg, sem: make(chan struct{}, cfg.MaxProcs), langs: langs}, nil
}

var aliasRE = regexp.MustCompile(`\(([A-Za-z0-9-]+) \d+\)`)

// ParseVoices reads the language column of `espeak-ng --voices`.
func ParseVoices(out []byte) map[string]bool {
	langs := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] == "Pty" {
			continue
		}
		langs[strings.ToLower(f[1])] = true
		// "Other Languages" lists aliases such as "(en 10)".
		for _, m := range aliasRE.FindAllStringSubmatch(sc.Text(), -1) {
			langs[strings.ToLower(m[1])] = true
		}
	}
	return langs
}

// Name identifies the engine in cache keys.
func (e *Engine) Name() string { return "espeak-ng" }

// Languages lists the language codes espeak-ng speaks, sorted.
func (e *Engine) Languages() []string {
	out := make([]string, 0, len(e.langs))
	for l := range e.langs {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Supports reports whether lang (case-insensitive) is spoken.
func (e *Engine) Supports(lang string) bool { return e.langs[strings.ToLower(lang)] }

// Args returns the espeak-ng arguments for a voice: no text, which goes
// on stdin.
func Args(v tts.Voice) []string {
	variant := "+f3"
	if v.Gender == "male" {
		variant = "+m3"
	}
	return []string{"--stdout", "-v", strings.ToLower(v.Lang) + variant,
		"-p", strconv.Itoa(Pitch(v.Pitch)), "-s", strconv.Itoa(Speed(v.Rate))}
}

// Pitch maps 0..9 onto espeak-ng's 0..99 (5 → 50, its default).
func Pitch(p int) int { return p * 10 }

// Speed maps 0..9 onto words per minute: 0 → 80, 5 → 175 (espeak-ng's
// default), 9 → 370.
func Speed(r int) int {
	if r <= 5 {
		return 80 + r*19
	}
	return 175 + (r-5)*195/4
}

// Synthesize renders text as 8 kHz mono PCM.
func (e *Engine) Synthesize(ctx context.Context, text string, v tts.Voice) ([]int16, error) {
	if err := tts.CheckText(text); err != nil {
		return nil, err
	}
	v, err := v.Normalize()
	if err != nil {
		return nil, err
	}
	if !e.Supports(v.Lang) {
		return nil, fmt.Errorf("%w: %q", tts.ErrUnsupported, v.Lang)
	}
	select {
	case e.sem <- struct{}{}:
		defer func() { <-e.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, Args(v)...)
	cmd.Stdin = strings.NewReader(text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("espeak-ng: %w", ctx.Err())
		}
		return nil, fmt.Errorf("espeak-ng: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	pcm, rate, err := media.ParseWAVStream(out)
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %w", err)
	}
	return media.Resample(pcm, rate, media.SampleRate)
}
