package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

// postCall is POST /call (and POST /call?dryRun=true).
func (s *Server) postCall(c echo.Context) error {
	dry, err := boolQuery(c, "dryRun")
	if err != nil {
		return err
	}
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c, s.cfg.BodyLimit)
	if err != nil {
		return err
	}
	req, probs := flow.CheckRequest(body, s.validateOptions())
	if len(probs) > 0 {
		return statusOf(probs, "")
	}
	if req == nil {
		return statusOf(flow.Problems{{Message: "the body is not a request document"}}, "")
	}
	if dry {
		rep, err := dryRun(req)
		if err != nil {
			return statusOf(err, "")
		}
		return c.JSON(http.StatusOK, rep)
	}
	st, created, err := s.cfg.Backend.Submit(c.Request().Context(), owner(c), body, req)
	if err != nil {
		return statusOf(err, fmt.Sprintf("request %q", req.RequestID))
	}
	s.log.Debug("call request submitted", "request_id", req.RequestID, "created", created,
		"destinations", len(req.Destinations))
	return c.JSON(http.StatusOK, normalize(st))
}

// deleteCall is DELETE /call/{requestId}: cancel.
func (s *Server) deleteCall(c echo.Context) error {
	id := c.Param("requestId")
	what := fmt.Sprintf("request %q", id)
	if !validID(id) {
		return fail(http.StatusNotFound, "%s not found", what)
	}
	st, err := s.cfg.Backend.Cancel(c.Request().Context(), owner(c), id)
	if err != nil {
		return statusOf(err, what)
	}
	return c.JSON(http.StatusOK, normalize(st))
}

// validateOptions are the flow validation options of this server.
func (s *Server) validateOptions() flow.ValidateOptions {
	return flow.ValidateOptions{Languages: s.cfg.Languages}
}

// boolQuery parses an optional boolean query parameter.
func boolQuery(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fail(http.StatusBadRequest, "query parameter %s: %q is not true or false", name, v)
	}
	return b, nil
}

// validID reports whether id can be a requestId (SPEC §3: 1-128 characters
// of [A-Za-z0-9_.:-]); anything else cannot exist, so it is not looked up.
func validID(id string) bool {
	if id == "" || len(id) > flow.MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '_', b == '.', b == ':', b == '-':
		default:
			return false
		}
	}
	return true
}

// normalize makes nil lists empty so the JSON shape is always the seed's
// ("details": [], "callFlowSteps": [], "monitorData": []).
func normalize(st *dialer.RequestStatus) *dialer.RequestStatus {
	if st == nil {
		return &dialer.RequestStatus{Details: []dialer.Detail{}}
	}
	if st.Details == nil {
		st.Details = []dialer.Detail{}
	}
	for i := range st.Details {
		d := &st.Details[i]
		if d.CallFlowSteps == nil {
			d.CallFlowSteps = []flow.StepResult{}
		}
		if d.MonitorData == nil {
			d.MonitorData = []dialer.Monitor{}
		}
	}
	return st
}
