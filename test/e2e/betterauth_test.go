package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/internal/testenv"
)

// betterAuthDir is the pinned Node project that runs a real Better Auth.
const betterAuthDir = "betterauth"

var (
	npmOnce sync.Once
	npmErr  error
)

// requireBetterAuth makes sure Node 20+ and the pinned Node project are
// installed (running `npm ci` once when node_modules is missing or stale), and
// returns the project's absolute directory. Without Node it skips, or fails
// on CI.
func requireBetterAuth(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(betterAuthDir)
	if err != nil {
		t.Fatalf("locate %s: %v", betterAuthDir, err)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Unavailable(t, "%s is not on PATH; install Node.js 20+ (for example `apt-get install nodejs npm`) to run the Better Auth end-to-end test", tool)
		}
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		testenv.Unavailable(t, "node --version: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	if major, _, _ := strings.Cut(v, "."); atoiOr0(major) < 20 {
		testenv.Unavailable(t, "node %s is too old; Better Auth needs Node.js 20+", v)
	}
	npmOnce.Do(func() { npmErr = npmCI(dir) })
	if npmErr != nil {
		testenv.Unavailable(t, "%v", npmErr)
	}
	return dir
}

func atoiOr0(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// npmCI runs `npm ci` in dir unless node_modules already holds the
// better-auth version that package.json pins.
func npmCI(dir string) error {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &pkg); err != nil {
		return err
	}
	var installed struct {
		Version string `json:"version"`
	}
	err := readJSON(filepath.Join(dir, "node_modules", "better-auth", "package.json"), &installed)
	if err == nil && installed.Version == pkg.Dependencies["better-auth"] {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s: %w (run `npm ci --prefix test/e2e/betterauth` by hand to see why)\n%s", dir, err, log.String())
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// betterAuth is a running Better Auth server (server.mjs).
type betterAuth struct {
	*testenv.Process
	addr   string // http://127.0.0.1:PORT, where it listens
	url    string // its BETTER_AUTH_URL: the issuer and audience of its tokens
	secret string
}

// startBetterAuth starts server.mjs signing with alg on a free port. issuer,
// when not empty, is the BETTER_AUTH_URL it claims to be; by default it is its
// own address.
func startBetterAuth(t *testing.T, dir, alg, issuer string) *betterAuth {
	t.Helper()
	return startBetterAuthOn(t, dir, alg, issuer, testenv.FreePort(t))
}

// startBetterAuthOn is startBetterAuth on a given port.
func startBetterAuthOn(t *testing.T, dir, alg, issuer string, port int) *betterAuth {
	t.Helper()
	addr := fmt.Sprintf("http://127.0.0.1:%d", port)
	if issuer == "" {
		issuer = addr
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := hex.EncodeToString(b)
	env := append(testenv.BaseEnv(t),
		"PORT="+strconv.Itoa(port),
		"JWT_ALG="+alg,
		"BETTER_AUTH_URL="+issuer,
		"BETTER_AUTH_SECRET="+secret,
	)
	p := startProcess(t, "better-auth "+alg+" "+addr, dir, env, "node", "server.mjs")
	testenv.WaitHTTP(t, p, addr+"/api/auth/ok", http.StatusOK, startTimeout)
	return &betterAuth{Process: p, addr: addr, url: issuer, secret: secret}
}

// baUser is a user signed up on a Better Auth server, with the JWTs it handed out.
type baUser struct {
	user           // ID and the token from GET /api/auth/token
	Email   string // as signed up
	Session string // the token from get-session's set-auth-jwt header
}

// signUp registers a user by email and password, as the frontend does, then
// fetches the user's JWT from /api/auth/token and from get-session's
// set-auth-jwt header, both with the session cookie.
func (ba *betterAuth) signUp(t *testing.T, name string) baUser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	email := strings.ToLower(name) + "-" + newUserID(t)[:8] + "@example.test"
	password := "correct horse battery staple"

	body, _ := json.Marshal(map[string]string{"email": email, "password": password, "name": name})
	resp := baDo(t, hc, http.MethodPost, ba.addr+"/api/auth/sign-up/email", body)
	var signed struct {
		User struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
	}
	if err := json.Unmarshal(resp.body, &signed); err != nil || signed.User.ID == "" {
		t.Fatalf("sign-up %s: %d %s: no user id (%v)", email, resp.status, resp.body, err)
	}

	resp = baDo(t, hc, http.MethodGet, ba.addr+"/api/auth/token", nil)
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(resp.body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("GET /api/auth/token: %d %s: no token (%v)", resp.status, resp.body, err)
	}

	resp = baDo(t, hc, http.MethodGet, ba.addr+"/api/auth/get-session", nil)
	session := resp.header.Get("set-auth-jwt")
	if session == "" {
		t.Errorf("GET /api/auth/get-session: no set-auth-jwt header (headers %v)", resp.header)
	}
	return baUser{user: user{ID: signed.User.ID, Token: tok.Token}, Email: email, Session: session}
}

type baResponse struct {
	status int
	header http.Header
	body   []byte
}

// baDo sends one request to Better Auth and expects 200.
func baDo(t *testing.T, hc *http.Client, method, url string, body []byte) baResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s = %d %s, want 200", method, url, resp.StatusCode, data)
	}
	return baResponse{status: resp.StatusCode, header: resp.Header, body: data}
}

// TestBetterAuth proves that tokens from a real Better Auth server work
// against the binary configured with BETTER_AUTH_URL alone, and that tokens
// it did not issue do not, once per signing algorithm.
func TestBetterAuth(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := requireBetterAuth(t)
	for _, tc := range []struct{ alg, kty string }{
		{"EdDSA", "OKP"},
		{"RS256", "RSA"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			ba := startBetterAuth(t, dir, tc.alg, "")
			alice, bob := ba.signUp(t, "Alice"), ba.signUp(t, "Bob")
			checkBetterAuthToken(t, ba, alice.Token, alice.ID, tc.alg)
			checkJWKS(t, ba, tc.alg, tc.kty)

			a := startAPI(t, "BETTER_AUTH_URL="+ba.url, "DATABASE_URL=memory:", "LOG_LEVEL=debug")
			t.Cleanup(func() { checkNoTokensLogged(t, a.Process) })
			testenv.WaitHTTP(t, a.Process, a.URL+"/readyz", http.StatusOK, startTimeout)
			c := newClient(a.URL)

			t.Run("lifecycle", func(t *testing.T) {
				runLifecycle(t, c, alice.user)
			})
			t.Run("get-session token", func(t *testing.T) {
				if alice.Session == "" {
					t.Skip("get-session gave no set-auth-jwt header")
				}
				tasks(t, c.do(t, http.MethodGet, tasksPath(alice.ID), alice.Session, nil))
			})
			t.Run("isolation", func(t *testing.T) {
				runIsolation(t, c, alice.user, bob.user)
			})
			t.Run("forged and foreign tokens are 401", func(t *testing.T) {
				// Another Better Auth with its own keys: once under its own
				// URL (wrong issuer and unknown kid) and once claiming to be
				// the trusted one (right issuer and audience, unknown key).
				other := startBetterAuth(t, dir, tc.alg, "")
				impostor := startBetterAuth(t, dir, tc.alg, ba.url)
				fromOther, fromImpostor := other.signUp(t, "Mallory"), impostor.signUp(t, "Eve")
				if iss := claimsOf(t, fromImpostor.Token)["iss"]; iss != ba.url {
					t.Fatalf("impostor token iss = %v, want %s", iss, ba.url)
				}
				aliceClaims := jwt.MapClaims(claimsOf(t, alice.Token))
				for _, f := range []struct{ name, userID, token string }{
					{"other instance", fromOther.ID, fromOther.Token},
					{"same issuer, other keys", fromImpostor.ID, fromImpostor.Token},
					{"tampered sub", bob.ID, tamperSub(t, alice.Token, bob.ID)},
					{"signature of another token", alice.ID, swapSignature(t, alice.Token, bob.Token)},
					{"HS256 with Better Auth's secret", alice.ID, signHS256(t, ba.secret, aliceClaims)},
					{"alg none", alice.ID, signNone(t, aliceClaims)},
					{"truncated signature", alice.ID, alice.Token[:len(alice.Token)-4]},
				} {
					r := c.do(t, http.MethodGet, tasksPath(f.userID), f.token, nil)
					detail(t, r, http.StatusUnauthorized)
					if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s: %s: WWW-Authenticate = %q, want Bearer", f.name, r, r.Header.Get("WWW-Authenticate"))
					}
				}
				// The real tokens still work after the refused ones made the
				// API look for unknown keys.
				tasks(t, c.do(t, http.MethodGet, tasksPath(alice.ID), alice.Token, nil))
			})
		})
	}
}

// checkBetterAuthToken checks the facts issue 3 lists for the tokens the API
// must accept, so that a change in Better Auth shows up here first.
func checkBetterAuthToken(t *testing.T, ba *betterAuth, token, userID, alg string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("Better Auth token %q is not a JWS", token)
	}
	var header map[string]any
	if h, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(h, &header) != nil {
		t.Fatalf("Better Auth token header unreadable: %q", parts[0])
	}
	if header["alg"] != alg || header["kid"] == nil {
		t.Errorf("Better Auth token header = %v, want alg %s and a kid", header, alg)
	}
	cl := claimsOf(t, token)
	for k, want := range map[string]any{"sub": userID, "id": userID, "iss": ba.url, "aud": ba.url} {
		if cl[k] != want {
			t.Errorf("Better Auth token claim %s = %v, want %v", k, cl[k], want)
		}
	}
	for _, k := range []string{"exp", "iat", "email", "name"} {
		if cl[k] == nil {
			t.Errorf("Better Auth token has no %s claim: %v", k, cl)
		}
	}
}

// checkJWKS checks that Better Auth publishes the signing key as issue 3 says.
func checkJWKS(t *testing.T, ba *betterAuth, alg, kty string) {
	t.Helper()
	resp := baDo(t, &http.Client{Timeout: 10 * time.Second}, http.MethodGet, ba.addr+"/api/auth/jwks", nil)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(resp.body, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS %s: no keys (%v)", resp.body, err)
	}
	for _, k := range set.Keys {
		if k["alg"] != alg || k["kty"] != kty || k["kid"] == nil {
			t.Errorf("JWKS key %v, want alg %s, kty %s and a kid", k, alg, kty)
		}
	}
}

// swapSignature returns token's header and payload with other's signature.
func swapSignature(t *testing.T, token, other string) string {
	t.Helper()
	a, b := strings.Split(token, "."), strings.Split(other, ".")
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("swapSignature: not two JWS")
	}
	return a[0] + "." + a[1] + "." + b[2]
}

// runLifecycle creates, lists, reads, replaces, completes and deletes a task as u.
func runLifecycle(t *testing.T, c *client, u user) {
	t.Helper()
	created := task(t, c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, map[string]any{"title": "Buy milk", "description": nil}), http.StatusCreated)
	if created.UserID != u.ID || created.Title != "Buy milk" || created.Completed {
		t.Errorf("created %+v, want user_id %s, title Buy milk, not completed", created, u.ID)
	}
	if got := c.list(t, u, ""); len(got) != 1 || got[0] != created {
		t.Errorf("list = %+v, want [%+v]", got, created)
	}
	if got := c.get(t, u, created.ID); got != created {
		t.Errorf("get = %+v, want %+v", got, created)
	}
	put := task(t, c.do(t, http.MethodPut, taskPath(u.ID, created.ID), u.Token, map[string]any{"title": "Buy oat milk", "description": "2 l"}), http.StatusOK)
	if put.Title != "Buy oat milk" || put.Description != str("2 l") || put.CreatedAt != created.CreatedAt {
		t.Errorf("put = %+v, want title Buy oat milk, description 2 l, created_at %s", put, created.CreatedAt)
	}
	done := task(t, c.do(t, http.MethodPatch, completePath(u.ID, created.ID), u.Token, nil), http.StatusOK)
	if !done.Completed {
		t.Errorf("complete = %+v, want completed", done)
	}
	if got := ids(c.list(t, u, "?status=completed")); len(got) != 1 || got[0] != created.ID {
		t.Errorf("completed list = %v, want [%d]", got, created.ID)
	}
	expect(t, c.do(t, http.MethodDelete, taskPath(u.ID, created.ID), u.Token, nil), http.StatusNoContent)
	detail(t, c.do(t, http.MethodGet, taskPath(u.ID, created.ID), u.Token, nil), http.StatusNotFound)
	if got := c.list(t, u, ""); len(got) != 0 {
		t.Errorf("list after delete = %v, want []", ids(got))
	}
}

// runIsolation checks that a cannot see, change or delete b's tasks.
func runIsolation(t *testing.T, c *client, a, b user) {
	t.Helper()
	theirs := c.create(t, b, "Bob's secret")
	mine := c.create(t, a, "Alice's")
	for _, r := range []*response{
		c.do(t, http.MethodGet, taskPath(a.ID, theirs.ID), a.Token, nil),
		c.do(t, http.MethodPut, taskPath(a.ID, theirs.ID), a.Token, map[string]any{"title": "mine now"}),
		c.do(t, http.MethodPatch, completePath(a.ID, theirs.ID), a.Token, nil),
		c.do(t, http.MethodDelete, taskPath(a.ID, theirs.ID), a.Token, nil),
	} {
		detail(t, r, http.StatusNotFound)
	}
	for _, r := range []*response{
		c.do(t, http.MethodGet, tasksPath(b.ID), a.Token, nil),
		c.do(t, http.MethodPost, tasksPath(b.ID), a.Token, map[string]any{"title": "planted"}),
		c.do(t, http.MethodGet, taskPath(b.ID, theirs.ID), a.Token, nil),
		c.do(t, http.MethodPut, taskPath(b.ID, theirs.ID), a.Token, map[string]any{"title": "mine now"}),
		c.do(t, http.MethodPatch, completePath(b.ID, theirs.ID), a.Token, nil),
		c.do(t, http.MethodDelete, taskPath(b.ID, theirs.ID), a.Token, nil),
	} {
		detail(t, r, http.StatusForbidden)
	}
	if got := c.list(t, a, ""); len(got) != 1 || got[0].ID != mine.ID {
		t.Errorf("A's list = %v, want [%d]", ids(got), mine.ID)
	}
	if got := c.list(t, b, ""); len(got) != 1 || got[0] != theirs {
		t.Errorf("B's list = %+v, want only %+v unchanged", got, theirs)
	}
}

// TestBetterAuthOutage checks what the API does when Better Auth is away:
// down at start-up it answers 503 with Retry-After (the client should retry,
// not log the user out) and is not ready; once Better Auth is up it becomes
// ready by itself; and once it has the keys, Better Auth going away changes
// nothing for valid tokens.
func TestBetterAuthOutage(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := requireBetterAuth(t)
	port := testenv.FreePort(t)
	baURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	a := startAPI(t, "BETTER_AUTH_URL="+baURL, "DATABASE_URL=memory:", "LOG_LEVEL=error")
	c := newClient(a.URL)

	r := c.do(t, http.MethodGet, "/readyz", "", nil)
	if r.Status != http.StatusServiceUnavailable {
		t.Errorf("%s with Better Auth down, want 503", r)
	}
	// A well-formed token the API cannot check yet: no key was ever loaded.
	early := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"not-yet"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","iss":"`+baURL+`","aud":"`+baURL+`","exp":`+
			strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`}`)) + "." +
		base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	r = c.do(t, http.MethodGet, tasksPath("u1"), early, nil)
	detail(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After header", r)
	}

	ba := startBetterAuthOn(t, dir, "EdDSA", "", port)
	alice := ba.signUp(t, "Alice")
	// The API retries the JWKS with a backoff of up to 30 s between tries.
	testenv.WaitHTTP(t, a.Process, a.URL+"/readyz", http.StatusOK, 40*time.Second)
	created := c.create(t, alice.user, "before the outage")

	code, err := ba.Terminate()
	if err != nil || code != 0 {
		t.Fatalf("stop Better Auth: exit %d, %v", code, err)
	}
	if got := c.list(t, alice.user, ""); len(got) != 1 || got[0] != created {
		t.Errorf("list during the outage = %+v, want [%+v]", got, created)
	}
	// A forged token is still refused, not waved through or turned into a 503.
	detail(t, c.do(t, http.MethodGet, tasksPath(alice.ID), tamperSub(t, alice.Token, alice.ID+"x"), nil), http.StatusUnauthorized)
}
