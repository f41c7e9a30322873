package flow

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readSeed(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/seed_request.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func intp(n int) *int { return &n }

// TestSeedParsesExactly parses the seed API's example request exactly as
// written (booleans as strings) and compares the whole model.
func TestSeedParsesExactly(t *testing.T) {
	req, probs := CheckRequest(readSeed(t), ValidateOptions{Languages: func(l string) bool { return l == "en" }})
	if probs != nil {
		t.Fatalf("seed example rejected: %v", probs)
	}
	props := map[string]string{"name": "Alex", "dueDate": "August 20th, 2020", "amount": "200,000$"}
	want := &Request{
		RequestID: "request_10",
		Destinations: []Destination{
			{Phone: "+84917660247", Caller: "+6582674904", Properties: props},
			{Phone: "+84912860330", Caller: "+6582674904", Properties: props},
		},
		EnableCallRecording: true,
		CallFlow: Flow{Steps: []Step{
			{Name: "play", Message: &Message{Msg: "thanks {{name}}", Lang: "en", Gender: "male"}},
			{Name: "gather",
				Message: &Message{Msg: "Dear Mr {{name}}, the amount of {{amount}} will be due on {{dueDate}}"},
				Branches: []Branch{
					{Digit: "1", Default: false, CallFlow: Flow{Steps: []Step{
						{Name: "gather", Message: &Message{Msg: "message need to play", Lang: "en", Gender: "female"},
							Branches: []Branch{{Default: true, CallFlow: Flow{Steps: []Step{
								{Name: "play", Message: &Message{Msg: "msg need to play"}},
							}}}}},
					}}},
					{Digit: "0", Default: true, CallFlow: Flow{Steps: []Step{
						{Name: "transfer", Destination: "Ext:1000"},
					}}},
				}},
		}},
	}
	if !reflect.DeepEqual(req, want) {
		got, _ := json.MarshalIndent(req, "", " ")
		exp, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("model differs\n got: %s\nwant: %s", got, exp)
	}
	sum := Summarize(&req.CallFlow)
	if sum.Steps != 5 || sum.Depth != 3 || !reflect.DeepEqual(sum.Placeholders, []string{"amount", "dueDate", "name"}) {
		t.Fatalf("summary = %+v", sum)
	}
}

// TestSeedRunGolden renders the seed flow for its first destination and runs
// it twice against a scripted caller: one presses 1 then a key at the nested
// menu, one presses 0 and is transferred.
func TestSeedRunGolden(t *testing.T) {
	req, probs := CheckRequest(readSeed(t), ValidateOptions{})
	if probs != nil {
		t.Fatal(probs)
	}
	f, err := RenderFlow(&req.CallFlow, req.Destinations[0])
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ch   *fakeChannel
	}{
		{"press1", &fakeChannel{gathers: []gatherReply{{keys: "1"}, {keys: "5"}}}},
		{"press0", &fakeChannel{gathers: []gatherReply{{keys: "0"}}, transfer: TransferAnswered}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(context.Background(), f, tc.ch, RunOptions{})
			got, _ := json.MarshalIndent(struct {
				Ended string       `json:"ended"`
				Steps []StepResult `json:"steps"`
				Log   []string     `json:"channelLog"`
			}{res.Ended, res.Steps, tc.ch.log}, "", "  ")
			golden := filepath.Join("testdata", "seed_run_"+tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != string(got)+"\n" {
				t.Fatalf("run differs from %s (go test ./flow -update to rewrite)\n got: %s", golden, got)
			}
		})
	}
}
