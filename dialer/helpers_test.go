package dialer_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
)

// behavior scripts one fake call.
type behavior struct {
	ring     time.Duration // time before the answer (or the error)
	err      error         // returned instead of answering
	talk     time.Duration // time the answered call lasts after its flow
	hangWait bool          // never answer nor end: wait for ctx
	runFlow  bool          // run the real interpreter on a fake channel
}

// fakePlacer counts calls in flight with its own peak counter, checks the
// slot limit at every start and that no destination is dialed twice at once.
type fakePlacer struct {
	capacity int
	script   func(c dialer.Call) behavior

	mu         sync.Mutex
	external   int
	cur, peak  int
	violations []string
	perPhone   map[string]int
	dials      []dialer.Call
	dialTimes  map[string][]time.Time
	endTimes   map[string][]time.Time
}

func newFakePlacer(capacity int, script func(c dialer.Call) behavior) *fakePlacer {
	return &fakePlacer{capacity: capacity, script: script, perPhone: map[string]int{},
		dialTimes: map[string][]time.Time{}, endTimes: map[string][]time.Time{}}
}

// setExternal mirrors what the test told the dialer, for the start check.
func (f *fakePlacer) setExternal(n int) {
	f.mu.Lock()
	f.external = n
	f.mu.Unlock()
}

func (f *fakePlacer) Place(ctx context.Context, c dialer.Call, p dialer.Progress) (dialer.Result, error) {
	f.mu.Lock()
	f.cur++
	f.peak = max(f.peak, f.cur)
	if f.cur+f.external > f.capacity {
		f.violations = append(f.violations, fmt.Sprintf("call %d started with %d in flight and %d external (capacity %d)",
			len(f.dials), f.cur, f.external, f.capacity))
	}
	f.perPhone[c.Phone]++
	if f.perPhone[c.Phone] > 1 {
		f.violations = append(f.violations, c.Phone+" dialed twice at once")
	}
	f.dials = append(f.dials, c)
	f.dialTimes[c.Phone] = append(f.dialTimes[c.Phone], time.Now())
	b := f.script(c) // under f.mu: scripts may keep state
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.cur--
		f.perPhone[c.Phone]--
		f.endTimes[c.Phone] = append(f.endTimes[c.Phone], time.Now())
		f.mu.Unlock()
	}()
	p.Ringing()
	if b.hangWait {
		<-ctx.Done()
		return dialer.Result{}, ctx.Err()
	}
	if err := sleep(ctx, b.ring); err != nil {
		return dialer.Result{}, err
	}
	if b.err != nil {
		return dialer.Result{}, b.err
	}
	p.Answered()
	if b.runFlow {
		res := flow.Run(ctx, c.Flow, &fakeChannel{}, flow.RunOptions{OnStep: p.Step})
		if res.Ended == flow.EndCancelled {
			return dialer.Result{SIPCode: 200}, res.Err
		}
	}
	if err := sleep(ctx, b.talk); err != nil {
		return dialer.Result{SIPCode: 200}, err
	}
	return dialer.Result{SIPCode: 200, HangupCause: dialer.CauseNormal, HangupBy: dialer.ByEngine}, nil
}

func (f *fakePlacer) snapshot() (cur, peak int, violations []string, dials int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur, f.peak, append([]string(nil), f.violations...), len(f.dials)
}

func (f *fakePlacer) resetPeak() {
	f.mu.Lock()
	f.peak = f.cur
	f.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fakeChannel is a flow.Channel whose prompts take two seconds and whose
// callee presses 1 at every gather.
type fakeChannel struct{}

func (fakeChannel) Play(ctx context.Context, p flow.Prompt) error { return sleep(ctx, 2*time.Second) }
func (fakeChannel) Gather(ctx context.Context, p flow.Prompt, o flow.GatherOptions) (flow.Digits, error) {
	if err := sleep(ctx, 3*time.Second); err != nil {
		return flow.Digits{}, err
	}
	return flow.Digits{Keys: "1", Each: []flow.DigitInfo{{Digit: "1", Method: "rfc4733", AtMs: 2500}}}, nil
}
func (fakeChannel) Transfer(ctx context.Context, t flow.Transfer) (string, error) {
	return flow.TransferAnswered, sleep(ctx, time.Second)
}
func (fakeChannel) Pause(ctx context.Context, d time.Duration) error { return sleep(ctx, d) }
func (fakeChannel) Hangup(ctx context.Context) error                 { return nil }

// sipError is what the SIP layer returns for a final non-2xx response.
type sipError struct{ code int }

func (e sipError) Error() string  { return fmt.Sprintf("sip %d", e.code) }
func (e sipError) SIPStatus() int { return e.code }

// requestBody builds a POST /call body with n destinations prefixed by phone.
func requestBody(id string, n int, phone string, extra string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"requestId": %q, "destinations": [`, id)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"phone": "%s%05d", "caller": "+6582674904", "properties": {"name": "Alex"}}`, phone, i)
	}
	b.WriteString(`], "callFlow": {"steps": [{"name": "play", "message": {"msg": "thanks {{name}}"}},
		{"name": "gather", "message": {"msg": "press 1"}, "branches": [{"digit": "1", "callFlow": {"steps": [{"name": "play", "message": {"msg": "bye"}}]}}]}]}`)
	if extra != "" {
		b.WriteString(", " + extra)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// mustRequest parses and validates a body as the API does.
func mustRequest(tb testing.TB, body []byte) *flow.Request {
	tb.Helper()
	req, probs := flow.CheckRequest(body, flow.ValidateOptions{})
	if len(probs) > 0 {
		tb.Fatalf("invalid test request: %v", probs)
	}
	return req
}

// rig is a dialer over a real SQLite file and a fake placer.
type rig struct {
	tb   testing.TB
	path string
	db   *store.DB
	d    *dialer.Dialer
	fp   *fakePlacer
}

func newRig(tb testing.TB, path string, cfg dialer.Config, fp *fakePlacer) *rig {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), store.FileName)
	}
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	d, err := dialer.New(cfg, db, fp)
	if err != nil {
		tb.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return &rig{tb: tb, path: path, db: db, d: d, fp: fp}
}

func (r *rig) close() {
	r.d.Close()
	r.db.Close()
}

func (r *rig) submit(owner string, body []byte) *dialer.RequestStatus {
	r.tb.Helper()
	st, created, err := r.d.Submit(context.Background(), owner, body, mustRequest(r.tb, body))
	if err != nil || !created {
		r.tb.Fatalf("submit: created=%v err=%v", created, err)
	}
	return st
}

func (r *rig) status(owner, id string) *dialer.RequestStatus {
	r.tb.Helper()
	st, err := r.d.Status(context.Background(), owner, id, 0, 0)
	if err != nil {
		r.tb.Fatal(err)
	}
	return st
}

func (r *rig) trunk() dialer.TrunkStatus {
	ts, _ := r.d.Trunk(context.Background())
	return ts
}

func (r *rig) setExternal(n int) {
	r.tb.Helper()
	r.fp.setExternal(n)
	if _, err := r.d.SetExternalBusy(context.Background(), n); err != nil {
		r.tb.Fatal(err)
	}
}
