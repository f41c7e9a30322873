package dialer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
)

// BenchmarkDialerThroughput pushes 500-destination requests through the real
// dialer and SQLite store with calls that answer and end at once: the
// scheduler's and store's cost per call.
func BenchmarkDialerThroughput(b *testing.B) {
	fp := newFakePlacer(50, func(dialer.Call) behavior { return behavior{} })
	r := newRig(b, "", dialer.Config{Capacity: 50}, fp)
	defer r.close()
	const perRequest = 500
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		id := fmt.Sprint("bench-", i)
		body := requestBody(id, perRequest, "+8411", "")
		if _, _, err := r.d.Submit(ctx, "k", body, mustRequest(b, body)); err != nil {
			b.Fatal(err)
		}
		for ts := r.trunk(); ts.Queued > 0 || ts.Active > 0; ts = r.trunk() {
			time.Sleep(time.Millisecond)
		}
	}
	b.ReportMetric(float64(i*perRequest)/time.Since(start).Seconds(), "calls/s")
}
