package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// requireJSON answers 415 unless the request declares a JSON body.
func requireJSON(c echo.Context) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct == "" {
		return fail(http.StatusUnsupportedMediaType, "missing Content-Type: the body must be application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fail(http.StatusUnsupportedMediaType, "unreadable Content-Type %q: the body must be application/json", ct)
	}
	if mt != echo.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json") {
		return fail(http.StatusUnsupportedMediaType, "Content-Type %s is not supported: the body must be application/json", mt)
	}
	return nil
}

// readBody reads at most limit bytes of the body. A declared Content-Length
// over the limit is refused before any byte is read; an undeclared
// (chunked) body is cut off as soon as it passes the limit. Either way the
// answer is 413 and the connection is closed after the response.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > limit {
		// Nothing of it is read; tell the client the connection ends here.
		c.Response().Header().Set(echo.HeaderConnection, "close")
		return nil, tooLarge(r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(-1, limit)
		}
		return nil, fail(http.StatusBadRequest, "reading the body: %v", err)
	}
	return body, nil
}

func tooLarge(n, limit int64) error {
	if n >= 0 {
		return fail(http.StatusRequestEntityTooLarge, "body of %d bytes is over the limit of %d bytes", n, limit)
	}
	return fail(http.StatusRequestEntityTooLarge, "body is over the limit of %d bytes", limit)
}
