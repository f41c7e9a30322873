package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip/siptest"
)

// request builds a POST /call body for one flow and some numbers.
func request(id, flowJSON string, retry string, numbers ...string) []byte {
	var dests []string
	for _, n := range numbers {
		dests = append(dests, fmt.Sprintf(`{"phone":%q,"caller":"+15550009999"}`, n))
	}
	extra := ""
	if retry != "" {
		extra = `,"retry":` + retry
	}
	return []byte(fmt.Sprintf(`{"requestId":%q,"destinations":[%s],"ringTimeout":"2s","callFlow":%s%s}`,
		id, strings.Join(dests, ","), flowJSON, extra))
}

const menuFlow = `{"steps":[
 {"name":"gather","message":{"msg":"press one"},"timeout":1,"maxRetries":2,"branches":[
   {"digit":"1","callFlow":{"steps":[{"name":"play","message":{"msg":"one"}}]}},
   {"digit":"9","default":true,"callFlow":{"steps":[{"name":"play","message":{"msg":"default"}}]}}]},
 {"name":"play","message":{"msg":"a long goodbye message that keeps playing for quite a while, long enough to hang up in"}}]}`

// TestCallOutcomes covers the ways a call ends, each over real SIP.
func TestCallOutcomes(t *testing.T) {
	scripts := map[string]siptest.CallScript{
		"15550000001": {Reject: "busy"},
		"15550000002": {Reject: "decline"},
		"15550000003": {NoAnswer: true},
		"15550000004": {RejectCode: 404},
		// Invalid digit first, then the valid one.
		"15550000005": {DTMF: []siptest.DTMFStep{{At: 300 * time.Millisecond, Keys: "7"}, {At: 1700 * time.Millisecond, Keys: "1"}}},
		// Nothing pressed: both attempts time out, then the default branch.
		"15550000006": {},
		// Hangs up while the last prompt plays.
		"15550000007": {DTMF: []siptest.DTMFStep{{At: 300 * time.Millisecond, Keys: "1"}}, HangupAfter: 2 * time.Second},
	}
	phone, err := siptest.NewPhone(siptest.PhoneConfig{Decide: func(inv siptest.InviteInfo) siptest.CallScript {
		return scripts[number(inv.User)]
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	ts := startTestServer(t, phone.TrunkURI(), nil)
	nums := []string{"+15550000001", "+15550000002", "+15550000003", "+15550000004", "+15550000005", "+15550000006", "+15550000007"}
	if code := ts.do("POST", "/call", request("outcomes", menuFlow, "", nums...), nil); code != 200 {
		t.Fatalf("submit %d", code)
	}
	st := ts.waitStatus("outcomes", "completed", 60*time.Second)
	want := map[string]struct {
		status, callStatus string
		sip                int
		steps              []string
		hangupBy           string
	}{
		"+15550000001": {"failed", "busy", 486, nil, ""},
		"+15550000002": {"failed", "declined", 603, nil, ""},
		"+15550000003": {"failed", "noAnswer", 0, nil, ""}, // our CANCEL at the ring timeout: no final code from the far end
		"+15550000004": {"failed", "failed", 404, nil, ""},
		"+15550000005": {"completed", "answered", 200, []string{"steps[0] gather success_ok 1", "steps[0].branches[0].steps[0] play success_ok", "steps[1] play success_ok"}, "engine"},
		"+15550000006": {"completed", "answered", 200, []string{"steps[0] gather success_ok", "steps[0].branches[1].steps[0] play success_ok", "steps[1] play success_ok"}, "engine"},
		"+15550000007": {"completed", "answered", 200, []string{"steps[0] gather success_ok 1", "steps[0].branches[0].steps[0] play success_ok", "steps[1] play error_hangup"}, "callee"},
	}
	for _, d := range st.Details {
		w := want[d.Destination]
		if d.Status != w.status || d.CallStatus != w.callStatus || d.SIPCode != w.sip || d.CallState != "ended" {
			t.Errorf("%s: status %s call_status %s sip %d state %s; want %s %s %d ended",
				d.Destination, d.Status, d.CallStatus, d.SIPCode, d.CallState, w.status, w.callStatus, w.sip)
		}
		if got := stepsOf(d); !reflect.DeepEqual(got, w.steps) && !(len(got) == 0 && len(w.steps) == 0) {
			t.Errorf("%s: steps %q, want %q", d.Destination, got, w.steps)
		}
		if w.hangupBy != "" && d.HangupBy != w.hangupBy {
			t.Errorf("%s: hangupBy %q, want %q", d.Destination, d.HangupBy, w.hangupBy)
		}
	}
	// The invalid digit was heard, then the valid one.
	for _, d := range st.Details {
		if d.Destination == "+15550000005" {
			info := d.CallFlowSteps[0].Info
			if info.Attempts != 2 || len(info.Digits) != 2 || info.Digits[0].Digit != "7" {
				t.Errorf("invalid-then-valid gather: %+v", info)
			}
		}
	}
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := phone.WaitType(wctx, siptest.EventCancelled, ""); err != nil {
		t.Errorf("no CANCEL seen by the phone for the unanswered call: %v", err)
	}
}

// TestUnreachableTrunk dials a port where nothing answers.
func TestUnreachableTrunk(t *testing.T) {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.LocalAddr().String()
	l.Close()
	ts := startTestServer(t, "sip:"+dead, nil)
	if code := ts.do("POST", "/call", request("unreach", menuFlow, "", "+15550000008"), nil); code != 200 {
		t.Fatalf("submit %d", code)
	}
	st := ts.waitStatus("unreach", "completed", 60*time.Second)
	if d := st.Details[0]; d.Status != "failed" || d.CallStatus != "unreachable" {
		js, _ := json.Marshal(d)
		t.Fatalf("got %s", js)
	}
}

// TestCapacityHoldsAndTrunkUsageLowersItLive runs 20 calls through a
// trunk of capacity 2; the phone's own peak counter must never pass 2,
// and reporting external calls lowers the concurrency while they run.
func TestCapacityHoldsAndTrunkUsageLowersItLive(t *testing.T) {
	var afterUsage atomic.Bool
	var overAfterUsage atomic.Int64
	var phone *siptest.Phone
	phone, err := siptest.NewPhone(siptest.PhoneConfig{Script: siptest.CallScript{HangupAfter: 700 * time.Millisecond},
		OnEvent: func(e siptest.Event) {
			if e.Type == "invite" && afterUsage.Load() && e.Active > 1 {
				overAfterUsage.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	ts := startTestServer(t, phone.TrunkURI(), func(c *serveConfig) { c.Capacity = 2 })
	var nums []string
	for i := 0; i < 20; i++ {
		nums = append(nums, fmt.Sprintf("+1555001%04d", i))
	}
	flowJSON := `{"steps":[{"name":"pause","seconds":5}]}`
	if code := ts.do("POST", "/call", request("cap", flowJSON, "", nums...), nil); code != 200 {
		t.Fatalf("submit %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for phone.Total() < 6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var tr struct{ Capacity, ExternalBusy, Active, Free, Queued int }
	if code := ts.do("PUT", "/trunk/usage", []byte(`{"externalBusy":1}`), &tr); code != 200 || tr.Free > 1 {
		t.Fatalf("PUT /trunk/usage: %d %+v", code, tr)
	}
	// Calls already up may finish; from now on at most one runs at a time.
	time.Sleep(1500 * time.Millisecond)
	afterUsage.Store(true)
	st := ts.waitStatus("cap", "completed", 90*time.Second)
	if phone.Peak() > 2 {
		t.Errorf("phone saw %d concurrent calls with capacity 2", phone.Peak())
	}
	if n := overAfterUsage.Load(); n > 0 {
		t.Errorf("%d calls started while another was up after externalBusy=1", n)
	}
	for _, d := range st.Details {
		if d.Status != "completed" {
			t.Errorf("%s: %s", d.Destination, d.Status)
		}
	}
	if phone.Total() != 20 {
		t.Errorf("phone answered %d calls, want 20", phone.Total())
	}
}
