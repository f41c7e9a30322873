package api

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Defaults applied to zero Config fields.
const (
	// DefaultBodyLimit is the largest POST /call body accepted (SPEC §3).
	DefaultBodyLimit = 8 << 20
	// DefaultShutdownTimeout bounds the graceful shutdown in Run.
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultReadHeaderTimeout bounds how long a client may take to send headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultPageLimit is the details page size when ?limit= is absent.
	DefaultPageLimit = 1000
	// MaxPageLimit is the largest ?limit= accepted by GET /status.
	MaxPageLimit = 10000
	// smallBodyLimit bounds bodies of endpoints other than POST /call.
	smallBodyLimit = 4 << 10
)

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	// Addr is the TCP address to listen on (e.g. "127.0.0.1:8080"); used
	// when Listener is nil.
	Addr string
	// Listener, when set, is served instead of listening on Addr. The
	// Server closes it.
	Listener net.Listener
	// Keys are the accepted x-credential-api-key values (at least one).
	Keys []string
	// BodyLimit is the largest POST /call body in bytes; 0 means
	// DefaultBodyLimit.
	BodyLimit int64
	// Logger receives request and error logs; nil discards them.
	Logger *slog.Logger
	// Metrics serves GET /metrics (Prometheus text format); nil answers 404.
	Metrics http.Handler
	// Backend stores, queues and reports requests (required).
	Backend Backend
	// Events serves GET /events and POST /events/{eventId}/redeliver; nil
	// leaves those routes out (they answer 404).
	Events Events
	// Redelivered, when set, is called after an event was moved back to
	// pending, so the webhook sender can wake at once (webhook.Deliverer.Notify).
	Redelivered func()
	// Languages reports whether the TTS engine speaks a language, for
	// validation; nil accepts any well-formed language code.
	Languages func(lang string) bool
	// ShutdownTimeout bounds the graceful shutdown when Run's context ends;
	// 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout bounds reading request headers; 0 means
	// DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
}

// withDefaults checks c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.Backend == nil {
		return c, ErrNoBackend
	}
	if len(c.Keys) == 0 {
		return c, ErrNoKeys
	}
	for i, k := range c.Keys {
		if k == "" {
			return c, fmt.Errorf("keys[%d]: %w", i, ErrEmptyKey)
		}
	}
	if c.Listener == nil && c.Addr == "" {
		return c, ErrNoListener
	}
	if c.BodyLimit < 0 {
		return c, fmt.Errorf("body limit %d: must not be negative", c.BodyLimit)
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	return c, nil
}
