package tts

import "errors"

// Errors of text-to-speech; test for them with errors.Is.
var (
	// ErrEmptyText means the prompt text is empty or only white space.
	ErrEmptyText = errors.New("text is empty")
	// ErrTextTooLong means the prompt text exceeds MaxTextLen characters.
	ErrTextTooLong = errors.New("text is longer than 1000 characters")
	// ErrControlChar means the prompt text holds a control character other
	// than tab, carriage return or line feed.
	ErrControlChar = errors.New("text contains a control character")
	// ErrBadEncoding means the prompt text is not valid UTF-8.
	ErrBadEncoding = errors.New("text is not valid UTF-8")
	// ErrBadVoice means a voice parameter is out of its range.
	ErrBadVoice = errors.New("invalid voice")
	// ErrUnsupported means the engine does not speak the voice's language.
	ErrUnsupported = errors.New("language not supported by the engine")
	// ErrNotInstalled means the engine's program is missing.
	ErrNotInstalled = errors.New("text-to-speech engine not installed")
)
