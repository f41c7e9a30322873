package rtpio

import (
	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// receiver turns received RTP packets into audio frames and DTMF keys. It
// is owned by one goroutine and allocates nothing per packet.
type receiver struct {
	codecDTMF int
	onAudio   func([]int16)
	onDigit   func(byte, string)

	h   rtp.Header
	pcm []int16
	g   goertzel

	evTS           uint32
	evDone, evSeen bool
	rfcSeen        bool
	lastTone       byte
	toneRun        int
}

func newReceiver(cfg Config) *receiver {
	return &receiver{codecDTMF: cfg.DTMF, onAudio: cfg.OnAudio, onDigit: cfg.OnDigit,
		pcm: make([]int16, 0, 480), g: newGoertzel()}
}

// packet handles one datagram; it reports false for a packet it dropped
// (not RTP, bad padding, short event, unknown payload type).
func (r *receiver) packet(b []byte) bool {
	hl, err := r.h.Unmarshal(b)
	if err != nil || r.h.Version != 2 || hl > len(b) {
		return false
	}
	body := b[hl:]
	if r.h.Padding {
		if len(body) == 0 {
			return false
		}
		p := int(body[len(body)-1])
		if p == 0 || p > len(body) {
			return false
		}
		body = body[:len(body)-p]
	}
	switch {
	case r.codecDTMF >= 0 && int(r.h.PayloadType) == r.codecDTMF:
		return r.event(body)
	case r.h.PayloadType == 0 || r.h.PayloadType == 8:
		r.audio(body, r.h.PayloadType == 8)
		return true
	}
	return false
}

// event applies RFC 4733: one event per timestamp, emitted on its first end
// packet; repeated end packets (same timestamp) are ignored.
func (r *receiver) event(body []byte) bool {
	if len(body) < 4 {
		return false
	}
	if !r.evSeen || r.h.Timestamp != r.evTS {
		r.evTS, r.evDone, r.evSeen = r.h.Timestamp, false, true
	}
	if body[1]&0x80 != 0 && !r.evDone {
		r.evDone = true
		r.rfcSeen = true
		if k := eventKey(body[0]); k != 0 && r.onDigit != nil {
			r.onDigit(k, MethodRFC4733)
		}
	}
	return true
}

// audio decodes G.711 and runs in-band detection (two equal 20 ms frames
// report a key; a non-tone frame re-arms). Once RFC 4733 events were seen,
// in-band detection stops so a key is not reported twice.
func (r *receiver) audio(body []byte, alaw bool) {
	r.pcm = r.pcm[:0]
	for _, b := range body {
		if len(r.pcm) == cap(r.pcm) {
			break
		}
		if alaw {
			r.pcm = append(r.pcm, g711.DecodeAlawFrame(b))
		} else {
			r.pcm = append(r.pcm, g711.DecodeUlawFrame(b))
		}
	}
	if r.onAudio != nil {
		r.onAudio(r.pcm)
	}
	if r.rfcSeen || len(r.pcm) < FrameSamples {
		return
	}
	k := r.g.detect(r.pcm[:FrameSamples])
	switch {
	case k == 0:
		r.lastTone, r.toneRun = 0, 0
	case k == r.lastTone:
		r.toneRun++
		if r.toneRun == 2 && r.onDigit != nil {
			r.onDigit(k, MethodInband)
		}
	default:
		r.lastTone, r.toneRun = k, 1
	}
}
