// Package ttstest is a deterministic text-to-speech engine for tests: each
// distinct text becomes a distinct signature of tones, which Identify finds
// again in audio that crossed G.711 RTP, so a test can tell which prompts a
// phone heard and in which order without depending on speech.
package ttstest
