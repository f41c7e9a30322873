package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
)

// Compile-time check that the store is what the dialer consumes.
var _ dialer.Store = (*store.DB)(nil)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// MustOpen opens a store in a fresh directory and closes it after the test.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), store.FileName), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func newReq(owner, id string, n int, callback string) dialer.NewRequest {
	r := dialer.NewRequest{Owner: owner, RequestID: id, BodyHash: "h-" + id, Body: []byte(`{"requestId":"` + id + `"}`),
		CallbackURL: callback, At: t0}
	for i := range n {
		r.Destinations = append(r.Destinations, flow.Destination{
			Phone: fmt.Sprintf("+8491766%04d", i), Caller: "+6582674904", Properties: map[string]string{"name": "Alex"},
		})
	}
	return r
}

func TestMigrationsFromEmpty(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", store.FileName)
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.Version(ctx)
	if err != nil || v != 2 {
		t.Fatalf("version = %d, %v; want 2", v, err)
	}
	if _, err := db.CreateRequest(ctx, newReq("k", "r1", 2, "")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Reopening applies nothing twice and keeps the data.
	db, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(ctx); v != 2 {
		t.Fatalf("version after reopen = %d", v)
	}
	st, err := db.RequestStatus(ctx, "k", "r1", 0, 0)
	if err != nil || len(st.Details) != 2 {
		t.Fatalf("status after reopen: %+v, %v", st, err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestCorruptFileIsAClearErrorAtOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	garbage := filepath.Join(dir, "garbage.db")
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte('x' + i%3)
	}
	if err := os.WriteFile(garbage, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(ctx, garbage, store.Options{})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("garbage file: err = %v, want ErrCorrupt", err)
	}
	if err == nil || !contains(err.Error(), garbage) {
		t.Fatalf("error %q does not name the file", err)
	}

	// A real database whose pages were overwritten.
	damaged := filepath.Join(dir, "damaged.db")
	db, err := store.Open(ctx, damaged, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateRequest(ctx, newReq("k", "r", 300, "")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(damaged, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	bad := make([]byte, fi.Size()-4096)
	for i := range bad {
		bad[i] = 0xA5
	}
	if _, err := f.WriteAt(bad, 4096); err != nil { // keep page 1 (the header) intact
		t.Fatal(err)
	}
	f.Close()
	_, err = store.Open(ctx, damaged, store.Options{})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("damaged file: err = %v, want ErrCorrupt", err)
	}
}

func TestLockedFileIsAClearErrorAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Another process holds the write lock.
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, path, store.Options{BusyTimeout: 100 * time.Millisecond, Shared: true})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if !contains(err.Error(), path) || !contains(err.Error(), "locked") {
		t.Fatalf("error %q does not say which file is locked", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatalf("open after the lock is released: %v", err)
	}
	db.Close()
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestCreateIsIdempotentAndOwned(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c, err := db.CreateRequest(ctx, newReq("alice", "r1", 3, ""))
	if err != nil || !c.Created || len(c.DestPKs) != 3 {
		t.Fatalf("create: %+v, %v", c, err)
	}
	again, err := db.CreateRequest(ctx, newReq("alice", "r1", 3, ""))
	if err != nil || again.Created || again.RequestPK != c.RequestPK {
		t.Fatalf("same body again: %+v, %v", again, err)
	}
	other := newReq("alice", "r1", 3, "")
	other.BodyHash = "different"
	if _, err := db.CreateRequest(ctx, other); !errors.Is(err, dialer.ErrConflict) {
		t.Fatalf("different body: err = %v, want ErrConflict", err)
	}
	// Another key may use the same requestId; neither sees the other's.
	if c2, err := db.CreateRequest(ctx, newReq("bob", "r1", 1, "")); err != nil || !c2.Created {
		t.Fatalf("bob's r1: %+v, %v", c2, err)
	}
	if _, err := db.RequestStatus(ctx, "mallory", "r1", 0, 0); !errors.Is(err, dialer.ErrNotFound) {
		t.Fatalf("other owner: err = %v, want ErrNotFound", err)
	}
	st, err := db.RequestStatus(ctx, "alice", "r1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != dialer.RequestSubmitted || len(st.Details) != 3 {
		t.Fatalf("status %+v", st)
	}
	d := st.Details[1]
	if d.Status != dialer.DestQueued || d.CallState != dialer.StateQueued || d.Destination != "+84917660001" ||
		d.Caller != "+6582674904" || d.Attempts != 0 || d.QueuedAt == nil || !d.QueuedAt.Equal(t0) {
		t.Fatalf("detail %+v", d)
	}
	b, _ := json.Marshal(d)
	for _, want := range []string{`"callFlowSteps":[]`, `"monitorData":[]`, `"call_state":"queued"`} {
		if !contains(string(b), want) {
			t.Errorf("detail JSON %s lacks %s", b, want)
		}
	}
}

func TestAttemptLifecycleAndPagination(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c, err := db.CreateRequest(ctx, newReq("k", "r", 5, "https://example.test/hook"))
	if err != nil {
		t.Fatal(err)
	}
	dest := c.DestPKs[2]
	s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: "call-1", RecordingPath: "/rec/call-1.wav", At: t0})
	if err != nil || s.Number != 1 || s.Counted != 1 || s.Destination.Properties["name"] != "Alex" {
		t.Fatalf("start: %+v, %v", s, err)
	}
	if _, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: "call-x", At: t0}); !errors.Is(err, dialer.ErrNotQueued) {
		t.Fatalf("second start while live: err = %v, want ErrNotQueued", err)
	}
	must(t, db.MarkAttempt(ctx, s.AttemptPK, dialer.StateRinging, t0.Add(time.Second)))
	must(t, db.MarkAttempt(ctx, s.AttemptPK, dialer.StateOngoing, t0.Add(4*time.Second)))
	step := flow.StepResult{StepName: "gather", StepPath: "steps[1]", Info: flow.StepInfo{
		CallState: "ongoing", CallStatus: "answered", Status: flow.StatusOK, UserPressedDigits: "1"}}
	must(t, db.AddStep(ctx, s.AttemptPK, flow.StepResult{StepName: "play", StepPath: "steps[0]",
		Info: flow.StepInfo{CallState: "ongoing", CallStatus: "answered", Status: flow.StatusOK}}, t0.Add(6*time.Second)))
	must(t, db.AddStep(ctx, s.AttemptPK, step, t0.Add(9*time.Second)))
	must(t, db.EndAttempt(ctx, dialer.AttemptEnd{AttemptPK: s.AttemptPK, DestPK: dest, CallStatus: dialer.OutcomeAnswered,
		SIPCode: 200, HangupCause: "normal", HangupBy: "engine", At: t0.Add(21 * time.Second), Next: dialer.DestCompleted,
		Monitors:  []dialer.Monitor{{UUID: "call-1", Type: "call", Dest: "+84917660002"}, {UUID: "t-1", Type: "transfer", Dest: "+84917660002 1000"}},
		Recording: &dialer.Recording{Path: "/rec/call-1.wav", Size: 1000, SHA256: "ab"}}))
	if err := db.EndAttempt(ctx, dialer.AttemptEnd{AttemptPK: s.AttemptPK, DestPK: dest, Next: dialer.DestFailed, At: t0}); !errors.Is(err, dialer.ErrNotFound) {
		t.Fatalf("closing twice: err = %v, want ErrNotFound", err)
	}

	st, err := db.RequestStatus(ctx, "k", "r", 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != dialer.RequestOnProgress || st.Total != 5 || len(st.Details) != 2 {
		t.Fatalf("page: status %q total %d details %d", st.Status, st.Total, len(st.Details))
	}
	d := st.Details[0]
	if d.Status != dialer.DestCompleted || d.CallState != dialer.StateEnded || d.CallStatus != dialer.OutcomeAnswered ||
		d.Attempts != 1 || d.SIPCode != 200 || d.HangupCause != "normal" || d.HangupBy != "engine" ||
		d.DurationSec != 21 || d.BillSec != 17 || d.RecordingURL != "/recordings/call-1.wav" || len(d.MonitorData) != 2 {
		t.Fatalf("detail %+v", d)
	}
	if len(d.CallFlowSteps) != 2 || d.CallFlowSteps[0].StepName != "play" || !reflect.DeepEqual(d.CallFlowSteps[1], step) {
		t.Fatalf("steps %+v", d.CallFlowSteps)
	}
	if st.Details[1].Status != dialer.DestQueued {
		t.Fatalf("next detail %+v", st.Details[1])
	}
	p, err := db.RecordingPath(ctx, "k", "call-1")
	if err != nil || p != "/rec/call-1.wav" {
		t.Fatalf("recording path %q, %v", p, err)
	}
	if _, err := db.RecordingPath(ctx, "other", "call-1"); !errors.Is(err, dialer.ErrNotFound) {
		t.Fatalf("other owner's recording: %v", err)
	}

	// The outbox holds this destination's events in order.
	var types []string
	var seqs []int64
	for {
		evs, err := db.DueEvents(ctx, t0.Add(time.Hour), 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.CallID == fmt.Sprintf("d%d", dest) {
				var body map[string]any
				must(t, json.Unmarshal(ev.Body, &body))
				types = append(types, body["type"].(string))
				seqs = append(seqs, ev.Sequence)
			}
			must(t, db.MarkDelivered(ctx, ev.ID, 1, t0))
		}
		if len(evs) == 0 {
			break
		}
	}
	want := []string{"queued", "dialing", "ringing", "answered", "step", "dtmf", "step", "ended", "recording"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("event types %v, want %v", types, want)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("sequences %v are not 1..n", seqs)
		}
	}
}

func TestCancelDropsQueuedOnly(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c, _ := db.CreateRequest(ctx, newReq("k", "r", 3, ""))
	s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: c.DestPKs[0], CallID: "c0", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CancelRequest(ctx, "other", "r", t0); !errors.Is(err, dialer.ErrNotFound) {
		t.Fatalf("other owner cancel: %v", err)
	}
	pk, err := db.CancelRequest(ctx, "k", "r", t0)
	if err != nil || pk != c.RequestPK {
		t.Fatalf("cancel: %d, %v", pk, err)
	}
	if _, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: c.DestPKs[1], CallID: "c1", At: t0}); !errors.Is(err, dialer.ErrNotQueued) {
		t.Fatalf("start after cancel: %v", err)
	}
	st, _ := db.RequestStatus(ctx, "k", "r", 0, 0)
	if st.Status != dialer.RequestCancelled || st.Details[0].Status != dialer.DestOnProgress ||
		st.Details[1].Status != dialer.DestCancelled || st.Details[1].CallStatus != dialer.OutcomeCancelled {
		t.Fatalf("after cancel: %+v", st)
	}
	live, err := db.LiveAttempts(ctx)
	if err != nil || len(live) != 1 || live[0].AttemptPK != s.AttemptPK || !live[0].Cancelled {
		t.Fatalf("live: %+v, %v", live, err)
	}
	reqs, dests, err := db.LoadQueue(ctx)
	if err != nil || len(reqs) != 0 || len(dests) != 0 {
		t.Fatalf("queue after cancel: %v %v %v", reqs, dests, err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	// Two handles on one file, like two processes, plus goroutines on each.
	var dbs []*store.DB
	for range 2 {
		db, err := store.Open(ctx, path, store.Options{Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	const writers, perWriter = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			db := dbs[w%2]
			for i := range perWriter {
				c, err := db.CreateRequest(ctx, newReq("k", fmt.Sprintf("w%d-%d", w, i), 3, "https://h.test/"))
				if err != nil {
					errs <- err
					return
				}
				for j, pk := range c.DestPKs {
					s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: pk, CallID: fmt.Sprintf("c%d-%d-%d", w, i, j), At: t0})
					if err != nil {
						errs <- err
						return
					}
					if err := db.EndAttempt(ctx, dialer.AttemptEnd{AttemptPK: s.AttemptPK, DestPK: pk, CallStatus: "busy",
						HangupCause: "busy", SIPCode: 486, At: t0, Next: dialer.DestFailed}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	// Every destination is claimed by exactly one of several racing starters.
	c, err := dbs[0].CreateRequest(ctx, newReq("k", "race", 20, ""))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	for g := range 4 {
		wg.Go(func() {
			for _, pk := range c.DestPKs {
				_, err := dbs[g%2].StartAttempt(ctx, dialer.AttemptStart{DestPK: pk, CallID: fmt.Sprintf("race-%d-%d", g, pk), At: t0})
				if errors.Is(err, dialer.ErrNotQueued) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				claimed[pk]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, pk := range c.DestPKs {
		if claimed[pk] != 1 {
			t.Errorf("destination %d claimed %d times", pk, claimed[pk])
		}
	}
	for w := range writers {
		for i := range perWriter {
			st, err := dbs[1].RequestStatus(ctx, "k", fmt.Sprintf("w%d-%d", w, i), 0, 0)
			if err != nil || st.Status != dialer.RequestCompleted || len(st.Details) != 3 {
				t.Fatalf("w%d-%d: %+v, %v", w, i, st, err)
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSecondEngineOnSameFileIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, path, store.Options{})
	if !errors.Is(err, store.ErrLocked) || !contains(err.Error(), "another dialflow") {
		t.Fatalf("second open: err = %v, want ErrLocked naming the cause", err)
	}
	db.Close()
	db, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	db.Close()
}
