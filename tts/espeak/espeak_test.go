package espeak

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/tts"
)

func engine(tb testing.TB) *Engine {
	tb.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		tb.Skip("SKIPPING: espeak-ng is not installed (make test installs it with apt-get)")
	}
	e, err := New(Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// The seed's prompts, substituted for its first destination.
var seedPrompts = []string{
	"thanks Alex",
	"Dear Mr Alex, the amount of 200,000$ will be due on August 20th, 2020",
	"message need to play",
	"msg need to play",
}

func seconds(pcm []int16) float64 { return float64(len(pcm)) / media.SampleRate }

func TestSeedPromptsRender(t *testing.T) {
	e := engine(t)
	for _, text := range seedPrompts {
		pcm, err := e.Synthesize(context.Background(), text, tts.Voice{Lang: "en", Gender: "male", Pitch: 5, Rate: 5})
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		words := float64(len(strings.Fields(text)))
		d := seconds(pcm)
		// 175 words/min nominal; allow slow and fast readings plus padding.
		if d < words*0.15 || d > words*1.0+1.0 {
			t.Errorf("%q: %.2f s for %.0f words", text, d, words)
		}
		if e := media.Energy(pcm); e < 1e-4 {
			t.Errorf("%q: silent (energy %g)", text, e)
		}
	}
}

// zeroCrossRate estimates voice pitch roughly: higher voices cross zero more.
func zeroCrossRate(pcm []int16) float64 {
	n := 0
	for i := 1; i < len(pcm); i++ {
		if (pcm[i-1] < 0) != (pcm[i] < 0) {
			n++
		}
	}
	return float64(n) / float64(len(pcm))
}

func TestVoicesDiffer(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	text := seedPrompts[1]
	female, err := e.Synthesize(ctx, text, tts.Voice{Gender: "female", Pitch: 5, Rate: 5})
	if err != nil {
		t.Fatal(err)
	}
	male, err := e.Synthesize(ctx, text, tts.Voice{Gender: "male", Pitch: 5, Rate: 5})
	if err != nil {
		t.Fatal(err)
	}
	if zeroCrossRate(female) <= zeroCrossRate(male) {
		t.Errorf("female voice not higher: zcr %.4f vs male %.4f", zeroCrossRate(female), zeroCrossRate(male))
	}
	slow, _ := e.Synthesize(ctx, text, tts.Voice{Rate: 0, Pitch: 5})
	fast, _ := e.Synthesize(ctx, text, tts.Voice{Rate: 9, Pitch: 5})
	if seconds(fast)*1.5 > seconds(slow) {
		t.Errorf("rate 9 (%.2f s) not clearly shorter than rate 0 (%.2f s)", seconds(fast), seconds(slow))
	}
}

func TestBadInput(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	cases := map[string]struct {
		text string
		v    tts.Voice
		want error
	}{
		"empty":         {"   ", tts.Voice{}, tts.ErrEmptyText},
		"too long":      {strings.Repeat("a", 1001), tts.Voice{}, tts.ErrTextTooLong},
		"control":       {"hi\x1b[31m", tts.Voice{}, tts.ErrControlChar},
		"unknown lang":  {"hello", tts.Voice{Lang: "xx"}, tts.ErrUnsupported},
		"bad gender":    {"hello", tts.Voice{Gender: "robot"}, tts.ErrBadVoice},
		"pitch too big": {"hello", tts.Voice{Pitch: 10}, tts.ErrBadVoice},
	}
	for name, c := range cases {
		if _, err := e.Synthesize(ctx, c.text, c.v); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	// Text that looks like options or SSML is spoken, never interpreted.
	pcm, err := e.Synthesize(ctx, "--help <speak>-v xx</speak>", tts.Voice{})
	if err != nil || len(pcm) == 0 {
		t.Fatalf("option-like text: %v", err)
	}
}

// TestMarkupIsSpoken: espeak-ng's command line reads "[[...]]" as raw
// phonemes and, with -m, SSML as markup. Neither may reach it from user
// data: the bracketed text must be read out, letter by letter, so it
// lasts much longer than the word the phonemes spell; and an SSML
// <break> must not insert its 3 s of silence.
func TestMarkupIsSpoken(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	v := tts.Voice{Pitch: 5, Rate: 5}
	word, err := e.Synthesize(ctx, "hello", v)
	if err != nil {
		t.Fatal(err)
	}
	phon, err := e.Synthesize(ctx, "[[h@l'oU]]", v)
	if err != nil {
		t.Fatal(err)
	}
	if seconds(phon) < 1.5*seconds(word) {
		t.Errorf("phoneme markup interpreted: %.2f s vs %.2f s for the word", seconds(phon), seconds(word))
	}
	brk, err := e.Synthesize(ctx, `hi <break time="3s"/> hi`, v)
	if err != nil {
		t.Fatal(err)
	}
	if gap := longestSilence(brk); gap > 1.0 {
		t.Errorf("SSML break interpreted: %.2f s of silence", gap)
	}
}

// longestSilence returns the longest run of quiet 20 ms frames, in seconds.
func longestSilence(pcm []int16) float64 {
	run, best := 0, 0
	for off := 0; off+160 <= len(pcm); off += 160 {
		if media.Energy(pcm[off:off+160]) < 1e-5 {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return float64(best) * 0.02
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain":      "plain",
		"[[h@l'oU]]": "[ [h@l'oU]]",
		"[[[x":       "[ [ [x",
		"a [b] [[c":  "a [b] [ [c",
		"":           "",
		"ü[[ü":       "ü[ [ü",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "[[", "[[[[", "a[[b]]c", "ü[[\xff["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		if strings.Contains(got, "[[") {
			t.Fatalf("Sanitize(%q) = %q still holds [[", s, got)
		}
		if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(s, " ", "") {
			t.Fatalf("Sanitize(%q) = %q changed more than brackets", s, got)
		}
	})
}

const voicesSample = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  af              --/M      Afrikaans          gmw/af               
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  vi              --/M      Vietnamese_(Northern) aav/vi               
garbage line
 x  notanumber      --/M      X                  y/z
 5  -v              --/M      Bad                y/z
`

func TestParseVoices(t *testing.T) {
	got := ParseVoices([]byte(voicesSample))
	want := map[string]bool{"af": true, "cmn": true, "zh-cmn": true, "zh": true, "en-gb": true, "en": true, "en-us": true, "vi": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func FuzzParseVoices(f *testing.F) {
	f.Add([]byte(voicesSample))
	f.Add([]byte(""))
	f.Add([]byte(" 5 en (en-x 1)(\n 2)"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for l := range ParseVoices(data) {
			if !validLang(l) || l != strings.ToLower(l) {
				t.Fatalf("invalid language %q from %q", l, data)
			}
		}
	})
}

func TestLanguagesAndMissingBinary(t *testing.T) {
	e := engine(t)
	if !e.Supports("en") || !e.Supports("EN") || !e.Supports("vi") || e.Supports("xx") || len(e.Languages()) < 50 {
		t.Fatalf("languages: %d, en=%v", len(e.Languages()), e.Supports("en"))
	}
	_, err := New(Config{Binary: "espeak-ng-does-not-exist"})
	if !errors.Is(err, tts.ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install espeak-ng") {
		t.Fatalf("missing binary: %v", err)
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Args(tts.Voice{Lang: "en-US", Gender: "male", Pitch: 9, Rate: 0}), " ")
	if got != "--stdout -b 1 -v en-us+m3 -p 90 -s 80" {
		t.Fatalf("args %q", got)
	}
	if Speed(5) != 175 || Pitch(5) != 50 || Speed(9) != 370 {
		t.Fatal("5 must be the engine default")
	}
}

func BenchmarkRender10s(b *testing.B) {
	e := engine(b)
	// About 10 s of speech at the default rate.
	text := "Dear customer, this is a reminder that the amount of two hundred dollars is due on August twentieth. Please press one to pay now, or press zero to speak with an agent. Thank you."
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		var pcm []int16
		for i := 0; i < b.N; i++ {
			var err error
			if pcm, err = e.Synthesize(context.Background(), text, tts.DefaultVoice()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(seconds(pcm), "audio-s")
	})
	c, err := tts.NewCache(e, b.TempDir(), e.Name(), 0)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = c.Synthesize(context.Background(), text, tts.DefaultVoice())
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := c.Synthesize(context.Background(), text, tts.DefaultVoice()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fakeEspeak writes a shell script that answers --voices like espeak-ng
// and otherwise runs body, so the process handling can be tested without
// relying on speech.
func fakeEspeak(t *testing.T, body string) string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("SKIPPING: no sh")
	}
	p := filepath.Join(t.TempDir(), "fake-espeak")
	script := "#!/bin/sh\nif [ \"$1\" = --voices ]; then printf '%s' \"$VOICES\"; exit 0; fi\n" + body + "\n"
	script = strings.Replace(script, "\"$VOICES\"", "'"+voicesSample+"'", 1)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProcessFailures(t *testing.T) {
	ctx := context.Background()
	// Garbage on stdout is a clear error, not a panic or noise.
	e, err := New(Config{Binary: fakeEspeak(t, "cat >/dev/null; echo not a wav file")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Synthesize(ctx, "hello", tts.Voice{}); err == nil || !strings.Contains(err.Error(), "espeak-ng output") {
		t.Fatalf("garbage output: %v", err)
	}
	// A failing process reports its stderr.
	e, _ = New(Config{Binary: fakeEspeak(t, "echo 'voice not found' >&2; exit 1")})
	if _, err := e.Synthesize(ctx, "hello", tts.Voice{}); err == nil || !strings.Contains(err.Error(), "voice not found") {
		t.Fatalf("failing process: %v", err)
	}
	// The text arrives on stdin, byte for byte, and never in the arguments.
	dir := t.TempDir()
	e, _ = New(Config{Binary: fakeEspeak(t, "cat > "+dir+"/stdin; echo \"$@\" > "+dir+"/args; exit 1")})
	_, _ = e.Synthesize(ctx, "--help me [[x]]", tts.Voice{Lang: "vi", Gender: "male", Pitch: 2, Rate: 7})
	stdin, _ := os.ReadFile(filepath.Join(dir, "stdin"))
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if string(stdin) != "--help me [ [x]]" || strings.TrimSpace(string(args)) != "--stdout -b 1 -v vi+m3 -p 20 -s 272" {
		t.Fatalf("stdin %q args %q", stdin, args)
	}
}

func TestTimeoutAndProcessBound(t *testing.T) {
	e, err := New(Config{Binary: fakeEspeak(t, "exec sleep 30"), MaxProcs: 1, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := e.Synthesize(ctx, "one", tts.Voice{})
		first <- err
	}()
	for len(e.sem) == 0 {
		runtime.Gosched()
	}
	// The only process slot is taken: a second render waits, and gives up
	// with its context.
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := e.Synthesize(short, "two", tts.Voice{}); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "free process") {
		t.Fatalf("second render: %v", err)
	}
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled render: %v", err)
	}
	// The engine's own timeout ends a stuck process.
	e2, _ := New(Config{Binary: fakeEspeak(t, "exec sleep 30"), Timeout: 100 * time.Millisecond})
	if _, err := e2.Synthesize(context.Background(), "three", tts.Voice{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
}
