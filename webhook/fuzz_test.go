package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary signature headers and bodies to Verify: it
// never panics, accepts only a header that Sign would produce for that body
// and key, and reports every rejection as one of its sentinels.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"eventId":"evt-1-1-x","type":"queued","sequence":1}`)
	f.Add(Sign(secret, now, body), body)
	f.Add("t=1700000000,v1=00", body)
	f.Add("t=1700000000,v1="+mac(secret, "1700000000", body)+",v1=ff", body)
	f.Add("t=,v1=", []byte{})
	f.Add("t=9999999999999999999999,v1=ab", body)
	f.Add(" t = 1 , v1 = x ,", body)
	f.Add("v0=1,t=1700000000", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, b []byte) {
		err := Verify(header, secret, b, now, 5*time.Minute)
		if err == nil {
			if header != Sign(secret, now, b) && !containsSig(header, mac(secret, tsOf(header), b)) {
				t.Fatalf("accepted %q for body %q", header, b)
			}
			return
		}
		if !errors.Is(err, ErrBadSignatureHeader) && !errors.Is(err, ErrSignatureMismatch) && !errors.Is(err, ErrStaleTimestamp) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// tsOf returns the last t= value of a header.
func tsOf(header string) string {
	ts := ""
	for _, p := range splitParts(header) {
		if p[0] == "t" {
			ts = p[1]
		}
	}
	return ts
}

func containsSig(header, sig string) bool {
	for _, p := range splitParts(header) {
		if p[0] == "v1" && p[1] == sig {
			return true
		}
	}
	return false
}

func splitParts(header string) [][2]string {
	var out [][2]string
	for _, part := range strings.Split(header, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func BenchmarkSign(b *testing.B) {
	body := make([]byte, 1500)
	now := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = Sign(secret, now, body)
	}
}

func BenchmarkVerify(b *testing.B) {
	body := make([]byte, 1500)
	now := time.Unix(1_700_000_000, 0)
	h := Sign(secret, now, body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := Verify(h, secret, body, now, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
