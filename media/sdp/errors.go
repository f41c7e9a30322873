package sdp

import "errors"

// Errors returned by Parse and Negotiate. Parse errors wrap ErrMalformed and
// name the line.
var (
	// ErrMalformed reports a description that is not valid SDP.
	ErrMalformed = errors.New("sdp: malformed")
	// ErrNoAudio reports a description without an audio m= line.
	ErrNoAudio = errors.New("sdp: no audio media")
	// ErrNoAddress reports a description without a usable connection address.
	ErrNoAddress = errors.New("sdp: no connection address")
	// ErrNoCommonCodec reports that neither PCMU nor PCMA was offered or chosen.
	ErrNoCommonCodec = errors.New("sdp: no common codec (need PCMU or PCMA)")
)
