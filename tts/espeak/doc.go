// Package espeak is the espeak-ng text-to-speech engine: one espeak-ng
// process per prompt, a bounded number at once, text on stdin (never on
// the command line) with espeak-ng's phoneme markup neutralised, and the
// 22050 Hz output resampled to 8 kHz with the media resampler. The
// languages it offers are read from `espeak-ng --voices` once, at New.
package espeak
