package siptest

import (
	"fmt"
	"strings"
	"time"
)

// ParseDTMFScript reads "2s:1,5s:0" (at: keys, times after the answer) into
// steps. Keys are 0-9, *, #, A-D.
func ParseDTMFScript(s string) ([]DTMFStep, error) {
	var out []DTMFStep
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for i, part := range strings.Split(s, ",") {
		at, keys, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("dtmf script item %d %q: want <time>:<keys>, e.g. 2s:1", i+1, clip(part))
		}
		d, err := time.ParseDuration(strings.TrimSpace(at))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("dtmf script item %d: bad time %q", i+1, clip(at))
		}
		keys = strings.ToUpper(strings.TrimSpace(keys))
		if keys == "" {
			return nil, fmt.Errorf("dtmf script item %d: no keys", i+1)
		}
		for j := 0; j < len(keys); j++ {
			if !strings.ContainsRune("0123456789*#ABCD", rune(keys[j])) {
				return nil, fmt.Errorf("dtmf script item %d: %q is not a dtmf key", i+1, keys[j])
			}
		}
		out = append(out, DTMFStep{At: d, Keys: keys})
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
