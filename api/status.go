package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dialflow/dialflow/flow"
)

// getStatus is GET /status/{requestId}?offset=&limit=.
func (s *Server) getStatus(c echo.Context) error {
	id := c.Param("requestId")
	what := fmt.Sprintf("request %q", id)
	offset, err := intQuery(c, "offset", 0, 0, flow.MaxDestinations)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", DefaultPageLimit, 1, MaxPageLimit)
	if err != nil {
		return err
	}
	if !validID(id) {
		return fail(http.StatusNotFound, "%s not found", what)
	}
	st, err := s.cfg.Backend.Status(c.Request().Context(), owner(c), id, offset, limit)
	if err != nil {
		return statusOf(err, what)
	}
	return c.JSON(http.StatusOK, normalize(st))
}

// intQuery parses an optional integer query parameter within [lo, hi].
func intQuery(c echo.Context, name string, def, lo, hi int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fail(http.StatusBadRequest, "query parameter %s: %q is not an integer between %d and %d", name, v, lo, hi)
	}
	return n, nil
}

// getRecording is GET /recordings/{callId}.wav: the call's WAV file, for the
// key that owns the call only.
func (s *Server) getRecording(c echo.Context) error {
	file := c.Param("file")
	callID, ok := strings.CutSuffix(file, ".wav")
	what := fmt.Sprintf("recording %q", file)
	if !ok || callID == "" || len(callID) > 256 {
		return fail(http.StatusNotFound, "%s not found", what)
	}
	path, err := s.cfg.Backend.RecordingPath(c.Request().Context(), owner(c), callID)
	if err != nil {
		return statusOf(err, what)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(http.StatusNotFound, "%s not found", what)
	}
	if err != nil {
		return statusOf(fmt.Errorf("open recording: %w", err), what)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return statusOf(fmt.Errorf("stat recording: %w", err), what)
	}
	if !fi.Mode().IsRegular() {
		return fail(http.StatusNotFound, "%s not found", what)
	}
	c.Response().Header().Set(echo.HeaderContentType, "audio/wav")
	http.ServeContent(c.Response(), c.Request(), file, fi.ModTime(), f)
	return nil
}
