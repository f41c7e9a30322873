package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/media/mediatest"
	"github.com/dialflow/dialflow/sip/siptest"
)

func TestCallCommand(t *testing.T) {
	phone, err := siptest.NewPhone(siptest.PhoneConfig{Decide: func(inv siptest.InviteInfo) siptest.CallScript {
		if number(inv.User) == "15550000486" {
			return siptest.CallScript{Reject: "busy"}
		}
		return siptest.CallScript{AnswerAfter: 200 * time.Millisecond, DTMF: []siptest.DTMFStep{{At: 2 * time.Second, Keys: "1"}, {At: 3500 * time.Millisecond, Keys: "5"}}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	dir := t.TempDir()
	rec := filepath.Join(dir, "call.wav")
	// The whole seed request: its first destination's properties apply.
	code, out, errs := runCmd(t, "call", "--to", "+15550000001", "--flow", "../../examples/payment-reminder/request.json",
		"--trunk", phone.TrunkURI(), "--tts", "tones", "--record", rec, "--prop", "name=Zoe")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	for _, w := range []string{"dialing +15550000001", "ringing", "answered", "step steps[1] gather: success_ok digits=1", "ended: answered"} {
		if !strings.Contains(errs, w) {
			t.Errorf("progress lacks %q:\n%s", w, errs)
		}
	}
	var d dialer.Detail
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("stdout is not the status JSON: %v\n%s", err, out)
	}
	if d.Status != "completed" || d.CallStatus != "answered" || d.CallState != "ended" || d.Caller != "+6582674904" || len(d.CallFlowSteps) != 4 || d.RecordingURL != rec {
		t.Errorf("status %+v", d)
	}
	f, err := os.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	_, right, _, err := mediatest.ReadStereoWAV(f)
	f.Close()
	if err != nil || len(right) < 8000 {
		t.Errorf("recording: %v, %d samples", err, len(right))
	}

	code, out, _ = runCmd(t, "call", "--to", "+15550000486", "--flow", "../../examples/payment-reminder/request.json",
		"--trunk", phone.TrunkURI(), "--tts", "tones")
	if code != 1 || !strings.Contains(out, `"call_status": "busy"`) || !strings.Contains(out, `"sipCode": 486`) {
		t.Errorf("busy: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"call"}, {"call", "--to", "+1555"}, {"call", "--flow", "x.json"}} {
		if code, _, _ := runCmd(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if code, _, errs := runCmd(t, "call", "--to", "+15550000001", "--flow", "../../examples/payment-reminder/request.json"); code != 1 || !strings.Contains(errs, "--trunk is required") {
		t.Errorf("no trunk: exit %d %s", code, errs)
	}
}
