// Package dialer schedules calls: a durable queue of destinations served
// round-robin across requests, a slot semaphore that never exceeds the trunk's
// free capacity, an optional calls-per-second cap, retry policies, and the
// lifecycle of every attempt. It talks to calls and storage through small
// interfaces of its own, so it is testable without SIP.
package dialer
