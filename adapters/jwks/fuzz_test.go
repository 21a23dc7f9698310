package jwks

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/domain/auth"
)

// FuzzVerify feeds any string to Verify in both modes at once (a JWKS with
// an Ed25519 and an ES256 key, and the HS256 secret), with and without the
// token cache. No input may panic; each is accepted with a user id or
// refused with ErrUnauthenticated and a reason, the same way by both
// verifiers, and no error repeats the token. The static seeds in
// testdata/fuzz/FuzzVerify include HS256 tokens for secret valid until 2099.
func FuzzVerify(f *testing.F) {
	ed, es := newKey(f, "EdDSA"), newKey(f, "ES256")
	s := newKeyServer(f, ed.jwk(f), es.jwk(f))
	cfg := Config{Secret: secret, UnknownKIDInterval: time.Hour}
	uncached := readyVerifier(f, s, Config{Secret: cfg.Secret, UnknownKIDInterval: cfg.UnknownKIDInterval, CacheSize: -1})
	cached := readyVerifier(f, s, cfg)

	now := time.Now()
	valid := claimsAt(now)
	hs := func(c jwt.MapClaims) string { return signWith(f, jwt.SigningMethodHS256, "", secret, c) }
	for _, tok := range []string{
		ed.sign(f, valid), es.sign(f, valid), hs(valid),
		ed.sign(f, claimsWith(now, map[string]any{"exp": now.Add(-time.Hour).Unix()})),
		ed.sign(f, claimsWith(now, map[string]any{"sub": nil, "id": nil})),
		ed.sign(f, claimsWith(now, map[string]any{"aud": []string{"x", origin}})),
		ed.sign(f, claimsWith(now, map[string]any{"sub": "u\x00", "name": strings.Repeat("n", 300)})),
		hs(claimsWith(now, map[string]any{"iss": "https://evil.example"})),
		signWith(f, jwt.SigningMethodHS256, ed.kid, ed.publicPEM(f), valid), // alg confusion
		reencode(f, ed.sign(f, valid), 0, map[string]any{"alg": "none"}),
		reencode(f, ed.sign(f, valid), 0, map[string]any{"kid": "unknown"}),
		reencode(f, hs(valid), 1, map[string]any{"sub": "someone-else"}),
		"", ".", "..", "a.b.c", "e30.e30.", "Bearer x", strings.Repeat("A", 20000),
	} {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		ctx := t.Context()
		id, err := uncached.Verify(ctx, token)
		id2, err2 := cached.Verify(ctx, token)
		id3, err3 := cached.Verify(ctx, token) // a cache hit when accepted
		if (err == nil) != (err2 == nil) || id != id2 || (err2 == nil) != (err3 == nil) || id2 != id3 {
			t.Fatalf("Verify(%.80q): uncached %v %v, cached %v %v then %v %v; want the same answer", token, id, err, id2, err2, id3, err3)
		}
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("Verify(%.80q) = %v, want ErrUnauthenticated", token, err)
			}
			if r := reasonOf(t, err); r == "" {
				t.Fatalf("Verify(%.80q) = %v without a reason", token, err)
			}
			if len(token) >= 16 && strings.Contains(err.Error(), token) {
				t.Fatalf("Verify error %q repeats the token", err)
			}
			return
		}
		if id.UserID == "" {
			t.Fatalf("Verify(%.80q) accepted an identity without a user id", token)
		}
		if strings.Count(token, ".") != 2 {
			t.Fatalf("Verify(%.80q) accepted something that is not a JWS compact token", token)
		}
	})
}
