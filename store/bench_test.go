package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

// BenchmarkAttemptCycle is one call's writes: start, answered, one step, end.
func BenchmarkAttemptCycle(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b)
	c, err := db.CreateRequest(ctx, newReq("k", "bench", 1, "https://h.test/"))
	if err != nil {
		b.Fatal(err)
	}
	dest := c.DestPKs[0]
	step := flow.StepResult{StepName: "play", StepPath: "steps[0]", Info: flow.StepInfo{Status: flow.StatusOK}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: fmt.Sprint("c", i), At: t0})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.MarkAttempt(ctx, s.AttemptPK, dialer.StateOngoing, t0); err != nil {
			b.Fatal(err)
		}
		if err := db.AddStep(ctx, s.AttemptPK, step, t0); err != nil {
			b.Fatal(err)
		}
		if err := db.EndAttempt(ctx, dialer.AttemptEnd{AttemptPK: s.AttemptPK, DestPK: dest, CallStatus: "busy",
			At: t0, Next: dialer.DestQueued}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateRequest10k stores a request with 10,000 destinations.
func BenchmarkCreateRequest10k(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := db.CreateRequest(ctx, newReq("k", fmt.Sprint("r", i), 10000, "")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusPage reads one 1000-detail page of a 10,000-destination request.
func BenchmarkStatusPage(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b)
	if _, err := db.CreateRequest(ctx, newReq("k", "r", 10000, "")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := db.RequestStatus(ctx, "k", "r", 5000, 1000)
		if err != nil || len(st.Details) != 1000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateRequest10kWithCallback also writes one queued event per destination.
func BenchmarkCreateRequest10kWithCallback(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := db.CreateRequest(ctx, newReq("k", fmt.Sprint("r", i), 10000, "https://h.test/")); err != nil {
			b.Fatal(err)
		}
	}
}
