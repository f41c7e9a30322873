package api

import (
	"fmt"

	"github.com/dialflow/dialflow/flow"
)

// DryRunReport is the answer to POST /call?dryRun=true: the lint report of
// the request and every destination's prompts rendered as text. No call is
// placed and nothing is stored.
type DryRunReport struct {
	Status       string            `json:"status"`
	DryRun       bool              `json:"dryRun"`
	RequestID    string            `json:"requestId"`
	Lint         LintReport        `json:"lint"`
	Destinations []DryRunRendering `json:"destinations"`
}

// LintReport summarises a valid request: its problems (none, or the request
// would have been refused with 400) and the shape of its flow.
type LintReport struct {
	Problems     []flow.Problem `json:"problems"`
	Destinations int            `json:"destinations"`
	Steps        int            `json:"steps"`
	Depth        int            `json:"depth"`
	Placeholders []string       `json:"placeholders"`
}

// DryRunRendering is one destination with its prompts after placeholder
// substitution, in flow order.
type DryRunRendering struct {
	Index   int               `json:"index"`
	Phone   string            `json:"phone"`
	Caller  string            `json:"caller,omitempty"`
	Prompts []flow.PromptText `json:"prompts"`
}

// dryRun renders req for every destination.
func dryRun(req *flow.Request) (*DryRunReport, error) {
	sum := flow.Summarize(&req.CallFlow)
	rep := &DryRunReport{
		Status:    "ok",
		DryRun:    true,
		RequestID: req.RequestID,
		Lint: LintReport{
			Problems:     []flow.Problem{},
			Destinations: len(req.Destinations),
			Steps:        sum.Steps,
			Depth:        sum.Depth,
			Placeholders: sum.Placeholders,
		},
		Destinations: make([]DryRunRendering, 0, len(req.Destinations)),
	}
	if rep.Lint.Placeholders == nil {
		rep.Lint.Placeholders = []string{}
	}
	var probs flow.Problems
	for i, d := range req.Destinations {
		f, err := flow.RenderFlow(&req.CallFlow, d)
		if err != nil {
			probs = append(probs, flow.Problem{Path: fmt.Sprintf("destinations[%d]", i), Message: err.Error()})
			continue
		}
		prompts := flow.PromptTexts(f)
		if prompts == nil {
			prompts = []flow.PromptText{}
		}
		rep.Destinations = append(rep.Destinations, DryRunRendering{Index: i, Phone: d.Phone, Caller: d.Caller, Prompts: prompts})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return rep, nil
}
