package sip

import (
	"fmt"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Target turns a destination into a Request-URI: a sip:/sips: URI is used as
// is; "Ext:1000" becomes sip:1000@<trunk>; an E.164 number (+ optional)
// becomes sip:<number>@<trunk>.
func (u *UA) Target(dest string) (sipmsg.Uri, error) {
	var uri sipmsg.Uri
	low := strings.ToLower(dest)
	if strings.HasPrefix(low, "sip:") || strings.HasPrefix(low, "sips:") {
		if err := sipmsg.ParseUri(dest, &uri); err != nil || uri.Host == "" {
			return uri, fmt.Errorf("%w: %q is not a valid sip uri", ErrBadTarget, clip(dest))
		}
		return uri, nil
	}
	user := dest
	if strings.HasPrefix(low, "ext:") {
		user = dest[4:]
		if !allDigits(user, 1, 32) {
			return uri, fmt.Errorf("%w: extension %q must be 1-32 digits", ErrBadTarget, clip(user))
		}
	} else if !isE164(dest) {
		return uri, fmt.Errorf("%w: %q is not Ext:N, an E.164 number or a sip uri", ErrBadTarget, clip(dest))
	}
	if !u.hasTrk {
		return uri, fmt.Errorf("%w: %q needs a trunk, and none is configured", ErrBadTarget, clip(dest))
	}
	uri = *u.trunk.Clone()
	uri.User = user
	return uri, nil
}

func allDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isE164 reports ^\+?[1-9]\d{1,14}$.
func isE164(s string) bool {
	s = strings.TrimPrefix(s, "+")
	return len(s) >= 2 && s[0] != '0' && allDigits(s, 2, 15)
}
