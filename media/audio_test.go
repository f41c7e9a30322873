package media

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func toneAt(rate int, freq, amp float64, seconds float64) []int16 {
	n := int(float64(rate) * seconds)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func db(ratio float64) float64 { return 10 * math.Log10(ratio) }

func TestResamplerKeepsPassbandAndRejectsAliases(t *testing.T) {
	for _, rate := range []int{16000, 22050, 44100, 48000} {
		in := toneAt(rate, 1000, 16000, 1)
		out, err := Resample(in, rate, SampleRate)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(in) * SampleRate / rate; len(out) != want {
			t.Fatalf("%d Hz: %d samples, want %d", rate, len(out), want)
		}
		mid := out[800 : len(out)-800] // skip the filter's edges
		p := Goertzel(mid, 1000)
		want := math.Pow(16000.0/32768, 2)
		if loss := db(p / want); loss < -0.5 || loss > 0.5 {
			t.Errorf("%d Hz: 1 kHz changed by %.2f dB", rate, loss)
		}
		for _, f := range []float64{4500, 5000, 6000, 7000} {
			if f >= float64(rate)/2 {
				continue
			}
			hi, _ := Resample(toneAt(rate, f, 16000, 1), rate, SampleRate)
			e := Energy(hi[800 : len(hi)-800])
			// The input sine has power amp²/2.
			if att := db(e / (want / 2)); att > -40 {
				t.Errorf("%d Hz: %v Hz attenuated only %.1f dB", rate, f, att)
			}
		}
	}
	if _, err := Resample(nil, 100, 8000); !errors.Is(err, ErrUnsupportedRate) {
		t.Fatalf("bad rate: %v", err)
	}
	same, _ := Resample([]int16{1, 2, 3}, 8000, 8000)
	if len(same) != 3 || same[2] != 3 {
		t.Fatalf("identity: %v", same)
	}
}

func writeTemp(t *testing.T, rate, ch int, pcm []int16) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.wav")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteWAVChannels(f, rate, ch, pcm); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestLoadWAVRatesAndChannels(t *testing.T) {
	for _, rate := range []int{8000, 16000, 22050, 44100, 48000} {
		for _, ch := range []int{1, 2} {
			mono := toneAt(rate, 440, 12000, 0.5)
			pcm := mono
			if ch == 2 {
				pcm = make([]int16, 2*len(mono))
				for i, s := range mono {
					pcm[2*i], pcm[2*i+1] = s, s
				}
			}
			f, _ := os.Open(writeTemp(t, rate, ch, pcm))
			got, err := LoadWAV(f)
			f.Close()
			if err != nil {
				t.Fatalf("%d Hz %d ch: %v", rate, ch, err)
			}
			if len(got) != 4000 {
				t.Fatalf("%d Hz %d ch: %d samples", rate, ch, len(got))
			}
			if p := Goertzel(got[500:3500], 440); db(p/math.Pow(12000.0/32768, 2)) < -1 {
				t.Errorf("%d Hz %d ch: 440 Hz lost", rate, ch)
			}
		}
	}
}

func TestLoadWAVRejectsBadFiles(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("not a wav at all")
	if _, err := LoadWAV(bytes.NewReader(buf.Bytes())); !errors.Is(err, ErrUnsupportedWAV) {
		t.Errorf("garbage: %v", err)
	}
	f, _ := os.Open(writeTemp(t, 96000, 1, make([]int16, 100)))
	defer f.Close()
	if _, err := LoadWAV(f); !errors.Is(err, ErrUnsupportedRate) {
		t.Errorf("96 kHz: %v", err)
	}
	// 8-bit file: patch the header's bits-per-sample.
	data, _ := os.ReadFile(writeTemp(t, 8000, 1, make([]int16, 100)))
	data[34] = 8
	if _, err := LoadWAV(bytes.NewReader(data)); !errors.Is(err, ErrUnsupportedWAV) {
		t.Errorf("8-bit: %v", err)
	}
}

func TestParseWAVStreamWithUnsetSizes(t *testing.T) {
	data, _ := os.ReadFile(writeTemp(t, 22050, 1, []int16{1, -2, 3, 32767}))
	// espeak-ng writes 0xffffffff-style sizes when its output is a pipe.
	copy(data[40:44], []byte{0xff, 0xff, 0xff, 0x7f})
	pcm, rate, err := ParseWAVStream(data)
	if err != nil || rate != 22050 || len(pcm) != 4 || pcm[3] != 32767 || pcm[1] != -2 {
		t.Fatalf("got %v %d %v", pcm, rate, err)
	}
	for _, bad := range [][]byte{nil, []byte("RIFF0000WAVE"), data[:30]} {
		if _, _, err := ParseWAVStream(bad); !errors.Is(err, ErrUnsupportedWAV) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzLoadWAV(f *testing.F) {
	var good bytes.Buffer
	p := filepath.Join(f.TempDir(), "seed.wav")
	fh, _ := os.Create(p)
	_ = WriteWAVChannels(fh, 16000, 2, []int16{1, 2, 3, 4, 5, 6})
	fh.Close()
	seed, _ := os.ReadFile(p)
	good.Write(seed)
	f.Add(good.Bytes())
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"))
	f.Add([]byte("RIFF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		if pcm, err := LoadWAV(bytes.NewReader(data)); err == nil && len(pcm) > MaxPromptSeconds*SampleRate {
			t.Fatalf("%d samples", len(pcm))
		}
		_, _, _ = ParseWAVStream(data)
	})
}
