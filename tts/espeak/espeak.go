package espeak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// Timeout bounds one synthesis, process start to exit (default 10s).
	Timeout time.Duration
	// MaxProcs bounds concurrent espeak-ng processes (default 4); further
	// renders wait for a free slot or for their context to end.
	MaxProcs int
	// Logger receives Debug lines per render (language and timing, never
	// the text); nil discards them.
	Logger *slog.Logger
}

// Engine runs espeak-ng. It is safe for concurrent use.
type Engine struct {
	bin   string
	cfg   Config
	sem   chan struct{}
	langs map[string]bool
	log   *slog.Logger
}

// New finds espeak-ng and reads the languages it speaks. It fails with
// install instructions, wrapping tts.ErrNotInstalled, when espeak-ng is
// missing.
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
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("espeak: %w: %s not found on PATH (install it: sudo apt-get install espeak-ng)", tts.ErrNotInstalled, cfg.Binary)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--voices")
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("espeak: %s --voices: %w", bin, err)
	}
	langs := ParseVoices(out)
	if len(langs) == 0 {
		return nil, fmt.Errorf("espeak: %s --voices listed no languages", bin)
	}
	return &Engine{bin: bin, cfg: cfg, sem: make(chan struct{}, cfg.MaxProcs), langs: langs, log: log}, nil
}

var aliasRE = regexp.MustCompile(`\(([A-Za-z0-9-]+) \d+\)`)

// ParseVoices reads the language column of `espeak-ng --voices`, plus
// the aliases of its "Other Languages" column (such as "(en 10)").
// Codes are lower-cased; lines that are not voice rows are ignored.
func ParseVoices(out []byte) map[string]bool {
	langs := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] == "Pty" {
			continue
		}
		if _, err := strconv.Atoi(f[0]); err != nil || !validLang(f[1]) {
			continue
		}
		langs[strings.ToLower(f[1])] = true
		for _, m := range aliasRE.FindAllStringSubmatch(sc.Text(), -1) {
			if validLang(m[1]) {
				langs[strings.ToLower(m[1])] = true
			}
		}
	}
	return langs
}

// validLang accepts language codes as espeak-ng spells them: letters,
// digits and hyphens, starting with a letter.
func validLang(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i, r := range s {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || (r != '-' && (r < '0' || r > '9'))) {
			return false
		}
	}
	return true
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

// Supports reports whether lang (case-insensitive) is spoken; "" means
// the default "en". Flow validation uses it to refuse unknown languages.
func (e *Engine) Supports(lang string) bool {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang == "" {
		lang = "en"
	}
	return e.langs[lang]
}

// Args returns the espeak-ng arguments for a normalised voice. The text
// is not among them: it goes on stdin, read as UTF-8 (-b 1), and without
// -m, so SSML and other markup are spoken as plain text.
func Args(v tts.Voice) []string {
	variant := "+f3"
	if v.Gender == "male" {
		variant = "+m3"
	}
	return []string{"--stdout", "-b", "1", "-v", strings.ToLower(v.Lang) + variant,
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

// Sanitize makes text safe to give espeak-ng as plain text: its command
// line always interprets "[[...]]" as phoneme input, so a space is put
// between any two adjacent '[' characters. Nothing else is changed.
func Sanitize(text string) string {
	if !strings.Contains(text, "[[") {
		return text
	}
	// '[' is ASCII, so a byte scan is exact for UTF-8 and leaves any other
	// byte untouched.
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); i++ {
		if text[i] == '[' && i > 0 && text[i-1] == '[' {
			b.WriteByte(' ')
		}
		b.WriteByte(text[i])
	}
	return b.String()
}

// Synthesize renders text as 8 kHz mono PCM. Bad text, a bad voice and an
// unsupported language fail before any process starts.
func (e *Engine) Synthesize(ctx context.Context, text string, v tts.Voice) ([]int16, error) {
	if err := tts.CheckText(text); err != nil {
		return nil, err
	}
	v, err := v.Normalize()
	if err != nil {
		return nil, err
	}
	if !e.Supports(v.Lang) {
		return nil, fmt.Errorf("%w: %q (see espeak-ng --voices)", tts.ErrUnsupported, v.Lang)
	}
	select {
	case e.sem <- struct{}{}:
		defer func() { <-e.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("espeak-ng: waiting for a free process: %w", ctx.Err())
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, Args(v)...)
	cmd.Stdin = strings.NewReader(Sanitize(text))
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("espeak-ng: %w", ctx.Err())
		}
		return nil, fmt.Errorf("espeak-ng -v %s: %w: %s", v.Lang, err, firstLine(stderr.String()))
	}
	pcm, rate, err := media.ParseWAVStream(out)
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %w", err)
	}
	if len(pcm) == 0 {
		return nil, errors.New("espeak-ng output: no audio")
	}
	pcm, err = media.Resample(pcm, rate, media.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %w", err)
	}
	e.log.Debug("tts render", "engine", "espeak-ng", "lang", v.Lang,
		"chars", len(text), "audio", media.Duration(len(pcm)), "took", time.Since(start))
	return pcm, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
