package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// The recorders' file writes run on a small pool of writer goroutines
// shared by all recorders, so the RTP pacer that feeds a recorder never
// waits for a disk: it only queues the recorder, and thousands of calls
// do not mean thousands of goroutines. Workers start when work is queued
// and exit after recordWriterIdle without any.
const (
	// recordWriters is the most writer goroutines running at once.
	recordWriters = 2
	// recordQueueLen bounds the queue of recorders with audio to write.
	// A recorder is queued at most once at a time; when the queue is full
	// its audio stays buffered and it is queued again with its next chunk.
	recordQueueLen = 4096
)

// recordWriterIdle is how long a writer goroutine waits for work before
// it exits. A live call queues its recorder every 250 ms, so workers stay
// up while calls record; after the last call they are gone quickly
// (leak checks, such as goleak in every package's tests, retry for less
// than half a second).
const recordWriterIdle = 100 * time.Millisecond

var (
	recordQueue = make(chan *Recorder, recordQueueLen)
	recordPool  struct {
		mu      sync.Mutex
		running int
	}
	// recordQueueFull counts chunks that found the writer queue full (all
	// recorders); their audio stayed buffered for the next attempt.
	recordQueueFull atomic.Int64
)

// enqueueRecorder hands r to the writer pool, starting a worker if fewer
// than recordWriters run. It never blocks; it reports false when the
// queue is full.
func enqueueRecorder(r *Recorder) bool {
	select {
	case recordQueue <- r:
	default:
		recordQueueFull.Add(1)
		return false
	}
	// The send happens before this lock, so a worker deciding to exit
	// under the lock either sees the queued recorder or is replaced here.
	recordPool.mu.Lock()
	if recordPool.running < recordWriters {
		recordPool.running++
		go recordWorker()
	}
	recordPool.mu.Unlock()
	return true
}

// recordWorker writes queued recorders' audio until it has been idle for
// recordWriterIdle.
func recordWorker() {
	idle := time.NewTimer(recordWriterIdle)
	defer idle.Stop()
	for {
		select {
		case r := <-recordQueue:
			r.writeQueued()
			idle.Reset(recordWriterIdle)
		case <-idle.C:
			recordPool.mu.Lock()
			if len(recordQueue) > 0 {
				recordPool.mu.Unlock()
				idle.Reset(recordWriterIdle)
				continue
			}
			recordPool.running--
			recordPool.mu.Unlock()
			return
		}
	}
}

// recordWorkersRunning reports how many writer goroutines run (tests).
func recordWorkersRunning() int {
	recordPool.mu.Lock()
	defer recordPool.mu.Unlock()
	return recordPool.running
}
