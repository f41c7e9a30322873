package loadrun

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A small load run end to end: the real dialflow binary and the load phone
// as separate processes, real SIP and RTP on loopback. The far end must
// hear every call, lose nothing, and every call's gather must take its key.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "dialflow")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/dialflow").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := Run(ctx, Config{Bin: bin, Calls: []int{4}, Audio: true, TTS: "tones", Prompt: "Load test prompt.",
		DigitAfter: 3 * time.Second, Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	p := r.Phone
	if r.Completed != 4 || r.Errors != 0 || r.Digits != 4 || p.DigitsSent != 4 {
		t.Fatalf("completed %d errors %d digits %d/%d", r.Completed, r.Errors, r.Digits, p.DigitsSent)
	}
	if p.Answered != 4 || p.Ended != 4 || p.NoPrompt != 0 || p.Frames < 4*100 {
		t.Fatalf("phone saw %+v", p)
	}
	if p.FramesLost*20 > p.Frames {
		t.Errorf("%d of %d frames lost on loopback", p.FramesLost, p.Frames)
	}
	if r.RSS <= 0 || r.Concurrent < 1 {
		t.Errorf("no process sample: rss %d concurrent %d", r.RSS, r.Concurrent)
	}
	table := Markdown(rows)
	if !strings.Contains(table, "| 4 |") || !strings.Contains(table, "4/4") {
		t.Errorf("table:\n%s", table)
	}
}
