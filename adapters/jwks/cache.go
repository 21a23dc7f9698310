package jwks

import (
	"crypto"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

// tokenCache remembers tokens that passed every check, keyed by their
// SHA-256 (the tokens themselves are not kept), so that a client reusing its
// token for 15 minutes pays for one signature check, not one per request.
// It is bounded: when full, expired entries go first, then arbitrary ones.
type tokenCache struct {
	mu  sync.RWMutex
	max int
	m   map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	id      auth.Identity
	expires time.Time // exp plus leeway: the token is refused from then on
	// kid and key name the JWKS key that checked the signature; both are
	// empty for HS256.
	kid string
	key crypto.PublicKey
}

func newTokenCache(size int) *tokenCache {
	return &tokenCache{max: size, m: make(map[[sha256.Size]byte]cacheEntry)}
}

// get returns the identity of a cached token that is not expired at now and
// whose key current still accepts; otherwise it forgets the token.
func (c *tokenCache) get(sum [sha256.Size]byte, now time.Time, current func(kid string, key crypto.PublicKey) bool) (auth.Identity, bool) {
	c.mu.RLock()
	e, ok := c.m[sum]
	c.mu.RUnlock()
	if !ok {
		return auth.Identity{}, false
	}
	if !now.Before(e.expires) || !current(e.kid, e.key) {
		c.mu.Lock()
		delete(c.m, sum)
		c.mu.Unlock()
		return auth.Identity{}, false
	}
	return e.id, true
}

// put remembers a verified token, making room first when the cache is full.
func (c *tokenCache) put(sum [sha256.Size]byte, e cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[sum]; !ok && len(c.m) >= c.max {
		for k, old := range c.m {
			if !now.Before(old.expires) {
				delete(c.m, k)
			}
		}
		// Still full: drop a tenth, in map order, which is unspecified; the
		// next sweep then waits for another tenth of inserts.
		for k := range c.m {
			if len(c.m) < c.max-c.max/10 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[sum] = e
}

// len reports how many tokens are cached.
func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
