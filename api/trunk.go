package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// MaxExternalBusy bounds PUT /trunk/usage's externalBusy.
const MaxExternalBusy = 1_000_000

// getTrunk is GET /trunk.
func (s *Server) getTrunk(c echo.Context) error {
	t, err := s.cfg.Backend.Trunk(c.Request().Context())
	if err != nil {
		return statusOf(err, "trunk")
	}
	return c.JSON(http.StatusOK, t)
}

// putTrunkUsage is PUT /trunk/usage {"externalBusy": n}.
func (s *Server) putTrunkUsage(c echo.Context) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c, smallBodyLimit)
	if err != nil {
		return err
	}
	n, err := parseUsage(body)
	if err != nil {
		return err
	}
	t, err := s.cfg.Backend.SetExternalBusy(c.Request().Context(), n)
	if err != nil {
		return statusOf(err, "trunk")
	}
	return c.JSON(http.StatusOK, t)
}

// parseUsage decodes {"externalBusy": n} strictly: one object, no unknown
// fields, n a whole number (or numeric string) in [0, MaxExternalBusy].
func parseUsage(body []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var doc map[string]json.RawMessage
	if err := dec.Decode(&doc); err != nil {
		return 0, fail(http.StatusBadRequest, "%s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return 0, fail(http.StatusBadRequest, "invalid JSON: unexpected data after the document")
	}
	if doc == nil {
		return 0, fail(http.StatusBadRequest, "the body must be a JSON object")
	}
	for k := range doc {
		if k != "externalBusy" {
			return 0, fail(http.StatusBadRequest, "%s: unknown field (only externalBusy is accepted)", k)
		}
	}
	raw, ok := doc["externalBusy"]
	if !ok {
		return 0, fail(http.StatusBadRequest, "externalBusy: is required")
	}
	var v any
	vd := json.NewDecoder(bytes.NewReader(raw))
	vd.UseNumber()
	_ = vd.Decode(&v) // raw is valid JSON: it came out of the document
	var num json.Number
	switch x := v.(type) {
	case json.Number:
		num = x
	case string:
		num = json.Number(x)
	}
	n, err := num.Int64()
	if err != nil || n < 0 || n > MaxExternalBusy {
		return 0, fail(http.StatusBadRequest, "externalBusy: %s is not a whole number between 0 and %d", raw, MaxExternalBusy)
	}
	return int(n), nil
}

// jsonProblem words a decoding error with where it happened.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return fmt.Sprintf("invalid JSON: the body must be an object, not %s", te.Value)
	case errors.Is(err, io.EOF):
		return "invalid JSON: empty body"
	default:
		return "invalid JSON: " + err.Error()
	}
}
