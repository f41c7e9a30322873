package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	keyA = "key-alpha-0123456789"
	keyB = "key-bravo-9876543210"
)

// fakeBackend is an in-memory Backend that honours the contract:
// idempotency by body hash, conflicts, per-owner namespaces.
type fakeBackend struct {
	mu          sync.Mutex
	reqs        map[string]*fakeReq // owner + "\x00" + requestId
	submits     int
	recordings  map[string][2]string // callID -> owner, path
	trunk       dialer.TrunkStatus
	notReady    error
	fail        error // returned by every call when set
	lastOffset  int
	lastLimit   int
	statusExtra func(*dialer.RequestStatus)
}

type fakeReq struct {
	hash  [32]byte
	owner string
	st    dialer.RequestStatus
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		reqs:       map[string]*fakeReq{},
		recordings: map[string][2]string{},
		trunk:      dialer.TrunkStatus{Capacity: 6, Free: 6},
	}
}

func (f *fakeBackend) Submit(_ context.Context, owner string, body []byte, req *flow.Request) (*dialer.RequestStatus, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, false, f.fail
	}
	k := owner + "\x00" + req.RequestID
	h := sha256.Sum256(body)
	if r, ok := f.reqs[k]; ok {
		if r.hash != h {
			return nil, false, dialer.ErrConflict
		}
		st := r.st
		return &st, false, nil
	}
	st := dialer.RequestStatus{RequestID: req.RequestID, Status: dialer.RequestSubmitted}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, d := range req.Destinations {
		st.Details = append(st.Details, dialer.Detail{
			RequestID: req.RequestID, Caller: d.Caller, Destination: d.Phone,
			Status: dialer.DestQueued, CallState: dialer.StateQueued, QueuedAt: &now,
		})
	}
	f.reqs[k] = &fakeReq{hash: h, owner: owner, st: st}
	f.submits++
	out := st
	return &out, true, nil
}

func (f *fakeBackend) Status(_ context.Context, owner, id string, offset, limit int) (*dialer.RequestStatus, error) {
	if id == "panic-now" {
		panic("boom: secret internals")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.lastOffset, f.lastLimit = offset, limit
	r, ok := f.reqs[owner+"\x00"+id]
	if !ok {
		return nil, dialer.ErrNotFound
	}
	st := r.st
	st.Total = len(st.Details)
	if limit == 0 {
		limit = 1000
	}
	lo := min(offset, len(st.Details))
	hi := min(lo+limit, len(st.Details))
	st.Details = append([]dialer.Detail(nil), st.Details[lo:hi]...)
	if f.statusExtra != nil {
		f.statusExtra(&st)
	}
	return &st, nil
}

func (f *fakeBackend) Cancel(_ context.Context, owner, id string) (*dialer.RequestStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reqs[owner+"\x00"+id]
	if !ok {
		return nil, dialer.ErrNotFound
	}
	r.st.Status = dialer.RequestCancelled
	for i := range r.st.Details {
		r.st.Details[i].Status = dialer.DestCancelled
		r.st.Details[i].CallState = dialer.StateEnded
		r.st.Details[i].CallStatus = dialer.OutcomeCancelled
	}
	st := r.st
	return &st, nil
}

func (f *fakeBackend) Trunk(context.Context) (dialer.TrunkStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.trunk, f.fail
}

func (f *fakeBackend) SetExternalBusy(_ context.Context, n int) (dialer.TrunkStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trunk.ExternalBusy = n
	f.trunk.Free = max(0, f.trunk.Capacity-n-f.trunk.Active)
	return f.trunk, nil
}

func (f *fakeBackend) RecordingPath(_ context.Context, owner, callID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recordings[callID]
	if !ok || r[0] != owner {
		return "", dialer.ErrNotFound
	}
	return r[1], nil
}

func (f *fakeBackend) Ready(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.notReady
}

// set changes the fake under its lock.
func (f *fakeBackend) set(fn func(*fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// get reads the fake under its lock.
func (f *fakeBackend) get(fn func(*fakeBackend) int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn(f)
}

// page is the offset and limit of the last Status call.
func (f *fakeBackend) page() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastOffset, f.lastLimit
}

func (f *fakeBackend) submitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.submits
}

// testServer is a Server running on a real loopback listener.
type testServer struct {
	t    *testing.T
	url  string
	addr string
	be   *fakeBackend
	hc   *http.Client
}

// startServer runs a Server on 127.0.0.1:0 with the fake backend; mod may
// adjust the config. It is stopped and waited for at cleanup.
func startServer(t *testing.T, mod func(*Config)) *testServer {
	t.Helper()
	be := newFakeBackend()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Listener: ln, Keys: []string{keyA, keyB}, Backend: be, ShutdownTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &testServer{t: t, url: "http://" + s.Addr().String(), addr: s.Addr().String(), be: be, hc: hc}
}

// response is a decoded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// errMessage decodes the JSON error shape and checks it.
func (r response) errMessage(t *testing.T) string {
	t.Helper()
	var e struct {
		Status   string         `json:"status"`
		Message  string         `json:"message"`
		Problems []flow.Problem `json:"problems"`
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type = %q, want application/json; body %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, r.body)
	}
	if e.Status != "error" || e.Message == "" {
		t.Fatalf("error body = %s, want status error and a message", r.body)
	}
	return e.Message
}

// do sends one request; key "" sends no key header, ct "" no Content-Type.
func (s *testServer) do(method, path, key, ct string, body []byte) response {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(HeaderAPIKey, key)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{code: res.StatusCode, header: res.Header, body: b}
}

// postJSON posts a JSON body to path with key.
func (s *testServer) postJSON(path, key string, body []byte) response {
	s.t.Helper()
	return s.do(http.MethodPost, path, key, "application/json", body)
}

// decodeStatus decodes a RequestStatus answer.
func decodeStatus(t *testing.T, r response) dialer.RequestStatus {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.code, r.body)
	}
	var st dialer.RequestStatus
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return st
}

func seedBody(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed_request.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutate applies set (dotted path -> value, deleteMe to remove) to a JSON
// document and returns the new document.
func mutate(t *testing.T, doc []byte, path string, value any) []byte {
	t.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	cur := root
	for i, p := range parts {
		last := i == len(parts)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				if value == deleteMe {
					delete(node, p)
				} else {
					node[p] = value
				}
				break
			}
			cur = node[p]
		case []any:
			n := 0
			for _, c := range p {
				n = n*10 + int(c-'0')
			}
			if last {
				node[n] = value
				break
			}
			cur = node[n]
		default:
			t.Fatalf("mutate %s: %s is not a container", path, p)
		}
	}
	out, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deleteMe as a mutate value removes the member.
const deleteMe = "\x00delete"

var errBackendDown = errors.New("database is locked: /var/lib/dialflow/db.sqlite")
