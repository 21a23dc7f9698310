package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claimsFor returns Better Auth's payload for id, valid for an hour.
func claimsFor(id string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"sub": id, "id": id, "email": id + "@example.com", "name": "User " + id,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func with(c jwt.MapClaims, changes map[string]any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// TestUnauthenticated: every way a token can be missing or bad is 401 with
// WWW-Authenticate: Bearer and the plain detail body.
func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := newUserID(t)
	now := time.Now()
	good := claimsFor(id)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hs := func(c jwt.MapClaims) string { return e.forge(t, jwt.SigningMethodHS256, secret, c) }
	valid := hs(good)
	parts := strings.Split(valid, ".")
	otherPayload := strings.Split(hs(with(good, map[string]any{"sub": "u_admin", "id": "u_admin"})), ".")[1]

	tests := []struct {
		name          string
		authorization string // the whole header; "" sends none
	}{
		{"no header", ""},
		{"Basic scheme", "Basic dXNlcjpwYXNzd29yZA=="},
		{"token without scheme", valid},
		{"other scheme with a valid token", "Token " + valid},
		{"Bearer alone", "Bearer"},
		{"Bearer and spaces", "Bearer   "},
		{"not a JWT", "Bearer not-a-jwt"},
		{"three garbage parts", "Bearer a.b.c"},
		{"two parts", "Bearer " + parts[0] + "." + parts[1]},
		{"payload swapped", "Bearer " + parts[0] + "." + otherPayload + "." + parts[2]},
		{"signature stripped", "Bearer " + parts[0] + "." + parts[1] + "."},
		{"expired beyond 60 s leeway", "Bearer " + hs(with(good, map[string]any{"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-61 * time.Second).Unix()}))},
		{"expired long ago", "Bearer " + hs(with(good, map[string]any{"iat": now.Add(-48 * time.Hour).Unix(), "exp": now.Add(-24 * time.Hour).Unix()}))},
		{"no exp", "Bearer " + hs(with(good, map[string]any{"exp": nil}))},
		{"iat in the future", "Bearer " + hs(with(good, map[string]any{"iat": now.Add(5 * time.Minute).Unix()}))},
		{"nbf in the future", "Bearer " + hs(with(good, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}))},
		{"wrong secret", "Bearer " + e.forge(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef-0123456789"), good)},
		{"alg none", "Bearer " + e.forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good)},
		{"HS384 with the right secret", "Bearer " + e.forge(t, jwt.SigningMethodHS384, secret, good)},
		{"HS512 with the right secret", "Bearer " + e.forge(t, jwt.SigningMethodHS512, secret, good)},
		{"RS256", "Bearer " + e.forge(t, jwt.SigningMethodRS256, rsaKey, good)},
		{"ES256", "Bearer " + e.forge(t, jwt.SigningMethodES256, ecKey, good)},
		{"EdDSA", "Bearer " + e.forge(t, jwt.SigningMethodEdDSA, edKey, good)},
		{"no sub and no id", "Bearer " + hs(with(good, map[string]any{"sub": nil, "id": nil}))},
		{"empty sub and no id", "Bearer " + hs(with(good, map[string]any{"sub": "", "id": nil}))},
	}
	// The caller's own URL, so that only the token can be wrong.
	u := user{id: id}
	ops := []request{
		{method: http.MethodGet, path: u.tasks()},
		{method: http.MethodPost, path: u.tasks(), body: `{"title": "x"}`},
		{method: http.MethodGet, path: u.task(1)},
		{method: http.MethodPut, path: u.task(1), body: `{"title": "x"}`},
		{method: http.MethodPatch, path: u.complete(1)},
		{method: http.MethodDelete, path: u.task(1)},
	}
	for _, tt := range tests {
		for _, r := range ops {
			if tt.authorization != "" {
				r.header = http.Header{"Authorization": {tt.authorization}}
			}
			scheme, tok, _ := strings.Cut(tt.authorization, " ")
			r.outsideDoc = scheme != "Bearer" || strings.TrimSpace(tok) == ""
			res := e.do(t, r)
			what := r.method + " " + r.path + " with " + tt.name
			wantDetail(t, what, res, http.StatusUnauthorized, "")
			if got := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("%s: WWW-Authenticate = %q, want Bearer", what, got)
			}
		}
	}

	// The valid token itself gets in, so the refusals above are the
	// changes' doing.
	res := e.do(t, request{method: http.MethodGet, path: u.tasks(), header: http.Header{"Authorization": {"Bearer " + valid}}})
	wantStatus(t, "GET with the untouched token", res, http.StatusOK)
}

// TestAcceptedTokens: Better Auth's id claim stands in for a missing sub,
// sub wins when both are there, and the scheme is case-insensitive.
func TestAcceptedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := newUserID(t), newUserID(t)
	now := time.Now()
	hs := func(c jwt.MapClaims) string { return e.forge(t, jwt.SigningMethodHS256, secret, c) }

	tests := []struct {
		name          string
		authorization string
		owner, other  string // the token's user, and a user it must not reach
	}{
		{"id claim without sub", "Bearer " + hs(with(claimsFor(a), map[string]any{"sub": nil})), a, b},
		{"sub and a different id", "Bearer " + hs(with(claimsFor(a), map[string]any{"id": b})), a, b},
		{"only sub, no email or name", "Bearer " + hs(jwt.MapClaims{"sub": b, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}), b, a},
		{"lower-case scheme", "bearer " + hs(claimsFor(a)), a, b},
		{"upper-case scheme", "BEARER " + hs(claimsFor(a)), a, b},
		{"SignHS256", "Bearer " + e.sign(t, identity(a, a+"@example.com")), a, b},
	}
	for _, tt := range tests {
		h := http.Header{"Authorization": {tt.authorization}}
		res := e.do(t, request{method: http.MethodGet, path: "/api/" + tt.owner + "/tasks", header: h})
		wantStatus(t, "GET own tasks with "+tt.name, res, http.StatusOK)
		res = e.do(t, request{method: http.MethodPost, path: "/api/" + tt.owner + "/tasks", header: h, body: `{"title": "x"}`})
		wantStatus(t, "POST own task with "+tt.name, res, http.StatusCreated)
		if got := decodeTask(t, res.body); got.UserID != tt.owner {
			t.Errorf("POST with %s: user_id = %q, want %q", tt.name, got.UserID, tt.owner)
		}
		res = e.do(t, request{method: http.MethodGet, path: "/api/" + tt.other + "/tasks", header: h})
		wantDetail(t, "GET another user's tasks with "+tt.name, res, http.StatusForbidden, "")
	}
}
