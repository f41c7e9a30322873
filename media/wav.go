package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// MaxPromptSeconds bounds the length of a loaded prompt file.
const MaxPromptSeconds = 600

// LoadWAV reads a 16-bit PCM WAV file (mono or stereo, 8 to 48 kHz) and
// returns it in the internal format: 8 kHz mono, stereo mixed down, other
// rates resampled with the windowed-sinc resampler.
func LoadWAV(r io.ReadSeeker) ([]int16, error) {
	if err := checkChunks(r); err != nil {
		return nil, err
	}
	d := wav.NewDecoder(r)
	if !d.IsValidFile() {
		if err := d.Err(); err != nil {
			return nil, fmt.Errorf("load wav: %w: %v", ErrUnsupportedWAV, err)
		}
		return nil, fmt.Errorf("load wav: %w: not a RIFF/WAVE PCM file", ErrUnsupportedWAV)
	}
	if d.WavAudioFormat != 1 {
		return nil, fmt.Errorf("load wav: %w: audio format %d, want 1 (PCM)", ErrUnsupportedWAV, d.WavAudioFormat)
	}
	if d.BitDepth != 16 {
		return nil, fmt.Errorf("load wav: %w: %d-bit samples, want 16-bit", ErrUnsupportedWAV, d.BitDepth)
	}
	if d.NumChans != 1 && d.NumChans != 2 {
		return nil, fmt.Errorf("load wav: %w: %d channels, want mono or stereo", ErrUnsupportedWAV, d.NumChans)
	}
	rate := int(d.SampleRate)
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("load wav: %w: %d Hz, want 8000..48000", ErrUnsupportedRate, rate)
	}
	if err := d.FwdToPCM(); err != nil {
		return nil, fmt.Errorf("load wav: %w: %v", ErrUnsupportedWAV, err)
	}
	if max := int64(MaxPromptSeconds) * int64(rate) * int64(d.NumChans) * 2; d.PCMLen() > max {
		return nil, fmt.Errorf("load wav: %w: longer than %d s", ErrUnsupportedWAV, MaxPromptSeconds)
	}
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return nil, fmt.Errorf("load wav: %w: %v", ErrUnsupportedWAV, err)
	}
	ch := int(d.NumChans)
	mono := make([]int16, len(buf.Data)/ch)
	for i := range mono {
		sum := 0
		for c := 0; c < ch; c++ {
			sum += buf.Data[i*ch+c]
		}
		mono[i] = clampInt(sum / ch)
	}
	return Resample(mono, rate, SampleRate)
}

// WriteWAV writes 8 kHz mono PCM as a 16-bit WAV file.
func WriteWAV(w io.WriteSeeker, pcm []int16) error {
	return WriteWAVChannels(w, SampleRate, 1, pcm)
}

// WriteWAVChannels writes interleaved 16-bit PCM with the given rate and
// channel count.
func WriteWAVChannels(w io.WriteSeeker, rate, channels int, interleaved []int16) error {
	enc := wav.NewEncoder(w, rate, 16, channels, 1)
	data := make([]int, len(interleaved))
	for i, s := range interleaved {
		data[i] = int(s)
	}
	// An empty Write still produces a valid 44-byte header (notes §5).
	if err := enc.Write(&audio.IntBuffer{Format: &audio.Format{NumChannels: channels, SampleRate: rate}, Data: data, SourceBitDepth: 16}); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}

// ParseWAVStream reads a 16-bit PCM WAV from a non-seekable stream such as
// espeak-ng's --stdout, whose size fields may be unset. It returns the
// mono samples (stereo mixed down) and the sample rate.
func ParseWAVStream(data []byte) ([]int16, int, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("parse wav: %w: no RIFF/WAVE header", ErrUnsupportedWAV)
	}
	var rate, channels, bits int
	p := 12
	for p+8 <= len(data) {
		id := string(data[p : p+4])
		size := int(binary.LittleEndian.Uint32(data[p+4 : p+8]))
		body := p + 8
		switch id {
		case "fmt ":
			if size < 16 || body+16 > len(data) {
				return nil, 0, fmt.Errorf("parse wav: %w: short fmt chunk", ErrUnsupportedWAV)
			}
			if f := binary.LittleEndian.Uint16(data[body:]); f != 1 {
				return nil, 0, fmt.Errorf("parse wav: %w: audio format %d, want PCM", ErrUnsupportedWAV, f)
			}
			channels = int(binary.LittleEndian.Uint16(data[body+2:]))
			rate = int(binary.LittleEndian.Uint32(data[body+4:]))
			bits = int(binary.LittleEndian.Uint16(data[body+14:]))
		case "data":
			if rate == 0 {
				return nil, 0, fmt.Errorf("parse wav: %w: data before fmt", ErrUnsupportedWAV)
			}
			if bits != 16 || (channels != 1 && channels != 2) {
				return nil, 0, fmt.Errorf("parse wav: %w: %d-bit %d-channel, want 16-bit mono or stereo", ErrUnsupportedWAV, bits, channels)
			}
			end := len(data)
			if size > 0 && size != math.MaxUint32 && size < 0x7ffff000 && body+size <= end {
				end = body + size
			}
			raw := data[body:end]
			n := len(raw) / (2 * channels)
			out := make([]int16, n)
			for i := 0; i < n; i++ {
				sum := 0
				for c := 0; c < channels; c++ {
					sum += int(int16(binary.LittleEndian.Uint16(raw[(i*channels+c)*2:])))
				}
				out[i] = clampInt(sum / channels)
			}
			return out, rate, nil
		}
		if size < 0 || size > len(data) {
			break
		}
		p = body + size + size&1
	}
	return nil, 0, fmt.Errorf("parse wav: %w: no data chunk", ErrUnsupportedWAV)
}

func clampInt(v int) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// checkChunks walks the RIFF chunk headers and rejects sizes that run past
// the end of the file before the WAV decoder trusts them (a forged size
// would otherwise make it allocate gigabytes).
func checkChunks(r io.ReadSeeker) error {
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("load wav: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("load wav: %w", err)
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return fmt.Errorf("load wav: %w: not a RIFF/WAVE file", ErrUnsupportedWAV)
	}
	pos := int64(12)
	for i := 0; pos+8 <= end && i < 64; i++ {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			break
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		if pos+8+size > end {
			if string(ch[0:4]) == "data" {
				break // a truncated data chunk is read up to the end
			}
			return fmt.Errorf("load wav: %w: chunk %q at byte %d claims %d bytes past the end", ErrUnsupportedWAV, ch[0:4], pos, pos+8+size-end)
		}
		if string(ch[0:4]) == "fmt " && (size < 16 || size > 1024) {
			return fmt.Errorf("load wav: %w: fmt chunk of %d bytes", ErrUnsupportedWAV, size)
		}
		pos += 8 + size + size&1
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return fmt.Errorf("load wav: %w", err)
		}
	}
	_, err = r.Seek(0, io.SeekStart)
	return err
}
