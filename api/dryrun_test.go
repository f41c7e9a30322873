package api

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestDryRunRendersPromptsAndPlacesNoCall(t *testing.T) {
	s := startServer(t, nil)
	body := mutate(t, seedBody(t), "destinations.1.properties.name", "Bea <b>")
	r := s.postJSON("/call?dryRun=true", keyA, body)
	if r.code != http.StatusOK {
		t.Fatalf("dry run: %d %s", r.code, r.body)
	}
	var rep DryRunReport
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || rep.RequestID != "request_10" || len(rep.Lint.Problems) != 0 {
		t.Fatalf("report header %+v", rep)
	}
	if rep.Lint.Destinations != 2 || rep.Lint.Steps != 5 || rep.Lint.Depth != 3 {
		t.Errorf("lint summary %+v, want 2 destinations, 5 steps, depth 3", rep.Lint)
	}
	if len(rep.Destinations) != 2 {
		t.Fatalf("%d renderings", len(rep.Destinations))
	}
	want := map[string]string{
		"callFlow.steps[0].message.msg":                               "thanks Bea <b>",
		"callFlow.steps[1].message.msg":                               "Dear Mr Bea <b>, the amount of 200,000$ will be due on August 20th, 2020",
		"callFlow.steps[1].branches[1].callFlow.steps[0].destination": "Ext:1000",
	}
	d := rep.Destinations[1]
	if d.Index != 1 || d.Phone != "+84912860330" || d.Caller != "+6582674904" {
		t.Errorf("destination %+v", d)
	}
	got := map[string]string{}
	for _, p := range d.Prompts {
		got[p.Path] = p.Text
	}
	for path, text := range want {
		if got[path] != text {
			t.Errorf("%s = %q, want %q", path, got[path], text)
		}
	}
	if rep.Destinations[0].Prompts[0].Text != "thanks Alex" {
		t.Errorf("destination 0 prompt %q", rep.Destinations[0].Prompts[0].Text)
	}
	if n := s.be.submitCount(); n != 0 {
		t.Fatalf("dry run submitted %d requests", n)
	}
	// The request does not exist afterwards.
	if r := s.do(http.MethodGet, "/status/request_10", keyA, "", nil); r.code != http.StatusNotFound {
		t.Fatalf("status after dry run: %d", r.code)
	}
	// dryRun=false is a real submit; a junk value is 400.
	decodeStatus(t, s.postJSON("/call?dryRun=false", keyA, body))
	r = s.postJSON("/call?dryRun=yes-please", keyA, body)
	if r.code != http.StatusBadRequest {
		t.Fatalf("dryRun=yes-please: %d", r.code)
	}
	r.errMessage(t)
}
