package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxProblems bounds how many problems one document reports; the rest are
// summarised in a last problem.
const maxProblems = 100

// ParseRequest decodes a POST /call body. Wrong types, unknown fields and
// malformed JSON are reported as a Problems error naming every JSON path.
// The seed API's lenient forms are accepted: booleans as "true"/"false",
// numbers as numeric strings, property values as strings or numbers.
func ParseRequest(data []byte) (*Request, error) {
	root, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	p := &parser{}
	req := p.request(root)
	if len(p.problems) > 0 {
		return req, p.result()
	}
	return req, nil
}

// ParseFlow decodes a bare flow document, {"steps": [...]}.
func ParseFlow(data []byte) (*Flow, error) {
	root, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	p := &parser{}
	f := p.flow(root, "")
	if len(p.problems) > 0 {
		return f, p.result()
	}
	return f, nil
}

// IsRequestDocument reports whether data looks like a whole request (it has a
// "callFlow" or "destinations" member) rather than a bare flow.
func IsRequestDocument(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return false
	}
	_, a := probe["callFlow"]
	_, b := probe["destinations"]
	return a || b
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, Problems{{Message: jsonErrorMessage(data, dec, err)}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		off := dec.InputOffset()
		line, col := lineCol(data, off)
		return nil, Problems{{Message: fmt.Sprintf("invalid JSON at line %d, column %d: unexpected data after the document", line, col)}}
	}
	return v, nil
}

func jsonErrorMessage(data []byte, dec *json.Decoder, err error) string {
	var se *json.SyntaxError
	off := dec.InputOffset()
	if errors.As(err, &se) && se.Offset > 0 {
		off = se.Offset - 1 // the offset counts the offending byte
	}
	if errors.Is(err, io.EOF) && len(bytes.TrimSpace(data)) == 0 {
		return "invalid JSON: empty body"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		off = int64(len(data))
	}
	line, col := lineCol(data, off)
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "invalid character")
	if msg != err.Error() {
		msg = "invalid character" + msg
	}
	return fmt.Sprintf("invalid JSON at line %d, column %d: %s", line, col, msg)
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// parser walks the generic JSON tree, building the model and collecting
// shape problems with their paths.
type parser struct {
	problems  Problems
	dropped   int
	stoppedAt string // set when checking stopped early at this path
}

func (p *parser) addf(path, format string, args ...any) {
	if len(p.problems) >= maxProblems {
		p.dropped++
		return
	}
	p.problems = append(p.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) result() Problems {
	out := p.problems
	switch {
	case p.stoppedAt != "":
		out = append(out, Problem{Message: fmt.Sprintf("and %d more problems; checking stopped at %s", p.dropped, p.stoppedAt)})
	case p.dropped > 0:
		out = append(out, Problem{Message: fmt.Sprintf("and %d more problems", p.dropped)})
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// object checks v is an object and reports members not in allowed.
func (p *parser) object(v any, path string, allowed ...string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		p.addf(path, "must be an object, not %s", typeName(v))
		return nil, false
	}
	for k := range m {
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
				break
			}
		}
		if !known {
			p.addf(join(path, k), "unknown field")
		}
	}
	return m, true
}

func (p *parser) array(v any, path string) ([]any, bool) {
	a, ok := v.([]any)
	if !ok {
		p.addf(path, "must be an array, not %s", typeName(v))
	}
	return a, ok
}

func (p *parser) str(v any, path string) string {
	s, ok := v.(string)
	if !ok {
		p.addf(path, "must be a string, not %s", typeName(v))
	}
	return s
}

// boolean accepts true/false and the strings "true"/"false".
func (p *parser) boolean(v any, path string) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	p.addf(path, `must be true or false (or the strings "true"/"false"), not %s`, describe(v))
	return false
}

// numeric returns the text of a JSON number or of a string (trimmed), the
// two forms the seed API uses for numbers.
func numeric(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		return n.String(), true
	case string:
		return strings.TrimSpace(n), true
	}
	return "", false
}

// integer accepts a JSON integer or a string holding one.
func (p *parser) integer(v any, path string) (int, bool) {
	s, ok := numeric(v)
	i, err := strconv.ParseInt(s, 10, 32)
	if !ok || err != nil {
		p.addf(path, "must be an integer, not %s", describe(v))
		return 0, false
	}
	return int(i), true
}

// number accepts a JSON number or a numeric string.
func (p *parser) number(v any, path string) (float64, bool) {
	s, ok := numeric(v)
	f, err := strconv.ParseFloat(s, 64)
	if !ok || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.addf(path, "must be a number, not %s", describe(v))
		return 0, false
	}
	return f, true
}

// duration accepts a Go duration string ("30s", "2m") or a number of seconds.
// It returns -1 when the value is unusable (already reported).
func (p *parser) duration(v any, path string) time.Duration {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1e9 {
			return time.Duration(f * float64(time.Second))
		}
		p.addf(path, `must be a duration such as "30s" or "2m", or a number of seconds, not %s`, describe(v))
		return -1
	}
	f, ok := p.number(v, path)
	if !ok {
		return -1
	}
	if math.Abs(f) >= 1e9 {
		p.addf(path, "is out of range")
		return -1
	}
	return time.Duration(f * float64(time.Second))
}

// seconds reads a timeout given in seconds (number or numeric string, or a
// duration string) into a Duration; -1 when unusable.
func (p *parser) seconds(v any, path string) time.Duration { return p.duration(v, path) }

func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	}
	return typeName(v)
}
