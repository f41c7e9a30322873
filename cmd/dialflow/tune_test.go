package main

import (
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestTuneRuntime(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	gc := debug.SetGCPercent(100)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs); debug.SetGCPercent(gc) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	p, g := tuneRuntime(getenv)
	if p != 2*procs || runtime.GOMAXPROCS(0) != 2*procs || g != 400 || debug.SetGCPercent(400) != 400 {
		t.Fatalf("defaults: procs %d (runtime %d, was %d), gc %d", p, runtime.GOMAXPROCS(0), procs, g)
	}

	// The environment wins: nothing is changed.
	runtime.GOMAXPROCS(3)
	debug.SetGCPercent(150)
	env["GOMAXPROCS"], env["GOGC"] = "3", "150"
	p, g = tuneRuntime(getenv)
	if p != 3 || runtime.GOMAXPROCS(0) != 3 || g != 150 || debug.SetGCPercent(150) != 150 {
		t.Fatalf("with GOMAXPROCS/GOGC set: procs %d, gc %d", p, g)
	}
}

func TestPprofServer(t *testing.T) {
	srv, addr, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := http.Get("http://" + addr.String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("GET goroutine profile: %d, %d bytes", res.StatusCode, len(body))
	}
	if _, _, err := startPprof("not an address", slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a bad --pprof address was accepted")
	}
}
