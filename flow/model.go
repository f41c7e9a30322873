package flow

import "time"

// Step names accepted in a flow.
const (
	StepPlay     = "play"
	StepGather   = "gather"
	StepTransfer = "transfer"
	StepHangup   = "hangup"
	StepPause    = "pause"
)

// Transfer modes. ModeRefer (the default) sends a blind SIP REFER; ModeBridge
// dials a second leg and bridges media; ModeAuto tries REFER and falls back to
// a bridge when the REFER is refused.
const (
	ModeRefer  = "refer"
	ModeBridge = "bridge"
	ModeAuto   = "auto"
)

// Defaults and limits of SPEC §3–§4.
const (
	DefaultLang              = "en"
	DefaultGender            = "female"
	DefaultPitch             = 5
	DefaultRate              = 5
	DefaultMaxRetries        = 3
	DefaultGatherTimeout     = 5 * time.Second
	DefaultInterDigitTimeout = 3 * time.Second
	DefaultFinishOnKey       = "#"
	DefaultRingTimeout       = 30 * time.Second
	MaxRingTimeout           = 120 * time.Second
	DefaultMaxCallDuration   = 15 * time.Minute
	MaxCallDurationLimit     = 75 * time.Minute
	MaxMsgLen                = 1000
	MaxDepth                 = 16
	MaxDestinations          = 100000
	MaxRequestIDLen          = 128
	MaxLoop                  = 10
	MaxPauseSeconds          = 300
)

// Request is the body of POST /call: a flow and the destinations to run it on.
type Request struct {
	RequestID           string        `json:"requestId"`
	Destinations        []Destination `json:"destinations"`
	EnableCallRecording bool          `json:"enableCallRecording"`
	CallFlow            Flow          `json:"callFlow"`
	CallbackURL         string        `json:"callbackUrl,omitempty"`
	Retry               *RetryPolicy  `json:"retry,omitempty"`
	// RingTimeout is how long a destination may ring; 0 means DefaultRingTimeout.
	RingTimeout time.Duration `json:"ringTimeout,omitempty"`
	// MaxCallDuration bounds an answered call; 0 means DefaultMaxCallDuration.
	MaxCallDuration time.Duration `json:"maxCallDuration,omitempty"`
}

// Destination is one number to call with the properties its placeholders use.
type Destination struct {
	Phone      string            `json:"phone"`
	Caller     string            `json:"caller,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// RetryPolicy says when a destination whose attempt failed is dialed again.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included (1 = no retry).
	MaxAttempts int `json:"maxAttempts"`
	// Interval is the wait between the end of one attempt and the next.
	Interval time.Duration `json:"interval"`
	// On lists the outcomes that are retried: busy, noAnswer, declined,
	// unreachable, failed.
	On []string `json:"on"`
}

// RetryOutcomes are the outcome words a RetryPolicy may name.
var RetryOutcomes = []string{"busy", "noAnswer", "declined", "unreachable", "failed"}

// Flow is an ordered list of steps; branches hold whole flows.
type Flow struct {
	Steps []Step `json:"steps"`
}

// Step is one instruction of a flow. Which fields apply depends on Name.
type Step struct {
	Name string `json:"name"`
	// Message is what play and gather say.
	Message *Message `json:"message,omitempty"`
	// Loop repeats a play's message (1..10); 0 means 1.
	Loop int `json:"loop,omitempty"`
	// Audio is a WAV file played instead of speech.
	Audio string `json:"audio,omitempty"`

	// MaxRetries is the number of gather attempts; 0 means DefaultMaxRetries.
	MaxRetries int      `json:"maxRetries,omitempty"`
	Branches   []Branch `json:"branches,omitempty"`
	// NumDigits ends collection once this many digits arrived; 0 means the
	// longest branch digit string (at least 1).
	NumDigits int `json:"numDigits,omitempty"`
	// Timeout is the wait for the first digit after the prompt; 0 means default.
	Timeout time.Duration `json:"timeout,omitempty"`
	// FinishOnKey ends collection early; "" means "#" unless "#" is a branch
	// digit. The value "none" disables it.
	FinishOnKey string `json:"finishOnKey,omitempty"`
	// InterDigitTimeout is the wait between digits; 0 means default.
	InterDigitTimeout time.Duration `json:"interDigitTimeout,omitempty"`

	// Destination is where a transfer goes: Ext:<digits>, E.164 or a SIP URI.
	Destination string `json:"destination,omitempty"`
	// Mode is ModeRefer (default), ModeBridge or ModeAuto.
	Mode string `json:"mode,omitempty"`

	// Seconds is how long a pause lasts.
	Seconds float64 `json:"seconds,omitempty"`
}

// Message is a prompt: text and the voice that speaks it.
type Message struct {
	Msg    string `json:"msg"`
	Lang   string `json:"lang,omitempty"`
	Gender string `json:"gender,omitempty"`
	// Pitch and Rate are 0..9; nil means 5.
	Pitch *int `json:"pitch,omitempty"`
	Rate  *int `json:"rate,omitempty"`
}

// Branch is one way out of a gather.
type Branch struct {
	Digit    string `json:"digit,omitempty"`
	Default  bool   `json:"default,omitempty"`
	CallFlow Flow   `json:"callFlow"`
}
