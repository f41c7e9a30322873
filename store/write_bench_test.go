package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
)

// BenchmarkConcurrentMarkAttempt is many calls answering at once: concurrent
// MarkAttempt transactions (each an update, an update and an event insert)
// on the real file-backed database, 8 writers per CPU. It reports the write
// throughput and the median and 99th percentile of one MarkAttempt's latency.
func BenchmarkConcurrentMarkAttempt(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b)
	const calls = 256
	c, err := db.CreateRequest(ctx, newReq("k", "burst", calls, "https://h.test/"))
	if err != nil {
		b.Fatal(err)
	}
	pks := make([]int64, calls)
	for i, dest := range c.DestPKs {
		s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: fmt.Sprint("c", i), At: t0})
		if err != nil {
			b.Fatal(err)
		}
		pks[i] = s.AttemptPK
	}
	var (
		n     atomic.Int64
		mu    sync.Mutex
		waits []time.Duration
	)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		defer func() {
			mu.Lock()
			waits = append(waits, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			i := n.Add(1)
			state := dialer.StateRinging
			if i%2 == 0 {
				state = dialer.StateOngoing
			}
			t := time.Now()
			if err := db.MarkAttempt(ctx, pks[i%calls], state, t0); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t))
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "writes/s")
	if len(waits) > 0 {
		slices.Sort(waits)
		b.ReportMetric(float64(waits[len(waits)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(waits[len(waits)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkAnswerBurst is 500 calls answered at the same moment: 500
// goroutines each store one MarkAttempt at once. It reports the burst's
// wall time and the 99th percentile and maximum of one write's latency.
func BenchmarkAnswerBurst(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b)
	const calls = 500
	var wall, p99, worst time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		c, err := db.CreateRequest(ctx, newReq("k", fmt.Sprint("burst", i), calls, "https://h.test/"))
		if err != nil {
			b.Fatal(err)
		}
		pks := make([]int64, calls)
		for j, dest := range c.DestPKs {
			s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: dest, CallID: fmt.Sprint("c", i, "-", j), At: t0})
			if err != nil {
				b.Fatal(err)
			}
			pks[j] = s.AttemptPK
		}
		b.StartTimer()
		waits := make([]time.Duration, calls)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for j := range calls {
			wg.Go(func() {
				<-gate
				t := time.Now()
				if err := db.MarkAttempt(ctx, pks[j], dialer.StateOngoing, t0); err != nil {
					b.Error(err)
				}
				waits[j] = time.Since(t)
			})
		}
		start := time.Now()
		close(gate)
		wg.Wait()
		wall += time.Since(start)
		slices.Sort(waits)
		p99 += waits[calls*99/100]
		worst = max(worst, waits[calls-1])
	}
	n := float64(b.N)
	b.ReportMetric(float64(wall.Microseconds())/1000/n, "burst-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000/n, "p99-ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
}
