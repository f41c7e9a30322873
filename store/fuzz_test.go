package store_test

import (
	"context"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

// FuzzRoundTrip stores arbitrary (valid UTF-8) request fields and step
// results and checks that GET /status's reads return them unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add("key", "request_10", "+84917660247", "+6582674904", "name", "Alex", "1#", "steps[1].branches[0].steps[0]")
	f.Add("", "x", "sip:alice@example.com", "", "", "", "", "")
	f.Add("k'\"", "r;--", "+1", "0", "a\x00b", "{{x}}<b>", "*", "\u2028")
	ctx := context.Background()
	db := MustOpen(f)
	n := 0
	f.Fuzz(func(t *testing.T, owner, reqID, phone, caller, key, value, digits, path string) {
		for _, s := range []string{owner, reqID, phone, caller, key, value, digits, path} {
			if !utf8.ValidString(s) {
				t.Skip("the API only passes valid UTF-8 (JSON strings)")
			}
		}
		n++
		reqID = reqID + "#" + string(rune('a'+n%26)) + string(rune('0'+n%10)) + string(rune(n)) // unique per run
		r := dialer.NewRequest{Owner: owner, RequestID: reqID, BodyHash: "h", Body: []byte("{}"), At: t0,
			Destinations: []flow.Destination{{Phone: phone, Caller: caller, Properties: map[string]string{key: value}}}}
		c, err := db.CreateRequest(ctx, r)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if !c.Created {
			t.Skip("request id repeated by the fuzzer")
		}
		s, err := db.StartAttempt(ctx, dialer.AttemptStart{DestPK: c.DestPKs[0], CallID: reqID + "/" + owner, At: t0})
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		if !reflect.DeepEqual(s.Destination, r.Destinations[0]) {
			t.Fatalf("destination %+v came back as %+v", r.Destinations[0], s.Destination)
		}
		step := flow.StepResult{StepName: "gather", StepPath: path, Info: flow.StepInfo{Status: flow.StatusOK, UserPressedDigits: digits}}
		if err := db.AddStep(ctx, s.AttemptPK, step, t0); err != nil {
			t.Fatalf("add step: %v", err)
		}
		st, err := db.RequestStatus(ctx, owner, reqID, 0, 0)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		d := st.Details[0]
		if d.Destination != phone || d.Caller != caller || st.RequestID != reqID {
			t.Fatalf("status %+v", d)
		}
		if len(d.CallFlowSteps) != 1 || !reflect.DeepEqual(d.CallFlowSteps[0], step) {
			t.Fatalf("step %+v came back as %+v", step, d.CallFlowSteps)
		}
	})
}
