package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"

	"github.com/labstack/echo/v4"
)

// HeaderAPIKey is the request header carrying the API key (SPEC §3).
const HeaderAPIKey = "x-credential-api-key"

// ownerKey is where auth stores the owner id in the echo context.
const ownerKey = "dialflow.owner"

// OwnerID is the stable owner id of an API key: what the store keeps instead
// of the key itself. Wiring code uses it to find the key of a request's owner
// (for example to sign its webhooks).
func OwnerID(key string) string {
	sum := sha256.Sum256([]byte("dialflow owner\x00" + key))
	return "key_" + hex.EncodeToString(sum[:12])
}

// keyring holds the digests of the accepted keys.
type keyring struct {
	digests [][sha256.Size]byte
	owners  []string
}

func newKeyring(keys []string) keyring {
	var k keyring
	for _, key := range keys {
		k.digests = append(k.digests, sha256.Sum256([]byte(key)))
		k.owners = append(k.owners, OwnerID(key))
	}
	return k
}

// lookup returns the owner of key. It compares fixed-size digests in
// constant time and always visits every configured key, so neither the
// length of a key nor which key matched shows in the timing.
func (k keyring) lookup(key string) (string, bool) {
	d := sha256.Sum256([]byte(key))
	found := -1
	for i := range k.digests {
		if subtle.ConstantTimeCompare(d[:], k.digests[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return k.owners[found], true
}

// auth rejects requests without a known x-credential-api-key with 401 and
// records the owner for the handler.
func (s *Server) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get(HeaderAPIKey)
		if key == "" {
			return fail(http.StatusUnauthorized, "missing %s header", HeaderAPIKey)
		}
		owner, ok := s.keys.lookup(key)
		if !ok {
			return fail(http.StatusUnauthorized, "unknown API key in %s header", HeaderAPIKey)
		}
		c.Set(ownerKey, owner)
		return next(c)
	}
}

// owner returns the owner id auth stored for this request.
func owner(c echo.Context) string {
	o, _ := c.Get(ownerKey).(string)
	return o
}
