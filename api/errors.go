package api

import "errors"

// Errors returned by New when the configuration is unusable.
var (
	// ErrNoKeys means no API key was configured.
	ErrNoKeys = errors.New("no API key configured")
	// ErrEmptyKey means an empty string was given as an API key.
	ErrEmptyKey = errors.New("empty API key")
	// ErrNoBackend means Config.Backend is nil.
	ErrNoBackend = errors.New("no backend configured")
	// ErrNoListener means neither Config.Listener nor Config.Addr was set.
	ErrNoListener = errors.New("no listen address or listener configured")
)
