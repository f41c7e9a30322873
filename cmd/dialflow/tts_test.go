package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/tts/ttstest"
)

// wavInfo reads a WAV file's sample rate and channel count from its fmt
// chunk and its samples with media.LoadWAV.
func wavInfo(t *testing.T, path string) (rate, channels int, pcm []int16) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" || string(data[12:16]) != "fmt " {
		t.Fatalf("%s is not a canonical WAV file", path)
	}
	channels = int(binary.LittleEndian.Uint16(data[22:]))
	rate = int(binary.LittleEndian.Uint32(data[24:]))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, err = media.LoadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	return rate, channels, pcm
}

func TestTTSCommandTones(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.wav")
	code, stdout, errs := runCmd(t, "tts", "--tts", "tones", "--text", "thanks Alex", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rate, ch, pcm := wavInfo(t, out)
	if rate != 8000 || ch != 1 {
		t.Fatalf("%d Hz, %d channels", rate, ch)
	}
	if got := ttstest.Identify(pcm, []string{"thanks Alex", "other"}); len(got) != 1 || got[0] != "thanks Alex" {
		t.Fatalf("file holds %q (%s)", got, stdout)
	}
	if !strings.Contains(stdout, "8000 Hz mono") {
		t.Errorf("stdout %q", stdout)
	}
}

func TestTTSCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.wav")
	for _, bad := range [][]string{
		{"tts"}, {"tts", "--text", "x"}, {"tts", "--out", out}, {"tts", "--pitch", "x"},
		{"tts", "--text", "x", "--out", out, "extra"}, {"tts", "--nope"},
	} {
		if code, _, errs := runCmd(t, bad...); code != 2 || !strings.Contains(errs, "usage: dialflow tts") {
			t.Errorf("%v: exit %d, want 2 with usage (%s)", bad, code, errs)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pitch", "12", "--text", "hi"}, "pitch 12"},
		{[]string{"--gender", "robot", "--text", "hi"}, "gender"},
		{[]string{"--text", "   "}, "text is empty"},
		{[]string{"--text", strings.Repeat("a", 1001)}, "longer than 1000"},
		{[]string{"--text", "bell\a"}, "control character"},
		{[]string{"--tts", "nope", "--text", "hi"}, "unknown tts engine"},
	} {
		args := append([]string{"tts", "--out", out}, c.args...)
		if c.args[0] != "--tts" {
			args = append(args, "--tts", "tones")
		}
		if code, _, errs := runCmd(t, args...); code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d %q, want 1 and %q", c.args, code, errs, c.want)
		}
	}
	// No output file is left behind by a failed render.
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d files", len(entries))
	}
	if code, _, errs := runCmd(t, "tts", "--tts", "tones", "--text", "hi", "--out", filepath.Join(dir, "missing", "x.wav")); code != 1 || !strings.Contains(errs, "missing") {
		t.Errorf("unwritable path: exit %d %s", code, errs)
	}
}

func TestTTSCommandEspeak(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("SKIPPING: espeak-ng is not installed (make test installs it)")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "p.wav")
	code, _, errs := runCmd(t, "tts", "--text", "Dear Mr Alex, the amount is due.", "--gender", "male", "--rate", "7", "--out", out)
	if code != 0 {
		t.Fatalf("espeak: exit %d %s", code, errs)
	}
	rate, ch, pcm := wavInfo(t, out)
	if rate != 8000 || ch != 1 || len(pcm) < 8000/2 || media.Energy(pcm) < 1e-4 {
		t.Fatalf("%d Hz %d ch, %d samples, energy %g", rate, ch, len(pcm), media.Energy(pcm))
	}
	if code, _, errs := runCmd(t, "tts", "--text", "hi", "--lang", "xx", "--out", out); code != 1 || !strings.Contains(errs, "not supported") {
		t.Errorf("unknown lang: exit %d %s", code, errs)
	}
	code, stdout, _ := runCmd(t, "tts", "--languages")
	langs := strings.Fields(stdout)
	if code != 0 || len(langs) < 50 || !slices.Contains(langs, "en") || !slices.Contains(langs, "vi") {
		t.Errorf("--languages: exit %d, %d languages", code, len(langs))
	}
}
