package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dialflow/dialflow/flow"
)

// TestInvalidBodiesNameTheirPath posts the seed request with one thing
// broken at a time: each answer is 400, the message names the JSON path, and
// the problems array locates it. Nothing reaches the backend.
func TestInvalidBodiesNameTheirPath(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.Languages = func(lang string) bool { return lang == "en" || lang == "vi" }
	})
	const (
		g0  = "callFlow.steps.1"
		g0p = "callFlow.steps[1]"
		b0  = g0 + ".branches.0"
		b0p = g0p + ".branches[0]"
		b1  = g0 + ".branches.1"
		b1p = g0p + ".branches[1]"
		tr  = b1 + ".callFlow.steps.0"
		trp = b1p + ".callFlow.steps[0]"
	)
	cases := []struct {
		name, set string
		value     any
		wantPath  string
		wantText  string
	}{
		{"missing requestId", "requestId", deleteMe, "requestId", "required"},
		{"empty requestId", "requestId", "", "requestId", ""},
		{"requestId charset", "requestId", "has space", "requestId", ""},
		{"requestId too long", "requestId", strings.Repeat("r", 129), "requestId", ""},
		{"requestId number", "requestId", 10, "requestId", "string"},
		{"missing destinations", "destinations", deleteMe, "destinations", "required"},
		{"empty destinations", "destinations", []any{}, "destinations", ""},
		{"destinations object", "destinations", map[string]any{}, "destinations", "array"},
		{"destination not object", "destinations.1", "+84912860330", "destinations[1]", ""},
		{"phone missing", "destinations.0.phone", deleteMe, "destinations[0].phone", "required"},
		{"phone letters", "destinations.0.phone", "call-me", "destinations[0].phone", "E.164"},
		{"phone leading zero", "destinations.1.phone", "+0912860330", "destinations[1].phone", "E.164"},
		{"phone too long", "destinations.0.phone", "+1234567890123456", "destinations[0].phone", "E.164"},
		{"phone number type", "destinations.0.phone", []any{1}, "destinations[0].phone", ""},
		{"caller bad", "destinations.1.caller", "anonymous", "destinations[1].caller", "E.164"},
		{"property missing", "destinations.1.properties.amount", deleteMe, "destinations[1]", `"amount"`},
		{"properties missing", "destinations.0.properties", deleteMe, "destinations[0]", "missing"},
		{"property object", "destinations.0.properties.name", map[string]any{"first": "A"}, "destinations[0].properties.name", ""},
		{"unknown destination field", "destinations.0.phoneNumber", "+1555", "destinations[0].phoneNumber", "unknown field"},
		{"recording not bool", "enableCallRecording", "maybe", "enableCallRecording", ""},
		{"callFlow missing", "callFlow", deleteMe, "callFlow", ""},
		{"steps missing", "callFlow.steps", deleteMe, "callFlow.steps", ""},
		{"steps empty", "callFlow.steps", []any{}, "callFlow.steps", ""},
		{"steps not array", "callFlow.steps", "play", "callFlow.steps", ""},
		{"unknown step", "callFlow.steps.0.name", "speak", "callFlow.steps[0].name", "unknown step"},
		{"step name missing", "callFlow.steps.0.name", deleteMe, "callFlow.steps[0].name", "required"},
		{"play without message", "callFlow.steps.0.message", deleteMe, "callFlow.steps[0].message", ""},
		{"empty msg", "callFlow.steps.0.message.msg", "", "callFlow.steps[0].message.msg", ""},
		{"msg too long", "callFlow.steps.0.message.msg", strings.Repeat("x", 1001), "callFlow.steps[0].message.msg", "1000"},
		{"gender", "callFlow.steps.0.message.gender", "robot", "callFlow.steps[0].message.gender", ""},
		{"pitch high", "callFlow.steps.0.message.pitch", 10, "callFlow.steps[0].message.pitch", ""},
		{"rate negative", "callFlow.steps.0.message.rate", -1, "callFlow.steps[0].message.rate", ""},
		{"lang unsupported", "callFlow.steps.0.message.lang", "fr", "callFlow.steps[0].message.lang", "not supported"},
		{"loop too big", "callFlow.steps.0.loop", 11, "callFlow.steps[0].loop", ""},
		{"unknown step field", "callFlow.steps.0.colour", "red", "callFlow.steps[0].colour", "unknown field"},
		{"gather without branches", g0 + ".branches", deleteMe, g0p + ".branches", ""},
		{"maxRetries negative", g0 + ".maxRetries", -2, g0p + ".maxRetries", ""},
		{"digit letter", b0 + ".digit", "A", b0p + ".digit", "0-9 * #"},
		{"duplicate digit", b1 + ".digit", "1", b1p + ".digit", ""},
		{"two defaults", b0 + ".default", "true", g0p + ".branches[1].default", ""},
		{"default not bool", b1 + ".default", "sometimes", b1p + ".default", ""},
		{"branch without callFlow", b0 + ".callFlow", deleteMe, b0p + ".callFlow", ""},
		{"nested gather bad digit", b0 + ".callFlow.steps.0.branches.0.digit", "**1x", b0p + ".callFlow.steps[0].branches[0].digit", ""},
		{"nested play msg empty", b0 + ".callFlow.steps.0.branches.0.callFlow.steps.0.message.msg", "", b0p + ".callFlow.steps[0].branches[0].callFlow.steps[0].message.msg", ""},
		{"transfer destination", tr + ".destination", "Ext:abc", trp + ".destination", ""},
		{"transfer destination missing", tr + ".destination", deleteMe, trp + ".destination", "required"},
		{"transfer mode", tr + ".mode", "warm", trp + ".mode", ""},
		{"callbackUrl scheme", "callbackUrl", "ftp://example.com/x", "callbackUrl", ""},
		{"retry maxAttempts", "retry", map[string]any{"maxAttempts": 0}, "retry.maxAttempts", ""},
		{"retry outcome", "retry", map[string]any{"maxAttempts": 2, "on": []any{"busy", "sad"}}, "retry.on[1]", ""},
		{"retry interval", "retry", map[string]any{"maxAttempts": 2, "interval": "later"}, "retry.interval", ""},
		{"ringTimeout too long", "ringTimeout", "5m", "ringTimeout", ""},
		{"maxCallDuration too long", "maxCallDuration", "3h", "maxCallDuration", ""},
		{"unknown top-level field", "priority", "high", "priority", "unknown field"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	base := seedBody(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := mutate(t, base, c.set, c.value)
			r := s.postJSON("/call", keyA, body)
			if r.code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.code, r.body)
			}
			msg := r.errMessage(t)
			if !strings.Contains(msg, c.wantPath+": ") && !strings.Contains(msg, c.wantPath+".") {
				t.Errorf("message %q does not name %s", msg, c.wantPath)
			}
			if c.wantText != "" && !strings.Contains(msg, c.wantText) {
				t.Errorf("message %q lacks %q", msg, c.wantText)
			}
			var e struct {
				Problems []flow.Problem `json:"problems"`
			}
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range e.Problems {
				if strings.HasPrefix(p.Path, c.wantPath) && p.Message != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %+v have no entry at %s", e.Problems, c.wantPath)
			}
		})
	}
	if n := s.be.submitCount(); n != 0 {
		t.Fatalf("%d invalid requests reached the backend", n)
	}
	// Dry runs validate the same way.
	r := s.postJSON("/call?dryRun=true", keyA, mutate(t, base, "destinations.0.phone", "x"))
	if r.code != http.StatusBadRequest || !strings.Contains(r.errMessage(t), "destinations[0].phone") {
		t.Fatalf("dry run of an invalid body: %d %s", r.code, r.body)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	s := startServer(t, nil)
	body := mutate(t, seedBody(t), "destinations.0.phone", "x")
	body = mutate(t, body, "callFlow.steps.0.name", "speak")
	body = mutate(t, body, "requestId", "")
	r := s.postJSON("/call", keyA, body)
	if r.code != http.StatusBadRequest {
		t.Fatalf("%d", r.code)
	}
	msg := r.errMessage(t)
	for _, p := range []string{"requestId: ", "destinations[0].phone: ", "callFlow.steps[0].name: "} {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q lacks %q", msg, p)
		}
	}
	if strings.Count(msg, "; ") < 2 {
		t.Errorf("problems not joined with \"; \": %q", msg)
	}
}

func TestMalformedJSONNamesLineAndColumn(t *testing.T) {
	s := startServer(t, nil)
	cases := []struct{ body, want string }{
		{"{\n  \"requestId\": \"r1\",\n  \"destinations\": [,]\n}", "line 3, column"},
		{`{"requestId": "r1"`, "line 1, column"},
		{`{"requestId": 'r1'}`, "line 1, column 15"},
		{"", "empty body"},
		{`{"a":1} {"b":2}`, "after the document"},
		{`[1,2,3]`, ""},
		{`null`, ""},
		{"\xff\xfe{}", ""},
	}
	for _, c := range cases {
		r := s.postJSON("/call", keyA, []byte(c.body))
		if r.code != http.StatusBadRequest {
			t.Errorf("body %q: %d, want 400", c.body, r.code)
			continue
		}
		if msg := r.errMessage(t); !strings.Contains(msg, c.want) {
			t.Errorf("body %q: message %q lacks %q", c.body, msg, c.want)
		}
	}
}
