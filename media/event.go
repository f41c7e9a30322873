package media

import (
	"encoding/binary"
	"fmt"
)

// EventPayloadSize is the size of an RFC 4733 telephone-event payload.
const EventPayloadSize = 4

// Event is one RFC 4733 §2.3 telephone-event payload.
type Event struct {
	// Code is the event code: 0-9 digits, 10 '*', 11 '#', 12-15 A-D, 16 flash.
	Code uint8
	// End is the E bit: set on the final packet(s) of the event.
	End bool
	// Volume is the power level in -dBm0 (0..63).
	Volume uint8
	// Duration is the event duration so far, in timestamp units (samples).
	Duration uint16
}

// ParseEvent decodes a telephone-event payload. Extra bytes (redundancy
// blocks are not supported) are ignored; a payload shorter than 4 bytes
// returns an error wrapping ErrShortPacket.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) < EventPayloadSize {
		return Event{}, fmt.Errorf("telephone-event: %d bytes: %w", len(payload), ErrShortPacket)
	}
	return Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}, nil
}

// MarshalTo writes the 4-byte payload into b (which must hold at least 4
// bytes) and returns 4.
func (e Event) MarshalTo(b []byte) int {
	_ = b[3]
	b[0] = e.Code
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], e.Duration)
	return EventPayloadSize
}

// EventCode returns the RFC 4733 event code of a DTMF key (0-9, *, #, A-D,
// lower-case a-d accepted), or an error wrapping ErrInvalidDigit.
func EventCode(key rune) (uint8, error) {
	switch {
	case key >= '0' && key <= '9':
		return uint8(key - '0'), nil
	case key == '*':
		return 10, nil
	case key == '#':
		return 11, nil
	case key >= 'A' && key <= 'D':
		return uint8(key-'A') + 12, nil
	case key >= 'a' && key <= 'd':
		return uint8(key-'a') + 12, nil
	}
	return 0, fmt.Errorf("key %q: %w", key, ErrInvalidDigit)
}

// EventKey returns the DTMF key of an event code, or 0 for codes that are
// not DTMF digits (flash and beyond).
func EventKey(code uint8) rune {
	switch {
	case code <= 9:
		return rune('0' + code)
	case code == 10:
		return '*'
	case code == 11:
		return '#'
	case code <= 15:
		return rune('A' + code - 12)
	}
	return 0
}

// ValidKey reports whether key is a DTMF key (0-9, *, #, A-D).
func ValidKey(key rune) bool {
	_, err := EventCode(key)
	return err == nil && !(key >= 'a' && key <= 'd')
}
