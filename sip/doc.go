// Package sip is dialflow's SIP user agent, built on github.com/emiago/sipgo.
//
// A UA listens on UDP (and optionally TCP), places outbound calls through one
// trunk (INVITE with an SDP offer, digest auth on 401/407, CANCEL on ring
// timeout, ACK, BYE either way, maximum call duration), answers the in-dialog
// requests a caller meets (BYE, NOTIFY, INFO DTMF, re-INVITE, UPDATE, OPTIONS)
// and transfers calls blindly with REFER, following the NOTIFY progress.
//
// Failed calls return a *CallError whose SIPStatus, Outcome and RetryAfter
// methods let a dialer classify the outcome without importing this package.
//
// The RTP side is behind the small Media interface; StreamMedia (media.Stream) is the built-in
// implementation. The simulated phone used by tests and "dialflow phone" is
// in the siptest subpackage.
//
// sipgo traps handled here (see the project notes §7.1): the listener
// readiness race, WaitAnswer's 11-response cap, a 200 racing the CANCEL, 2xx
// retransmissions after the INVITE transaction ended, and a Contact carrying
// a reachable (or public) host:port.
package sip
