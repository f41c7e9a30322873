package main

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dialflow/dialflow/internal/sipptest"
)

// TestSippThroughServe: sipp answers a call placed by dialflow serve and
// replays its shipped RFC 4733 pcaps (1, 2, #); the flow takes branch 1,
// then dialflow hangs up, which sipp's scenario requires to succeed.
func TestSippThroughServe(t *testing.T) {
	r := sipptest.Start(t, filepath.Join("..", "..", "sip", "testdata", "sipp", "uas_dtmf.xml"))
	ts := startTestServer(t, "sip:"+r.Addr, nil)
	flowJSON := `{"steps":[{"name":"gather","message":{"msg":"press one or two"},"numDigits":1,"timeout":5,"branches":[
		{"digit":"1","callFlow":{"steps":[{"name":"play","message":{"msg":"you pressed one"}}]}},
		{"digit":"2","callFlow":{"steps":[{"name":"play","message":{"msg":"you pressed two"}}]}}]}]}`
	if code := ts.do("POST", "/call", request("sipp", flowJSON, "", "+15550000777"), nil); code != 200 {
		t.Fatalf("submit %d", code)
	}
	st := ts.waitStatus("sipp", "completed", 30*time.Second)
	want := []string{"steps[0] gather success_ok 1", "steps[0].branches[0].steps[0] play success_ok"}
	if got := stepsOf(st.Details[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	if m := st.Details[0].CallFlowSteps[0].Info.Digits; len(m) == 0 || m[0].Method != "rfc4733" {
		t.Errorf("digit method: %+v", m)
	}
	if err := r.Wait(t, 10*time.Second); err != nil {
		t.Errorf("sipp did not complete its scenario: %v\n%s", err, r.Out)
	}
}
