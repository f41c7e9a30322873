package flow

import (
	"encoding/json"
	"strings"
	"testing"
)

// base is a valid request that the invalid cases below mutate.
const base = `{"requestId":"r1","destinations":[{"phone":"+15551230001","caller":"+15551230000","properties":{"name":"Ann","amount":12.5}}],
"enableCallRecording":"false","callFlow":{"steps":[
 {"name":"play","message":{"msg":"hi {{name}}"}},
 {"name":"gather","message":{"msg":"you owe <<amount>>"},"branches":[
   {"digit":"1","callFlow":{"steps":[{"name":"transfer","destination":"Ext:1000"}]}},
   {"default":true,"callFlow":{"steps":[{"name":"hangup"}]}}]}]}}`

// edit applies a JSON mutation to base: set a value at a path of keys and
// indexes ("callFlow.steps.0.name"), or delete it when v is deleteMe.
func edit(t *testing.T, path string, v any) []byte {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(base), &doc); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	cur := doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if v == deleteMe {
					delete(c, p)
				} else {
					c[p] = v
				}
			} else {
				cur = c[p]
			}
		case []any:
			n := 0
			for _, ch := range p {
				n = n*10 + int(ch-'0')
			}
			if last {
				c[n] = v
			} else {
				cur = c[n]
			}
		default:
			t.Fatalf("bad path %s", path)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var deleteMe = &struct{}{}

func TestBaseIsValid(t *testing.T) {
	req, probs := CheckRequest([]byte(base), ValidateOptions{})
	if probs != nil {
		t.Fatal(probs)
	}
	if req.Destinations[0].Properties["amount"] != "12.5" || req.EnableCallRecording {
		t.Fatalf("lenient parsing wrong: %+v", req)
	}
}

func TestInvalidRequests(t *testing.T) {
	deep := `{"name":"hangup"}`
	for i := 0; i < 17; i++ {
		deep = `{"name":"gather","message":{"msg":"m"},"branches":[{"digit":"1","callFlow":{"steps":[` + deep + `]}}]}`
	}
	var deepV any
	_ = json.Unmarshal([]byte(deep), &deepV)
	many := make([]any, MaxDestinations+1)
	for i := range many {
		many[i] = map[string]any{"phone": "+15551230001"}
	}
	cases := []struct {
		name, path string
		value      any
		wantPath   string // must appear in the problems, followed by ": "
		wantMsg    string // must appear in that problem's message
	}{
		{"missing requestId", "requestId", deleteMe, "requestId", "required"},
		{"requestId charset", "requestId", "bad id!", "requestId", "A-Z"},
		{"requestId too long", "requestId", strings.Repeat("a", 129), "requestId", "1-128"},
		{"requestId not string", "requestId", 12, "requestId", "must be a string"},
		{"missing destinations", "destinations", deleteMe, "destinations", "required"},
		{"empty destinations", "destinations", []any{}, "destinations", "at least one"},
		{"too many destinations", "destinations", many, "destinations", "at most 100000"},
		{"destinations not array", "destinations", "x", "destinations", "must be an array"},
		{"phone not E.164", "destinations.0.phone", "0123", "destinations[0].phone", "not an E.164 number"},
		{"phone missing", "destinations.0.phone", deleteMe, "destinations[0].phone", "required"},
		{"phone too long", "destinations.0.phone", "+1234567890123456", "destinations[0].phone", "E.164"},
		{"caller not E.164", "destinations.0.caller", "abc", "destinations[0].caller", "not an E.164 number"},
		{"property object", "destinations.0.properties.name", map[string]any{"x": 1}, "destinations[0].properties.name", "string or a number"},
		{"missing property", "destinations.0.properties.name", deleteMe, "destinations[0]", `property "name" used by callFlow.steps[0] is missing`},
		{"unknown destination field", "destinations.0.fone", "1", "destinations[0].fone", "unknown field"},
		{"recording not bool", "enableCallRecording", "yes", "enableCallRecording", "true or false"},
		{"missing callFlow", "callFlow", deleteMe, "callFlow.steps", "required"},
		{"empty steps", "callFlow.steps", []any{}, "callFlow.steps", "at least one step"},
		{"unknown step", "callFlow.steps.0.name", "say", "callFlow.steps[0].name", "unknown step"},
		{"missing step name", "callFlow.steps.0.name", deleteMe, "callFlow.steps[0].name", "required"},
		{"missing message", "callFlow.steps.0.message", deleteMe, "callFlow.steps[0].message", "required"},
		{"empty msg", "callFlow.steps.0.message", map[string]any{"msg": "  "}, "callFlow.steps[0].message.msg", "required"},
		{"msg too long", "callFlow.steps.0.message", map[string]any{"msg": strings.Repeat("a", 1001)}, "callFlow.steps[0].message.msg", "at most 1000"},
		{"msg too long after substitution", "destinations.0.properties.name", strings.Repeat("n", 1000), "destinations[0]", "after substitution"},
		{"control char", "callFlow.steps.0.message", map[string]any{"msg": "a\u0007b"}, "callFlow.steps[0].message.msg", "control character"},
		{"pitch range", "callFlow.steps.0.message", map[string]any{"msg": "a", "pitch": 10}, "callFlow.steps[0].message.pitch", "between 0 and 9"},
		{"rate range", "callFlow.steps.0.message", map[string]any{"msg": "a", "rate": -1}, "callFlow.steps[0].message.rate", "between 0 and 9"},
		{"pitch type", "callFlow.steps.0.message", map[string]any{"msg": "a", "pitch": "high"}, "callFlow.steps[0].message.pitch", "integer"},
		{"gender", "callFlow.steps.0.message", map[string]any{"msg": "a", "gender": "robot"}, "callFlow.steps[0].message.gender", "male or female"},
		{"lang format", "callFlow.steps.0.message", map[string]any{"msg": "a", "lang": "English"}, "callFlow.steps[0].message.lang", "language code"},
		{"lang unsupported", "callFlow.steps.0.message", map[string]any{"msg": "a", "lang": "xx"}, "callFlow.steps[0].message.lang", "not supported"},
		{"loop range", "callFlow.steps.0.loop", 11, "callFlow.steps[0].loop", "between 1 and 10"},
		{"loop on gather", "callFlow.steps.1.loop", 2, "callFlow.steps[1].loop", "does not apply"},
		{"unknown step field", "callFlow.steps.0.foo", 1, "callFlow.steps[0].foo", "unknown field"},
		{"digit charset", "callFlow.steps.1.branches.0.digit", "A", "callFlow.steps[1].branches[0].digit", "0-9 * #"},
		{"duplicate digit", "callFlow.steps.1.branches.1.digit", "1", "callFlow.steps[1].branches[1].digit", "already used"},
		{"two defaults", "callFlow.steps.1.branches.0.default", "true", "callFlow.steps[1].branches[1].default", "only one"},
		{"branch without digit", "callFlow.steps.1.branches.1.default", false, "callFlow.steps[1].branches[1].digit", "required unless"},
		{"default not bool", "callFlow.steps.1.branches.1.default", "maybe", "callFlow.steps[1].branches[1].default", "true or false"},
		{"gather without branches", "callFlow.steps.1.branches", deleteMe, "callFlow.steps[1].branches", "at least one branch"},
		{"gather with empty branches", "callFlow.steps.1.branches", []any{}, "callFlow.steps[1].branches", "at least one branch"},
		{"branch without callFlow", "callFlow.steps.1.branches.0.callFlow", deleteMe, "callFlow.steps[1].branches[0].callFlow.steps", "required"},
		{"maxRetries range", "callFlow.steps.1.maxRetries", 0.5, "callFlow.steps[1].maxRetries", "integer"},
		{"maxRetries too big", "callFlow.steps.1.maxRetries", 11, "callFlow.steps[1].maxRetries", "between 1 and 10"},
		{"numDigits below longest", "callFlow.steps.1.branches.0.digit", "123", "", ""},
		{"timeout range", "callFlow.steps.1.timeout", 120, "callFlow.steps[1].timeout", "between"},
		{"finishOnKey", "callFlow.steps.1.finishOnKey", "##", "callFlow.steps[1].finishOnKey", "0-9"},
		{"transfer dest format", "callFlow.steps.1.branches.0.callFlow.steps.0.destination", "Ext:abc", "callFlow.steps[1].branches[0].callFlow.steps[0].destination", "Ext:<digits>"},
		{"transfer dest missing", "callFlow.steps.1.branches.0.callFlow.steps.0.destination", deleteMe, "callFlow.steps[1].branches[0].callFlow.steps[0].destination", "required"},
		{"transfer dest placeholder bad value", "callFlow.steps.1.branches.0.callFlow.steps.0.destination", "{{name}}", "destinations[0]", "becomes \"Ann\""},
		{"transfer mode", "callFlow.steps.1.branches.0.callFlow.steps.0.mode", "warm", "callFlow.steps[1].branches[0].callFlow.steps[0].mode", "refer, bridge or auto"},
		{"pause seconds", "callFlow.steps.0", map[string]any{"name": "pause", "seconds": 0}, "callFlow.steps[0].seconds", "more than 0"},
		{"too deep", "callFlow.steps.0", deepV, "branches", "deeper than 16"},
		{"callbackUrl", "callbackUrl", "ftp://x", "callbackUrl", "http or https"},
		{"retry attempts", "retry", map[string]any{"maxAttempts": 0}, "retry.maxAttempts", "between 1 and 10"},
		{"retry on", "retry", map[string]any{"maxAttempts": 2, "on": []any{"busy", "bored"}}, "retry.on[1]", "must be one of"},
		{"retry interval", "retry", map[string]any{"maxAttempts": 2, "interval": "soon"}, "retry.interval", "duration"},
		{"ringTimeout range", "ringTimeout", "3m", "ringTimeout", "between 1s and 2m0s"},
		{"maxCallDuration range", "maxCallDuration", "2h", "maxCallDuration", "between"},
		{"unknown top-level field", "colour", "blue", "colour", "unknown field"},
		{"audio with message", "callFlow.steps.0.audio", "x.wav", "callFlow.steps[0].audio", "together"},
	}
	langs := ValidateOptions{Languages: func(l string) bool { return l == "en" || l == "vi" }}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := edit(t, tc.path, tc.value)
			if tc.name == "numDigits below longest" {
				body = edit(t, "callFlow.steps.1.numDigits", 2)
				var doc map[string]any
				_ = json.Unmarshal(body, &doc)
				doc["callFlow"].(map[string]any)["steps"].([]any)[1].(map[string]any)["branches"].([]any)[0].(map[string]any)["digit"] = "123"
				body, _ = json.Marshal(doc)
				tc.wantPath, tc.wantMsg = "callFlow.steps[1].numDigits", "3 characters"
			}
			_, probs := CheckRequest(body, langs)
			if len(probs) == 0 {
				t.Fatalf("accepted invalid request")
			}
			for _, p := range probs {
				if strings.HasSuffix(p.Path, tc.wantPath) && strings.Contains(p.Message, tc.wantMsg) {
					return
				}
			}
			t.Fatalf("no problem at %q containing %q; got %v", tc.wantPath, tc.wantMsg, probs)
		})
	}
	if len(cases) < 30 {
		t.Fatalf("only %d invalid cases", len(cases))
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	body := []byte(`{"requestId":"","destinations":[{"phone":"1"},{"phone":"+15551230001","caller":"x"}],
	"callFlow":{"steps":[{"name":"play","message":{"msg":"hi {{who}}","pitch":12}},{"name":"jump"}]}}`)
	_, probs := CheckRequest(body, ValidateOptions{})
	want := []string{
		"requestId: is required",
		"destinations[0].phone: not an E.164",
		"destinations[1].caller: not an E.164",
		"callFlow.steps[0].message.pitch: must be between 0 and 9",
		"callFlow.steps[1].name: unknown step",
		`destinations[0]: property "who" used by callFlow.steps[0] is missing`,
		`destinations[1]: property "who" used by callFlow.steps[0] is missing`,
	}
	all := probs.Error()
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing %q in %s", w, all)
		}
	}
}

func TestMalformedJSONNamesLineAndColumn(t *testing.T) {
	_, probs := CheckRequest([]byte("{\n  \"requestId\": \"a\",\n  \"destinations\": [,]\n}"), ValidateOptions{})
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "line 3, column 20") {
		t.Fatalf("got %v", probs)
	}
	for _, body := range []string{"", "[]", "null", `{"a":1} {"b":2}`, `"x"`} {
		if _, probs := CheckRequest([]byte(body), ValidateOptions{}); len(probs) == 0 {
			t.Errorf("%q accepted", body)
		}
	}
}

func TestProblemsAreBounded(t *testing.T) {
	dests := make([]any, 5000)
	for i := range dests {
		dests[i] = map[string]any{"phone": "bad"}
	}
	doc := map[string]any{"requestId": "r", "destinations": dests, "callFlow": map[string]any{"steps": []any{map[string]any{"name": "hangup"}}}}
	body, _ := json.Marshal(doc)
	_, probs := CheckRequest(body, ValidateOptions{})
	if len(probs) != maxProblems+1 || !strings.Contains(probs[len(probs)-1].Message, "more problems") {
		t.Fatalf("got %d problems, last %v", len(probs), probs[len(probs)-1])
	}
}

func TestSubstitution(t *testing.T) {
	d := Destination{Phone: "+15551230001", Caller: "+15551230000", Properties: map[string]string{
		"name": "<b>{{phone}}</b>", "phone": "override"}}
	got, missing := Substitute("Hi {{ name }}, call << caller >> about {{x}}", d)
	if got != "Hi <b>{{phone}}</b>, call +15551230000 about {{x}}" || len(missing) != 1 || missing[0] != "x" {
		t.Fatalf("got %q missing %v", got, missing)
	}
	f := &Flow{Steps: []Step{{Name: "transfer", Destination: "sip:{{ext}}@pbx.example"}}}
	out, err := RenderFlow(f, Destination{Properties: map[string]string{"ext": "42"}})
	if err != nil || out.Steps[0].Destination != "sip:42@pbx.example" || f.Steps[0].Destination != "sip:{{ext}}@pbx.example" {
		t.Fatalf("render: %v %+v", err, out)
	}
	if _, err := RenderFlow(f, Destination{}); err == nil || !strings.Contains(err.Error(), `callFlow.steps[0]: property "ext" is missing`) {
		t.Fatalf("missing not reported: %v", err)
	}
}

func TestDestinationFormats(t *testing.T) {
	for s, ok := range map[string]bool{
		"Ext:1000": true, "+6591991191": true, "sip:agent@10.0.0.1:5080": true, "sips:bob@example.com": true,
		"sip:pbx.local": true, "Ext:": false, "ext:1": false, "sip:": false, "sip:@host": false, "tel:+1555": false,
		"sip:a b@host": false, "0123": false,
	} {
		if IsTransferDestination(s) != ok {
			t.Errorf("IsTransferDestination(%q) != %v", s, ok)
		}
	}
}
