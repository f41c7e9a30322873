package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/webhook"
)

// The outbox hands out one event per call at a time, in sequence order,
// honours retry times and busy calls, and dead-letters.
func TestOutboxOrderRetryAndDead(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	c, err := db.CreateRequest(ctx, newReq("owner-a", "r", 2, "https://hooks.test/x"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.StartAttempt(ctx, dialer.AttemptStart{DestPK: c.DestPKs[0], CallID: "call-a", At: t0})
	if err != nil {
		t.Fatal(err)
	}

	evs, err := db.DueEvents(ctx, t0, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 { // the lowest pending event of each destination
		t.Fatalf("%d due events, want 2", len(evs))
	}
	first := evs[0]
	if first.Sequence != 1 || first.Owner != "owner-a" || first.URL != "https://hooks.test/x" || first.CallID == evs[1].CallID {
		t.Fatalf("first event %+v", first)
	}
	var body map[string]any
	if err := json.Unmarshal(first.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["type"] != "queued" || body["eventId"] != first.ID || body["requestId"] != "r" || body["sequence"] != 1.0 {
		t.Fatalf("event body %v", body)
	}
	// A busy call is skipped; a retried event waits for its time.
	if evs, _ := db.DueEvents(ctx, t0, 10, []string{first.CallID}); len(evs) != 1 || evs[0].CallID == first.CallID {
		t.Fatalf("busy call not skipped: %+v", evs)
	}
	if err := db.MarkRetry(ctx, first.ID, 1, t0.Add(time.Minute), "503 from hook"); err != nil {
		t.Fatal(err)
	}
	for _, ev := range mustDue(t, db, t0.Add(30*time.Second)) {
		if ev.CallID == first.CallID {
			t.Fatalf("event of %s delivered out of order while its first waits: %+v", first.CallID, ev)
		}
	}
	due := mustDue(t, db, t0.Add(time.Minute))
	if len(due) != 2 || due[1].ID != first.ID || due[1].Attempts != 1 { // never-tried events first
		t.Fatalf("after the retry time: %+v", due)
	}
	if err := db.MarkDelivered(ctx, first.ID, 2, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var second *webhook.Event
	for _, ev := range mustDue(t, db, t0.Add(time.Minute)) {
		if ev.CallID == first.CallID {
			second = &ev
		}
	}
	if second == nil || second.Sequence != 2 {
		t.Fatalf("after delivery: next event of %s = %+v, want sequence 2", first.CallID, second)
	}
	if err := json.Unmarshal(second.Body, &body); err != nil || body["type"] != "dialing" || body["callId"] != "call-a" {
		t.Fatalf("second event %s", second.Body)
	}
	if err := db.MarkDead(ctx, second.ID, 9, "gave up"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDead(ctx, "no-such-event", 1, "x"); !errors.Is(err, dialer.ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
}

func mustDue(t *testing.T, db interface {
	DueEvents(context.Context, time.Time, int, []string) ([]webhook.Event, error)
}, now time.Time) []webhook.Event {
	t.Helper()
	evs, err := db.DueEvents(context.Background(), now, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
