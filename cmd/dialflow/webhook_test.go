package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip/siptest"
	"github.com/dialflow/dialflow/webhook"
)

// TestWebhooksFromLiveCall: a real call over SIP/RTP produces signed events,
// in order, at the request's callbackUrl.
func TestWebhooksFromLiveCall(t *testing.T) {
	var mu sync.Mutex
	var types []string
	var seqs []float64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), []byte("key-a"), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(401)
			return
		}
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		types = append(types, ev["type"].(string))
		seqs = append(seqs, ev["sequence"].(float64))
		mu.Unlock()
	}))
	defer rcv.Close()
	phone, err := siptest.NewPhone(siptest.PhoneConfig{Script: siptest.CallScript{
		AnswerAfter: 200 * time.Millisecond, DTMF: []siptest.DTMFStep{{At: 300 * time.Millisecond, Keys: "1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	ts := startTestServer(t, phone.TrunkURI(), nil)
	body := strings.Replace(string(request("hooks", menuFlow, "", "+15550000011")), `"ringTimeout"`,
		`"callbackUrl":"`+rcv.URL+`","ringTimeout"`, 1)
	if code := ts.do("POST", "/call", []byte(body), nil); code != 200 {
		t.Fatalf("submit %d", code)
	}
	ts.waitStatus("hooks", "completed", 30*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(types)
		last := ""
		if n > 0 {
			last = types[n-1]
		}
		mu.Unlock()
		if last == "ended" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(types, ",")
	for _, w := range []string{"queued", "dialing", "ringing", "answered", "dtmf", "step", "ended"} {
		if !strings.Contains(got, w) {
			t.Errorf("no %s event in %s", w, got)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Errorf("sequences not increasing: %v", seqs)
			break
		}
	}
	var list struct {
		Events []map[string]any `json:"events"`
	}
	if code := ts.do("GET", "/events?requestId=hooks", nil, &list); code != 200 || len(list.Events) < len(types) {
		t.Errorf("GET /events: %d, %d events (receiver got %d)", code, len(list.Events), len(types))
	}
}
