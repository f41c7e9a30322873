package flow

// Step statuses (SPEC §3, exact strings).
const (
	StatusOK                  = "success_ok"
	StatusNoInput             = "error_no_input"
	StatusInvalidInput        = "error_invalid_input"
	StatusHangup              = "error_hangup"
	StatusTTS                 = "error_tts"
	StatusTransferFailed      = "error_transfer_failed"
	StatusConcurrentCallLimit = "error_concurrent_call_limit_reached"
	StatusSkipped             = "skipped"
)

// Transfer statuses (SPEC §3, exact strings).
const (
	TransferTrying   = "trying"
	TransferRinging  = "ringing"
	TransferAnswered = "answered"
	TransferBusy     = "busy"
	TransferNoAnswer = "noAnswer"
	TransferDeclined = "declined"
	TransferFailed   = "failed"
)

// Call states and statuses as they appear in a step's info.
const (
	CallStateOngoing   = "ongoing"
	CallStateEnded     = "ended"
	CallStatusAnswered = "answered"
)

// StepResult is what one step did, in the shape of GET /status's
// callFlowSteps entries.
type StepResult struct {
	StepName string `json:"stepName"`
	// StepPath locates the step in the flow, e.g. "steps[1].branches[0].steps[0]".
	StepPath string   `json:"stepPath"`
	Info     StepInfo `json:"info"`
}

// StepInfo is the per-step detail of SPEC §3.
type StepInfo struct {
	CallState         string `json:"call_state"`
	CallStatus        string `json:"call_status"`
	Status            string `json:"status"`
	UserPressedDigits string `json:"userPressedDigits,omitempty"`
	TransferStatus    string `json:"transfer_status,omitempty"`
	// Branch names the gather branch taken: its digit, or "default".
	Branch string `json:"branch,omitempty"`
	// Attempts is how many times a gather prompted.
	Attempts int `json:"attempts,omitempty"`
	// Digits lists every digit a gather received, with how it arrived.
	Digits []DigitInfo `json:"digits,omitempty"`
}

// DigitInfo is one received digit and the method that carried it
// (rfc4733, inband or sipinfo).
type DigitInfo struct {
	Digit  string `json:"digit"`
	Method string `json:"method,omitempty"`
	// AtMs is the time since the step started, in milliseconds.
	AtMs int64 `json:"atMs"`
}
