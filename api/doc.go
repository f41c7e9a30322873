// Package api is dialflow's HTTP front door (SPEC §3), built on echo v4.
//
// It authenticates every request with the x-credential-api-key header
// (compared in constant time against the configured keys), derives a stable
// owner id from the key so that each request belongs to the key that created
// it, reads request bodies under a size limit without ever reading past it,
// validates POST /call bodies with package flow (every problem with its JSON
// path), and hands accepted work to a Backend, an interface declared here and
// satisfied by *dialer.Dialer.
//
// Every failure, unknown routes, wrong methods and recovered panics included,
// is answered as JSON: {"status":"error","message":"..."}. The mapping from
// errors to HTTP statuses lives in exactly one function, statusOf.
package api
