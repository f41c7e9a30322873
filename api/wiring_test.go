package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/api"
	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
)

// The real dialer is the API's backend; cmd/dialflow relies on this.
var _ api.Backend = (*dialer.Dialer)(nil)

const (
	wireKeyA = "wiring-key-a"
	wireKeyB = "wiring-key-b"
)

// answeringPlacer answers every call, reports one step, writes the
// recording and hangs up: no SIP, but the dialer and store are real.
func answeringPlacer(_ context.Context, c dialer.Call, p dialer.Progress) (dialer.Result, error) {
	p.Ringing()
	p.Answered()
	p.Step(flow.StepResult{StepName: flow.StepPlay, StepPath: "callFlow.steps[0]", Info: flow.StepInfo{
		CallState: flow.CallStateOngoing, CallStatus: flow.CallStatusAnswered, Status: flow.StatusOK}})
	if c.RecordingPath != "" {
		if err := os.WriteFile(c.RecordingPath, []byte("RIFF fake wav for "+c.ID), 0o600); err != nil {
			return dialer.Result{}, err
		}
	}
	return dialer.Result{SIPCode: 200, HangupBy: "engine", HangupCause: "normal", Recorded: c.RecordingPath != ""}, nil
}

// TestWiredToRealDialerAndStore runs the API over the real dialer and an
// SQLite file: submit, follow to completion, idempotency, conflict,
// ownership, recordings and trunk accounting.
func TestWiredToRealDialerAndStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	recDir := filepath.Join(dir, "recordings")
	if err := os.MkdirAll(recDir, 0o700); err != nil {
		t.Fatal(err)
	}
	d, err := dialer.New(dialer.Config{Capacity: 2, RecordingDir: recDir}, db, dialer.PlacerFunc(answeringPlacer))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("dialer close: %v", err)
		}
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Listener: ln, Keys: []string{wireKeyA, wireKeyB}, Backend: d})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(rctx) }()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	base := "http://" + srv.Addr().String()
	call := func(method, path, key string, body []byte) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			rd = strings.NewReader(string(body))
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set(api.HeaderAPIKey, key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	seed, err := os.ReadFile("testdata/seed_request.json")
	if err != nil {
		t.Fatal(err)
	}

	code, b := call(http.MethodPost, "/call", wireKeyA, seed)
	if code != http.StatusOK {
		t.Fatalf("POST /call: %d %s", code, b)
	}
	var st dialer.RequestStatus
	if err := json.Unmarshal(b, &st); err != nil || st.RequestID != "request_10" || len(st.Details) != 2 {
		t.Fatalf("POST answer %s (%v)", b, err)
	}

	// Follow the request until both calls completed.
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, b = call(http.MethodGet, "/status/request_10", wireKeyA, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /status: %d %s", code, b)
		}
		st = dialer.RequestStatus{}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		if st.Status == dialer.RequestCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request not completed: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, det := range st.Details {
		if det.Status != dialer.DestCompleted || det.CallStatus != dialer.OutcomeAnswered || det.CallState != dialer.StateEnded ||
			len(det.CallFlowSteps) != 1 || det.CallFlowSteps[0].StepPath != "callFlow.steps[0]" || det.RecordingURL == "" {
			t.Errorf("detail %+v", det)
		}
	}

	// Idempotent resubmit, conflict, ownership.
	if code, b = call(http.MethodPost, "/call", wireKeyA, seed); code != http.StatusOK || !strings.Contains(string(b), `"completed"`) {
		t.Fatalf("same body again: %d %s", code, b)
	}
	other := []byte(strings.Replace(string(seed), `"Alex"`, `"Alexandra"`, 1))
	if code, b = call(http.MethodPost, "/call", wireKeyA, other); code != http.StatusConflict {
		t.Fatalf("different body: %d %s", code, b)
	}
	if code, _ = call(http.MethodGet, "/status/request_10", wireKeyB, nil); code != http.StatusNotFound {
		t.Fatalf("other key reads status: %d", code)
	}
	rec := st.Details[0].RecordingURL
	if code, b = call(http.MethodGet, rec, wireKeyA, nil); code != http.StatusOK || !strings.HasPrefix(string(b), "RIFF") {
		t.Fatalf("GET %s: %d %q", rec, code, b)
	}
	if code, _ = call(http.MethodGet, rec, wireKeyB, nil); code != http.StatusNotFound {
		t.Fatalf("other key reads the recording: %d", code)
	}

	// Trunk accounting.
	code, b = call(http.MethodPut, "/trunk/usage", wireKeyB, []byte(`{"externalBusy": 1}`))
	var ts dialer.TrunkStatus
	if err := json.Unmarshal(b, &ts); err != nil || code != http.StatusOK || ts.Capacity != 2 || ts.ExternalBusy != 1 || ts.Free != 1 {
		t.Fatalf("PUT /trunk/usage: %d %s", code, b)
	}
	if code, b = call(http.MethodGet, "/healthz", "", nil); code != http.StatusOK {
		t.Fatalf("healthz: %d %s", code, b)
	}
	if code, b = call(http.MethodDelete, "/call/request_10", wireKeyA, nil); code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", code, b)
	}
}
