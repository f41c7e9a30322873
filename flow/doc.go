// Package flow owns the call-flow document: the POST /call request model, its
// parser (lenient where the seed API is: booleans as "true"/"false", numbers as
// strings), validation that reports every problem with its JSON path,
// placeholder substitution from destination properties, and the recursive
// interpreter that runs a flow against a small Channel interface.
//
// flow knows nothing about SIP, RTP or speech: a Channel plays prompts, gathers
// digits, transfers and hangs up; the interpreter decides what happens next and
// records one StepResult per step in the order the steps ran.
package flow
