package ttstest

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/tts"
	"github.com/zaf/g711"
)

var prompts = []string{
	"thanks Alex",
	"Dear Mr Alex, the amount of 200,000$ will be due on August 20th, 2020",
	"message need to play",
	"msg need to play",
	"goodbye",
}

func TestSignaturesAreDistinct(t *testing.T) {
	seen := map[[Symbols]int]string{}
	for _, p := range prompts {
		s := Signature(p)
		if other, dup := seen[s]; dup {
			t.Fatalf("%q and %q share a signature", p, other)
		}
		seen[s] = p
	}
}

// TestIdentifyThroughG711 renders prompts, sends them through μ-law and
// A-law with silence and noise around them, and finds them in order.
func TestIdentifyThroughG711(t *testing.T) {
	var e Engine
	rng := rand.New(rand.NewPCG(1, 2))
	for _, law := range []string{"ulaw", "alaw"} {
		var line []int16
		heard := []string{prompts[0], prompts[1], prompts[3], prompts[1]}
		for _, p := range heard {
			line = append(line, make([]int16, 1234)...) // odd offsets
			pcm, err := e.Synthesize(context.Background(), p, tts.Voice{})
			if err != nil {
				t.Fatal(err)
			}
			line = append(line, pcm...)
		}
		for i := range line {
			line[i] += int16(rng.IntN(200) - 100) // noise
			if law == "ulaw" {
				line[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(line[i]))
			} else {
				line[i] = g711.DecodeAlawFrame(g711.EncodeAlawFrame(line[i]))
			}
		}
		if got := Identify(line, prompts); !reflect.DeepEqual(got, heard) {
			t.Errorf("%s: heard %q, want %q", law, got, heard)
		}
	}
	if got := Identify(make([]int16, 8000), prompts); len(got) != 0 {
		t.Errorf("silence heard as %q", got)
	}
	if got := Identify(media.DualTone(697, 1209, 8000, 8000), prompts); len(got) != 0 {
		t.Errorf("a DTMF tone heard as %q", got)
	}
}
