package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
	"github.com/dialflow/dialflow/webhook"
)

// drain delivers every due event and returns the bodies of destination
// key's events in sequence order.
func drain(t *testing.T, db *store.DB, key string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	var out []map[string]any
	for {
		evs, err := db.DueEvents(ctx, t0.Add(24*time.Hour), 50, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, ev := range evs {
			if ev.CallID == key {
				var b map[string]any
				must(t, json.Unmarshal(ev.Body, &b))
				if b["sequence"] != float64(len(out)+1) || b["eventId"] != ev.ID {
					t.Fatalf("event %d of %s: %s", len(out)+1, key, ev.Body)
				}
				out = append(out, b)
			}
			must(t, db.MarkDelivered(ctx, ev.ID, 1, t0))
		}
	}
}

func typesOf(bs []map[string]any) string {
	var s []string
	for _, b := range bs {
		s = append(s, b["type"].(string))
	}
	return strings.Join(s, ",")
}

// A busy attempt retried later, then a transfer: the events carry the
// outcome words, the retry time, per-digit dtmf and the transfer status.
func TestEventKindsAndCallFields(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c, err := db.CreateRequest(ctx, newReq("k", "r", 1, "http://127.0.0.1:9/hook"))
	must(t, err)
	dest := c.DestPKs[0]
	key := "d" + jsonNum(dest)
	a1, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: "call-1", At: t0})
	must(t, err)
	must(t, db.EndAttempt(ctx, dialer.AttemptEnd{AttemptPK: a1.AttemptPK, DestPK: dest, CallStatus: dialer.OutcomeBusy,
		SIPCode: 486, HangupCause: "busy", At: t0.Add(3 * time.Second), Next: dialer.DestQueued, NextAt: t0.Add(2 * time.Minute)}))
	a2, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: "call-2", At: t0.Add(2 * time.Minute)})
	must(t, err)
	must(t, db.MarkAttempt(ctx, a2.AttemptPK, dialer.StateOngoing, t0.Add(2*time.Minute+5*time.Second)))
	must(t, db.AddStep(ctx, a2.AttemptPK, flow.StepResult{StepName: "gather", StepPath: "steps[0]", Info: flow.StepInfo{
		Status: flow.StatusOK, UserPressedDigits: "12", Digits: []flow.DigitInfo{
			{Digit: "1", Method: "inband", AtMs: 900}, {Digit: "2", Method: "sipinfo", AtMs: 1400}}}}, t0.Add(2*time.Minute+9*time.Second)))
	must(t, db.AddStep(ctx, a2.AttemptPK, flow.StepResult{StepName: "transfer", StepPath: "steps[0].branches[0].steps[0]", Info: flow.StepInfo{
		Status: flow.StatusOK, TransferStatus: "answered"}}, t0.Add(2*time.Minute+12*time.Second)))
	must(t, db.EndAttempt(ctx, dialer.AttemptEnd{AttemptPK: a2.AttemptPK, DestPK: dest, CallStatus: dialer.OutcomeAnswered,
		SIPCode: 200, HangupCause: "normal", HangupBy: "engine", At: t0.Add(2*time.Minute + 15*time.Second), Next: dialer.DestCompleted}))

	evs := drain(t, db, key)
	want := "queued,dialing,busy,queued,dialing,answered,dtmf,dtmf,step,step,transfer,ended"
	if got := typesOf(evs); got != want {
		t.Fatalf("types %s\nwant  %s", got, want)
	}
	busy := evs[2]
	if busy["callId"] != "call-1" || busy["attempt"] != 1.0 || busy["call_status"] != "busy" || busy["sipCode"] != 486.0 ||
		busy["billSec"] != 0.0 || busy["durationSec"] != 3.0 || busy["answeredAt"] != nil {
		t.Errorf("busy event %v", busy)
	}
	if evs[3]["nextAt"] != t0.Add(2*time.Minute).Format(time.RFC3339) {
		t.Errorf("retry queued event %v", evs[3])
	}
	if evs[4]["callId"] != "call-2" || evs[4]["attempt"] != 2.0 || evs[4]["hangupCause"] != nil {
		t.Errorf("second dialing event carries the first attempt's facts: %v", evs[4])
	}
	d1, d2 := evs[6]["dtmf"].(map[string]any), evs[7]["dtmf"].(map[string]any)
	if d1["digit"] != "1" || d1["method"] != "inband" || d2["digit"] != "2" || d2["method"] != "sipinfo" || d2["atMs"] != 1400.0 {
		t.Errorf("dtmf events %v / %v", d1, d2)
	}
	if tr := evs[10]["transfer"].(map[string]any); tr["transfer_status"] != "answered" || tr["stepPath"] != "steps[0].branches[0].steps[0]" {
		t.Errorf("transfer event %v", evs[10])
	}
	end := evs[11]
	if end["billSec"] != 10.0 || end["durationSec"] != 15.0 || end["attempt"] != 2.0 || end["hangupBy"] != "engine" {
		t.Errorf("ended event %v", end)
	}
	if dd, _ := json.Marshal(end["digitsDialed"]); string(dd) != `["1","2"]` {
		t.Errorf("digitsDialed %s", dd)
	}
	if cf, _ := json.Marshal(end["callFlow"]); !strings.Contains(string(cf), `"stepName":"transfer"`) || len(end["callFlow"].([]any)) != 2 {
		t.Errorf("callFlow %s", cf)
	}

	// Cancelling a queued destination emits "ended" with call_status cancelled.
	c2, err := db.CreateRequest(ctx, newReq("k", "r2", 1, "http://127.0.0.1:9/hook"))
	must(t, err)
	_, err = db.CancelRequest(ctx, "k", "r2", t0.Add(time.Minute))
	must(t, err)
	evs = drain(t, db, "d"+jsonNum(c2.DestPKs[0]))
	if typesOf(evs) != "queued,ended" || evs[1]["call_status"] != "cancelled" || evs[1]["callId"] != "" || evs[1]["attempt"] != 0.0 {
		t.Fatalf("cancelled destination events %v", evs)
	}
}

func jsonNum(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// A database written by schema 1 with pending events opens at schema 2, and
// those events are still due with their original retry window.
func TestMigrationKeepsPendingEvents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	raw, err := sql.Open("sqlite", "file:"+path)
	must(t, err)
	schema, err := os.ReadFile("migrations/001_init.sql")
	must(t, err)
	for _, q := range []string{string(schema), `CREATE TABLE schema_version (version INTEGER NOT NULL)`,
		`INSERT INTO schema_version VALUES (1)`,
		`INSERT INTO requests (id, owner, request_id, body_hash, body, callback_url, created_at) VALUES (1, 'k', 'old', 'h', '{}', 'http://x/h', 5)`,
		`INSERT INTO destinations (id, request_pk, idx, phone, status, call_state, queued_at, event_seq) VALUES (1, 1, 0, '+84911', 'queued', 'queued', 5, 1)`,
		`INSERT INTO events (event_id, dest_pk, seq, type, owner, url, body, created_at) VALUES ('evt-old', 1, 1, 'queued', 'k', 'http://x/h', '{"eventId":"evt-old"}', ?)`,
	} {
		args := []any{}
		if strings.Contains(q, "evt-old") {
			args = append(args, t0.UnixNano())
		}
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	must(t, raw.Close())
	db, err := store.Open(ctx, path, store.Options{})
	must(t, err)
	defer db.Close()
	if v, _ := db.Version(ctx); v != 2 {
		t.Fatalf("version %d", v)
	}
	evs, err := db.DueEvents(ctx, t0, 10, nil)
	must(t, err)
	if len(evs) != 1 || evs[0].ID != "evt-old" || !evs[0].CreatedAt.Equal(t0) {
		t.Fatalf("due after migration: %+v", evs)
	}
	p, err := db.ListEvents(ctx, "k", "old", 0, 0)
	must(t, err)
	if p.Total != 1 || p.Events[0].State != webhook.StatePending || p.Limit != store.DefaultEventPageLimit {
		t.Fatalf("listed %+v", p)
	}
}
