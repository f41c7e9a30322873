package store_test

import (
	"context"
	"testing"
	"time"
)

// BenchmarkDueEvents reads the due heads of a large outbox (20,000
// destinations): "allDue" while the receiver keeps up, "waiting" when almost
// every head waits for a retry (a receiver down during a big campaign).
func BenchmarkDueEvents(b *testing.B) {
	ctx := context.Background()
	const n = 20000
	for _, c := range []struct {
		name string
		due  int
	}{{"allDue", n}, {"waiting", 1}} {
		b.Run(c.name, func(b *testing.B) {
			db := MustOpen(b)
			if _, err := db.CreateRequest(ctx, newReq("k", "big", n, "http://127.0.0.1:9/hook")); err != nil {
				b.Fatal(err)
			}
			evs, err := db.DueEvents(ctx, t0, n, nil)
			if err != nil || len(evs) != n {
				b.Fatalf("%d due, %v", len(evs), err)
			}
			for _, ev := range evs[:n-c.due] {
				if err := db.MarkRetry(ctx, ev.ID, 1, t0.Add(time.Hour), "down"); err != nil {
					b.Fatal(err)
				}
			}
			want := min(8, c.due)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				got, err := db.DueEvents(ctx, t0, 8, nil)
				if err != nil || len(got) != want {
					b.Fatalf("%d due, %v", len(got), err)
				}
			}
		})
	}
}
