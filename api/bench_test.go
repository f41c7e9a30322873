package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// BenchmarkPostCallSeed measures the in-process cost of POST /call for the
// seed request: auth, body read, parse, validation and the JSON answer
// (the fake backend's idempotent path after the first submit).
func BenchmarkPostCallSeed(b *testing.B) {
	seed, err := os.ReadFile("testdata/seed_request.json")
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Addr: "127.0.0.1:0", Keys: []string{keyA, keyB}, Backend: newFakeBackend()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/call", bytes.NewReader(seed))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderAPIKey, keyA)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkKeyLookup measures the constant-time key check with 8 keys.
func BenchmarkKeyLookup(b *testing.B) {
	keys := make([]string, 8)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%02d-abcdefghijklmnop", i)
	}
	k := newKeyring(keys)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := k.lookup(keys[5]); !ok {
			b.Fatal("not found")
		}
	}
}
