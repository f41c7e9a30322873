package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dialflow/dialflow/internal/loadphone"
)

// loadLine is one JSON line `dialflow phone --load` prints: a progress
// count every second, then the final report.
type loadLine struct {
	Type     string              `json:"type"` // "listening", "progress" or "report"
	Trunk    string              `json:"trunk,omitempty"`
	Progress *loadphone.Progress `json:"progress,omitempty"`
	Report   *loadphone.Report   `json:"report,omitempty"`
}

// runLoadPhone runs the load far end until ctx ends, then prints its report.
func runLoadPhone(ctx context.Context, cfg loadphone.Config, stdout, stderr io.Writer) error {
	p, err := loadphone.New(cfg)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	_ = enc.Encode(loadLine{Type: "listening", Trunk: p.TrunkURI()})
	fmt.Fprintf(stderr, "load phone listening on %s\n", p.TrunkURI())
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-t.C:
			pr := p.Progress()
			_ = enc.Encode(loadLine{Type: "progress", Progress: &pr})
		}
	}
	err = p.Close()
	rep := p.Report()
	_ = enc.Encode(loadLine{Type: "report", Report: &rep})
	return err
}

// parseLoadDigit reads KEY:DURATION ("1:21s"); a zero duration never presses.
func parseLoadDigit(s string) (byte, time.Duration, error) {
	k, d, ok := strings.Cut(s, ":")
	if !ok || len(k) != 1 || !strings.Contains("0123456789*#", k) {
		return 0, 0, fmt.Errorf("%q: want KEY:DURATION with KEY one of 0-9 * #", s)
	}
	after, err := time.ParseDuration(d)
	if err != nil || after < 0 {
		return 0, 0, fmt.Errorf("%q: bad duration %q", s, d)
	}
	return k[0], after, nil
}
