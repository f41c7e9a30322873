package main

import (
	"context"
	"errors"
	"io"
)

// runTTS renders a prompt to WAV. Owned by the TTS work (issue 5).
func runTTS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("tts: not built yet")
}
