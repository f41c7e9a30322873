// Package tts turns prompt text into 8 kHz mono PCM (the media package's
// internal format). Engines implement the one-method Synthesizer interface
// (tts/espeak is the default; tts/ttstest renders deterministic tone
// signatures for tests); Cache memoises renders on disk and Prerender starts
// a call's first prompts while the phone rings.
package tts
