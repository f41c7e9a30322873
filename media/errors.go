package media

import "errors"

// Errors of the audio helpers.
var (
	// ErrUnsupportedRate is a sample rate the resampler or loader refuses.
	ErrUnsupportedRate = errors.New("unsupported sample rate")
	// ErrUnsupportedWAV is a WAV file that is not 16-bit PCM, mono or stereo.
	ErrUnsupportedWAV = errors.New("unsupported WAV file")
)

// Errors of the RTP, DTMF and recording paths.
var (
	// ErrShortPacket is an RTP packet or telephone-event payload too short
	// to parse.
	ErrShortPacket = errors.New("short packet")
	// ErrInvalidDigit is a DTMF key outside 0-9, *, #, A-D.
	ErrInvalidDigit = errors.New("invalid DTMF key")
	// ErrUnknownCodec is a payload type that is neither PCMU nor PCMA.
	ErrUnknownCodec = errors.New("unknown codec")
	// ErrClosed is an operation on a closed stream or recorder.
	ErrClosed = errors.New("closed")
	// ErrNotStarted is an operation that needs Stream.Start first.
	ErrNotStarted = errors.New("stream not started")
	// ErrInterrupted is the result of a playback cut by StopPlayback.
	ErrInterrupted = errors.New("playback interrupted")
	// ErrNoTelephoneEvent is SendDTMF on a stream without a negotiated
	// telephone-event payload type.
	ErrNoTelephoneEvent = errors.New("telephone-event not negotiated")
	// ErrPortRange is an invalid RTP port range, or one without a free port.
	ErrPortRange = errors.New("rtp port range")
	// ErrNoRemote is a stream configuration without a remote address.
	ErrNoRemote = errors.New("no remote address")
)
