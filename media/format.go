package media

import "time"

// The internal audio format.
const (
	// SampleRate is the internal sample rate in Hz.
	SampleRate = 8000
	// FrameSamples is the number of samples in one 20 ms frame.
	FrameSamples = 160
	// FrameDuration is the length of one frame.
	FrameDuration = 20 * time.Millisecond
)

// Duration returns how long n samples at SampleRate last.
func Duration(n int) time.Duration { return time.Duration(n) * time.Second / SampleRate }
