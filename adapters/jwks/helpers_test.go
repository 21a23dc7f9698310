package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/domain/auth"
)

// origin plays BETTER_AUTH_URL: Better Auth puts it in both iss and aud.
const origin = "http://localhost:3000"

// testKey is a signing key as Better Auth's jwt plugin holds it.
type testKey struct {
	alg    string
	kid    string
	priv   crypto.Signer
	method jwt.SigningMethod
}

func newKey(t testing.TB, alg string) testKey {
	t.Helper()
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES512":
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "RS256", "PS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("newKey(%q): unknown alg", alg)
	}
	if err != nil {
		t.Fatalf("generate %s key: %v", alg, err)
	}
	return testKey{alg: alg, kid: randomKID(t), priv: priv, method: jwt.GetSigningMethod(alg)}
}

func randomKID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// jwk is the public key as Better Auth publishes it: kid, kty, alg, no use.
func (k testKey) jwk(t testing.TB) json.RawMessage {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(k.priv.Public(), jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.ALG(k.alg)},
	})
	if err != nil {
		t.Fatalf("JWK for %s key: %v", k.alg, err)
	}
	b, err := json.Marshal(j.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"use"`) {
		t.Fatalf("test JWK has a use member: %s", b)
	}
	return b
}

// edit returns raw with members set (nil deletes a member).
func edit(t testing.TB, raw json.RawMessage, members map[string]any) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range members {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publicPEM is the public key in the form an alg-confusion attacker would
// use as an HMAC secret.
func (k testKey) publicPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// sign makes a token with Better Auth's header: alg and kid, no typ.
func (k testKey) sign(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	return signWith(t, k.method, k.kid, k.priv, c)
}

func signWith(t testing.TB, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	delete(tok.Header, "typ")
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s token: %v", m.Alg(), err)
	}
	return s
}

// claimsAt is Better Auth's payload for a token issued at now.
func claimsAt(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub":           "u_1234567890abcdef1234567890abcd",
		"id":            "u_1234567890abcdef1234567890abcd",
		"email":         "ada@example.com",
		"name":          "Ada",
		"emailVerified": false,
		"createdAt":     now.Add(-time.Hour).Format(time.RFC3339Nano),
		"updatedAt":     now.Add(-time.Hour).Format(time.RFC3339Nano),
		"iat":           now.Unix(),
		"exp":           now.Add(15 * time.Minute).Unix(),
		"iss":           origin,
		"aud":           origin,
	}
}

func claimsWith(now time.Time, members map[string]any) jwt.MapClaims {
	c := claimsAt(now)
	for k, v := range members {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// segments edits a token's header or payload without re-signing it.
func reencode(t testing.TB, token string, part int, members map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[part])
	if err != nil {
		t.Fatal(err)
	}
	b := edit(t, raw, members)
	parts[part] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// keyServer is Better Auth's JWKS endpoint, which the test can change,
// break, and count requests to.
type keyServer struct {
	*httptest.Server
	hits atomic.Int64
	hit  chan struct{} // one value per request, dropped when full

	mu     sync.Mutex
	status int
	body   []byte
	gate   chan struct{} // when set, requests wait for it to close
}

func newKeyServer(t testing.TB, keys ...json.RawMessage) *keyServer {
	t.Helper()
	s := &keyServer{hit: make(chan struct{}, 1000)}
	s.publish(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		select {
		case s.hit <- struct{}{}:
		default:
		}
		s.mu.Lock()
		status, body, gate := s.status, s.body, s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *keyServer) publish(t testing.TB, keys ...json.RawMessage) {
	t.Helper()
	if keys == nil {
		keys = []json.RawMessage{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	s.answer(http.StatusOK, b)
}

func (s *keyServer) answer(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

// hold makes the requests that come from now on wait, each answering with
// the keys published when it came, until the returned release is called.
func (s *keyServer) hold(t testing.TB) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			s.mu.Lock()
			s.gate = nil
			s.mu.Unlock()
			close(gate)
		})
	}
	t.Cleanup(release)
	return release
}

// drain forgets the requests seen so far.
func (s *keyServer) drain() {
	for {
		select {
		case <-s.hit:
		default:
			return
		}
	}
}

// waitHits waits for n more requests.
func (s *keyServer) waitHits(t testing.TB, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-s.hit:
		case <-timeout:
			t.Fatalf("JWKS server: waited 10s for %d requests", n)
		}
	}
}

func newVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

func waitReady(t testing.TB, v *Verifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := v.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
}

// readyVerifier is a JWKS-mode Verifier for s, with keys loaded.
func readyVerifier(t testing.TB, s *keyServer, cfg Config) *Verifier {
	t.Helper()
	cfg.JWKSURL = s.URL
	if cfg.Issuer == "" {
		cfg.Issuer = origin
	}
	if cfg.Audience == "" {
		cfg.Audience = origin
	}
	v := newVerifier(t, cfg)
	waitReady(t, v)
	return v
}

// reasonOf returns the reason of an ErrUnauthenticated error, "" for nil,
// and fails the test for other errors.
func reasonOf(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var re *auth.ReasonError
	if !errors.Is(err, auth.ErrUnauthenticated) || !errors.As(err, &re) {
		t.Fatalf("error %v is not an auth.ReasonError", err)
	}
	return re.Reason
}

// fakeClock is a clock the test moves; Sleep waits until it has moved far
// enough.
type fakeClock struct {
	mu       sync.Mutex
	t        time.Time
	sleepers []sleeper
	// sleeping, when set, hears of each Sleep (dropped when full).
	sleeping chan time.Duration
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock and wakes the sleepers whose time has come.
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	kept := c.sleepers[:0]
	for _, s := range c.sleepers {
		if c.t.Before(s.until) {
			kept = append(kept, s)
		} else {
			close(s.wake)
		}
	}
	c.sleepers = kept
}

// Sleep is Config.sleep on this clock.
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	s := sleeper{until: c.t.Add(d), wake: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.mu.Unlock()
	if c.sleeping != nil {
		select {
		case c.sleeping <- d:
		default:
		}
	}
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pending reports how many sleepers wait for the clock.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// signRaw signs payload as it is, byte for byte (encoding/json would mend
// invalid UTF-8), under Better Auth's header: alg and kid.
func signRaw(t testing.TB, m jwt.SigningMethod, kid string, key any, payload []byte) string {
	t.Helper()
	header := map[string]string{"alg": m.Alg()}
	if kid != "" {
		header["kid"] = kid
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := m.Sign(signing, key)
	if err != nil {
		t.Fatalf("sign %s token: %v", m.Alg(), err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}
