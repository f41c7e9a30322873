package flow

import (
	"unicode/utf8"
)

// site is a step field that holds placeholders.
type site struct {
	path     string // step path, e.g. callFlow.steps[1]
	field    string // "message.msg" or "destination"
	text     string
	transfer bool
}

func placeholderSites(f *Flow) []site {
	var out []site
	walkSteps(f, "callFlow", 1, func(s *Step, path string, _ int) {
		if s.Message != nil && len(Placeholders(s.Message.Msg)) > 0 {
			out = append(out, site{path: path, field: "message.msg", text: s.Message.Msg})
		}
		if len(Placeholders(s.Destination)) > 0 {
			out = append(out, site{path: path, field: "destination", text: s.Destination, transfer: true})
		}
	})
	return out
}

func (v *validator) destinations(r *Request) {
	sites := placeholderSites(&r.CallFlow)
	for i := range r.Destinations {
		d := &r.Destinations[i]
		dp := index("destinations", i)
		switch {
		case d.Phone == "":
			v.addf(dp+".phone", "is required")
		case !IsE164(d.Phone) && !IsSIPURI(d.Phone):
			v.addf(dp+".phone", "not an E.164 number (^\\+?[1-9]\\d{1,14}$) or a sip: URI")
		}
		if d.Caller != "" && !IsE164(d.Caller) {
			v.addf(dp+".caller", "not an E.164 number (^\\+?[1-9]\\d{1,14}$)")
		}
		for _, s := range sites {
			out, missing := Substitute(s.text, *d)
			for _, k := range missing {
				v.addf(dp, "property %q used by %s is missing", k, s.path)
			}
			if len(missing) > 0 {
				continue
			}
			if s.transfer {
				if !IsTransferDestination(out) {
					v.addf(dp, "%s.destination becomes %s, which is not Ext:<digits>, an E.164 number or a sip: URI", s.path, describe(out))
				}
				continue
			}
			if n := utf8.RuneCountInString(out); n > MaxMsgLen {
				v.addf(dp, "%s.message.msg is %d characters after substitution; at most %d are allowed", s.path, n, MaxMsgLen)
			}
			if bad := controlChar(out); bad != "" {
				v.addf(dp, "%s.message.msg contains a control character (%s) after substitution", s.path, bad)
			}
		}
		if v.dropped > 0 {
			// Enough has been reported; later destinations are not checked.
			v.stoppedAt = dp
			return
		}
	}
}
