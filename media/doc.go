// Package media carries a call's audio: one internal format (16-bit PCM,
// 8 kHz, mono, 20 ms frames of 160 samples), G.711 at the edges, resampling
// of prompts and speech, WAV files, tone generation and detection.
// It knows nothing of SIP or flows.
package media
