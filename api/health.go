package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// healthBody is GET /healthz's answer when healthy.
type healthBody struct {
	Status string `json:"status"`
}

// healthz is GET /healthz: 200 {"status":"ok"} when the backend is ready,
// else 503 with the JSON error shape. The cause is logged, not shown: the
// endpoint needs no key.
func (s *Server) healthz(c echo.Context) error {
	if err := s.cfg.Backend.Ready(c.Request().Context()); err != nil {
		s.log.Warn("health check failed", "err", err)
		return fail(http.StatusServiceUnavailable, "not ready")
	}
	return c.JSON(http.StatusOK, healthBody{Status: "ok"})
}

// metrics is GET /metrics, served by the configured Prometheus handler.
func (s *Server) metrics(c echo.Context) error {
	if s.cfg.Metrics == nil {
		return fail(http.StatusNotFound, "metrics are not enabled")
	}
	s.cfg.Metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}
