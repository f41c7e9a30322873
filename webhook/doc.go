// Package webhook delivers stored call events to a request's callbackUrl:
// signed (X-Dialflow-Signature, HMAC-SHA256 keyed by the request's API key),
// in order per call, retried with exponential backoff and jitter for a
// bounded time, then dead-lettered. It reads and updates events through a
// small Outbox interface that the store implements, so an event written in
// the same transaction as a call's state change is never lost across
// restarts.
package webhook
