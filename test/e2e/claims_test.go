package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// runHostileClaims sends well-signed tokens whose identity no store should
// keep: a NUL in sub, email or name, an absurdly long sub, email or name, and
// invalid UTF-8. Each is 401 with WWW-Authenticate: Bearer on every store,
// on the token's own URL (so that no 403 hides what the store would do), and
// leaves the service able to serve the same user with a sane token.
func runHostileClaims(t *testing.T, c *client) {
	t.Parallel()
	id := newUserID(t)
	// Random, so that PostgreSQL cannot compress it into an index entry.
	long := make([]byte, 1400)
	rand.Read(long)
	longSub := hex.EncodeToString(long)
	with := func(members map[string]any) jwt.MapClaims {
		cl := userClaims(id)
		for k, v := range members {
			cl[k] = v
		}
		return cl
	}
	// rawToken replaces the JSON text of member, byte for byte:
	// encoding/json would mend invalid UTF-8 when it encodes.
	rawToken := func(member, text string) string {
		cl := userClaims(id)
		b, err := json.Marshal(cl)
		if err != nil {
			t.Fatal(err)
		}
		old, err := json.Marshal(cl[member])
		if err != nil {
			t.Fatal(err)
		}
		payload := bytes.Replace(b, []byte(`"`+member+`":`+string(old)), []byte(`"`+member+`":`+text), 1)
		return signHS256Raw(t, testSecret, payload)
	}
	for _, tc := range []struct {
		name, sub, token string
	}{
		{"NUL in sub", id + "\x00", signHS256(t, testSecret, with(map[string]any{"sub": id + "\x00", "id": id + "\x00"}))},
		{"NUL in email", id, signHS256(t, testSecret, with(map[string]any{"email": id + "\x00@example.test"}))},
		{"NUL in name", id, signHS256(t, testSecret, with(map[string]any{"name": "User\x00"}))},
		{"sub of 2,800 characters", longSub, signHS256(t, testSecret, with(map[string]any{"sub": longSub, "id": longSub}))},
		{"email of 300 bytes", id, signHS256(t, testSecret, with(map[string]any{"email": strings.Repeat("e", 288) + "@example.test"}))},
		{"name of 10,000 characters", id, signHS256(t, testSecret, with(map[string]any{"name": strings.Repeat("n", 10_000)}))},
		{"invalid UTF-8 in name", id, rawToken("name", "\"User \xff\"")},
		{"invalid UTF-8 in email", id, rawToken("email", "\""+id+"\xc3@example.test\"")},
	} {
		path := tasksPath(url.PathEscape(tc.sub))
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			var body any
			if method == http.MethodPost {
				body = raw(`{"title": "from a hostile token"}`)
			}
			r := c.do(t, method, path, tc.token, body)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s: %s %.60s = %d %s, want 401", tc.name, method, path, r.Status, r.Body)
				continue
			}
			detail(t, r, http.StatusUnauthorized)
			if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("%s: %s: WWW-Authenticate = %q, want Bearer", tc.name, method, got)
			}
		}
	}
	// Nothing was recorded for that user: a sane token works as for anyone.
	u := user{ID: id, Token: signHS256(t, testSecret, userClaims(id))}
	if got := c.list(t, u, ""); len(got) != 0 {
		t.Errorf("tasks after the hostile tokens = %+v, want none", got)
	}
}

// signHS256Raw signs payload byte for byte with secret.
func signHS256Raw(t *testing.T, secret string, payload []byte) string {
	t.Helper()
	signing := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(payload)
	sig, err := jwt.SigningMethodHS256.Sign(signing, []byte(secret))
	if err != nil {
		t.Fatalf("sign HS256 token: %v", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}
