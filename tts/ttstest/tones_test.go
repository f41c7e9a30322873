package ttstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
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

// TestIdentifySurvivesLostFrames drops one 20 ms frame (as a lost RTP
// packet replaced by silence would) at many places inside a signature's
// tones, and still finds every prompt.
func TestIdentifySurvivesLostFrames(t *testing.T) {
	var e Engine
	for tone := 0; tone <= Symbols; tone++ {
		for _, shift := range []int{0, 13, 40, 77, 200, 420, 640} {
			var line []int16
			for _, p := range prompts {
				pcm, err := e.Synthesize(context.Background(), p, tts.Voice{})
				if err != nil {
					t.Fatal(err)
				}
				off := tone*(ToneMs+GapMs)*8 + shift
				clear(pcm[off : off+160])
				line = append(line, make([]int16, 777)...)
				line = append(line, pcm...)
			}
			if got := Identify(line, prompts); !reflect.DeepEqual(got, prompts) {
				t.Fatalf("frame lost in tone %d at +%d: heard %q", tone, shift, got)
			}
		}
	}
}

func TestCheckDistinct(t *testing.T) {
	if err := CheckDistinct(append(prompts, prompts[0])); err != nil {
		t.Fatalf("a repeated text is not a clash: %v", err)
	}
	// Find a real clash among generated texts: 4096 signatures, so a few
	// thousand texts are enough.
	seen := map[[Symbols]int]string{}
	for i := 0; ; i++ {
		s := fmt.Sprintf("prompt %d", i)
		if other, ok := seen[Signature(s)]; ok {
			if err := CheckDistinct([]string{other, s}); err == nil {
				t.Fatalf("%q and %q clash unreported", other, s)
			}
			return
		}
		seen[Signature(s)] = s
	}
}

func TestEngineRejectsBadInput(t *testing.T) {
	var e Engine
	if _, err := e.Synthesize(context.Background(), "", tts.Voice{}); !errors.Is(err, tts.ErrEmptyText) {
		t.Errorf("empty: %v", err)
	}
	if _, err := e.Synthesize(context.Background(), "x", tts.Voice{Pitch: 11}); !errors.Is(err, tts.ErrBadVoice) {
		t.Errorf("pitch: %v", err)
	}
	a, _ := e.Synthesize(context.Background(), "same", tts.Voice{})
	b, _ := e.Synthesize(context.Background(), "same", tts.Voice{Gender: "male"})
	if !reflect.DeepEqual(a, b) {
		t.Error("not deterministic")
	}
}

func FuzzIdentify(f *testing.F) {
	var e Engine
	pcm, _ := e.Synthesize(context.Background(), prompts[0], tts.Voice{})
	f.Add(tts.EncodePCM(pcm[:3000]))
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, err := tts.DecodePCM(data[:len(data)&^1])
		if err != nil {
			return
		}
		for _, got := range Identify(pcm, prompts) {
			if !slices.Contains(prompts, got) {
				t.Fatalf("identified %q, not a candidate", got)
			}
		}
	})
}
