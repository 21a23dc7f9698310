package jwks

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/domain/auth"
)

// TestHostileClaims: users choose their email and name at Better Auth, and a
// token signed with a genuine key carries them as they are. A NUL, a control
// character, invalid UTF-8 or an absurd length in the identity must be
// refused by the verifier with a reason, in every mode and whether the
// token was seen before or not, so that no store ever gets it.
func TestHostileClaims(t *testing.T) {
	t.Parallel()
	k := newKey(t, "EdDSA")
	s := newKeyServer(t, k.jwk(t))
	now := time.Now()
	sub := wantIdentity.UserID

	// raw is Better Auth's payload with one member's JSON text replaced
	// byte for byte.
	raw := func(member, text string) []byte {
		b, err := json.Marshal(claimsAt(now))
		if err != nil {
			t.Fatal(err)
		}
		old, err := json.Marshal(claimsAt(now)[member])
		if err != nil {
			t.Fatal(err)
		}
		out := bytes.Replace(b, []byte(`"`+member+`":`+string(old)), []byte(`"`+member+`":`+text), 1)
		if bytes.Equal(out, b) {
			t.Fatalf("payload has no %s member to replace", member)
		}
		return out
	}
	tests := []struct {
		name    string
		members map[string]any // claimsWith's edits, when payload is nil
		payload []byte         // the payload byte for byte, when set
		want    string
	}{
		{name: "NUL in sub", members: map[string]any{"sub": string(sub) + "\x00"}, want: "invalid subject"},
		{name: "NUL in id, no sub", members: map[string]any{"sub": nil, "id": string(sub) + "\x00"}, want: "invalid subject"},
		{name: "NUL in email", members: map[string]any{"email": "ada\x00@example.com"}, want: "invalid email"},
		{name: "NUL in name", members: map[string]any{"name": "Ada\x00"}, want: "invalid name"},
		{name: "escape sequence in name", members: map[string]any{"name": "Ada\x1b[2J"}, want: "invalid name"},
		{name: "sub of 2,800 characters", members: map[string]any{"sub": strings.Repeat("a", 2800)}, want: "invalid subject"},
		{name: "sub over the bound", members: map[string]any{"sub": strings.Repeat("a", auth.MaxUserIDBytes+1)}, want: "invalid subject"},
		{name: "email over the bound", members: map[string]any{"email": strings.Repeat("a", auth.MaxEmailBytes-11) + "@example.com"}, want: "invalid email"},
		{name: "name over the bound", members: map[string]any{"name": strings.Repeat("Ä", auth.MaxNameRunes+1)}, want: "invalid name"},
		{name: "invalid UTF-8 in name", payload: raw("name", "\"Ad\xe9\""), want: "invalid UTF-8"},
		{name: "invalid UTF-8 in email", payload: raw("email", "\"ada\xff@example.com\""), want: "invalid UTF-8"},
		{name: "invalid UTF-8 in sub", payload: raw("sub", "\"u_\xc0\xaf\""), want: "invalid UTF-8"},
		{name: "invalid UTF-8 in a claim the API ignores", payload: raw("createdAt", "\"2026\xfe\""), want: "invalid UTF-8"},
		{name: "lone surrogate in sub", payload: raw("sub", `"u_\ud800"`), want: "invalid subject"},
		{name: "escaped NUL in email", payload: raw("email", `"ada\u0000@example.com"`), want: "invalid email"},

		{name: "sub at the bound", members: map[string]any{"sub": strings.Repeat("a", auth.MaxUserIDBytes)}},
		{name: "non-ASCII email and name", members: map[string]any{"email": "émile@exemple.fr", "name": "Émile Zoë 李小龍"}},
		{name: "lone surrogate in name", payload: raw("name", `"Ada \udfff"`)},
	}
	type mode struct {
		name string
		cfg  Config
		sign func(claims jwt.MapClaims, payload []byte) string
	}
	modes := []mode{
		{"JWKS", Config{JWKSURL: s.URL, Issuer: origin, Audience: origin}, func(c jwt.MapClaims, p []byte) string {
			if p != nil {
				return signRaw(t, k.method, k.kid, k.priv, p)
			}
			return k.sign(t, c)
		}},
		{"secret", Config{Secret: secret, Issuer: origin, Audience: origin}, func(c jwt.MapClaims, p []byte) string {
			if p != nil {
				return signRaw(t, jwt.SigningMethodHS256, "", secret, p)
			}
			return signWith(t, jwt.SigningMethodHS256, "", secret, c)
		}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			uncachedCfg := m.cfg
			uncachedCfg.CacheSize = -1
			uncached, cached := newVerifier(t, uncachedCfg), newVerifier(t, m.cfg)
			waitReady(t, uncached)
			waitReady(t, cached)
			for _, tt := range tests {
				token := m.sign(claimsWith(now, tt.members), tt.payload)
				for _, v := range []*Verifier{uncached, cached, cached} {
					id, err := v.Verify(t.Context(), token)
					if got := reasonOf(t, err); got != tt.want {
						t.Errorf("%s: Verify() = %.60q, reason %q, want %q", tt.name, id.UserID, got, tt.want)
					}
				}
			}
		})
	}
}
