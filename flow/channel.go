package flow

import (
	"context"
	"errors"
	"time"
)

// ErrHangup is returned by a Channel when the callee hung up. The interpreter
// records error_hangup for the current step and stops.
var ErrHangup = errors.New("callee hung up")

// ErrTTS is returned (wrapped) by a Channel when a prompt could not be
// rendered. The step gets error_tts and the flow continues.
var ErrTTS = errors.New("prompt could not be rendered")

// Prompt is what a play or gather step says: speech or an audio file.
type Prompt struct {
	// Message is the substituted text and voice (nil when Audio is set).
	Message *Message
	// Audio is a WAV file path played instead of speech.
	Audio string
	// Loop is how many times to play it (≥ 1).
	Loop int
}

// GatherOptions tell a Channel how to collect digits for one gather attempt.
type GatherOptions struct {
	// NumDigits ends collection once this many digits arrived.
	NumDigits int
	// Timeout is the wait for the first digit once the prompt ended.
	Timeout time.Duration
	// InterDigitTimeout is the wait between digits.
	InterDigitTimeout time.Duration
	// FinishOnKey ends collection when pressed ("" = none); it is not part
	// of the returned digits.
	FinishOnKey string
	// BargeIn stops the prompt at the first digit.
	BargeIn bool
}

// Digits is what a gather attempt collected.
type Digits struct {
	// Keys are the digits in order, without the finish key.
	Keys string
	// Each lists every digit with its method and arrival time.
	Each []DigitInfo
}

// Transfer describes a transfer step for the Channel.
type Transfer struct {
	// Destination is substituted: Ext:<digits>, E.164 or a SIP URI.
	Destination string
	// Mode is ModeRefer, ModeBridge or ModeAuto.
	Mode string
}

// Channel is the live call a flow runs on. Implementations return ErrHangup
// (possibly wrapped) when the callee hangs up, and honour ctx cancellation.
type Channel interface {
	// Play says the prompt and returns when it has been played.
	Play(ctx context.Context, p Prompt) error
	// Gather says the prompt and collects digits; an empty Keys means no input.
	Gather(ctx context.Context, p Prompt, o GatherOptions) (Digits, error)
	// Transfer moves the call and reports the final transfer status.
	Transfer(ctx context.Context, t Transfer) (string, error)
	// Pause waits d while the call stays up.
	Pause(ctx context.Context, d time.Duration) error
	// Hangup ends the call from our side.
	Hangup(ctx context.Context) error
}
