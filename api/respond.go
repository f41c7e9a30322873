package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

// errInternal is what a client sees for a failure it cannot act on; the
// cause is logged instead.
var errInternal = errors.New("internal error")

// httpError is a failure with the status and message the client sees.
type httpError struct {
	code     int
	msg      string
	problems flow.Problems
	cause    error
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.cause }

// fail builds an httpError with a formatted message.
func fail(code int, format string, args ...any) *httpError {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON of every failure (SPEC §3).
type errorBody struct {
	Status   string         `json:"status"`
	Message  string         `json:"message"`
	Problems []flow.Problem `json:"problems,omitempty"`
}

// statusOf is the one place where errors become HTTP statuses and client
// messages. what names the resource the handler worked on ("request
// \"r1\""), for not-found and conflict messages.
func statusOf(err error, what string) *httpError {
	var he *httpError
	var ee *echo.HTTPError
	var probs flow.Problems
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &probs) && len(probs) > 0:
		return &httpError{code: http.StatusBadRequest, msg: probs.Error(), problems: probs, cause: err}
	case errors.Is(err, dialer.ErrNotFound):
		return &httpError{code: http.StatusNotFound, msg: what + " not found", cause: err}
	case errors.Is(err, dialer.ErrConflict):
		return &httpError{code: http.StatusConflict, msg: what + " already exists with a different body", cause: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &httpError{code: http.StatusServiceUnavailable, msg: "request abandoned: " + err.Error(), cause: err}
	case errors.As(err, &ee):
		return &httpError{code: ee.Code, msg: http.StatusText(ee.Code), cause: err}
	default:
		return &httpError{code: http.StatusInternalServerError, msg: errInternal.Error(), cause: err}
	}
}

// handleError is echo's HTTPErrorHandler: every failure becomes
// {"status":"error","message":...}.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	he := statusOf(err, "resource")
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		he = s.routerError(ee, c)
	}
	if he.code >= 500 && !errors.Is(err, errInternal) {
		s.log.Error("request failed", "route", c.Path(), "status", he.code, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(he.code)
		return
	}
	body := errorBody{Status: "error", Message: he.msg, Problems: he.problems}
	if werr := c.JSON(he.code, body); werr != nil {
		s.log.Debug("writing error response", "err", werr)
	}
}

// routerError words the errors echo itself raises (no route, wrong method).
func (s *Server) routerError(ee *echo.HTTPError, c echo.Context) *httpError {
	r := c.Request()
	switch ee.Code {
	case http.StatusNotFound:
		return fail(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	case http.StatusMethodNotAllowed:
		allow := c.Response().Header().Get(echo.HeaderAllow)
		return fail(http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow)
	default:
		msg := http.StatusText(ee.Code)
		if m, ok := ee.Message.(string); ok && m != "" {
			msg = m
		}
		return &httpError{code: ee.Code, msg: msg, cause: ee}
	}
}
