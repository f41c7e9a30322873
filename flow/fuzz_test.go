package flow

import (
	"context"
	"os"
	"testing"
)

// FuzzCheckRequest feeds arbitrary bytes through parse, validate, render and
// a scripted run. None of it may panic, and an accepted request must render
// for every destination.
func FuzzCheckRequest(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed_request.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(base))
	f.Add([]byte(`{"steps":[{"name":"pause","seconds":"2"}]}`))
	f.Add([]byte(`{"requestId":"x","destinations":[{"phone":"sip:a@b"}],"callFlow":{"steps":[{"name":"transfer","destination":"<<d>>"}]}}`))
	f.Add([]byte(`{"requestId":"x","destinations":[{"phone":"+12","properties":{"d":"{{d}}"}}],"callFlow":{"steps":[{"name":"play","message":{"msg":"{{d}}<<d>>{{ d }}"}}]}}`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, probs := CheckRequest(data, ValidateOptions{Languages: func(string) bool { return true }})
		if IsRequestDocument(data) {
			_ = req
		} else if fl, err := ParseFlow(data); err == nil {
			_ = ValidateFlow(fl, ValidateOptions{})
			_ = Summarize(fl)
		}
		if probs != nil || req == nil {
			return
		}
		for _, d := range req.Destinations {
			rf, err := RenderFlow(&req.CallFlow, d)
			if err != nil {
				t.Fatalf("accepted request does not render: %v", err)
			}
			_ = PromptTexts(rf)
			ch := &fakeChannel{gathers: []gatherReply{{keys: "1"}, {keys: ""}, {keys: "#"}}, transfer: TransferAnswered}
			res := Run(context.Background(), rf, ch, RunOptions{})
			if res.Ended == "" {
				t.Fatal("run without an ending")
			}
		}
	})
}
