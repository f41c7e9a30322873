package media

import "errors"

// Errors of the audio helpers.
var (
	// ErrUnsupportedRate is a sample rate the resampler or loader refuses.
	ErrUnsupportedRate = errors.New("unsupported sample rate")
	// ErrUnsupportedWAV is a WAV file that is not 16-bit PCM, mono or stereo.
	ErrUnsupportedWAV = errors.New("unsupported WAV file")
)
