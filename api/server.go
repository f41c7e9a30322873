package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Server is the HTTP API. Create it with New, serve it with Run.
type Server struct {
	cfg  Config
	log  *slog.Logger
	keys keyring
	e    *echo.Echo
	ln   net.Listener
	srv  *http.Server
}

// New checks cfg, opens the listener (unless cfg.Listener is set) and builds
// the routes. The caller must call Run or Close.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, keys: newKeyring(cfg.Keys)}
	s.e = s.routes()
	ln := cfg.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("api: listen: %w", err)
		}
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Handler is the routed API as a plain http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.e }

// Run serves until ctx ends, then shuts down gracefully within the
// configured timeout and returns. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("http api listening", "addr", s.ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}

// Close stops the server at once, dropping open connections. It is for a
// Server whose Run was never called, or to cut a slow shutdown short.
func (s *Server) Close() error {
	err := s.srv.Close()
	if cerr := s.ln.Close(); cerr != nil && err == nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}

// routes builds the echo instance with every endpoint of SPEC §3.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "route", c.Path(), "err", err, "stack", string(stack))
			return errInternal
		},
	}))

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.metrics)

	e.POST("/call", s.postCall, s.auth)
	e.DELETE("/call/:requestId", s.deleteCall, s.auth)
	e.GET("/status/:requestId", s.getStatus, s.auth)
	e.GET("/trunk", s.getTrunk, s.auth)
	e.PUT("/trunk/usage", s.putTrunkUsage, s.auth)
	e.GET("/recordings/:file", s.getRecording, s.auth)
	if s.cfg.Events != nil {
		e.GET("/events", s.getEvents, s.auth)
		e.POST("/events/:eventId/redeliver", s.postRedeliver, s.auth)
	}
	return e
}

// logRequests logs one line per request with the route template, never the
// body or query (they may hold phone numbers).
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		level := slog.LevelInfo
		if p := c.Path(); p == "/healthz" || p == "/metrics" {
			level = slog.LevelDebug // probes and scrapes would drown the log
		}
		s.log.Log(c.Request().Context(), level, "http request",
			"method", c.Request().Method,
			"route", c.Path(),
			"status", c.Response().Status,
			"dur_ms", time.Since(start).Milliseconds())
		return nil
	}
}
