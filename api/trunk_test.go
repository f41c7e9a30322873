package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dialflow/dialflow/dialer"
)

func TestTrunkUsage(t *testing.T) {
	s := startServer(t, nil)
	r := s.do(http.MethodGet, "/trunk", keyA, "", nil)
	var raw map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil || r.code != http.StatusOK {
		t.Fatalf("GET /trunk: %d %s", r.code, r.body)
	}
	for _, k := range []string{"capacity", "externalBusy", "active", "free", "queued"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("GET /trunk lacks %q: %s", k, r.body)
		}
	}

	r = s.do(http.MethodPut, "/trunk/usage", keyB, "application/json", []byte(`{"externalBusy": 2}`))
	var ts dialer.TrunkStatus
	if err := json.Unmarshal(r.body, &ts); err != nil || r.code != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	if ts.ExternalBusy != 2 || ts.Free != 4 {
		t.Fatalf("after PUT 2: %+v, want externalBusy 2 free 4", ts)
	}

	bad := []struct{ body, want string }{
		{`{"externalBusy": -1}`, "externalBusy"},
		{`{"externalBusy": 1.5}`, "externalBusy"},
		{`{"externalBusy": 99999999}`, "externalBusy"},
		{`{"externalBusy": "two"}`, "externalBusy"},
		{`{"externalBusy": true}`, "externalBusy"},
		{`{}`, "externalBusy: is required"},
		{`{"externalBusy": 1, "extra": 1}`, "extra"},
		{`{"externalBusy": 1} {}`, "after the document"},
		{`{"externalBusy": `, "JSON"},
		{``, "empty body"},
		{strings.Repeat(" ", 5000) + `{"externalBusy":1}`, "over the limit"},
	}
	for _, b := range bad {
		r := s.do(http.MethodPut, "/trunk/usage", keyA, "application/json", []byte(b.body))
		want := http.StatusBadRequest
		if strings.Contains(b.want, "limit") {
			want = http.StatusRequestEntityTooLarge
		}
		if r.code != want {
			t.Errorf("PUT %q: %d, want %d", b.body, r.code, want)
			continue
		}
		if msg := r.errMessage(t); !strings.Contains(msg, b.want) {
			t.Errorf("PUT %q: message %q lacks %q", b.body, msg, b.want)
		}
	}
	if r := s.do(http.MethodPut, "/trunk/usage", keyA, "text/plain", []byte("3")); r.code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d, want 415", r.code)
	}
	if got := s.be.get(func(f *fakeBackend) int { return f.trunk.ExternalBusy }); got != 2 {
		t.Fatalf("rejected bodies changed externalBusy to %d", got)
	}
}
