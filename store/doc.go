// Package store persists requests, destinations, attempts, step results and
// the webhook event outbox in one SQLite file (modernc.org/sqlite, no cgo,
// WAL mode). Migrations are embedded and applied by Open. A *DB implements
// dialer.Store and webhook.Outbox.
package store
