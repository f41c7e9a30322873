package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInfoLogsHoldNoPhoneNumbersOrPromptText drives the API at Info level and
// checks that no number, key or prompt text reaches the log.
func TestInfoLogsHoldNoPhoneNumbersOrPromptText(t *testing.T) {
	var buf syncBuffer
	s := startServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	body := seedBody(t)
	decodeStatus(t, s.postJSON("/call", keyA, body))
	decodeStatus(t, s.do(http.MethodGet, "/status/request_10", keyA, "", nil))
	if r := s.postJSON("/call?dryRun=true", keyA, body); r.code != http.StatusOK {
		t.Fatalf("dry run %d", r.code)
	}
	s.postJSON("/call", keyA, mutate(t, body, "destinations.0.phone", "+8491766024x"))
	s.do(http.MethodGet, "/status/panic-now", keyB, "", nil)

	out := buf.String()
	if !strings.Contains(out, "http request") || !strings.Contains(out, "route=/call") {
		t.Fatalf("requests were not logged at all:\n%s", out)
	}
	for _, secret := range []string{"+84917660247", "84912860330", "6582674904", "Alex", "thanks", keyA, keyB} {
		if strings.Contains(out, secret) {
			t.Errorf("Info log contains %q:\n%s", secret, out)
		}
	}
}
