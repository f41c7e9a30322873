package sip_test

import (
	"strings"
	"testing"

	"github.com/dialflow/dialflow/sip"
)

func TestParseInfoDTMF(t *testing.T) {
	cases := []struct {
		ct, body string
		key      byte
		bad      string
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', ""},
		{"Application/DTMF-Relay; charset=x", "signal= #\nDuration=100", '#', ""},
		{"application/dtmf-relay", "Signal=11\r\n", '#', ""},
		{"application/dtmf-relay", "Signal=10\r\n", '*', ""},
		{"application/dtmf", "9", '9', ""},
		{"application/dtmf", "a\r\n", 'A', ""},
		{"application/dtmf-relay", "Duration=100\r\n", 0, "no Signal"},
		{"application/dtmf-relay", "Signal=x\r\n", 0, "not a dtmf key"},
		{"application/dtmf", "16", 0, "not a dtmf key"},
		{"text/plain", "5", 0, "content type"},
	}
	for _, c := range cases {
		k, err := sip.ParseInfoDTMF(c.ct, []byte(c.body))
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q %q: err %v, want %q", c.ct, c.body, err, c.bad)
			}
			continue
		}
		if err != nil || k != c.key {
			t.Errorf("%q %q: got %q %v, want %q", c.ct, c.body, k, err, c.key)
		}
	}
}

func TestParseSipfragAndStatus(t *testing.T) {
	cases := map[string]string{
		"SIP/2.0 100 Trying\r\n": sip.TransferTrying, "SIP/2.0 180 Ringing": sip.TransferRinging,
		"SIP/2.0 200 OK\r\n": sip.TransferAnswered, "SIP/2.0 486 Busy Here": sip.TransferBusy,
		"SIP/2.0 487 Request Terminated": sip.TransferNoAnswer, "SIP/2.0 603 Decline": sip.TransferDeclined,
		"SIP/2.0 404 Not Found": sip.TransferFailed,
	}
	for body, want := range cases {
		code, err := sip.ParseSipfrag([]byte(body))
		if err != nil || sip.TransferStatus(code) != want {
			t.Errorf("%q: %d %v → %s, want %s", body, code, err, sip.TransferStatus(code), want)
		}
	}
	for _, bad := range []string{"", "HTTP/1.1 200 OK", "SIP/2.0 abc", "SIP/2.0 99 x", "SIP/2.0 700 x"} {
		if _, err := sip.ParseSipfrag([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay", []byte("Signal=11"))
	f.Add("x", []byte{0xff, '='})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		k, err := sip.ParseInfoDTMF(ct, body)
		if err == nil && !strings.ContainsRune("0123456789*#ABCD", rune(k)) {
			t.Fatalf("returned non-key %q", k)
		}
	})
}

func FuzzParseSipfrag(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\n"))
	f.Add([]byte("SIP/2.0 100 Trying\r\nVia: x\r\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, err := sip.ParseSipfrag(body)
		if err == nil && (code < 100 || code > 699) {
			t.Fatalf("code %d accepted", code)
		}
		_ = sip.TransferStatus(code)
	})
}
