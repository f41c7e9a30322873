package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
	"github.com/dialflow/dialflow/webhook"
)

// The store is what GET /events and redelivery consume.
var _ Events = (*store.DB)(nil)

// eventsFixture is a real SQLite store holding one request of keyA with a
// callback URL and three destinations, one of which was dialed.
func eventsFixture(t *testing.T) (*store.DB, *testServer, *int) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := dialer.NewRequest{Owner: OwnerID(keyA), RequestID: "r1", BodyHash: "h", Body: []byte(`{}`),
		CallbackURL: "http://127.0.0.1:1/hook", At: at}
	for i := range 3 {
		r.Destinations = append(r.Destinations, flow.Destination{Phone: fmt.Sprintf("+8491766000%d", i), Caller: "+6582674904"})
	}
	c, err := db.CreateRequest(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: c.DestPKs[0], CallID: "call-0", At: at.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	woken := 0
	ts := startServer(t, func(cfg *Config) { cfg.Events = db; cfg.Redelivered = func() { woken++ } })
	return db, ts, &woken
}

func decodePage(t *testing.T, r response) webhook.Page {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("GET /events: %d %s", r.code, r.body)
	}
	var p webhook.Page
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("page %s: %v", r.body, err)
	}
	return p
}

func TestEventsListOwnedAndPaginated(t *testing.T) {
	_, ts, _ := eventsFixture(t)
	p := decodePage(t, ts.do(http.MethodGet, "/events?requestId=r1", keyA, "", nil))
	if p.RequestID != "r1" || p.Total != 4 || len(p.Events) != 4 || p.Limit != DefaultEventLimit {
		t.Fatalf("page %+v", p)
	}
	types := []string{}
	for _, e := range p.Events {
		types = append(types, e.Type)
		var body struct {
			EventID  string `json:"eventId"`
			Type     string `json:"type"`
			Sequence int64  `json:"sequence"`
		}
		if err := json.Unmarshal(e.Body, &body); err != nil || body.EventID != e.EventID || body.Type != e.Type || body.Sequence != e.Sequence {
			t.Errorf("record %+v does not match its body %s", e, e.Body)
		}
		if e.State != webhook.StatePending || e.Attempts != 0 {
			t.Errorf("fresh event %s: state %s attempts %d", e.EventID, e.State, e.Attempts)
		}
	}
	if strings.Join(types, ",") != "queued,queued,queued,dialing" || p.Events[3].CallID != "call-0" || p.Events[3].Sequence != 2 {
		t.Fatalf("events %v; last %+v", types, p.Events[3])
	}

	first := decodePage(t, ts.do(http.MethodGet, "/events?requestId=r1&limit=3", keyA, "", nil))
	rest := decodePage(t, ts.do(http.MethodGet, "/events?requestId=r1&limit=3&offset=3", keyA, "", nil))
	if len(first.Events) != 3 || len(rest.Events) != 1 || rest.Events[0].EventID != p.Events[3].EventID || first.Total != 4 {
		t.Fatalf("pages: %d + %d events", len(first.Events), len(rest.Events))
	}

	for _, c := range []struct {
		path, key string
		code      int
		msg       string
	}{
		{"/events?requestId=r1", keyB, http.StatusNotFound, `request "r1" not found`},
		{"/events?requestId=nope", keyA, http.StatusNotFound, "not found"},
		{"/events?requestId=bad%20id", keyA, http.StatusNotFound, "not found"},
		{"/events", keyA, http.StatusBadRequest, "requestId: required"},
		{"/events?requestId=r1&limit=0", keyA, http.StatusBadRequest, "limit"},
		{"/events?requestId=r1&offset=-1", keyA, http.StatusBadRequest, "offset"},
		{"/events?requestId=r1", "", http.StatusUnauthorized, "missing"},
	} {
		r := ts.do(http.MethodGet, c.path, c.key, "", nil)
		if r.code != c.code || !strings.Contains(r.errMessage(t), c.msg) {
			t.Errorf("GET %s (key %q): %d %s, want %d with %q", c.path, c.key, r.code, r.body, c.code, c.msg)
		}
	}
}

func TestRedeliverMovesDeadBackToPending(t *testing.T) {
	db, ts, woken := eventsFixture(t)
	ctx := context.Background()
	p := decodePage(t, ts.do(http.MethodGet, "/events?requestId=r1", keyA, "", nil))
	ev := p.Events[0]
	if err := db.MarkDead(ctx, ev.EventID, 7, "receiver answered 500"); err != nil {
		t.Fatal(err)
	}
	p = decodePage(t, ts.do(http.MethodGet, "/events?requestId=r1", keyA, "", nil))
	if d := p.Events[0]; d.State != webhook.StateDead || d.Attempts != 7 || d.LastError != "receiver answered 500" {
		t.Fatalf("dead event not visible: %+v", d)
	}

	path := "/events/" + ev.EventID + "/redeliver"
	if r := ts.do(http.MethodPost, path, keyB, "", nil); r.code != http.StatusNotFound {
		t.Fatalf("other key redelivers: %d %s", r.code, r.body)
	}
	r := ts.do(http.MethodPost, path, keyA, "", nil)
	var rec webhook.Record
	if r.code != http.StatusOK || json.Unmarshal(r.body, &rec) != nil {
		t.Fatalf("redeliver: %d %s", r.code, r.body)
	}
	if rec.EventID != ev.EventID || rec.State != webhook.StatePending || rec.Attempts != 0 || rec.Redeliveries != 1 ||
		string(rec.Body) != string(ev.Body) || *woken != 1 {
		t.Fatalf("redelivered record %+v (woken %d)", rec, *woken)
	}
	// The store hands it out again, with a fresh retry window.
	due, err := db.DueEvents(ctx, time.Now().Add(time.Second), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range due {
		if d.ID == ev.EventID {
			found = d.Attempts == 0 && time.Since(d.CreatedAt) < time.Minute
		}
	}
	if !found {
		t.Fatalf("redelivered event not due with a fresh window: %+v", due)
	}
	if r := ts.do(http.MethodPost, "/events/evt-nope/redeliver", keyA, "", nil); r.code != http.StatusNotFound ||
		!strings.Contains(r.errMessage(t), `event "evt-nope" not found`) {
		t.Fatalf("unknown event: %d %s", r.code, r.body)
	}
	if _, err := db.RedeliverEvent(ctx, OwnerID(keyB), ev.EventID, time.Now()); !errors.Is(err, dialer.ErrNotFound) {
		t.Fatalf("store redeliver by another owner: %v", err)
	}
}

func TestEventsRoutesAbsentWithoutStore(t *testing.T) {
	ts := startServer(t, nil)
	for _, c := range []struct{ method, path string }{{http.MethodGet, "/events?requestId=r1"}, {http.MethodPost, "/events/e1/redeliver"}} {
		r := ts.do(c.method, c.path, keyA, "", nil)
		if r.code != http.StatusNotFound {
			t.Fatalf("%s %s without Events: %d %s", c.method, c.path, r.code, r.body)
		}
		_ = r.errMessage(t)
	}
}
