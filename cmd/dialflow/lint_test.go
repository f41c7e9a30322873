package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestLintAcceptsSeedExample(t *testing.T) {
	code, out, errs := runCmd(t, "lint", "../../examples/payment-reminder/request.json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	want := "ok: 2 destinations, 5 steps, depth 3, placeholders: amount, dueDate, name"
	if !strings.Contains(out, want) {
		t.Fatalf("summary %q does not contain %q", out, want)
	}
}

func TestLintRejectsWithPaths(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	body := `{"requestId":"r 1","destinations":[{"phone":"012"}],"callFlow":{"steps":[
		{"name":"gather","message":{"msg":"hi {{name}}"},"branches":[{"digit":"x","callFlow":{"steps":[]}}]}]}}`
	if err := os.WriteFile(bad, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "lint", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1; out %s", code, out)
	}
	for _, w := range []string{
		"requestId: must be 1-128 characters",
		"destinations[0].phone: not an E.164 number",
		"callFlow.steps[0].branches[0].digit: must be one of 0-9 * #",
		`destinations[0]: property "name" used by callFlow.steps[0] is missing`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("want one problem per line (4), got %d lines:\n%s", n, out)
	}
}

func TestLintBareFlowAndUsage(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "flow.json")
	_ = os.WriteFile(f, []byte(`{"steps":[{"name":"play","message":{"msg":"hello {{name}}"}},{"name":"hangup"}]}`), 0o644)
	code, out, _ := runCmd(t, "lint", f)
	if code != 0 || !strings.Contains(out, "ok: 0 destinations, 2 steps, depth 1, placeholders: name") {
		t.Fatalf("exit %d: %s", code, out)
	}
	_ = os.WriteFile(f, []byte(`{"steps":[{"name":"play"}]}`), 0o644)
	if code, out, _ := runCmd(t, "lint", f); code != 1 || !strings.Contains(out, "callFlow.steps[0].message: is required") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if code, _, _ := runCmd(t, "lint"); code != 2 {
		t.Fatalf("no file: exit %d, want 2", code)
	}
	if code, _, errs := runCmd(t, "lint", filepath.Join(dir, "missing.json")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Fatalf("missing file: exit %d %s", code, errs)
	}
	if code, _, _ := runCmd(t, "nonsense"); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}

func TestExamplesLintClean(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*/request.json")
	if len(files) < 3 {
		t.Fatalf("only %d examples", len(files))
	}
	for _, f := range files {
		if code, out, errs := runCmd(t, "lint", f); code != 0 {
			t.Errorf("%s: exit %d\n%s%s", f, code, out, errs)
		}
	}
}
