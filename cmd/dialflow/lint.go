package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dialflow/dialflow/flow"
)

// runLint is `dialflow lint FILE`: it validates a whole request or a bare
// flow, prints each problem with its JSON path, and exits 1 when any exists.
func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dialflow lint FILE\n\nValidates a POST /call request or a bare flow ({\"steps\": [...]}).")
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	name := fs.Arg(0)
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	// Languages are not checked here: lint must work without a TTS engine.
	opts := flow.ValidateOptions{}
	var (
		probs flow.Problems
		f     *flow.Flow
		dests int
	)
	if flow.IsRequestDocument(data) {
		var req *flow.Request
		req, probs = flow.CheckRequest(data, opts)
		if req != nil {
			f, dests = &req.CallFlow, len(req.Destinations)
		}
	} else {
		var err error
		f, err = flow.ParseFlow(data)
		var pe flow.Problems
		if errors.As(err, &pe) {
			probs = pe
		}
		if f != nil && probs == nil {
			probs = flow.ValidateFlow(f, opts)
		}
	}
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintf(stdout, "%s: %s\n", name, p)
		}
		return exitError{code: 1}
	}
	s := flow.Summarize(f)
	ph := "none"
	if len(s.Placeholders) > 0 {
		ph = strings.Join(s.Placeholders, ", ")
	}
	fmt.Fprintf(stdout, "%s: ok: %d destinations, %d steps, depth %d, placeholders: %s\n", name, dests, s.Steps, s.Depth, ph)
	return nil
}
