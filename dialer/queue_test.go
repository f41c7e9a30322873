package dialer

import (
	"testing"
	"time"
)

// FuzzQueue drives the round-robin queue with arbitrary operations and checks
// its invariants: counts match, nothing is popped early, twice or after its
// request was dropped, and ready items of one request leave in FIFO order.
func FuzzQueue(f *testing.F) {
	f.Add([]byte{0, 1, 2, 0, 3, 4, 5, 6, 7})
	f.Add([]byte{8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
	f.Add([]byte{1, 1, 1, 5, 5, 2, 2, 3, 7, 7, 4, 4, 4, 6})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var q queue
		reqs := []*reqState{{pk: 1}, {pk: 2}, {pk: 3}}
		now := time.Unix(1000, 0)
		state := map[*item]string{} // queued, popped, dropped
		lastPopped := map[*reqState]int64{}
		var next int64
		for _, op := range ops {
			r := reqs[int(op>>3)%len(reqs)]
			switch op & 7 {
			case 0, 1, 2: // push ready
				next++
				it := &item{destPK: next, req: r, heapIdx: -1}
				q.push(it, now)
				state[it] = "queued"
			case 3: // push delayed
				next++
				it := &item{destPK: next, req: r, heapIdx: -1, notBefore: now.Add(time.Duration(op%5+1) * time.Second)}
				q.push(it, now)
				state[it] = "queued"
			case 4, 5: // pop
				q.promote(now)
				it := q.pop()
				if it == nil {
					break
				}
				if state[it] != "queued" {
					t.Fatalf("popped an item that is %q", state[it])
				}
				if it.notBefore.After(now) {
					t.Fatalf("popped item due at %v at %v", it.notBefore, now)
				}
				if it.notBefore.IsZero() && it.destPK < lastPopped[it.req] {
					t.Fatalf("request %d: ready item %d left after %d", it.req.pk, it.destPK, lastPopped[it.req])
				}
				if it.notBefore.IsZero() {
					lastPopped[it.req] = it.destPK
				}
				state[it] = "popped"
			case 6: // time passes
				now = now.Add(time.Duration(op%4) * time.Second)
			case 7: // cancel a request
				n := q.drop(r)
				dropped := 0
				for it, s := range state {
					if it.req == r && s == "queued" {
						state[it] = "dropped"
						dropped++
					}
				}
				if n != dropped {
					t.Fatalf("drop removed %d items, %d were queued", n, dropped)
				}
			}
			queued := 0
			for _, s := range state {
				if s == "queued" {
					queued++
				}
			}
			if q.count != queued || q.count != len(q.delayed)+readyLen(reqs) {
				t.Fatalf("count %d, model %d, delayed %d + ready %d", q.count, queued, len(q.delayed), readyLen(reqs))
			}
		}
	})
}

func readyLen(reqs []*reqState) int {
	n := 0
	for _, r := range reqs {
		n += len(r.ready)
	}
	return n
}

// BenchmarkQueuePushPop measures the scheduler's queue operations.
func BenchmarkQueuePushPop(b *testing.B) {
	var q queue
	reqs := []*reqState{{pk: 1}, {pk: 2}, {pk: 3}, {pk: 4}}
	now := time.Unix(0, 0)
	for i := range 512 {
		q.push(&item{destPK: int64(i), req: reqs[i%len(reqs)], heapIdx: -1}, now)
	}
	b.ReportAllocs()
	for b.Loop() {
		it := q.pop()
		q.push(it, now)
	}
}
