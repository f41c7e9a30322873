// Package dialer schedules calls: a durable queue of destinations served
// round-robin across requests, a slot semaphore that never exceeds the trunk's
// free capacity, an optional calls-per-second cap, retry policies, and the
// lifecycle of every attempt. It talks to calls and storage through small
// interfaces of its own, so it is testable without SIP.
//
// A Dialer is built with New over a Store (implemented by package store) and
// a Placer (the SIP side, which places one call and runs its flow, reporting
// progress through Progress). Start recovers attempts a previous run left open
// (recorded as failed with hangup cause engine_restart and retried only when
// the request's policy allows), loads the queue and starts dialing; Close
// stops and waits for every goroutine. *Dialer is the HTTP API's backend:
// Submit, Status, Cancel, Trunk, SetExternalBusy, RecordingPath and Ready.
//
// Slots: free = capacity − externalBusy − active, re-evaluated whenever
// externalBusy changes, a request arrives, a call ends or a timer (retry, CPS,
// capacity backoff) fires; a call starts only while free > 0. A capacity
// refusal (SIP 503 or ErrCapacity) shrinks the capacity by one slot for
// Config.CapacityBackoff and requeues the destination without spending a
// retry. Classify is the one place where SIP codes and errors become
// call_status words. The dialer enforces each call's ring timeout and maximum
// duration by cancelling the call's context.
package dialer
