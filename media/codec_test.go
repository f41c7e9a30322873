package media

import (
	"errors"
	"testing"
)

// Golden G.711 values from ITU-T G.711 (tables 1a/2a): code words of a few
// linear samples and the decoded reconstruction values.
func TestG711Golden(t *testing.T) {
	cases := []struct {
		codec Codec
		in    int16
		code  byte
		out   int16
	}{
		{PCMU, 0, 0xff, 0},
		{PCMU, -1, 0x7f, 0},
		{PCMU, 1000, 0xce, 988},
		{PCMU, -1000, 0x4e, -988},
		{PCMU, 32767, 0x80, 32124},
		{PCMU, -32768, 0x00, -32124},
		{PCMA, 0, 0xd5, 8},
		{PCMA, 1000, 0xfa, 1008},
		{PCMA, -1000, 0x7a, -1008},
		{PCMA, 32767, 0xaa, 32256},
		{PCMA, -32768, 0x2a, -32256},
	}
	for _, c := range cases {
		var enc [1]byte
		var dec [1]int16
		c.codec.Encode(enc[:], []int16{c.in})
		if enc[0] != c.code {
			t.Errorf("%v encode %d = %#02x, want %#02x", c.codec, c.in, enc[0], c.code)
		}
		c.codec.Decode(dec[:], enc[:])
		if dec[0] != c.out {
			t.Errorf("%v decode %#02x = %d, want %d", c.codec, enc[0], dec[0], c.out)
		}
	}
}

// Every code word decodes to a value that encodes back to the same code
// word (G.711 is idempotent after one pass), and quantisation error stays
// within the segment step.
func TestG711RoundTrip(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		var all [256]byte
		for i := range all {
			all[i] = byte(i)
		}
		var pcm [256]int16
		var back [256]byte
		c.Decode(pcm[:], all[:])
		c.Encode(back[:], pcm[:])
		for i := range all {
			// μ-law has two zeros (0x7f and 0xff); both decode to 0.
			if back[i] != all[i] && !(c == PCMU && pcm[i] == 0) {
				t.Errorf("%v: code %#02x -> %d -> %#02x", c, all[i], pcm[i], back[i])
			}
		}
		frame := Tone(1000, 12000, FrameSamples)
		var enc [FrameSamples]byte
		var dec [FrameSamples]int16
		c.Encode(enc[:], frame)
		c.Decode(dec[:], enc[:])
		for i := range frame {
			d := int(frame[i]) - int(dec[i])
			if d < 0 {
				d = -d
			}
			if limit := abs16(frame[i])/16 + 16; d > limit {
				t.Fatalf("%v sample %d: %d -> %d, error %d > %d", c, i, frame[i], dec[i], d, limit)
			}
		}
	}
	if _, err := CodecForPayloadType(9); !errors.Is(err, ErrUnknownCodec) {
		t.Fatalf("pt 9: %v", err)
	}
	if c, _ := CodecForPayloadType(8); c != PCMA || c.String() != "PCMA" {
		t.Fatalf("pt 8: %v", c)
	}
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

func BenchmarkEncodeFrame(b *testing.B) {
	frame := Tone(440, 8000, FrameSamples)
	var out [FrameSamples]byte
	b.ReportAllocs()
	for b.Loop() {
		PCMU.Encode(out[:], frame)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	var in [FrameSamples]byte
	PCMA.Encode(in[:], Tone(440, 8000, FrameSamples))
	var out [FrameSamples]int16
	b.ReportAllocs()
	for b.Loop() {
		PCMA.Decode(out[:], in[:])
	}
}
