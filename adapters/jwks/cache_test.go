package jwks

import (
	"crypto"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

func always(string, crypto.PublicKey) bool { return true }

func TestTokenCache(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(10)
	sum := sha256.Sum256([]byte("token"))
	id := auth.Identity{UserID: "u1"}
	c.put(sum, cacheEntry{id: id, expires: now.Add(time.Minute)}, now)

	if got, ok := c.get(sum, now, always); !ok || got != id {
		t.Errorf("get() = %+v, %v, want %+v, true", got, ok, id)
	}
	if _, ok := c.get(sha256.Sum256([]byte("other")), now, always); ok {
		t.Errorf("get(unknown token) hit, want miss")
	}
	if _, ok := c.get(sum, now, func(string, crypto.PublicKey) bool { return false }); ok {
		t.Errorf("get() with its key withdrawn hit, want miss")
	}
	if n := c.len(); n != 0 {
		t.Errorf("len() after a withdrawn key = %d, want 0 (entry forgotten)", n)
	}

	c.put(sum, cacheEntry{id: id, expires: now.Add(time.Minute)}, now)
	if _, ok := c.get(sum, now.Add(time.Minute), always); ok {
		t.Errorf("get() at expiry hit, want miss")
	}
	if n := c.len(); n != 0 {
		t.Errorf("len() after expiry = %d, want 0", n)
	}
}

func TestTokenCacheBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(10)
	for i := range 100 {
		c.put(sha256.Sum256(fmt.Appendf(nil, "token %d", i)), cacheEntry{expires: now.Add(time.Hour)}, now)
		if n := c.len(); n > 10 {
			t.Fatalf("len() after %d puts = %d, want at most 10", i+1, n)
		}
	}
	last := sha256.Sum256([]byte("token 99"))
	if _, ok := c.get(last, now, always); !ok {
		t.Errorf("get(latest token) missed, want hit")
	}

	// Expired entries make room before live ones are dropped.
	c = newTokenCache(3)
	c.put(sha256.Sum256([]byte("old")), cacheEntry{expires: now.Add(time.Second)}, now)
	c.put(sha256.Sum256([]byte("a")), cacheEntry{expires: now.Add(time.Hour)}, now)
	c.put(sha256.Sum256([]byte("b")), cacheEntry{expires: now.Add(time.Hour)}, now)
	later := now.Add(time.Minute)
	c.put(sha256.Sum256([]byte("c")), cacheEntry{expires: later.Add(time.Hour)}, later)
	for _, k := range []string{"a", "b", "c"} {
		if _, ok := c.get(sha256.Sum256([]byte(k)), later, always); !ok {
			t.Errorf("get(%q) missed after the expired entry was swept, want hit", k)
		}
	}
}
