package mediatest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dialflow/dialflow/media"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPairRecordAndMeasure(t *testing.T) {
	a, b := Pair(t, media.StreamConfig{Codec: media.PCMA, EventPT: 101}, media.StreamConfig{EventPT: 101})
	path := filepath.Join(t.TempDir(), "call.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := b.Record(f)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Play(ctx, media.Tone(697, 8000, media.Samples(300*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMFInBand(ctx, '4', 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := b.Play(ctx, media.DualTone(440, 1800, 6000, media.Samples(300*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	left, right, rate, err := ReadStereoWAV(f)
	if err != nil || rate != 8000 {
		t.Fatalf("read: %v rate %d", err, rate)
	}
	if got := Strongest(left, []float64{440, 697, 1209, 1800}, 1); got[0] != 697 {
		t.Fatalf("left strongest %v, want 697 (what a played)", got)
	}
	if got := Strongest(right, []float64{440, 697, 1209, 1800}, 2); !(got[0] == 440 || got[0] == 1800) || !(got[1] == 440 || got[1] == 1800) {
		t.Fatalf("right strongest %v, want 440 and 1800 (what b played)", got)
	}
	if d := DetectDigits(left); d != "4" {
		t.Fatalf("digits in left channel %q", d)
	}
	if HasTone(left, 1800, -30) || !HasTone(right, 1800, -30) {
		t.Fatal("HasTone disagrees with the channels' content")
	}
}
