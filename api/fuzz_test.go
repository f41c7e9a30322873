package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// FuzzPostCall sends arbitrary bodies to POST /call (and its dry run): the
// answer is always 200 or a JSON error with a 4xx status, never a 5xx.
func FuzzPostCall(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed_request.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, false)
	f.Add(seed, true)
	f.Add([]byte(`{"requestId":"r","destinations":[{"phone":"+15551230001"}],"callFlow":{"steps":[{"name":"hangup"}]}}`), false)
	f.Add([]byte(`{"requestId":"r","destinations":[{"phone":"+1555","properties":{"a":1}}],"callFlow":{"steps":[{"name":"play","message":{"msg":"{{a}} <<b>>"}}]}}`), true)
	f.Add([]byte(`{"requestId": 'r1'}`), false)
	f.Add([]byte(""), false)
	f.Add([]byte("\xff\x00{"), true)
	f.Add([]byte(`[{"requestId":null}]`), false)

	be := newFakeBackend()
	s, err := New(Config{Addr: "127.0.0.1:0", Keys: []string{keyA}, Backend: be, BodyLimit: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	h := s.Handler()

	f.Fuzz(func(t *testing.T, body []byte, dry bool) {
		path := "/call"
		if dry {
			path += "?dryRun=true"
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderAPIKey, keyA)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("200 with invalid JSON: %s", rec.Body)
			}
		case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != "error" || e.Message == "" {
				t.Fatalf("%d with body %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
	})
}

// FuzzParseUsage checks PUT /trunk/usage's parser: a value or a 400, never
// a panic, and accepted values are in range.
func FuzzParseUsage(f *testing.F) {
	for _, s := range []string{`{"externalBusy":2}`, `{"externalBusy":"3"}`, `{"externalBusy":-1}`, `{}`, `null`, `[]`, `{"externalBusy":1e3}`, `{"x":1}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := parseUsage(body)
		if err == nil {
			if n < 0 || n > MaxExternalBusy {
				t.Fatalf("accepted %d", n)
			}
			return
		}
		var he *httpError
		if !errors.As(err, &he) || he.code != http.StatusBadRequest || he.msg == "" {
			t.Fatalf("error %v is not a 400 with a message", err)
		}
	})
}
