package flow

import (
	"regexp"
	"sort"
	"strings"
)

// placeholderRE matches {{key}} and <<key>>, spaces allowed inside.
var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}|<<\s*([A-Za-z0-9_.\-]+)\s*>>`)

// Built-in placeholders every destination provides.
const (
	BuiltinPhone  = "phone"
	BuiltinCaller = "caller"
)

// Placeholders returns the keys used in s, in order of first use.
func Placeholders(s string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		k := m[1]
		if k == "" {
			k = m[2]
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// lookup finds a placeholder's value for a destination: its properties
// first, then the built-ins.
func lookup(d Destination, key string) (string, bool) {
	if v, ok := d.Properties[key]; ok {
		return v, true
	}
	switch key {
	case BuiltinPhone:
		return d.Phone, true
	case BuiltinCaller:
		return d.Caller, true
	}
	return "", false
}

// Substitute replaces every placeholder in s with the destination's value.
// Values are inserted as plain text, never re-scanned for placeholders. It
// returns the keys that the destination lacks (left in place).
func Substitute(s string, d Destination) (string, []string) {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "<<") {
		return s, nil
	}
	var missing []string
	out := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholderRE.FindStringSubmatch(m)
		k := sub[1]
		if k == "" {
			k = sub[2]
		}
		if v, ok := lookup(d, k); ok {
			return v
		}
		missing = append(missing, k)
		return m
	})
	return out, missing
}

// RenderFlow returns a copy of f with every placeholder in messages and
// transfer destinations replaced for destination d. A missing property is
// an error naming the key and the step path.
func RenderFlow(f *Flow, d Destination) (*Flow, error) {
	var probs Problems
	out := renderFlow(f, d, "callFlow", &probs)
	if len(probs) > 0 {
		return out, probs
	}
	return out, nil
}

func renderFlow(f *Flow, d Destination, path string, probs *Problems) *Flow {
	out := &Flow{Steps: make([]Step, len(f.Steps))}
	for i, s := range f.Steps {
		sp := index(path+".steps", i)
		if s.Message != nil {
			m := *s.Message
			var miss []string
			m.Msg, miss = Substitute(m.Msg, d)
			for _, k := range miss {
				*probs = append(*probs, Problem{Path: sp, Message: `property "` + k + `" is missing`})
			}
			s.Message = &m
		}
		if s.Destination != "" {
			var miss []string
			s.Destination, miss = Substitute(s.Destination, d)
			for _, k := range miss {
				*probs = append(*probs, Problem{Path: sp, Message: `property "` + k + `" is missing`})
			}
		}
		if len(s.Branches) > 0 {
			bs := make([]Branch, len(s.Branches))
			for j, b := range s.Branches {
				b.CallFlow = *renderFlow(&b.CallFlow, d, index(sp+".branches", j)+".callFlow", probs)
				bs[j] = b
			}
			s.Branches = bs
		}
		out.Steps[i] = s
	}
	return out
}

// PromptText is one prompt of a rendered flow, for dry runs.
type PromptText struct {
	Path string `json:"path"`
	Text string `json:"text"`
}

// PromptTexts lists every message and transfer destination of f, depth first
// in document order.
func PromptTexts(f *Flow) []PromptText {
	var out []PromptText
	walkSteps(f, "callFlow", 1, func(s *Step, path string, _ int) {
		if s.Message != nil {
			out = append(out, PromptText{Path: path + ".message.msg", Text: s.Message.Msg})
		}
		if s.Audio != "" {
			out = append(out, PromptText{Path: path + ".audio", Text: s.Audio})
		}
		if s.Destination != "" {
			out = append(out, PromptText{Path: path + ".destination", Text: s.Destination})
		}
	})
	return out
}

// walkSteps visits every step depth first with its path and nesting depth.
func walkSteps(f *Flow, path string, depth int, fn func(s *Step, path string, depth int)) {
	for i := range f.Steps {
		sp := index(path+".steps", i)
		s := &f.Steps[i]
		fn(s, sp, depth)
		for j := range s.Branches {
			walkSteps(&s.Branches[j].CallFlow, index(sp+".branches", j)+".callFlow", depth+1, fn)
		}
	}
}

// Summary describes a flow for lint output.
type Summary struct {
	Destinations int      `json:"destinations"`
	Steps        int      `json:"steps"`
	Depth        int      `json:"depth"`
	Placeholders []string `json:"placeholders"`
}

// Summarize counts the steps, the deepest nesting and the placeholders used.
func Summarize(f *Flow) Summary {
	var s Summary
	seen := map[string]bool{}
	walkSteps(f, "callFlow", 1, func(st *Step, _ string, depth int) {
		s.Steps++
		if depth > s.Depth {
			s.Depth = depth
		}
		var keys []string
		if st.Message != nil {
			keys = append(keys, Placeholders(st.Message.Msg)...)
		}
		keys = append(keys, Placeholders(st.Destination)...)
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				s.Placeholders = append(s.Placeholders, k)
			}
		}
	})
	sort.Strings(s.Placeholders)
	return s
}
