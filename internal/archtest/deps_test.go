package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/dialflow/dialflow/"

// forbidden lists, per package (prefix), the project packages it must not
// import, directly or indirectly.
var forbidden = map[string][]string{
	"flow":    {"sip", "media", "tts", "dialer", "store", "api", "session", "cmd"},
	"media":   {"sip", "flow", "tts", "dialer", "store", "api", "session", "cmd"},
	"tts":     {"sip", "flow", "dialer", "store", "api", "session", "cmd"},
	"sip":     {"flow", "tts", "dialer", "store", "api", "session", "cmd"},
	"dialer":  {"sip", "media", "tts", "store", "api", "session", "cmd"},
	"store":   {"sip", "media", "tts", "api", "session", "cmd"},
	"api":     {"sip", "media", "tts", "store", "session", "cmd"},
	"session": {"sip", "dialer", "store", "api", "cmd"},
	"webhook": {"sip", "media", "tts", "flow", "dialer", "store", "api", "session", "cmd"},
}

type pkg struct {
	ImportPath string
	Deps       []string
}

func TestDependenciesPointInward(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module)
		top, _, _ := strings.Cut(rel, "/")
		bans, ok := forbidden[top]
		if !ok {
			continue
		}
		checked++
		for _, d := range p.Deps {
			if !strings.HasPrefix(d, module) {
				continue
			}
			dtop, _, _ := strings.Cut(strings.TrimPrefix(d, module), "/")
			for _, b := range bans {
				if dtop == b {
					t.Errorf("%s imports %s: %s must not depend on %s", rel, strings.TrimPrefix(d, module), top, b)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no project packages listed")
	}
}
