package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/media/mediatest"
	"github.com/dialflow/dialflow/sip/siptest"
)

// TestBridgedTransfer: the callee presses 0 and is transferred to a third
// phone (Ext:1000) through a bridge; the callee hears what the third phone
// sends (its in-band keys), and the call ends when the third phone hangs
// up. In auto mode the bridge is used because the callee's side refuses
// the REFER.
func TestBridgedTransfer(t *testing.T) {
	for _, mode := range []string{"bridge", "auto"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			heard := filepath.Join(dir, "callee.wav")
			phone, err := siptest.NewPhone(siptest.PhoneConfig{Decide: func(inv siptest.InviteInfo) siptest.CallScript {
				if number(inv.User) == "1000" { // the agent: answers, speaks in tones, hangs up
					return siptest.CallScript{AnswerAfter: 200 * time.Millisecond, DTMFMethod: "inband",
						DTMF: []siptest.DTMFStep{{At: 800 * time.Millisecond, Keys: "5"}, {At: 1400 * time.Millisecond, Keys: "9"}}, HangupAfter: 3 * time.Second}
				}
				return siptest.CallScript{AnswerAfter: 200 * time.Millisecond, DTMF: []siptest.DTMFStep{{At: 300 * time.Millisecond, Keys: "0"}},
					ReferReject: 405, Record: heard}
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer phone.Close()
			ts := startTestServer(t, phone.TrunkURI(), nil)
			flowJSON := fmt.Sprintf(`{"steps":[{"name":"gather","message":{"msg":"press zero for an agent"},"branches":[
				{"digit":"0","callFlow":{"steps":[{"name":"transfer","destination":"Ext:1000","mode":%q}]}}]},
				{"name":"play","message":{"msg":"not reached"}}]}`, mode)
			body := strings.Replace(string(request("bridge-"+mode, flowJSON, "", "+15550004001")), `"ringTimeout"`, `"enableCallRecording":true,"ringTimeout"`, 1)
			if code := ts.do("POST", "/call", []byte(body), nil); code != 200 {
				t.Fatalf("submit %d", code)
			}
			st := ts.waitStatus("bridge-"+mode, "completed", 30*time.Second)
			d := st.Details[0]
			want := []string{"steps[0] gather success_ok 0", "steps[0].branches[0].steps[0] transfer success_ok transfer=answered"}
			if got := stepsOf(d); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("steps %q, want %q", got, want)
			}
			if d.BillSec < 2 {
				t.Errorf("billSec %d: the bridged call should last until the agent hangs up (~3 s)", d.BillSec)
			}
			for i := 0; i < 50; i++ {
				if fi, err := os.Stat(heard); err == nil && fi.Size() > 44 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			f, err := os.Open(heard)
			if err != nil {
				t.Fatal(err)
			}
			pcm, err := media.LoadWAV(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := mediatest.DetectDigits(pcm); !strings.Contains(got, "59") {
				t.Errorf("the callee heard keys %q through the bridge, want the agent's 5 and 9", got)
			}
		})
	}
}
