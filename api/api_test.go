package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dialflow/dialflow/dialer"
)

func TestSeedExampleAccepted(t *testing.T) {
	s := startServer(t, nil)
	r := s.postJSON("/call", keyA, seedBody(t))
	st := decodeStatus(t, r)
	if st.RequestID != "request_10" || st.Status != "submitted" {
		t.Fatalf("got %s/%s, want request_10/submitted", st.RequestID, st.Status)
	}
	if len(st.Details) != 2 {
		t.Fatalf("%d details, want 2", len(st.Details))
	}
	for i, want := range []string{"+84917660247", "+84912860330"} {
		d := st.Details[i]
		if d.Destination != want || d.Caller != "+6582674904" || d.Status != "queued" || d.RequestID != "request_10" {
			t.Errorf("details[%d] = %+v", i, d)
		}
	}
	// The seed's shape: empty lists are [] not null.
	var raw map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	d0 := raw["details"].([]any)[0].(map[string]any)
	for _, k := range []string{"callFlowSteps", "monitorData"} {
		if _, ok := d0[k].([]any); !ok {
			t.Errorf("details[0].%s = %v, want a JSON array", k, d0[k])
		}
	}
	got := decodeStatus(t, s.do(http.MethodGet, "/status/request_10", keyA, "", nil))
	if got.Status != "submitted" || len(got.Details) != 2 || got.Details[1].Destination != "+84912860330" {
		t.Fatalf("GET /status = %+v", got)
	}
}

func TestSameBodyTwiceIsIdempotent(t *testing.T) {
	s := startServer(t, nil)
	body := seedBody(t)
	first := decodeStatus(t, s.postJSON("/call", keyA, body))
	second := decodeStatus(t, s.postJSON("/call", keyA, body))
	if s.be.submitCount() != 1 {
		t.Fatalf("backend stored %d requests, want 1", s.be.submitCount())
	}
	if first.RequestID != second.RequestID || len(second.Details) != 2 {
		t.Fatalf("second answer %+v differs from first %+v", second, first)
	}
	// Same requestId, different body: 409.
	other := mutate(t, body, "destinations.0.properties.name", "Bob")
	r := s.postJSON("/call", keyA, other)
	if r.code != http.StatusConflict {
		t.Fatalf("different body: %d, want 409: %s", r.code, r.body)
	}
	if msg := r.errMessage(t); !strings.Contains(msg, "request_10") || !strings.Contains(msg, "different body") {
		t.Errorf("409 message %q should name the request and say why", msg)
	}
}

func TestAuthRequiredOnEveryKeyedEndpoint(t *testing.T) {
	s := startServer(t, nil)
	endpoints := []struct{ method, path, ct, body string }{
		{http.MethodPost, "/call", "application/json", "{}"},
		{http.MethodPost, "/call?dryRun=true", "application/json", "{}"},
		{http.MethodDelete, "/call/r1", "", ""},
		{http.MethodGet, "/status/r1", "", ""},
		{http.MethodGet, "/trunk", "", ""},
		{http.MethodPut, "/trunk/usage", "application/json", `{"externalBusy":1}`},
		{http.MethodGet, "/recordings/c1.wav", "", ""},
	}
	for _, ep := range endpoints {
		for _, key := range []string{"", "wrong-key", keyA[:len(keyA)-1], keyA + "x"} {
			var body []byte
			if ep.body != "" {
				body = []byte(ep.body)
			}
			r := s.do(ep.method, ep.path, key, ep.ct, body)
			if r.code != http.StatusUnauthorized {
				t.Errorf("%s %s with key %q: %d, want 401", ep.method, ep.path, key, r.code)
				continue
			}
			if msg := r.errMessage(t); !strings.Contains(msg, HeaderAPIKey) {
				t.Errorf("401 message %q should name the header", msg)
			}
		}
	}
	if got := s.be.get(func(f *fakeBackend) int { return f.trunk.ExternalBusy }); got != 0 {
		t.Errorf("unauthenticated PUT changed externalBusy to %d", got)
	}
	// Both configured keys work; /healthz needs none.
	for _, k := range []string{keyA, keyB} {
		if r := s.do(http.MethodGet, "/trunk", k, "", nil); r.code != http.StatusOK {
			t.Errorf("GET /trunk with a configured key: %d", r.code)
		}
	}
	if r := s.do(http.MethodGet, "/healthz", "", "", nil); r.code != http.StatusOK {
		t.Errorf("GET /healthz without key: %d, want 200", r.code)
	}
}

func TestKeyCannotReadAnotherKeysRequest(t *testing.T) {
	s := startServer(t, nil)
	body := seedBody(t)
	decodeStatus(t, s.postJSON("/call", keyA, body))
	wav := writeWAV(t)
	s.be.set(func(f *fakeBackend) { f.recordings["call-1"] = [2]string{OwnerID(keyA), wav} })

	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/status/request_10"},
		{http.MethodDelete, "/call/request_10"},
		{http.MethodGet, "/recordings/call-1.wav"},
	} {
		r := s.do(c.method, c.path, keyB, "", nil)
		if r.code != http.StatusNotFound {
			t.Fatalf("key B %s %s: %d, want 404: %s", c.method, c.path, r.code, r.body)
		}
		r.errMessage(t)
	}
	// A's request was not cancelled by B's attempt.
	if st := decodeStatus(t, s.do(http.MethodGet, "/status/request_10", keyA, "", nil)); st.Status != "submitted" {
		t.Fatalf("after key B's DELETE, A's request is %q", st.Status)
	}
	// requestIds are unique per key: B may use the same id with another body.
	decodeStatus(t, s.postJSON("/call", keyB, mutate(t, body, "destinations.0.properties.name", "Bob")))
	if s.be.submitCount() != 2 {
		t.Fatalf("submits = %d, want 2", s.be.submitCount())
	}
	// The store sees a derived owner id, never the raw key.
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	for k, r := range s.be.reqs {
		if strings.Contains(k, keyA) || strings.Contains(k, keyB) || !strings.HasPrefix(r.owner, "key_") {
			t.Errorf("owner %q stored with the raw key", r.owner)
		}
	}
}

func TestOwnerIDIsStableAndDistinct(t *testing.T) {
	if OwnerID(keyA) != OwnerID(keyA) {
		t.Fatal("OwnerID is not stable")
	}
	if OwnerID(keyA) == OwnerID(keyB) || OwnerID("") == OwnerID(" ") {
		t.Fatal("OwnerID collides for different keys")
	}
	if strings.Contains(OwnerID(keyA), keyA) {
		t.Fatal("OwnerID contains the key")
	}
	k := newKeyring([]string{keyA, keyB})
	for _, c := range []struct {
		key  string
		want string
	}{{keyA, OwnerID(keyA)}, {keyB, OwnerID(keyB)}, {"", ""}, {keyA[:5], ""}, {strings.ToUpper(keyA), ""}} {
		got, ok := k.lookup(c.key)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("lookup(%q) = %q, %v; want %q", c.key, got, ok, c.want)
		}
	}
}

func TestStatusPagination(t *testing.T) {
	s := startServer(t, nil)
	body := seedBody(t)
	decodeStatus(t, s.postJSON("/call", keyA, body))

	st := decodeStatus(t, s.do(http.MethodGet, "/status/request_10?offset=1&limit=1", keyA, "", nil))
	if len(st.Details) != 1 || st.Details[0].Destination != "+84912860330" || st.Total != 2 {
		t.Fatalf("page offset=1 limit=1 = %+v", st)
	}
	if o, l := s.be.page(); o != 1 || l != 1 {
		t.Fatalf("backend got offset %d limit %d", o, l)
	}
	decodeStatus(t, s.do(http.MethodGet, "/status/request_10", keyA, "", nil))
	if o, l := s.be.page(); o != 0 || l != DefaultPageLimit {
		t.Fatalf("default page: backend got offset %d limit %d", o, l)
	}
	for _, q := range []string{"offset=-1", "offset=x", "limit=0", "limit=10001", "limit=1.5", "offset=99999999999999999999"} {
		r := s.do(http.MethodGet, "/status/request_10?"+q, keyA, "", nil)
		if r.code != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", q, r.code)
			continue
		}
		name, _, _ := strings.Cut(q, "=")
		if msg := r.errMessage(t); !strings.Contains(msg, name) {
			t.Errorf("?%s: message %q does not name the parameter", q, msg)
		}
	}
}

func TestStatusUnknownRequestIs404(t *testing.T) {
	s := startServer(t, nil)
	for _, id := range []string{"nope", "bad%20id", strings.Repeat("a", 129)} {
		r := s.do(http.MethodGet, "/status/"+id, keyA, "", nil)
		if r.code != http.StatusNotFound {
			t.Fatalf("GET /status/%s: %d, want 404", id, r.code)
		}
		if msg := r.errMessage(t); !strings.Contains(msg, "not found") {
			t.Errorf("message %q", msg)
		}
	}
}

func TestStatusKeepsSpecShape(t *testing.T) {
	s := startServer(t, nil)
	decodeStatus(t, s.postJSON("/call", keyA, seedBody(t)))
	extra := func(st *dialer.RequestStatus) {
		st.Status = dialer.RequestOnProgress
		d := &st.Details[0]
		d.Status, d.CallState, d.CallStatus = dialer.DestCompleted, dialer.StateEnded, dialer.OutcomeAnswered
		d.Attempts, d.SIPCode, d.HangupCause, d.HangupBy = 1, 200, "normal", "engine"
		d.MonitorData = []dialer.Monitor{{UUID: "c1", Type: "call", Dest: d.Destination}}
		d.RecordingURL = "/recordings/c1.wav"
	}
	s.be.set(func(f *fakeBackend) { f.statusExtra = extra })
	r := s.do(http.MethodGet, "/status/request_10", keyA, "", nil)
	var raw struct {
		RequestID string           `json:"requestId"`
		Status    string           `json:"status"`
		Details   []map[string]any `json:"details"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Status != "onProgress" {
		t.Fatalf("status = %q", raw.Status)
	}
	want := []string{"requestId", "caller", "destination", "status", "callFlowSteps", "monitorData",
		"call_state", "call_status", "attempts", "sipCode", "hangupCause", "hangupBy", "queuedAt",
		"durationSec", "billSec", "recordingUrl"}
	for _, k := range want {
		if _, ok := raw.Details[0][k]; !ok {
			t.Errorf("details[0] lacks %q: %s", k, r.body)
		}
	}
	if raw.Details[0]["call_state"] != "ended" || raw.Details[0]["call_status"] != "answered" {
		t.Errorf("call_state/call_status = %v/%v", raw.Details[0]["call_state"], raw.Details[0]["call_status"])
	}
}

func TestCancel(t *testing.T) {
	s := startServer(t, nil)
	decodeStatus(t, s.postJSON("/call", keyA, seedBody(t)))
	st := decodeStatus(t, s.do(http.MethodDelete, "/call/request_10", keyA, "", nil))
	if st.Status != "cancelled" {
		t.Fatalf("after DELETE status = %q", st.Status)
	}
	for _, d := range st.Details {
		if d.Status != "cancelled" {
			t.Errorf("destination %s status %q", d.Destination, d.Status)
		}
	}
	if r := s.do(http.MethodDelete, "/call/unknown", keyA, "", nil); r.code != http.StatusNotFound {
		t.Fatalf("DELETE unknown: %d", r.code)
	}
}

func TestUnknownRoutesAndMethodsAreJSON(t *testing.T) {
	s := startServer(t, nil)
	cases := []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodGet, "/nope", 404, ""},
		{http.MethodGet, "/", 404, ""},
		{http.MethodPost, "/calls", 404, ""},
		{http.MethodGet, "/status", 404, ""},
		{http.MethodGet, "/call", 405, "POST"},
		{http.MethodPut, "/call", 405, "POST"},
		{http.MethodPost, "/status/r1", 405, "GET"},
		{http.MethodPost, "/trunk", 405, "GET"},
		{http.MethodGet, "/trunk/usage", 405, "PUT"},
		{http.MethodPatch, "/call/r1", 405, "DELETE"},
	}
	for _, c := range cases {
		r := s.do(c.method, c.path, keyA, "", nil)
		if r.code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, r.code, c.code)
			continue
		}
		msg := r.errMessage(t)
		if !strings.Contains(msg, c.path) {
			t.Errorf("%s %s: message %q does not name the path", c.method, c.path, msg)
		}
		if c.allow != "" && !strings.Contains(r.header.Get("Allow"), c.allow) {
			t.Errorf("%s %s: Allow = %q, want it to list %s", c.method, c.path, r.header.Get("Allow"), c.allow)
		}
	}
}

func TestPanicIs500WithoutStack(t *testing.T) {
	s := startServer(t, nil)
	r := s.do(http.MethodGet, "/status/panic-now", keyA, "", nil)
	if r.code != http.StatusInternalServerError {
		t.Fatalf("panic: %d, want 500", r.code)
	}
	msg := r.errMessage(t)
	if strings.Contains(string(r.body), "boom") || strings.Contains(string(r.body), "goroutine") {
		t.Fatalf("500 body leaks internals: %s", r.body)
	}
	if msg != "internal error" {
		t.Errorf("message %q", msg)
	}
	// The server is still up.
	if r := s.do(http.MethodGet, "/healthz", "", "", nil); r.code != http.StatusOK {
		t.Fatalf("after panic healthz = %d", r.code)
	}
}

func TestBackendFailureIs500WithoutDetails(t *testing.T) {
	s := startServer(t, nil)
	s.be.set(func(f *fakeBackend) { f.fail = errBackendDown })
	for _, r := range []response{
		s.postJSON("/call", keyA, seedBody(t)),
		s.do(http.MethodGet, "/status/r1", keyA, "", nil),
		s.do(http.MethodGet, "/trunk", keyA, "", nil),
	} {
		if r.code != http.StatusInternalServerError {
			t.Fatalf("backend failure: %d, want 500: %s", r.code, r.body)
		}
		if strings.Contains(string(r.body), "sqlite") {
			t.Fatalf("500 leaks the cause: %s", r.body)
		}
	}
}

func TestHealthz(t *testing.T) {
	s := startServer(t, nil)
	r := s.do(http.MethodGet, "/healthz", "", "", nil)
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"status":"ok"`) {
		t.Fatalf("healthy: %d %s", r.code, r.body)
	}
	s.be.set(func(f *fakeBackend) { f.notReady = errBackendDown })
	r = s.do(http.MethodGet, "/healthz", "", "", nil)
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("not ready: %d, want 503", r.code)
	}
	if msg := r.errMessage(t); strings.Contains(msg, "sqlite") {
		t.Errorf("unauthenticated healthz leaks %q", msg)
	}
}

func TestMetrics(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = w.Write([]byte("dialflow_queue_depth 3\n"))
		})
	})
	r := s.do(http.MethodGet, "/metrics", "", "", nil)
	if r.code != http.StatusOK || !strings.Contains(string(r.body), "dialflow_queue_depth 3") {
		t.Fatalf("metrics: %d %s", r.code, r.body)
	}
	off := startServer(t, nil)
	r = off.do(http.MethodGet, "/metrics", "", "", nil)
	if r.code != http.StatusNotFound {
		t.Fatalf("metrics without a handler: %d, want 404", r.code)
	}
	r.errMessage(t)
}

func TestNewRejectsBadConfig(t *testing.T) {
	be := newFakeBackend()
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no keys", Config{Addr: "127.0.0.1:0", Backend: be}, ErrNoKeys},
		{"empty key", Config{Addr: "127.0.0.1:0", Backend: be, Keys: []string{"a", ""}}, ErrEmptyKey},
		{"no backend", Config{Addr: "127.0.0.1:0", Keys: []string{"a"}}, ErrNoBackend},
		{"no address", Config{Backend: be, Keys: []string{"a"}}, ErrNoListener},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := New(Config{Addr: "256.0.0.1:bad", Backend: be, Keys: []string{"a"}}); err == nil {
		t.Error("bad address accepted")
	}
	if _, err := New(Config{Addr: "127.0.0.1:0", Backend: be, Keys: []string{"a"}, BodyLimit: -1}); err == nil {
		t.Error("negative body limit accepted")
	}
	// Addr works without a pre-set listener.
	srv, err := New(Config{Addr: "127.0.0.1:0", Backend: be, Keys: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains([]string{"tcp"}, srv.Addr().Network()) {
		t.Errorf("network %s", srv.Addr().Network())
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}
