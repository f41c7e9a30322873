package dialer

import (
	"container/heap"
	"context"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// reqState is one request's in-memory queue.
type reqState struct {
	pk        int64
	owner     string
	id        string
	req       *flow.Request
	ready     []*item // FIFO; head at index 0
	delayed   int     // items of this request in the delayed heap
	live      int     // attempts in flight
	inRing    bool
	cancelled bool
}

func (r *reqState) pending() int { return len(r.ready) + r.delayed + r.live }

// item is one queued destination.
type item struct {
	destPK    int64
	req       *reqState
	counted   int
	notBefore time.Time
	heapIdx   int
}

// liveCall is an attempt in flight.
type liveCall struct {
	req    *reqState
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{} // closed once the attempt is stored and its slot freed
}

// delayHeap orders waiting items by due time, then by key (FIFO).
type delayHeap []*item

func (h delayHeap) Len() int { return len(h) }
func (h delayHeap) Less(i, j int) bool {
	if !h[i].notBefore.Equal(h[j].notBefore) {
		return h[i].notBefore.Before(h[j].notBefore)
	}
	return h[i].destPK < h[j].destPK
}
func (h delayHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *delayHeap) Push(x any) {
	it := x.(*item)
	it.heapIdx = len(*h)
	*h = append(*h, it)
}
func (h *delayHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.heapIdx = -1
	return it
}

// queue is the round-robin over requests plus the delayed heap. Guarded by
// the dialer's mutex.
type queue struct {
	rr      []*reqState
	pos     int
	delayed delayHeap
	count   int // ready + delayed items
}

// push queues it: ready now, or delayed until its notBefore.
func (q *queue) push(it *item, now time.Time) {
	q.count++
	if it.notBefore.After(now) {
		it.req.delayed++
		heap.Push(&q.delayed, it)
		return
	}
	q.pushReady(it)
}

func (q *queue) pushReady(it *item) {
	r := it.req
	r.ready = append(r.ready, it)
	if !r.inRing {
		r.inRing = true
		q.rr = append(q.rr, r)
	}
}

// promote moves due delayed items to their request's ready list and returns
// the next due time (zero if none wait).
func (q *queue) promote(now time.Time) time.Time {
	for len(q.delayed) > 0 {
		it := q.delayed[0]
		if it.notBefore.After(now) {
			return it.notBefore
		}
		heap.Pop(&q.delayed)
		it.req.delayed--
		q.pushReady(it)
	}
	return time.Time{}
}

// pop takes the head of the next request in round-robin order, or nil.
func (q *queue) pop() *item {
	for len(q.rr) > 0 {
		if q.pos >= len(q.rr) {
			q.pos = 0
		}
		r := q.rr[q.pos]
		if len(r.ready) == 0 {
			q.removeAt(q.pos)
			continue
		}
		it := r.ready[0]
		r.ready[0] = nil
		r.ready = r.ready[1:]
		q.count--
		if len(r.ready) == 0 {
			q.removeAt(q.pos)
		} else {
			q.pos++
		}
		return it
	}
	return nil
}

func (q *queue) removeAt(i int) {
	q.rr[i].inRing = false
	q.rr = append(q.rr[:i], q.rr[i+1:]...)
	if q.pos > i {
		q.pos--
	}
}

// drop removes every queued item of r and returns how many there were.
func (q *queue) drop(r *reqState) int {
	n := len(r.ready)
	r.ready = nil
	if r.inRing {
		for i, x := range q.rr {
			if x == r {
				q.removeAt(i)
				break
			}
		}
	}
	kept := q.delayed[:0]
	for _, it := range q.delayed {
		if it.req == r {
			n++
			continue
		}
		kept = append(kept, it)
	}
	clear(q.delayed[len(kept):])
	q.delayed = kept
	for i, it := range q.delayed {
		it.heapIdx = i
	}
	heap.Init(&q.delayed)
	r.delayed = 0
	q.count -= n
	return n
}
