package sip

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseInfoDTMF reads the key of a SIP INFO DTMF body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5"). Signal 10 and 11
// are read as * and #.
func ParseInfoDTMF(contentType string, body []byte) (byte, error) {
	mt, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), ";")
	mt = strings.TrimSpace(mt)
	var sig string
	switch mt {
	case "application/dtmf-relay":
		for line := range strings.Lines(string(body)) {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				sig = strings.TrimSpace(v)
				break
			}
		}
		if sig == "" {
			return 0, errors.New("dtmf-relay body has no Signal= line")
		}
	case "application/dtmf":
		sig = strings.TrimSpace(string(body))
	default:
		return 0, fmt.Errorf("content type %q is not application/dtmf-relay or application/dtmf", clip(contentType))
	}
	if len(sig) == 1 {
		k := sig[0]
		if k >= 'a' && k <= 'd' {
			k -= 'a' - 'A'
		}
		if (k >= '0' && k <= '9') || k == '*' || k == '#' || (k >= 'A' && k <= 'D') {
			return k, nil
		}
	}
	if n, err := strconv.Atoi(sig); err == nil && n >= 10 && n <= 15 {
		return "*#ABCD"[n-10], nil
	}
	return 0, fmt.Errorf("signal %q is not a dtmf key", clip(sig))
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
