package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/tts/ttstest"
)

func TestTTSCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.wav")
	code, stdout, errs := runCmd(t, "tts", "--tts", "tones", "--text", "thanks Alex", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := media.LoadWAV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := ttstest.Identify(pcm, []string{"thanks Alex", "other"}); len(got) != 1 || got[0] != "thanks Alex" {
		t.Fatalf("file holds %q (%s)", got, stdout)
	}
	for _, bad := range [][]string{{"tts"}, {"tts", "--text", "x"}, {"tts", "--out", out}, {"tts", "--pitch", "x"}} {
		if code, _, _ := runCmd(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if code, _, errs := runCmd(t, "tts", "--tts", "tones", "--text", "hi", "--pitch", "12", "--out", out); code != 1 || !strings.Contains(errs, "invalid voice") {
		t.Errorf("bad pitch: exit %d %s", code, errs)
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("SKIPPING the espeak-ng part: espeak-ng is not installed")
	}
	code, _, errs = runCmd(t, "tts", "--text", "Dear Mr Alex", "--gender", "male", "--out", out)
	if code != 0 {
		t.Fatalf("espeak: exit %d %s", code, errs)
	}
	if code, _, errs := runCmd(t, "tts", "--text", "hi", "--lang", "xx", "--out", out); code != 1 || !strings.Contains(errs, "not supported") {
		t.Errorf("unknown lang: exit %d %s", code, errs)
	}
}
