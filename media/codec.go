package media

import (
	"fmt"

	"github.com/zaf/g711"
)

// Codec is a G.711 codec, identified by its static RTP payload type
// (RFC 3551). Encode and Decode work on caller buffers and never allocate.
type Codec uint8

// The supported codecs.
const (
	// PCMU is G.711 μ-law, RTP payload type 0.
	PCMU Codec = 0
	// PCMA is G.711 A-law, RTP payload type 8.
	PCMA Codec = 8
)

// CodecForPayloadType returns the codec of an RTP payload type, or an error
// wrapping ErrUnknownCodec.
func CodecForPayloadType(pt uint8) (Codec, error) {
	switch Codec(pt) {
	case PCMU, PCMA:
		return Codec(pt), nil
	}
	return 0, fmt.Errorf("payload type %d: %w", pt, ErrUnknownCodec)
}

// PayloadType returns the codec's RTP payload type.
func (c Codec) PayloadType() uint8 { return uint8(c) }

// String returns the SDP encoding name ("PCMU" or "PCMA").
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

// SampleRate returns the codec's clock rate (8000 Hz for G.711).
func (c Codec) SampleRate() int { return SampleRate }

// Encode encodes min(len(dst), len(pcm)) samples of pcm into dst and returns
// the count. One byte per sample.
func (c Codec) Encode(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	dst, pcm = dst[:n], pcm[:n]
	if c == PCMA {
		for i, s := range pcm {
			dst[i] = g711.EncodeAlawFrame(s)
		}
		return n
	}
	for i, s := range pcm {
		dst[i] = g711.EncodeUlawFrame(s)
	}
	return n
}

// Decode decodes min(len(dst), len(payload)) bytes of payload into dst and
// returns the count.
func (c Codec) Decode(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	dst, payload = dst[:n], payload[:n]
	if c == PCMA {
		for i, b := range payload {
			dst[i] = g711.DecodeAlawFrame(b)
		}
		return n
	}
	for i, b := range payload {
		dst[i] = g711.DecodeUlawFrame(b)
	}
	return n
}

// Silence returns the encoded byte of a zero sample for the codec.
func (c Codec) Silence() byte {
	if c == PCMA {
		return g711.EncodeAlawFrame(0)
	}
	return g711.EncodeUlawFrame(0)
}
