package jwks

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/domain/auth"
)

var secret = []byte("development-secret-at-least-32-bytes-long")

var wantIdentity = auth.Identity{
	UserID: "u_1234567890abcdef1234567890abcd",
	Email:  "ada@example.com",
	Name:   "Ada",
}

// TestVerifyJWKS runs RFC 8725's attacks and the claim checks against every
// algorithm Better Auth can sign with.
func TestVerifyJWKS(t *testing.T) {
	t.Parallel()
	for _, alg := range asymmetric {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			k := newKey(t, alg)
			other := newKey(t, alg) // a second Better Auth instance, same kid
			other.kid = k.kid
			s := newKeyServer(t, k.jwk(t))
			v := readyVerifier(t, s, Config{CacheSize: -1})
			now := time.Now()
			valid := k.sign(t, claimsAt(now))
			another := k.sign(t, claimsWith(now, map[string]any{"sub": "someone-else", "id": "someone-else"}))

			none := jwt.NewWithClaims(jwt.SigningMethodNone, claimsAt(now))
			none.Header["kid"] = k.kid
			noneToken, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			otherAlg := map[string]string{"EdDSA": "ES256", "ES256": "ES512", "ES512": "ES256", "PS256": "RS256", "RS256": "PS256"}[alg]

			tests := []struct {
				name  string
				token string
				want  string // reason, "" for accepted
			}{
				{"valid", valid, ""},
				{"id without sub", k.sign(t, claimsWith(now, map[string]any{"sub": nil})), ""},
				{"neither sub nor id", k.sign(t, claimsWith(now, map[string]any{"sub": nil, "id": nil})), "missing subject"},
				{"alg none", noneToken, "algorithm not allowed"},
				{"HS256 with the public key as secret", signWith(t, jwt.SigningMethodHS256, k.kid, k.publicPEM(t), claimsAt(now)), "algorithm not allowed"},
				{"HS512", signWith(t, jwt.SigningMethodHS512, k.kid, secret, claimsAt(now)), "algorithm not allowed"},
				{"tampered payload", reencode(t, valid, 1, map[string]any{"sub": "attacker", "id": "attacker"}), "bad signature"},
				{"swapped signature", strings.Join(append(strings.Split(valid, ".")[:2], strings.Split(another, ".")[2]), "."), "bad signature"},
				{"empty signature", strings.Join(append(strings.Split(valid, ".")[:2], ""), "."), "bad signature"},
				{"signed by another instance, same kid", other.sign(t, claimsAt(now)), "bad signature"},
				{"signed by another instance, its kid", signWith(t, k.method, randomKID(t), other.priv, claimsAt(now)), "unknown kid"},
				{"alg relabelled " + otherAlg, reencode(t, valid, 0, map[string]any{"alg": otherAlg}), "key does not match algorithm"},
				{"expired", k.sign(t, claimsWith(now, map[string]any{"iat": now.Add(-20 * time.Minute).Unix(), "exp": now.Add(-5 * time.Minute).Unix()})), "expired"},
				{"expired within leeway", k.sign(t, claimsWith(now, map[string]any{"exp": now.Add(-10 * time.Second).Unix()})), ""},
				{"no exp", k.sign(t, claimsWith(now, map[string]any{"exp": nil})), "missing required claim"},
				{"iat in the future", k.sign(t, claimsWith(now, map[string]any{"iat": now.Add(5 * time.Minute).Unix()})), "issued in the future"},
				{"iat within leeway", k.sign(t, claimsWith(now, map[string]any{"iat": now.Add(10 * time.Second).Unix()})), ""},
				{"nbf in the future", k.sign(t, claimsWith(now, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()})), "not yet valid"},
				{"wrong iss", k.sign(t, claimsWith(now, map[string]any{"iss": "https://evil.example"})), "wrong issuer"},
				{"no iss", k.sign(t, claimsWith(now, map[string]any{"iss": nil})), "missing required claim"},
				{"wrong aud", k.sign(t, claimsWith(now, map[string]any{"aud": "https://evil.example"})), "wrong audience"},
				{"aud as a list", k.sign(t, claimsWith(now, map[string]any{"aud": []string{"x", origin}})), ""},
				{"no aud", k.sign(t, claimsWith(now, map[string]any{"aud": nil})), "missing required claim"},
				{"no kid", signWith(t, k.method, "", k.priv, claimsAt(now)), "missing kid"},
				{"not a JWT", "not-a-jwt", "malformed"},
				{"bad base64", "a.b.c", "malformed"},
				{"sub not a string", k.sign(t, claimsWith(now, map[string]any{"sub": 42})), "malformed"},
			}
			for _, tt := range tests {
				id, err := v.Verify(t.Context(), tt.token)
				if got := reasonOf(t, err); got != tt.want {
					t.Errorf("%s: Verify() reason = %q, want %q", tt.name, got, tt.want)
					continue
				}
				if want := wantIdentity; tt.want == "" && withoutExpiry(id) != want {
					t.Errorf("%s: Verify() = %+v, want %+v", tt.name, id, want)
				}
				if err != nil && strings.Contains(err.Error(), tt.token) {
					t.Errorf("%s: error %q contains the token", tt.name, err)
				}
			}
		})
	}
}

// TestKeyTypeMustMatchAlg publishes keys whose type, alg or use do not fit
// the token that names them.
func TestKeyTypeMustMatchAlg(t *testing.T) {
	t.Parallel()
	rsaKey := newKey(t, "RS256")
	ecKey := newKey(t, "ES256")
	edKey := newKey(t, "EdDSA")
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakKey := testKey{alg: "RS256", kid: "weak", priv: weak, method: jwt.SigningMethodRS256}
	symKey := []byte("a-symmetric-key-that-is-32-bytes!")
	sym, _ := json.Marshal(map[string]string{"kty": "oct", "kid": "sym", "alg": "HS256", "k": "YS1zeW1tZXRyaWMta2V5LXRoYXQtaXMtMzItYnl0ZXMh"})
	s := newKeyServer(t,
		edit(t, rsaKey.jwk(t), map[string]any{"alg": nil}),
		edit(t, ecKey.jwk(t), map[string]any{"alg": nil}),
		edit(t, edKey.jwk(t), map[string]any{"use": "enc"}),
		weakKey.jwk(t),
		sym,
	)
	now := time.Now()
	c := claimsAt(now)

	tests := []struct {
		name   string
		secret []byte // both modes when set
		token  string
		want   string
	}{
		{"RSA key without alg, RS256", nil, rsaKey.sign(t, c), ""},
		{"RSA key without alg, ES256 header", nil, signWith(t, jwt.SigningMethodES256, rsaKey.kid, ecKey.priv, c), "key does not match algorithm"},
		{"RSA key without alg, EdDSA header", nil, signWith(t, jwt.SigningMethodEdDSA, rsaKey.kid, edKey.priv, c), "key does not match algorithm"},
		{"P-256 key without alg, ES256", nil, ecKey.sign(t, c), ""},
		{"P-256 key, ES512 header", nil, reencode(t, ecKey.sign(t, c), 0, map[string]any{"alg": "ES512"}), "key does not match algorithm"},
		{"P-256 key, RS256 header", nil, signWith(t, jwt.SigningMethodRS256, ecKey.kid, rsaKey.priv, c), "key does not match algorithm"},
		{"key published for encryption", nil, edKey.sign(t, c), "key does not match algorithm"},
		{"RSA key under 2048 bits", nil, weakKey.sign(t, c), "key does not match algorithm"},
		{"oct key, HS256", nil, signWith(t, jwt.SigningMethodHS256, "sym", symKey, c), "algorithm not allowed"},
		{"oct key, HS256, both modes", secret, signWith(t, jwt.SigningMethodHS256, "sym", symKey, c), "bad signature"},
		{"oct key, EdDSA header", nil, signWith(t, jwt.SigningMethodEdDSA, "sym", edKey.priv, c), "key does not match algorithm"},
	}
	jwksOnly := readyVerifier(t, s, Config{CacheSize: -1})
	both := readyVerifier(t, s, Config{CacheSize: -1, Secret: secret})
	for _, tt := range tests {
		v := jwksOnly
		if tt.secret != nil {
			v = both
		}
		_, err := v.Verify(t.Context(), tt.token)
		if got := reasonOf(t, err); got != tt.want {
			t.Errorf("%s: Verify() reason = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSecretMode(t *testing.T) {
	t.Parallel()
	now := time.Now()
	rs := newKey(t, "RS256")
	good, err := SignHS256(secret, wantIdentity, 15*time.Minute, now, origin, origin)
	if err != nil {
		t.Fatal(err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claimsAt(now))
	noneToken, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	noIssuer, err := SignHS256(secret, auth.Identity{UserID: "u1"}, time.Minute, now, "", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"valid", good, ""},
		{"Better Auth shaped", signWith(t, jwt.SigningMethodHS256, "", secret, claimsAt(now)), ""},
		{"wrong secret", signWith(t, jwt.SigningMethodHS256, "", []byte("another-secret-of-at-least-32-bytes!!"), claimsAt(now)), "bad signature"},
		{"alg none", noneToken, "algorithm not allowed"},
		{"RS256", rs.sign(t, claimsAt(now)), "algorithm not allowed"},
		{"HS512 with the secret", signWith(t, jwt.SigningMethodHS512, "", secret, claimsAt(now)), "algorithm not allowed"},
		{"expired", signWith(t, jwt.SigningMethodHS256, "", secret, claimsWith(now, map[string]any{"exp": now.Add(-time.Hour).Unix()})), "expired"},
		{"no iss", noIssuer, "missing required claim"},
	}
	v := newVerifier(t, Config{Secret: secret, Issuer: origin, Audience: origin, CacheSize: -1})
	if !v.Ready() {
		t.Errorf("Ready() = false in secret mode, want true")
	}
	for _, tt := range tests {
		id, err := v.Verify(t.Context(), tt.token)
		if got := reasonOf(t, err); got != tt.want {
			t.Errorf("%s: Verify() reason = %q, want %q", tt.name, got, tt.want)
		}
		if want := wantIdentity; tt.want == "" && withoutExpiry(id) != want {
			t.Errorf("%s: Verify() = %+v, want %+v", tt.name, id, want)
		}
	}
}

func TestHS256RefusedInJWKSMode(t *testing.T) {
	t.Parallel()
	k := newKey(t, "EdDSA")
	v := readyVerifier(t, newKeyServer(t, k.jwk(t)), Config{})
	token, err := SignHS256(secret, wantIdentity, time.Minute, time.Now(), origin, origin)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), token)
	if got := reasonOf(t, err); got != "algorithm not allowed" {
		t.Errorf("Verify(HS256 token) reason = %q, want %q", got, "algorithm not allowed")
	}
}

// TestBothModes checks that each source only accepts its own algorithms,
// and that HS256 keeps working while the JWKS was never loaded.
func TestBothModes(t *testing.T) {
	t.Parallel()
	k := newKey(t, "EdDSA")
	s := newKeyServer(t, k.jwk(t))
	s.answer(http.StatusServiceUnavailable, []byte(`{"error":"starting"}`))
	v := newVerifier(t, Config{JWKSURL: s.URL, Secret: secret, Issuer: origin, Audience: origin, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond})
	now := time.Now()
	hs, err := SignHS256(secret, wantIdentity, time.Minute, now, origin, origin)
	if err != nil {
		t.Fatal(err)
	}
	ed := k.sign(t, claimsAt(now))
	confused := signWith(t, jwt.SigningMethodHS256, k.kid, k.publicPEM(t), claimsAt(now))

	if _, err := v.Verify(t.Context(), hs); err != nil {
		t.Errorf("Verify(HS256) before keys = %v, want nil", err)
	}
	if _, err := v.Verify(t.Context(), ed); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Verify(EdDSA) before keys = %v, want ErrUnavailable", err)
	}

	s.publish(t, k.jwk(t))
	waitReady(t, v)
	for name, tt := range map[string]struct {
		token, want string
	}{
		"HS256":                        {hs, ""},
		"EdDSA":                        {ed, ""},
		"HS256 with public key secret": {confused, "bad signature"},
	} {
		_, err := v.Verify(t.Context(), tt.token)
		if got := reasonOf(t, err); got != tt.want {
			t.Errorf("%s: Verify() reason = %q, want %q", name, got, tt.want)
		}
	}
}

// TestUnknownKIDRefreshesOnce: with one unknown-kid fetch an hour, a second
// unknown kid gets 401 at once: it does not wait an hour, nor fetch.
func TestUnknownKIDRefreshesOnce(t *testing.T) {
	t.Parallel()
	k := newKey(t, "EdDSA")
	s := newKeyServer(t, k.jwk(t))
	v := readyVerifier(t, s, Config{UnknownKIDInterval: time.Hour, UnknownKIDBurst: 1})
	if got := s.hits.Load(); got != 1 {
		t.Fatalf("JWKS requests after start = %d, want 1", got)
	}
	stranger := newKey(t, "EdDSA")
	for i, want := range []int64{2, 2} { // the second is rate-limited
		_, err := v.Verify(t.Context(), stranger.sign(t, claimsAt(time.Now())))
		if got := reasonOf(t, err); got != "unknown kid" {
			t.Errorf("Verify(unknown kid) #%d reason = %q, want %q", i+1, got, "unknown kid")
		}
		if got := s.hits.Load(); got != want {
			t.Errorf("JWKS requests after unknown kid #%d = %d, want %d", i+1, got, want)
		}
	}
}

func TestUnknownKIDFlood(t *testing.T) {
	t.Parallel()
	k := newKey(t, "EdDSA")
	s := newKeyServer(t, k.jwk(t))
	v := readyVerifier(t, s, Config{UnknownKIDInterval: time.Hour, UnknownKIDBurst: 1})
	stranger := newKey(t, "EdDSA")
	now := time.Now()
	tokens := make([]string, 100)
	for i := range tokens {
		stranger.kid = randomKID(t)
		tokens[i] = stranger.sign(t, claimsAt(now))
	}

	var wg sync.WaitGroup
	reasons := make([]string, len(tokens))
	for w := range 10 {
		wg.Go(func() {
			for i := w; i < len(tokens); i += 10 {
				_, err := v.Verify(t.Context(), tokens[i])
				var re *auth.ReasonError
				if errors.As(err, &re) {
					reasons[i] = re.Reason
				} else {
					reasons[i] = fmt.Sprint(err)
				}
			}
		})
	}
	wg.Wait()
	for i, r := range reasons {
		if r != "unknown kid" {
			t.Errorf("Verify(random kid #%d) = %q, want unknown kid", i, r)
		}
	}
	if got := s.hits.Load(); got > 2 {
		t.Errorf("JWKS requests after 100 random kids = %d, want at most 2 (start + one refresh)", got)
	}
	if _, err := v.Verify(t.Context(), k.sign(t, claimsAt(now))); err != nil {
		t.Errorf("Verify(valid) after the flood = %v, want nil", err)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, nextKey := newKey(t, "EdDSA"), newKey(t, "EdDSA")
	s := newKeyServer(t, oldKey.jwk(t))
	v := readyVerifier(t, s, Config{UnknownKIDInterval: time.Nanosecond})
	now := time.Now()
	oldToken := oldKey.sign(t, claimsAt(now))
	if _, err := v.Verify(t.Context(), oldToken); err != nil {
		t.Fatalf("Verify(old kid) = %v, want nil", err)
	}

	// Better Auth rotates: the new key signs, the old one stays published.
	s.publish(t, nextKey.jwk(t), oldKey.jwk(t))
	before := s.hits.Load()
	if _, err := v.Verify(t.Context(), nextKey.sign(t, claimsAt(now))); err != nil {
		t.Errorf("Verify(new kid) = %v, want nil", err)
	}
	if got := s.hits.Load() - before; got != 1 {
		t.Errorf("JWKS requests for the new kid = %d, want 1", got)
	}
	fresh := oldKey.sign(t, claimsWith(now, map[string]any{"iat": now.Add(-time.Second).Unix()}))
	if _, err := v.Verify(t.Context(), fresh); err != nil {
		t.Errorf("Verify(old kid, still published) = %v, want nil", err)
	}
	if got := s.hits.Load() - before; got != 1 {
		t.Errorf("JWKS requests after the old kid = %d, want still 1", got)
	}

	// The grace period ends: the old key leaves the JWKS. Once a refresh has
	// seen that, even the cached old token is refused.
	s.publish(t, nextKey.jwk(t))
	stranger := newKey(t, "EdDSA")
	if _, err := v.Verify(t.Context(), stranger.sign(t, claimsAt(now))); reasonOf(t, err) != "unknown kid" {
		t.Fatalf("Verify(stranger) = %v, want unknown kid", err)
	}
	if _, err := v.Verify(t.Context(), oldToken); reasonOf(t, err) != "unknown kid" {
		t.Errorf("Verify(cached token of a withdrawn kid) = %v, want unknown kid", err)
	}
	if _, err := v.Verify(t.Context(), nextKey.sign(t, claimsAt(now))); err != nil {
		t.Errorf("Verify(new kid) after the old left = %v, want nil", err)
	}
}

// TestPeriodicRefresh checks that the timed refresh alone withdraws a key,
// cached tokens included.
func TestPeriodicRefresh(t *testing.T) {
	t.Parallel()
	a, b := newKey(t, "ES256"), newKey(t, "ES256")
	s := newKeyServer(t, a.jwk(t))
	v := readyVerifier(t, s, Config{RefreshInterval: 5 * time.Millisecond, UnknownKIDInterval: time.Hour})
	token := a.sign(t, claimsAt(time.Now()))
	if _, err := v.Verify(t.Context(), token); err != nil {
		t.Fatalf("Verify() = %v, want nil", err)
	}
	s.publish(t, b.jwk(t))
	s.drain()
	s.waitHits(t, 2) // the refresh goroutine is sequential: the first has been applied
	if _, err := v.Verify(t.Context(), token); reasonOf(t, err) != "unknown kid" {
		t.Errorf("Verify(token of a withdrawn key) = %v, want unknown kid", err)
	}
	if _, err := v.Verify(t.Context(), b.sign(t, claimsAt(time.Now()))); err != nil {
		t.Errorf("Verify(new key) = %v, want nil", err)
	}
}

// TestJWKSDownAtStart: the service starts without Better Auth, answers
// "unavailable" (503) for asymmetric tokens, and recovers by itself.
func TestJWKSDownAtStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"503", http.StatusServiceUnavailable, `{"error":"down"}`},
		{"garbage", http.StatusOK, `<html>proxy error</html>`},
		{"no keys yet", http.StatusOK, `{"keys":[]}`},
		{"invalid key", http.StatusOK, `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"!!"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKey(t, "EdDSA")
			s := newKeyServer(t)
			s.answer(tt.status, []byte(tt.body))
			v := newVerifier(t, Config{JWKSURL: s.URL, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
			s.waitHits(t, 3) // it keeps trying
			if v.Ready() {
				t.Errorf("Ready() = true before any key was fetched")
			}
			token := k.sign(t, claimsAt(time.Now()))
			_, err := v.Verify(t.Context(), token)
			if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("Verify() before keys = %v, want ErrUnavailable only", err)
			}

			s.publish(t, k.jwk(t))
			waitReady(t, v)
			if _, err := v.Verify(t.Context(), token); err != nil {
				t.Errorf("Verify() once keys are loaded = %v, want nil", err)
			}
		})
	}
}

func TestJWKSUnreachableAtStart(t *testing.T) {
	t.Parallel()
	s := newKeyServer(t)
	url := s.URL
	s.Close() // nothing listens there any more
	errs := make(chan error, 100)
	v := newVerifier(t, Config{JWKSURL: url, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, OnRefreshError: func(err error) {
		select {
		case errs <- err:
		default:
		}
	}})
	for range 3 {
		select {
		case <-errs:
		case <-time.After(10 * time.Second):
			t.Fatal("no fetch error reported in 10s")
		}
	}
	k := newKey(t, "EdDSA")
	if _, err := v.Verify(t.Context(), k.sign(t, claimsAt(time.Now()))); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Verify() with Better Auth unreachable = %v, want ErrUnavailable", err)
	}
	if v.Ready() {
		t.Errorf("Ready() = true, want false")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := v.WaitReady(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitReady(cancelled) = %v, want context.Canceled", err)
	}
}

// TestVerifyCancelled: a request that goes away while its unknown kid
// waits for a refresh gets the context's error, not a verdict on the token.
func TestVerifyCancelled(t *testing.T) {
	t.Parallel()
	k := newKey(t, "EdDSA")
	v := readyVerifier(t, newKeyServer(t, k.jwk(t)), Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	stranger := newKey(t, "EdDSA")
	_, err := v.Verify(ctx, stranger.sign(t, claimsAt(time.Now())))
	if !errors.Is(err, context.Canceled) || errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Verify(cancelled, unknown kid) = %v, want context.Canceled", err)
	}
	if _, err := v.Verify(ctx, k.sign(t, claimsAt(time.Now()))); err != nil {
		t.Errorf("Verify(cancelled, known kid) = %v, want nil", err)
	}
}

// TestJWKSDownAfterFirstFetch: once keys are cached, an outage or a broken
// answer changes nothing for valid tokens.
func TestJWKSDownAfterFirstFetch(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]func(*keyServer){
		"503":     func(s *keyServer) { s.answer(http.StatusServiceUnavailable, nil) },
		"garbage": func(s *keyServer) { s.answer(http.StatusOK, []byte(`{"keys": "no"}`)) },
		"gone":    func(s *keyServer) { s.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k := newKey(t, "RS256")
			s := newKeyServer(t, k.jwk(t))
			errs := make(chan error, 100)
			v := readyVerifier(t, s, Config{CacheSize: -1, RefreshInterval: 5 * time.Millisecond, OnRefreshError: func(err error) {
				select {
				case errs <- err:
				default:
				}
			}})
			answer(s)
			for range 2 {
				select {
				case <-errs:
				case <-time.After(10 * time.Second):
					t.Fatal("no refresh error reported in 10s")
				}
			}
			if !v.Ready() {
				t.Errorf("Ready() = false after an outage, want true")
			}
			if _, err := v.Verify(t.Context(), k.sign(t, claimsAt(time.Now()))); err != nil {
				t.Errorf("Verify(valid) during the outage = %v, want nil", err)
			}
			stranger := newKey(t, "EdDSA")
			if _, err := v.Verify(t.Context(), stranger.sign(t, claimsAt(time.Now()))); reasonOf(t, err) != "unknown kid" {
				t.Errorf("Verify(unknown kid) during the outage = %v, want unknown kid", err)
			}
		})
	}
}

func TestCachedTokenExpires(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	for _, mode := range []string{"jwks", "secret"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: clock.Now()}
			k := newKey(t, "EdDSA")
			cfg := Config{Secret: secret, Issuer: origin, Audience: origin, now: clock.Now}
			var token string
			if mode == "jwks" {
				s := newKeyServer(t, k.jwk(t))
				cfg.JWKSURL = s.URL
				token = k.sign(t, claimsAt(clock.Now()))
			} else {
				token = signWith(t, jwt.SigningMethodHS256, "", secret, claimsAt(clock.Now()))
			}
			v := newVerifier(t, cfg)
			waitReady(t, v)
			if _, err := v.Verify(t.Context(), token); err != nil {
				t.Fatalf("Verify() = %v, want nil", err)
			}
			if n := v.cache.len(); n != 1 {
				t.Fatalf("cache holds %d tokens, want 1", n)
			}
			clock.Add(15*time.Minute + DefaultLeeway - time.Second)
			if _, err := v.Verify(t.Context(), token); err != nil {
				t.Errorf("Verify() just before exp+leeway = %v, want nil", err)
			}
			clock.Add(time.Second)
			if _, err := v.Verify(t.Context(), token); reasonOf(t, err) != "expired" {
				t.Errorf("Verify() at exp+leeway = %v, want expired", err)
			}
		})
	}
}

func TestLeeway(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		leeway  time.Duration
		expired time.Duration // how long ago the token expired
		want    string
	}{
		{0, 20 * time.Second, ""}, // default 30 s
		{0, 40 * time.Second, "expired"},
		{10 * time.Minute, 50 * time.Second, ""}, // capped at 60 s
		{10 * time.Minute, 90 * time.Second, "expired"},
		{-1, 2 * time.Second, "expired"}, // none
	}
	for _, tt := range tests {
		v := newVerifier(t, Config{Secret: secret, Leeway: tt.leeway, CacheSize: -1})
		token := signWith(t, jwt.SigningMethodHS256, "", secret, claimsWith(now, map[string]any{
			"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-tt.expired).Unix(),
		}))
		_, err := v.Verify(t.Context(), token)
		if got := reasonOf(t, err); got != tt.want {
			t.Errorf("Leeway %v, expired %v ago: Verify() reason = %q, want %q", tt.leeway, tt.expired, got, tt.want)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"nothing":      {},
		"short secret": {Secret: []byte("short")},
		"relative URL": {JWKSURL: "/api/auth/jwks"},
		"not http":     {JWKSURL: "ftp://example.com/jwks"},
	} {
		if v, err := New(t.Context(), cfg); err == nil {
			v.Close()
			t.Errorf("New(%s) = nil error, want one", name)
		}
	}
}

// TestCloseStopsBackground checks Close returns while Better Auth is down
// (the retry loop ends), and that loaded keys keep working after it.
func TestCloseStopsBackground(t *testing.T) {
	t.Parallel()
	down := newKeyServer(t)
	down.answer(http.StatusBadGateway, nil)
	v, err := New(context.Background(), Config{JWKSURL: down.URL, RetryMin: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	down.waitHits(t, 2)
	v.Close()
	v.Close()

	ctx, cancel := context.WithCancel(t.Context())
	k := newKey(t, "EdDSA")
	s := newKeyServer(t, k.jwk(t))
	v, err = New(ctx, Config{JWKSURL: s.URL, RefreshInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, v)
	cancel()
	v.Close()
	if _, err := v.Verify(t.Context(), k.sign(t, claimsAt(time.Now()))); err != nil {
		t.Errorf("Verify() after Close = %v, want nil", err)
	}
}

func TestSignHS256Refuses(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for name, f := range map[string]func() (string, error){
		"short secret": func() (string, error) { return SignHS256([]byte("x"), wantIdentity, time.Minute, now, "", "") },
		"no user":      func() (string, error) { return SignHS256(secret, auth.Identity{}, time.Minute, now, "", "") },
		"no ttl":       func() (string, error) { return SignHS256(secret, wantIdentity, 0, now, "", "") },
	} {
		if _, err := f(); err == nil {
			t.Errorf("SignHS256(%s) = nil error, want one", name)
		}
	}
}

// withoutExpiry is id with no Expires, for the cases whose tokens expire at
// various times (TestIdentityExpires checks it).
func withoutExpiry(id auth.Identity) auth.Identity {
	id.Expires = time.Time{}
	return id
}

// TestIdentityExpires: the identity says when its token expires (its exp
// claim), from a fresh verification and from the cache, so that a stream of
// live events can end then; a token without exp says nothing.
func TestIdentityExpires(t *testing.T) {
	t.Parallel()
	now := time.Now()
	v := newVerifier(t, Config{Secret: secret})
	tok, err := SignHS256(secret, wantIdentity, 15*time.Minute, now, "", "")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Unix(now.Add(15*time.Minute).Unix(), 0).UTC()
	for _, pass := range []string{"fresh", "cached"} {
		id, err := v.Verify(t.Context(), tok)
		if err != nil {
			t.Fatalf("%s: Verify: %v", pass, err)
		}
		if !id.Expires.Equal(want) {
			t.Errorf("%s: Expires = %v, want %v", pass, id.Expires, want)
		}
	}
}
