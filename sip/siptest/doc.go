// Package siptest is the simulated phone: a scripted SIP callee on real
// loopback UDP, used by tests, examples, "dialflow serve --demo" and
// "dialflow phone".
//
// A Phone answers after a delay, rejects busy or decline, or never answers;
// hangs up after a delay; sends a DTMF script by RFC 4733, in-band tones or
// SIP INFO; accepts REFER and reports it; records what it hears to WAV; can
// demand digest authentication; reports every event (as a channel-free
// history with WaitFor, an OnEvent callback and JSON lines) and counts
// current and peak concurrent calls. The script may differ per call through
// PhoneConfig.Decide.
package siptest
