package loadrun

import (
	"os"
	"testing"
	"time"
)

func TestSampleProc(t *testing.T) {
	a, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) { // burn some CPU
	}
	b, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if a.rss <= 0 || b.cpu <= a.cpu {
		t.Fatalf("rss %d, cpu %v then %v", a.rss, a.cpu, b.cpu)
	}
	if c := cores(a, b); c <= 0 || c > 64 {
		t.Fatalf("cores %v", c)
	}
	if _, err := sampleProc(-1); err == nil {
		t.Fatal("no error for a missing process")
	}
}

func TestBroken(t *testing.T) {
	ok := Row{Calls: 100, AllUp: true}
	if ok.Broken() {
		t.Fatal("a clean row is broken")
	}
	for _, r := range []Row{{Calls: 100}, {Calls: 100, AllUp: true, Errors: 2}} {
		if !r.Broken() {
			t.Errorf("%+v not broken", r)
		}
	}
	late := ok
	late.Phone.Lateness.P99 = 80
	if !late.Broken() {
		t.Error("p99 lateness of 80 ms not broken")
	}
}
