package siptest

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// digestChallenge returns a WWW-/Proxy-Authenticate value with a fresh nonce.
func digestChallenge(realm string) (value, nonce string) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	nonce = hex.EncodeToString(b[:])
	return `Digest realm="` + realm + `", nonce="` + nonce + `", algorithm=MD5, qop="auth"`, nonce
}

// parseDigest reads the key=value pairs of a Digest credentials header.
func parseDigest(v string) map[string]string {
	out := map[string]string{}
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:7], "digest ") {
		return out
	}
	rest := v[7:]
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, r, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		r = strings.TrimSpace(r)
		var val string
		if strings.HasPrefix(r, `"`) {
			end := strings.IndexByte(r[1:], '"')
			if end < 0 {
				break
			}
			val, rest = r[1:1+end], r[2+end:]
		} else {
			val, rest, _ = strings.Cut(r, ",")
			val = strings.TrimSpace(val)
		}
		out[k] = val
	}
	return out
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// digestValid checks credentials against user/password for method, with the
// nonces this phone issued (RFC 2617, MD5, qop auth or none).
func digestValid(hdr, method, user, password string, nonceOK func(string) bool) bool {
	c := parseDigest(hdr)
	if c["username"] != user || !nonceOK(c["nonce"]) {
		return false
	}
	ha1 := md5hex(user + ":" + c["realm"] + ":" + password)
	ha2 := md5hex(method + ":" + c["uri"])
	want := md5hex(ha1 + ":" + c["nonce"] + ":" + ha2)
	if c["qop"] != "" {
		want = md5hex(ha1 + ":" + c["nonce"] + ":" + c["nc"] + ":" + c["cnonce"] + ":" + c["qop"] + ":" + ha2)
	}
	return c["response"] == want
}
