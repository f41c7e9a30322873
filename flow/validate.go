package flow

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

var (
	e164RE      = regexp.MustCompile(`^\+?[1-9]\d{1,14}$`)
	requestIDRE = regexp.MustCompile(`^[A-Za-z0-9_.:\-]{1,128}$`)
	digitsRE    = regexp.MustCompile(`^[0-9*#]+$`)
	extRE       = regexp.MustCompile(`^Ext:\d{1,32}$`)
	langRE      = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

// IsE164 reports whether s matches the seed's pattern ^\+?[1-9]\d{1,14}$.
func IsE164(s string) bool { return e164RE.MatchString(s) }

// IsSIPURI reports whether s is a sip: or sips: URI with a host.
func IsSIPURI(s string) bool {
	rest, ok := strings.CutPrefix(s, "sip:")
	if !ok {
		rest, ok = strings.CutPrefix(s, "sips:")
	}
	if !ok || rest == "" || strings.ContainsAny(rest, " \t\r\n<>\"") {
		return false
	}
	host := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if at == 0 {
			return false
		}
		host = rest[at+1:]
	}
	host, _, _ = strings.Cut(host, ";")
	return host != "" && !strings.HasPrefix(host, ":")
}

// IsTransferDestination reports whether s is Ext:<digits>, E.164 or a SIP URI.
func IsTransferDestination(s string) bool {
	return extRE.MatchString(s) || IsE164(s) || IsSIPURI(s)
}

// validator collects semantic problems.
type validator struct {
	parser
	opts ValidateOptions
}

// CheckRequest parses and validates a POST /call body, returning every
// problem found. A problem already reported while parsing is not repeated.
func CheckRequest(data []byte, opts ValidateOptions) (*Request, Problems) {
	req, err := ParseRequest(data)
	if req == nil {
		return nil, err.(Problems)
	}
	var shape Problems
	if err != nil {
		shape = err.(Problems)
	}
	sem := req.Validate(opts)
	if len(shape) == 0 {
		if len(sem) == 0 {
			return req, nil
		}
		return req, sem
	}
	seen := map[string]bool{}
	for _, p := range shape {
		seen[p.Path] = true
	}
	out := shape
	for _, p := range sem {
		if !seen[p.Path] {
			out = append(out, p)
		}
	}
	return req, out
}

// Validate checks the rules of SPEC §3–§4 and every destination's
// placeholders, reporting all problems at once (up to a bound).
func (r *Request) Validate(opts ValidateOptions) Problems {
	v := &validator{opts: opts}
	switch {
	case r.RequestID == "":
		v.addf("requestId", "is required")
	case !requestIDRE.MatchString(r.RequestID):
		v.addf("requestId", "must be 1-128 characters of A-Z a-z 0-9 _ . : -")
	}
	switch n := len(r.Destinations); {
	case r.Destinations == nil:
		v.addf("destinations", "is required")
	case n == 0:
		v.addf("destinations", "must hold at least one destination")
	case n > MaxDestinations:
		v.addf("destinations", "holds %d destinations; at most %d are allowed", n, MaxDestinations)
	}
	if r.CallbackURL != "" {
		u, err := url.Parse(r.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.addf("callbackUrl", "must be an absolute http or https URL")
		}
	}
	v.retry(r.Retry)
	v.durationRange("ringTimeout", r.RingTimeout, time.Second, MaxRingTimeout)
	v.durationRange("maxCallDuration", r.MaxCallDuration, time.Second, MaxCallDurationLimit)
	if r.CallFlow.Steps == nil {
		v.addf("callFlow.steps", "is required")
	} else {
		v.flow(&r.CallFlow, "callFlow", 1)
	}
	if len(r.Destinations) <= MaxDestinations {
		v.destinations(r)
	}
	return v.result()
}

// ValidateFlow checks a bare flow (no destinations, so placeholders are not
// resolved).
func ValidateFlow(f *Flow, opts ValidateOptions) Problems {
	v := &validator{opts: opts}
	if f.Steps == nil {
		v.addf("callFlow.steps", "is required")
	} else {
		v.flow(f, "callFlow", 1)
	}
	return v.result()
}

func (v *validator) durationRange(path string, d, lo, hi time.Duration) {
	if d == 0 {
		return
	}
	if d < lo || d > hi {
		v.addf(path, "must be between %s and %s", lo, hi)
	}
}

func (v *validator) retry(r *RetryPolicy) {
	if r == nil {
		return
	}
	if r.MaxAttempts < 1 || r.MaxAttempts > 10 {
		v.addf("retry.maxAttempts", "must be between 1 and 10")
	}
	if r.Interval != 0 && (r.Interval < time.Second || r.Interval > 24*time.Hour) {
		v.addf("retry.interval", "must be between 1s and 24h")
	}
	for i, o := range r.On {
		ok := false
		for _, k := range RetryOutcomes {
			if o == k {
				ok = true
			}
		}
		if !ok {
			v.addf(index("retry.on", i), "must be one of %s", strings.Join(RetryOutcomes, ", "))
		}
	}
}

func (v *validator) flow(f *Flow, path string, depth int) {
	if depth == 1 && len(f.Steps) == 0 {
		v.addf(path+".steps", "must hold at least one step")
	}
	for i := range f.Steps {
		v.step(&f.Steps[i], index(path+".steps", i), depth)
	}
}

func (v *validator) step(s *Step, path string, depth int) {
	switch s.Name {
	case StepPlay:
		v.prompt(s, path, true)
		if s.Loop != 0 && (s.Loop < 1 || s.Loop > MaxLoop) {
			v.addf(path+".loop", "must be between 1 and %d", MaxLoop)
		}
	case StepGather:
		v.prompt(s, path, false)
		v.gather(s, path, depth)
	case StepTransfer:
		switch {
		case s.Destination == "":
			v.addf(path+".destination", "is required")
		case len(Placeholders(s.Destination)) == 0 && !IsTransferDestination(s.Destination):
			v.addf(path+".destination", "must be Ext:<digits>, an E.164 number or a sip:/sips: URI")
		}
		if s.Mode != "" && s.Mode != ModeRefer && s.Mode != ModeBridge && s.Mode != ModeAuto {
			v.addf(path+".mode", "must be refer, bridge or auto")
		}
	case StepHangup:
	case StepPause:
		if s.Seconds <= 0 || s.Seconds > MaxPauseSeconds {
			v.addf(path+".seconds", "must be more than 0 and at most %d", MaxPauseSeconds)
		}
	case "":
		v.addf(path+".name", "is required")
		return
	default:
		v.addf(path+".name", "unknown step %q; must be play, gather, transfer, hangup or pause", s.Name)
		return
	}
	v.onlyFields(s, path)
}

// onlyFields reports fields that do not belong to the step's kind.
func (v *validator) onlyFields(s *Step, path string) {
	type field struct {
		name string
		set  bool
		kind []string
	}
	fields := []field{
		{"message", s.Message != nil, []string{StepPlay, StepGather}},
		{"audio", s.Audio != "", []string{StepPlay, StepGather}},
		{"loop", s.Loop != 0, []string{StepPlay}},
		{"maxRetries", s.MaxRetries != 0, []string{StepGather}},
		{"branches", s.Branches != nil, []string{StepGather}},
		{"numDigits", s.NumDigits != 0, []string{StepGather}},
		{"timeout", s.Timeout != 0, []string{StepGather}},
		{"finishOnKey", s.FinishOnKey != "", []string{StepGather}},
		{"interDigitTimeout", s.InterDigitTimeout != 0, []string{StepGather}},
		{"destination", s.Destination != "", []string{StepTransfer}},
		{"mode", s.Mode != "", []string{StepTransfer}},
		{"seconds", s.Seconds != 0, []string{StepPause}},
	}
	for _, f := range fields {
		if !f.set {
			continue
		}
		ok := false
		for _, k := range f.kind {
			if k == s.Name {
				ok = true
			}
		}
		if !ok {
			v.addf(path+"."+f.name, "does not apply to a %s step", s.Name)
		}
	}
}

func (v *validator) prompt(s *Step, path string, audioAllowed bool) {
	if s.Message == nil && s.Audio == "" {
		v.addf(path+".message", "is required")
		return
	}
	if s.Message != nil && s.Audio != "" {
		v.addf(path+".audio", "cannot be used together with message")
	}
	if s.Audio != "" && (strings.Contains(s.Audio, "..") || !strings.HasSuffix(strings.ToLower(s.Audio), ".wav")) {
		v.addf(path+".audio", "must be a .wav file path without ..")
	}
	if m := s.Message; m != nil {
		v.message(m, path+".message")
	}
	_ = audioAllowed
}

func (v *validator) message(m *Message, path string) {
	switch {
	case strings.TrimSpace(m.Msg) == "":
		v.addf(path+".msg", "is required and must not be empty")
	case utf8.RuneCountInString(m.Msg) > MaxMsgLen && len(Placeholders(m.Msg)) == 0:
		v.addf(path+".msg", "is %d characters; at most %d are allowed", utf8.RuneCountInString(m.Msg), MaxMsgLen)
	}
	if bad := controlChar(m.Msg); bad != "" {
		v.addf(path+".msg", "contains a control character (%s)", bad)
	}
	if m.Lang != "" {
		switch {
		case !langRE.MatchString(m.Lang):
			v.addf(path+".lang", "must be a language code such as en or en-us")
		case v.opts.Languages != nil && !v.opts.Languages(m.Lang):
			v.addf(path+".lang", "language %q is not supported by the text-to-speech engine", m.Lang)
		}
	}
	if m.Gender != "" && m.Gender != "male" && m.Gender != "female" {
		v.addf(path+".gender", "must be male or female")
	}
	if m.Pitch != nil && (*m.Pitch < 0 || *m.Pitch > 9) {
		v.addf(path+".pitch", "must be between 0 and 9")
	}
	if m.Rate != nil && (*m.Rate < 0 || *m.Rate > 9) {
		v.addf(path+".rate", "must be between 0 and 9")
	}
}

// controlChar names the first control character in s other than tab and
// newlines, or "".
func controlChar(s string) string {
	for _, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Sprintf("%U", r)
		}
	}
	return ""
}

func (v *validator) gather(s *Step, path string, depth int) {
	if s.MaxRetries != 0 && (s.MaxRetries < 1 || s.MaxRetries > 10) {
		v.addf(path+".maxRetries", "must be between 1 and 10")
	}
	if s.NumDigits != 0 && (s.NumDigits < 1 || s.NumDigits > 32) {
		v.addf(path+".numDigits", "must be between 1 and 32")
	}
	if s.Timeout != 0 && (s.Timeout < 500*time.Millisecond || s.Timeout > 60*time.Second) {
		v.addf(path+".timeout", "must be between 0.5 and 60 seconds")
	}
	if s.InterDigitTimeout != 0 && (s.InterDigitTimeout < 500*time.Millisecond || s.InterDigitTimeout > 30*time.Second) {
		v.addf(path+".interDigitTimeout", "must be between 0.5 and 30 seconds")
	}
	if k := s.FinishOnKey; k != "" && k != "none" && (len(k) != 1 || !digitsRE.MatchString(k)) {
		v.addf(path+".finishOnKey", `must be one of 0-9 * # or "none"`)
	}
	if s.Branches == nil {
		v.addf(path+".branches", "is required: a gather needs at least one branch")
		return
	}
	if len(s.Branches) == 0 {
		v.addf(path+".branches", "must hold at least one branch")
		return
	}
	if depth >= MaxDepth {
		v.addf(path+".branches", "nest deeper than %d levels", MaxDepth)
		return
	}
	seen := map[string]int{}
	defaults := 0
	longest := 0
	for j := range s.Branches {
		b := &s.Branches[j]
		bp := index(path+".branches", j)
		switch {
		case b.Digit == "" && !b.Default:
			v.addf(bp+".digit", "is required unless the branch is the default")
		case b.Digit != "" && !digitsRE.MatchString(b.Digit):
			v.addf(bp+".digit", "must be one of 0-9 * #")
		case b.Digit != "":
			if prev, dup := seen[b.Digit]; dup {
				v.addf(bp+".digit", "%q is already used by %s", b.Digit, index(path+".branches", prev))
			} else {
				seen[b.Digit] = j
			}
			if len(b.Digit) > longest {
				longest = len(b.Digit)
			}
		}
		if b.Default {
			defaults++
			if defaults == 2 {
				v.addf(bp+".default", "only one branch may be the default")
			}
		}
		if b.CallFlow.Steps == nil {
			v.addf(bp+".callFlow.steps", "is required")
			continue
		}
		v.flow(&b.CallFlow, bp+".callFlow", depth+1)
	}
	if s.NumDigits > 0 && s.NumDigits < longest {
		v.addf(path+".numDigits", "is %d but a branch digit has %d characters", s.NumDigits, longest)
	}
}
