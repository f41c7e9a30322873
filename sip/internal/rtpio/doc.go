// Package rtpio is a small RTP endpoint for the SIP side of dialflow: a UDP
// socket from a port range, a paced 20 ms G.711 sender (silence between
// prompts, RFC 4733 events and in-band tones on demand), and a receiver that
// decodes audio and reports DTMF carried by RFC 4733 or in-band tones.
//
// It is the stand-in used by the simulated phone and by the user agent when no
// media engine is wired in; it knows nothing of SIP.
package rtpio
