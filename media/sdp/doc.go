// Package sdp is dialflow's minimal audio SDP (RFC 4566, RFC 3264): it builds
// the offer a call makes (PCMU, PCMA and telephone-event/8000, ptime 20),
// parses the far end's description, and negotiates the codec and the RFC 4733
// payload type from an answer, or builds an answer to an offer.
//
// Only what an audio call needs is read: the session and media connection
// addresses, the first audio m= line, its rtpmap, ptime and direction
// attributes. Everything else is skipped.
package sdp
