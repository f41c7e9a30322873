package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dialflow/dialflow/api"
	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
	"github.com/dialflow/dialflow/webhook"
)

// apiKey is the key that creates the test requests and signs their events.
const apiKey = "events-test-key-0123"

// keyOf is the Deliverer's key lookup, as cmd/dialflow wires it.
func keyOf(owner string) ([]byte, bool) {
	if owner == api.OwnerID(apiKey) {
		return []byte(apiKey), true
	}
	return nil, false
}

// delivery is one POST the receiver accepted.
type delivery struct {
	id   string // X-Dialflow-Event-Id
	body map[string]any
	raw  []byte
}

// hookReceiver is a real HTTP receiver on loopback that verifies every
// signature the way webhook/README.md tells users to, and records what
// arrives. gate, when set, decides per request: it may answer itself
// (returning true) to simulate failures.
type hookReceiver struct {
	tb   testing.TB
	srv  *http.Server
	addr string

	mu   sync.Mutex
	got  []delivery
	gate func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

// newHookReceiver serves on ln (or a fresh 127.0.0.1:0 listener) until the
// test ends.
func newHookReceiver(tb testing.TB, ln net.Listener) *hookReceiver {
	tb.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
	}
	h := &hookReceiver{tb: tb, addr: ln.Addr().String()}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = h.srv.Serve(ln) }()
	tb.Cleanup(func() { _ = h.srv.Close(); <-done })
	return h
}

func (h *hookReceiver) url() string { return "http://" + h.addr + "/hook" }

func (h *hookReceiver) setGate(g func(w http.ResponseWriter, r *http.Request, body []byte) bool) {
	h.mu.Lock()
	h.gate = g
	h.mu.Unlock()
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	gate := h.gate
	h.mu.Unlock()
	if gate != nil && gate(w, r, raw) {
		return
	}
	if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), []byte(apiKey), raw, time.Now(), 5*time.Minute); err != nil {
		h.tb.Errorf("signature of %s rejected: %v", raw, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		h.tb.Errorf("event body is not JSON: %v: %s", err, raw)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get("X-Dialflow-Event-Id")
	if id != body["eventId"] {
		h.tb.Errorf("X-Dialflow-Event-Id %q but body eventId %v", id, body["eventId"])
	}
	h.mu.Lock()
	h.got = append(h.got, delivery{id: id, body: body, raw: raw})
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// deliveries returns a copy of what arrived so far.
func (h *hookReceiver) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

// perCall groups distinct deliveries by request and destination (the
// ordering key of events), dropping exact redeliveries of the event just
// before, and checks that no (call, sequence) arrived under two ids.
func perCall(tb testing.TB, ds []delivery) map[string][]delivery {
	tb.Helper()
	out := map[string][]delivery{}
	ids := map[string]string{}
	for _, d := range ds {
		k := fmt.Sprintf("%v/%v", d.body["requestId"], d.body["destination"])
		sk := fmt.Sprintf("%s#%v", k, d.body["sequence"])
		if prev, ok := ids[sk]; ok {
			if prev != d.id {
				tb.Errorf("%s delivered under two ids: %s and %s", sk, prev, d.id)
			}
			continue // at-least-once: the same event again
		}
		ids[sk] = d.id
		out[k] = append(out[k], d)
	}
	return out
}

// checkSequences fails unless each call's sequences arrived as 1..n.
func checkSequences(tb testing.TB, calls map[string][]delivery) {
	tb.Helper()
	for k, ds := range calls {
		for i, d := range ds {
			if d.body["sequence"] != float64(i+1) {
				seqs := make([]any, len(ds))
				for j, x := range ds {
					seqs[j] = x.body["sequence"]
				}
				tb.Errorf("%s: sequences arrived as %v, want 1..%d in order", k, seqs, len(ds))
				break
			}
		}
	}
}

// types lists the event types of ds.
func types(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i], _ = d.body["type"].(string)
	}
	return out
}

// runDeliverer runs a Deliverer until the test ends (or stop is called).
func runDeliverer(tb testing.TB, cfg webhook.Config) (*webhook.Deliverer, func()) {
	tb.Helper()
	if cfg.Key == nil {
		cfg.Key = keyOf
	}
	d := webhook.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("deliverer: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return d, stop
}

// openStore opens (or creates) the database in dir.
func openStore(tb testing.TB, dir string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// storeCalls writes, straight through the store, nCalls destinations of one
// request that each rang, were answered, ran one step and ended.
func storeCalls(ctx context.Context, db *store.DB, requestID, url string, nCalls int) error {
	at := time.Now()
	r := dialer.NewRequest{Owner: api.OwnerID(apiKey), RequestID: requestID, BodyHash: "h-" + requestID,
		Body: []byte(`{}`), CallbackURL: url, At: at}
	for i := range nCalls {
		r.Destinations = append(r.Destinations, flow.Destination{Phone: fmt.Sprintf("+849176%05d", i), Caller: "+6582674904"})
	}
	c, err := db.CreateRequest(ctx, r)
	if err != nil {
		return err
	}
	for i, dest := range c.DestPKs {
		s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: fmt.Sprintf("%s-call-%d", requestID, i), At: at})
		if err != nil {
			return err
		}
		if err := db.MarkAttempt(ctx, s.AttemptPK, dialer.StateRinging, at.Add(time.Second)); err != nil {
			return err
		}
		if err := db.MarkAttempt(ctx, s.AttemptPK, dialer.StateOngoing, at.Add(2*time.Second)); err != nil {
			return err
		}
		step := flow.StepResult{StepName: flow.StepPlay, StepPath: "steps[0]", Info: flow.StepInfo{
			CallState: flow.CallStateOngoing, CallStatus: flow.CallStatusAnswered, Status: flow.StatusOK}}
		if err := db.AddStep(ctx, s.AttemptPK, step, at.Add(3*time.Second)); err != nil {
			return err
		}
		if err := db.EndAttempt(ctx, dialer.AttemptEnd{AttemptPK: s.AttemptPK, DestPK: dest, CallStatus: dialer.OutcomeAnswered,
			SIPCode: 200, HangupCause: "normal", HangupBy: "engine", At: at.Add(5 * time.Second), Next: dialer.DestCompleted}); err != nil {
			return err
		}
	}
	return nil
}

// eventsPerStoredCall is how many events storeCalls writes per destination:
// queued, dialing, ringing, answered, step, ended.
const eventsPerStoredCall = 6

// waitFor polls cond until it holds or 30 s pass.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
