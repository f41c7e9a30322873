package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dialflow/dialflow/webhook"
)

// Page sizes of GET /events.
const (
	// DefaultEventLimit is the events page size when ?limit= is absent.
	DefaultEventLimit = 100
	// MaxEventLimit is the largest ?limit= accepted by GET /events.
	MaxEventLimit = 1000
	// maxEventIDLen bounds an eventId in a path; longer ones cannot exist.
	maxEventIDLen = 128
)

// Events reads a request's stored webhook events and redelivers them.
// *store.DB implements it; cmd/dialflow passes it in Config.Events.
type Events interface {
	// ListEvents returns one page of a request's events in stored order.
	// An unknown request, or one of another owner, is dialer.ErrNotFound.
	ListEvents(ctx context.Context, owner, requestID string, offset, limit int) (*webhook.Page, error)
	// RedeliverEvent moves a delivered or dead event back to pending under
	// the same eventId. An unknown event, or one of another owner, is
	// dialer.ErrNotFound.
	RedeliverEvent(ctx context.Context, owner, eventID string, at time.Time) (*webhook.Record, error)
}

// getEvents is GET /events?requestId=&offset=&limit=: the request's events
// with their delivery state, for polling clients and audits.
func (s *Server) getEvents(c echo.Context) error {
	id := c.QueryParam("requestId")
	if id == "" {
		return fail(http.StatusBadRequest, "query parameter requestId: required")
	}
	what := fmt.Sprintf("request %q", id)
	offset, err := intQuery(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", DefaultEventLimit, 1, MaxEventLimit)
	if err != nil {
		return err
	}
	if !validID(id) {
		return fail(http.StatusNotFound, "%s not found", what)
	}
	p, err := s.cfg.Events.ListEvents(c.Request().Context(), owner(c), id, offset, limit)
	if err != nil {
		return statusOf(err, what)
	}
	if p.Events == nil {
		p.Events = []webhook.Record{}
	}
	return c.JSON(http.StatusOK, p)
}

// postRedeliver is POST /events/{eventId}/redeliver: the event goes back to
// pending (same eventId and body) and is sent again with a fresh retry
// window.
func (s *Server) postRedeliver(c echo.Context) error {
	id := c.Param("eventId")
	what := fmt.Sprintf("event %q", id)
	if id == "" || len(id) > maxEventIDLen || !validID(id) {
		return fail(http.StatusNotFound, "%s not found", what)
	}
	r, err := s.cfg.Events.RedeliverEvent(c.Request().Context(), owner(c), id, time.Now())
	if err != nil {
		return statusOf(err, what)
	}
	if s.cfg.Redelivered != nil {
		s.cfg.Redelivered()
	}
	return c.JSON(http.StatusOK, r)
}
