package rtpio

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/pion/rtp"
)

func eventPacket(seq uint16, ts uint32, code byte, end bool, dur uint16) []byte {
	p := make([]byte, 4)
	p[0] = code
	if end {
		p[1] = 0x80
	}
	binary.BigEndian.PutUint16(p[2:], dur)
	b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: ts}, Payload: p}).Marshal()
	return b
}

// The sipp pcaps repeat the end packet three times with the same sequence
// number: one key, not three.
func TestReceiverRFC4733Dedup(t *testing.T) {
	var got []string
	r := newReceiver(Config{DTMF: 101, OnDigit: func(k byte, m string) { got = append(got, string(k)+m) }})
	pk := [][]byte{
		eventPacket(1, 1000, 1, false, 160), eventPacket(2, 1000, 1, false, 320),
		eventPacket(3, 1000, 1, true, 480), eventPacket(3, 1000, 1, true, 480), eventPacket(3, 1000, 1, true, 480),
		eventPacket(4, 2000, 1, true, 480), // same key again, new timestamp: a second press
		eventPacket(5, 3000, 11, true, 480),
	}
	for _, p := range pk {
		if !r.packet(p) {
			t.Fatal("valid event packet dropped")
		}
	}
	if strings.Join(got, ",") != "1rfc4733,1rfc4733,#rfc4733" {
		t.Errorf("keys %v", got)
	}
}

func TestReceiverDropsBadPackets(t *testing.T) {
	r := newReceiver(Config{DTMF: 101})
	for name, b := range map[string][]byte{
		"empty":       {},
		"short":       {0x80, 0},
		"version 1":   append([]byte{0x40, 0}, make([]byte, 10)...),
		"short event": append(eventPacket(1, 1, 1, true, 1)[:12], 1, 2),
		"unknown pt":  {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff},
		"bad padding": {0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 9},
	} {
		if r.packet(b) {
			t.Errorf("%s accepted", name)
		}
	}
}

func FuzzReceiverPacket(f *testing.F) {
	f.Add(eventPacket(1, 1000, 5, true, 480))
	f.Add(eventPacket(9, 7, 200, false, 0))
	frame, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0}, Payload: make([]byte, 160)}).Marshal()
	f.Add(frame)
	f.Add([]byte{0xa0, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newReceiver(Config{DTMF: 101, OnDigit: func(k byte, _ string) {
			if !ValidDigit(k) {
				t.Fatalf("reported non-key %q", k)
			}
		}, OnAudio: func(pcm []int16) {
			if len(pcm) > 480 {
				t.Fatalf("frame of %d samples", len(pcm))
			}
		}})
		r.packet(b)
		r.packet(b)
	})
}

func BenchmarkReceiveAudioPacket(b *testing.B) {
	frame, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0}, Payload: make([]byte, 160)}).Marshal()
	r := newReceiver(Config{DTMF: 101, OnAudio: func([]int16) {}})
	b.ReportAllocs()
	for b.Loop() {
		r.packet(frame)
	}
}
