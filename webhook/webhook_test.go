package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var secret = []byte("key-1")

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"event":"answered"}`)
	h := Sign(secret, now, body)
	if !strings.HasPrefix(h, "t=1700000000,v1=") || len(h) != len("t=1700000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := Verify(h, secret, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("valid signature rejected: %v", err)
	}
	cases := map[string]struct {
		header string
		key    []byte
		body   []byte
		now    time.Time
		want   error
	}{
		"tampered body": {h, secret, []byte(`{"event":"ended"}`), now, ErrSignatureMismatch},
		"other key":     {h, []byte("key-2"), body, now, ErrSignatureMismatch},
		"stale":         {h, secret, body, now.Add(10 * time.Minute), ErrStaleTimestamp},
		"future":        {h, secret, body, now.Add(-10 * time.Minute), ErrStaleTimestamp},
		"malformed":     {"v1=abc", secret, body, now, ErrBadSignatureHeader},
		"garbage":       {"nonsense", secret, body, now, ErrBadSignatureHeader},
	}
	for name, c := range cases {
		if err := Verify(c.header, c.key, c.body, c.now, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

// memOutbox is an in-memory Outbox with the store's ordering rules.
type memOutbox struct {
	mu     sync.Mutex
	events []*memEvent
}

type memEvent struct {
	Event
	state   string // pending, delivered, dead
	next    time.Time
	lastErr string
}

func (o *memOutbox) add(ev Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, &memEvent{Event: ev, state: "pending"})
}

func (o *memOutbox) DueEvents(_ context.Context, now time.Time, limit int, busy []string) ([]Event, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	skip := map[string]bool{}
	for _, b := range busy {
		skip[b] = true
	}
	var out []Event
	for _, e := range o.events {
		if e.state != "pending" || skip[e.CallID] {
			continue
		}
		skip[e.CallID] = true // only the head of each call
		if e.next.After(now) || len(out) >= limit {
			continue
		}
		out = append(out, e.Event)
	}
	return out, nil
}

func (o *memOutbox) set(id string, fn func(e *memEvent)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.events {
		if e.ID == id {
			fn(e)
			return nil
		}
	}
	return fmt.Errorf("no event %s", id)
}

func (o *memOutbox) MarkDelivered(_ context.Context, id string, attempts int, _ time.Time) error {
	return o.set(id, func(e *memEvent) { e.state, e.Attempts = "delivered", attempts })
}

func (o *memOutbox) MarkRetry(_ context.Context, id string, attempts int, next time.Time, lastErr string) error {
	return o.set(id, func(e *memEvent) { e.Attempts, e.next, e.lastErr = attempts, next, lastErr })
}

func (o *memOutbox) MarkDead(_ context.Context, id string, attempts int, lastErr string) error {
	return o.set(id, func(e *memEvent) { e.state, e.Attempts, e.lastErr = "dead", attempts, lastErr })
}

func (o *memOutbox) states() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]int{}
	for _, e := range o.events {
		m[e.state]++
	}
	return m
}

// receiver records what arrives, verifying every signature.
type receiver struct {
	t        *testing.T
	mu       sync.Mutex
	got      map[string][]int64 // call → sequences in arrival order
	ids      map[string]string  // "call/seq" → event id
	deliver  atomic.Int64
	behavior atomic.Value // func(w, r) bool: true = handled (failure)
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	rc := &receiver{t: t, got: map[string][]int64{}, ids: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := rc.behavior.Load().(func(http.ResponseWriter, *http.Request) bool); ok && b != nil && b(w, r) {
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := Verify(r.Header.Get(SignatureHeader), secret, body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("bad signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var call string
		var seq int64
		if _, err := fmt.Sscanf(string(body), `{"callId":%q,"sequence":%d}`, &call, &seq); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		rc.mu.Lock()
		key := fmt.Sprintf("%s/%d", call, seq)
		if prev, dup := rc.ids[key]; dup && prev != r.Header.Get("X-Dialflow-Event-Id") {
			t.Errorf("%s delivered twice with different ids", key)
		}
		rc.ids[key] = r.Header.Get("X-Dialflow-Event-Id")
		rc.got[call] = append(rc.got[call], seq)
		rc.mu.Unlock()
		rc.deliver.Add(1)
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

func fill(o *memOutbox, url string, calls, perCall int) {
	for s := 1; s <= perCall; s++ {
		for c := 0; c < calls; c++ {
			call := fmt.Sprintf("call-%d", c)
			o.add(Event{ID: fmt.Sprintf("ev-%d-%d", c, s), CallID: call, Sequence: int64(s), Owner: "o", URL: url,
				Body: []byte(fmt.Sprintf(`{"callId":%q,"sequence":%d}`, call, s)), CreatedAt: time.Now()})
		}
	}
}

func start(t *testing.T, cfg Config) (*Deliverer, func()) {
	t.Helper()
	if cfg.Key == nil {
		cfg.Key = func(o string) ([]byte, bool) { return secret, o == "o" }
	}
	d := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, func() { cancel(); <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkOrder(t *testing.T, rc *receiver, calls, perCall int) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for c := 0; c < calls; c++ {
		seqs := rc.got[fmt.Sprintf("call-%d", c)]
		// Redeliveries after an unseen success may repeat a sequence, but
		// the distinct sequences must arrive in order.
		var distinct []int64
		for _, s := range seqs {
			if len(distinct) == 0 || distinct[len(distinct)-1] != s {
				distinct = append(distinct, s)
			}
		}
		if len(distinct) != perCall || !sort.SliceIsSorted(distinct, func(i, j int) bool { return distinct[i] < distinct[j] }) {
			t.Errorf("call-%d got sequences %v", c, seqs)
		}
	}
}

func TestDeliversInOrderWithValidSignatures(t *testing.T) {
	rc, srv := newReceiver(t)
	o := &memOutbox{}
	fill(o, srv.URL, 4, 6)
	_, stop := start(t, Config{Outbox: o, Poll: 10 * time.Millisecond, Concurrency: 3})
	defer stop()
	waitFor(t, "24 deliveries", func() bool { return o.states()["delivered"] == 24 })
	checkOrder(t, rc, 4, 6)
}

func TestReceiverDownThenUp(t *testing.T) {
	rc, srv := newReceiver(t)
	var down atomic.Bool
	down.Store(true)
	rc.behavior.Store(func(w http.ResponseWriter, r *http.Request) bool {
		if !down.Load() {
			return false
		}
		// Drop the connection: the sender sees a transport error.
		hj, _ := w.(http.Hijacker)
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return true
	})
	o := &memOutbox{}
	fill(o, srv.URL, 3, 4)
	_, stop := start(t, Config{Outbox: o, Poll: 5 * time.Millisecond, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	defer stop()
	waitFor(t, "failed attempts while down", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.events[0].Attempts >= 3
	})
	if rc.deliver.Load() != 0 {
		t.Fatal("delivered while down")
	}
	down.Store(false)
	waitFor(t, "all delivered", func() bool { return o.states()["delivered"] == 12 })
	checkOrder(t, rc, 3, 4)
}

func TestFailuresEndInDeadLetter(t *testing.T) {
	redirect := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound))
	defer redirect.Close()
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer fail.Close()
	slowDone := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-slowDone:
		}
	}))
	defer slow.Close()
	defer close(slowDone)
	// A port with nothing listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + l.Addr().String()
	l.Close()

	o := &memOutbox{}
	for i, u := range []string{redirect.URL, fail.URL, slow.URL, refused} {
		o.add(Event{ID: fmt.Sprint("e", i), CallID: fmt.Sprint("c", i), Sequence: 1, Owner: "o", URL: u,
			Body: []byte(`{}`), CreatedAt: time.Now()})
	}
	o.add(Event{ID: "nokey", CallID: "c9", Sequence: 1, Owner: "stranger", URL: fail.URL, Body: []byte(`{}`), CreatedAt: time.Now()})
	_, stop := start(t, Config{Outbox: o, Poll: 5 * time.Millisecond, Timeout: 100 * time.Millisecond,
		BaseBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxAge: 300 * time.Millisecond})
	defer stop()
	waitFor(t, "all dead", func() bool { return o.states()["dead"] == 5 })
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.events {
		if e.ID != "nokey" && e.Attempts < 2 {
			t.Errorf("%s dead after %d attempts; want retries first (%s)", e.URL, e.Attempts, e.lastErr)
		}
	}
	if !strings.Contains(o.events[0].lastErr, "302") || !strings.Contains(o.events[1].lastErr, "500") {
		t.Errorf("last errors: %q, %q", o.events[0].lastErr, o.events[1].lastErr)
	}
}

func TestSlowReceiverDoesNotBlockOthers(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	rc, fast := newReceiver(t)
	o := &memOutbox{}
	o.add(Event{ID: "slow", CallID: "slow", Sequence: 1, Owner: "o", URL: slow.URL, Body: []byte(`{}`), CreatedAt: time.Now()})
	fill(o, fast.URL, 2, 3)
	_, stop := start(t, Config{Outbox: o, Poll: 5 * time.Millisecond, Concurrency: 2, Timeout: 30 * time.Second})
	defer stop()
	waitFor(t, "fast events delivered", func() bool { return rc.deliver.Load() == 6 })
	close(release)
	waitFor(t, "slow delivered", func() bool { return o.states()["delivered"] == 7 })
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	for attempt, lo := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 20: 30 * time.Second} {
		for i := 0; i < 50; i++ {
			d := Backoff(time.Second, time.Minute, attempt)
			if d < lo || d > 2*lo {
				t.Fatalf("attempt %d: %s not in [%s, %s]", attempt, d, lo, 2*lo)
			}
		}
	}
}
