package reliability

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/adapters/jwks"
)

// TestKeyRotation drives the binary in JWKS mode, with its default limits,
// through Better Auth rotating its signing key twice: once after a burst of
// tokens with unknown kids, once in the middle of a flood of them. Tokens of
// the new key must be accepted at their first request, never 401 (which
// signs the user out), while the JWKS fetches the flood causes stay within
// the bucket's bound (jwks.DefaultUnknownKIDBurst plus one per
// jwks.DefaultUnknownKIDInterval). A user whose key is known is served
// throughout.
func TestKeyRotation(t *testing.T) {
	heavy(t)
	t.Parallel()
	idp := newKeyIssuer(t)
	idp.rotate(t)
	a := startReady(t, "todo-api", "DATABASE_URL=memory:", "BETTER_AUTH_JWKS_URL="+idp.URL)
	c := newClient(a.URL, 30*time.Second)
	defer c.close()
	ctx := t.Context()
	u := idp.user(t)
	if o := c.do(ctx, http.MethodGet, u.tasks(), u.token, nil); o.status != http.StatusOK {
		t.Fatalf("request with the first key = %v, want 200", o)
	}

	// A burst of ten unknown kids, all at once.
	before := idp.hits.Load()
	var wg sync.WaitGroup
	for range 10 {
		token := idp.forged(t)
		wg.Go(func() {
			if o := c.do(ctx, http.MethodGet, u.tasks(), token, nil); o.status != http.StatusUnauthorized {
				t.Errorf("request with an unknown kid = %v, want 401", o)
			}
		})
	}
	wg.Wait()
	burstFetches := idp.hits.Load() - before
	idp.rotate(t)
	v := idp.user(t)
	afterBurst := c.do(ctx, http.MethodGet, v.tasks(), v.token, nil)
	if afterBurst.status != http.StatusOK {
		t.Errorf("first request with a key rotated after the burst = %v, want 200", afterBurst)
	}

	// A flood: clients send tokens with random kids back to back; half way,
	// Better Auth rotates again.
	const clients, floodFor = 100, 10 * time.Second
	before = idp.hits.Load()
	start := time.Now()
	stop := make(chan struct{})
	var sent, refused atomic.Int64
	for range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				o := c.do(ctx, http.MethodGet, u.tasks(), idp.forged(t), nil)
				sent.Add(1)
				if o.status == http.StatusUnauthorized {
					refused.Add(1)
				} else {
					t.Errorf("request with a random kid during the flood = %v, want 401", o)
				}
			}
		})
	}
	// A user whose key is known meanwhile, every 100 ms.
	var known []time.Duration
	var regular sync.WaitGroup
	regular.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			o := c.do(ctx, http.MethodGet, v.tasks(), v.token, nil)
			if o.status != http.StatusOK {
				t.Errorf("request with a known key during the flood = %v, want 200", o)
			}
			known = append(known, o.took)
		}
	})
	time.Sleep(floodFor / 2)
	idp.rotate(t)
	w := idp.user(t)
	inFlood := c.do(ctx, http.MethodGet, w.tasks(), w.token, nil)
	if inFlood.status != http.StatusOK {
		t.Errorf("first request with a key rotated during the flood = %v, want 200", inFlood)
	}
	time.Sleep(floodFor / 2)
	close(stop)
	flooded := time.Since(start)
	wg.Wait()
	regular.Wait()
	elapsed := time.Since(start)
	fetches := idp.hits.Load() - before
	// The bucket's guarantee over the time the flood lasted, plus the
	// periodic refreshes that can fall in it (one, unless it lasted longer
	// than jwks.DefaultRefreshInterval).
	bound := int64(jwks.DefaultUnknownKIDBurst) + int64(elapsed/jwks.DefaultUnknownKIDInterval) + 1 +
		int64(elapsed/jwks.DefaultRefreshInterval)
	if fetches > bound {
		t.Errorf("JWKS fetches during a %v flood = %d, want at most %d", elapsed.Round(time.Second), fetches, bound)
	}
	t.Logf("figures: key rotation: a burst of 10 unknown kids caused %d JWKS fetch(es); a key rotated after it was accepted at its first request, in %v",
		burstFetches, afterBurst.took.Round(time.Millisecond))
	t.Logf("figures: key rotation: flood of %d clients sending random kids back to back for %v (last answer after %v): %d requests, "+
		"%d answered 401, %d JWKS fetches (bound %d); a key rotated half way accepted at its first request, in %v; "+
		"a user with a known key served %d times, p50 %v, max %v",
		clients, flooded.Round(100*time.Millisecond), elapsed.Round(100*time.Millisecond), sent.Load(), refused.Load(), fetches, bound,
		inFlood.took.Round(time.Millisecond), len(known), percentile(known, 50).Round(time.Millisecond), percentile(known, 100).Round(time.Millisecond))
}

// keyIssuer plays Better Auth's JWKS endpoint: Ed25519 keys, the newest
// signing, every one still published, and a count of fetches.
type keyIssuer struct {
	*httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	keys []issuerKey // newest last
}

type issuerKey struct {
	kid  string
	priv ed25519.PrivateKey
}

func newKeyIssuer(t *testing.T) *keyIssuer {
	t.Helper()
	k := &keyIssuer{}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		k.hits.Add(1)
		k.mu.Lock()
		keys := make([]map[string]string, 0, len(k.keys))
		for _, key := range k.keys {
			keys = append(keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": key.kid,
				"x": base64.RawURLEncoding.EncodeToString(key.priv.Public().(ed25519.PublicKey))})
		}
		k.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(k.Close)
	return k
}

// rotate publishes a new key, which signs from now on.
func (k *keyIssuer) rotate(t *testing.T) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := issuerKey{kid: randomText(16), priv: priv}
	k.mu.Lock()
	k.keys = append(k.keys, key)
	k.mu.Unlock()
}

// user returns a fresh user with a token signed by the newest key.
func (k *keyIssuer) user(t *testing.T) user {
	t.Helper()
	k.mu.Lock()
	key := k.keys[len(k.keys)-1]
	k.mu.Unlock()
	id := "rel_" + randomText(12)
	return user{id: id, token: signEdDSA(t, key.kid, key.priv, id)}
}

// forged returns a token under a random kid that no key has.
func (k *keyIssuer) forged(t *testing.T) string {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	id := "rel_" + randomText(12)
	return signEdDSA(t, randomText(16), priv, id)
}

func signEdDSA(t *testing.T, kid string, priv ed25519.PrivateKey, id string) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"sub": id, "id": id, "email": id + "@example.test", "name": id,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Errorf("sign token: %v", err)
	}
	return s
}

func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
