package flow

import (
	"encoding/json"
	"strconv"
)

func (p *parser) request(v any) *Request {
	m, ok := p.object(v, "", "requestId", "destinations", "enableCallRecording", "callFlow",
		"callbackUrl", "retry", "ringTimeout", "maxCallDuration")
	req := &Request{}
	if !ok {
		return req
	}
	p.strField(m, "", "requestId", &req.RequestID)
	if x, ok := m["destinations"]; ok {
		if arr, ok := p.array(x, "destinations"); ok {
			req.Destinations = make([]Destination, len(arr))
			for i, d := range arr {
				req.Destinations[i] = p.destination(d, index("destinations", i))
			}
		}
	}
	if x, ok := m["enableCallRecording"]; ok {
		req.EnableCallRecording = p.boolean(x, "enableCallRecording")
	}
	if x, ok := m["callFlow"]; ok {
		req.CallFlow = *p.flow(x, "callFlow")
	}
	p.strField(m, "", "callbackUrl", &req.CallbackURL)
	if x, ok := m["retry"]; ok {
		req.Retry = p.retry(x, "retry")
	}
	if x, ok := m["ringTimeout"]; ok {
		req.RingTimeout = p.duration(x, "ringTimeout")
	}
	if x, ok := m["maxCallDuration"]; ok {
		req.MaxCallDuration = p.duration(x, "maxCallDuration")
	}
	return req
}

func (p *parser) destination(v any, path string) Destination {
	var d Destination
	m, ok := p.object(v, path, "phone", "caller", "properties")
	if !ok {
		return d
	}
	p.strField(m, path, "phone", &d.Phone)
	p.strField(m, path, "caller", &d.Caller)
	if x, ok := m["properties"]; ok {
		pp := join(path, "properties")
		props, ok := x.(map[string]any)
		if !ok {
			p.addf(pp, "must be an object, not %s", typeName(x))
			return d
		}
		d.Properties = make(map[string]string, len(props))
		for k, pv := range props {
			switch val := pv.(type) {
			case string:
				d.Properties[k] = val
			case json.Number:
				d.Properties[k] = val.String()
			case bool:
				d.Properties[k] = strconv.FormatBool(val)
			default:
				p.addf(join(pp, k), "must be a string or a number, not %s", typeName(pv))
			}
		}
	}
	return d
}

func (p *parser) retry(v any, path string) *RetryPolicy {
	m, ok := p.object(v, path, "maxAttempts", "interval", "on")
	if !ok {
		return nil
	}
	r := &RetryPolicy{}
	if x, ok := m["maxAttempts"]; ok {
		if n, ok := p.integer(x, join(path, "maxAttempts")); ok {
			r.MaxAttempts = n
		} else {
			r.MaxAttempts = -1
		}
	}
	if x, ok := m["interval"]; ok {
		r.Interval = p.duration(x, join(path, "interval"))
	}
	if x, ok := m["on"]; ok {
		if arr, ok := p.array(x, join(path, "on")); ok {
			r.On = make([]string, 0, len(arr))
			for i, o := range arr {
				r.On = append(r.On, p.str(o, index(join(path, "on"), i)))
			}
		}
	}
	return r
}

func (p *parser) flow(v any, path string) *Flow {
	f := &Flow{}
	m, ok := p.object(v, path, "steps")
	if !ok {
		return f
	}
	x, ok := m["steps"]
	if !ok {
		// Reported by validation as a missing field.
		f.Steps = nil
		return f
	}
	sp := join(path, "steps")
	arr, ok := p.array(x, sp)
	if !ok {
		return f
	}
	f.Steps = make([]Step, len(arr))
	for i, s := range arr {
		f.Steps[i] = p.step(s, index(sp, i))
	}
	return f
}

var stepFields = []string{"name", "message", "loop", "audio", "maxRetries", "branches", "numDigits",
	"timeout", "finishOnKey", "interDigitTimeout", "destination", "mode", "seconds"}

func (p *parser) step(v any, path string) Step {
	var s Step
	m, ok := p.object(v, path, stepFields...)
	if !ok {
		return s
	}
	p.strField(m, path, "name", &s.Name)
	if x, ok := m["message"]; ok {
		s.Message = p.message(x, join(path, "message"))
	}
	p.intField(m, path, "loop", &s.Loop)
	p.strField(m, path, "audio", &s.Audio)
	p.intField(m, path, "maxRetries", &s.MaxRetries)
	if x, ok := m["branches"]; ok {
		bp := join(path, "branches")
		if arr, ok := p.array(x, bp); ok {
			s.Branches = make([]Branch, len(arr))
			for i, b := range arr {
				s.Branches[i] = p.branch(b, index(bp, i))
			}
		}
	}
	p.intField(m, path, "numDigits", &s.NumDigits)
	if x, ok := m["timeout"]; ok {
		s.Timeout = p.seconds(x, join(path, "timeout"))
	}
	p.strField(m, path, "finishOnKey", &s.FinishOnKey)
	if x, ok := m["interDigitTimeout"]; ok {
		s.InterDigitTimeout = p.seconds(x, join(path, "interDigitTimeout"))
	}
	p.strField(m, path, "destination", &s.Destination)
	p.strField(m, path, "mode", &s.Mode)
	if x, ok := m["seconds"]; ok {
		if f, ok := p.number(x, join(path, "seconds")); ok {
			s.Seconds = f
		} else {
			s.Seconds = -1
		}
	}
	return s
}

// strField reads an optional string member into dst.
func (p *parser) strField(m map[string]any, path, key string, dst *string) {
	if x, ok := m[key]; ok {
		*dst = p.str(x, join(path, key))
	}
}

// intField reads an optional integer member; a bad value becomes -1 so that
// validation reports it out of range only if parsing did not already.
func (p *parser) intField(m map[string]any, path, key string, dst *int) {
	x, ok := m[key]
	if !ok {
		return
	}
	if n, ok := p.integer(x, join(path, key)); ok {
		*dst = n
	} else {
		*dst = -1
	}
}

func (p *parser) message(v any, path string) *Message {
	m, ok := p.object(v, path, "msg", "lang", "language", "gender", "pitch", "rate")
	msg := &Message{}
	if !ok {
		return msg
	}
	p.strField(m, path, "msg", &msg.Msg)
	if x, ok := m["lang"]; ok {
		msg.Lang = p.str(x, join(path, "lang"))
	} else if x, ok := m["language"]; ok {
		msg.Lang = p.str(x, join(path, "language"))
	}
	for _, k := range []string{"pitch", "rate"} {
		x, ok := m[k]
		if !ok {
			continue
		}
		n, ok := p.integer(x, join(path, k))
		if !ok {
			n = DefaultPitch
		}
		if k == "pitch" {
			msg.Pitch = &n
		} else {
			msg.Rate = &n
		}
	}
	p.strField(m, path, "gender", &msg.Gender)
	return msg
}

func (p *parser) branch(v any, path string) Branch {
	var b Branch
	m, ok := p.object(v, path, "digit", "default", "callFlow")
	if !ok {
		return b
	}
	if x, ok := m["digit"]; ok {
		switch d := x.(type) {
		case string:
			b.Digit = d
		case json.Number:
			b.Digit = d.String()
		default:
			p.addf(join(path, "digit"), "must be a string of 0-9 * #, not %s", typeName(x))
		}
	}
	if x, ok := m["default"]; ok {
		b.Default = p.boolean(x, join(path, "default"))
	}
	if x, ok := m["callFlow"]; ok {
		b.CallFlow = *p.flow(x, join(path, "callFlow"))
	} else {
		b.CallFlow.Steps = nil
	}
	return b
}
