package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/domain/auth"
)

// verifierFunc is an auth.Verifier made of a function.
type verifierFunc func(ctx context.Context, token string) (auth.Identity, error)

func (f verifierFunc) Verify(ctx context.Context, token string) (auth.Identity, error) {
	return f(ctx, token)
}

func withVerifier(v auth.Verifier) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) { d.Verifier = v }
}

// internals is what a failure below the HTTP layer may say, and no body may
// repeat.
const internals = "pq: sql: connection refused at /work/main/adapters/sqlstore/task.go:42"

// TestBodyLimit: a body over 1 MiB is 413, whether it declares its length
// or streams without one; a body of exactly 1 MiB is read.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "target")

	const limit = httpapi.DefaultMaxBodyBytes
	padded := func(json string, size int) string { return json + strings.Repeat(" ", size-len(json)) }
	huge := `{"title": "` + strings.Repeat("a", 5<<20) + `"}`
	tests := []struct {
		method, path, json string
		ok                 int
	}{
		{http.MethodPost, u.tasks(), `{"title": "at the limit"}`, http.StatusCreated},
		{http.MethodPut, u.task(tk.ID), `{"title": "at the limit"}`, http.StatusOK},
		{http.MethodPatch, u.complete(tk.ID), `{"completed": true}`, http.StatusOK},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			how := fmt.Sprintf("%s %s (chunked %v)", tt.method, tt.path, chunked)
			r := request{method: tt.method, path: tt.path, token: u.token, chunked: chunked}

			// Bodies over the limit its 413 states are outside what the
			// document accepts: only the answer is held to it.
			r.body, r.outsideDoc = huge, true
			wantDetail(t, how+" with 5 MB", e.do(t, r), http.StatusRequestEntityTooLarge, "")

			r.body = padded(tt.json, limit+1)
			wantDetail(t, how+" with 1 MiB + 1 byte", e.do(t, r), http.StatusRequestEntityTooLarge, "")

			r.body, r.outsideDoc = padded(tt.json, limit), false
			wantStatus(t, how+" with exactly 1 MiB", e.do(t, r), tt.ok)
		}
	}
}

// TestBodyLimitWithoutBodyOperations: operations that take no body still
// refuse a declared oversized one unread, so the document must list their
// 413 too (or the router must ignore such bodies).
func TestBodyLimitWithoutBodyOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "target")
	huge := strings.Repeat(" ", 5<<20)
	for _, r := range []request{
		{method: http.MethodGet, path: u.tasks()},
		{method: http.MethodGet, path: u.task(tk.ID)},
		{method: http.MethodDelete, path: u.task(tk.ID)},
		{method: http.MethodGet, path: "/healthz"},
		{method: http.MethodGet, path: "/readyz"},
	} {
		r.token, r.body, r.outsideDoc = u.token, huge, true
		res := e.do(t, r)
		if res.status != http.StatusRequestEntityTooLarge && (res.status < 200 || res.status > 299) {
			t.Errorf("%s %s with a 5 MB body = %s, want 413 or success", r.method, r.path, res)
		}
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for _, path := range []string{
		"/", "/nope", "/api", "/api/", "/api/" + u.id, "/api/" + u.id + "/task", "/api/" + u.id + "/tasks/1/complete/now",
		"/api/" + u.id + "/tasks/1/done", "/docs", "/healthz/x", "/API/" + u.id + "/tasks",
	} {
		for _, token := range []string{"", u.token} {
			res := e.do(t, request{method: http.MethodGet, path: path, token: token, outsideDoc: true})
			wantDetail(t, "GET "+path, res, http.StatusNotFound, "Not Found")
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "x")
	tests := []struct {
		r     request
		allow []string // what the path does take
	}{
		{request{method: http.MethodPatch, path: u.tasks()}, []string{"get", "post"}},
		{request{method: http.MethodPut, path: u.tasks(), body: `{"title": "x"}`}, []string{"get", "post"}},
		{request{method: http.MethodDelete, path: u.tasks()}, []string{"get", "post"}},
		{request{method: http.MethodPost, path: u.task(tk.ID), body: `{"title": "x"}`}, []string{"get", "put", "delete"}},
		{request{method: http.MethodGet, path: u.task(tk.ID) + "/restore"}, []string{"post"}},
		{request{method: http.MethodGet, path: u.complete(tk.ID)}, []string{"patch"}},
		{request{method: http.MethodPost, path: u.complete(tk.ID)}, []string{"patch"}},
		{request{method: http.MethodPut, path: u.complete(tk.ID)}, []string{"patch"}},
		{request{method: http.MethodPost, path: "/healthz"}, []string{"get"}},
		{request{method: http.MethodDelete, path: "/readyz"}, []string{"get"}},
		{request{method: http.MethodPost, path: "/openapi.json"}, []string{"get"}},
	}
	for _, tt := range tests {
		r := tt.r
		r.token, r.outsideDoc = u.token, true
		res := e.do(t, r)
		wantDetail(t, r.method+" "+r.path, res, http.StatusMethodNotAllowed, "Method Not Allowed")
		// RFC 9110 section 15.5.6, and what FastAPI (Starlette) sends.
		allow := listHeader(res.header, "Allow")
		for _, m := range tt.allow {
			if !slices.Contains(allow, m) {
				t.Errorf("%s %s: 405 with Allow %q, want %s in it", r.method, r.path, res.header.Values("Allow"), strings.ToUpper(m))
			}
		}
	}
	// Nothing changed.
	res := e.call(t, http.MethodGet, u.task(tk.ID), u.token, "")
	if got := decodeTask(t, res.body); !got.equal(tk) {
		t.Errorf("after refused methods the task is %v, want %v", got, tk)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	requests := []request{
		{method: http.MethodGet, path: u.tasks(), token: u.token},
		{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{"title": "x"}`},
		{method: http.MethodGet, path: u.tasks(), outsideDoc: true},                             // 401
		{method: http.MethodGet, path: "/nope", outsideDoc: true},                               // 404
		{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{`, outsideDoc: true}, // 422
		{method: http.MethodGet, path: "/healthz"},
	}
	seen := map[string]bool{}
	for _, r := range requests {
		res := e.do(t, r)
		id := res.header.Get("X-Request-ID")
		if id == "" || seen[id] {
			t.Errorf("%s %s without X-Request-ID: answered X-Request-ID %q, want a new one", r.method, r.path, id)
		}
		seen[id] = true

		r.header = http.Header{"X-Request-ID": {"req-7f3a-" + r.method}}
		res = e.do(t, r)
		if got, want := res.header.Get("X-Request-ID"), "req-7f3a-"+r.method; got != want {
			t.Errorf("%s %s with X-Request-ID %q: answered %q", r.method, r.path, want, got)
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	preflight := func(origin, path, method string) *response {
		return e.do(t, request{method: http.MethodOptions, path: path, header: http.Header{
			"Origin":                         {origin},
			"Access-Control-Request-Method":  {method},
			"Access-Control-Request-Headers": {"authorization,content-type"},
		}})
	}
	for _, p := range []struct{ path, method string }{
		{u.tasks(), http.MethodGet},
		{u.tasks(), http.MethodPost},
		{u.task(1), http.MethodPut},
		{u.task(1), http.MethodDelete},
		{u.complete(1), http.MethodPatch},
	} {
		what := fmt.Sprintf("preflight %s %s from %s", p.method, p.path, frontend)
		res := preflight(frontend, p.path, p.method)
		if res.status < 200 || res.status > 299 {
			t.Errorf("%s = %s, want 2xx", what, res)
		}
		if got := res.header.Get("Access-Control-Allow-Origin"); got != frontend {
			t.Errorf("%s: Access-Control-Allow-Origin = %q, want %q", what, got, frontend)
		}
		if got := res.header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("%s: Access-Control-Allow-Credentials = %q, want true for a listed origin", what, got)
		}
		if got := listHeader(res.header, "Access-Control-Allow-Methods"); !slices.Contains(got, strings.ToLower(p.method)) {
			t.Errorf("%s: Access-Control-Allow-Methods = %v, want %s in it", what, got, p.method)
		}
		got := listHeader(res.header, "Access-Control-Allow-Headers")
		for _, h := range []string{"authorization", "content-type"} {
			if !slices.Contains(got, h) {
				t.Errorf("%s: Access-Control-Allow-Headers = %v, want %s in it", what, got, h)
			}
		}

		res = preflight("http://evil.example", p.path, p.method)
		if got := res.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight %s %s from http://evil.example: Access-Control-Allow-Origin = %q, want none", p.method, p.path, got)
		}
	}

	// The real requests: the frontend may read the answer, another origin not.
	for origin, want := range map[string]string{frontend: frontend, "http://evil.example": "", "http://localhost:3001": ""} {
		res := e.do(t, request{method: http.MethodGet, path: u.tasks(), token: u.token, header: http.Header{"Origin": {origin}}})
		wantStatus(t, "GET from "+origin, res, http.StatusOK)
		if got := res.header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("GET from %s: Access-Control-Allow-Origin = %q, want %q", origin, got, want)
		}
	}
	// Errors carry the CORS headers too, or the browser hides the 401 from the frontend.
	res := e.do(t, request{method: http.MethodGet, path: u.tasks(), header: http.Header{"Origin": {frontend}}, outsideDoc: true})
	wantStatus(t, "GET without a token from "+frontend, res, http.StatusUnauthorized)
	if got := res.header.Get("Access-Control-Allow-Origin"); got != frontend {
		t.Errorf("401 to %s: Access-Control-Allow-Origin = %q, want %q", frontend, got, frontend)
	}
}

// TestCORSAnyOrigin: CORS_ORIGINS=* lets any page call the API, never with
// credentials (Access-Control-Allow-Origin: * with credentials is what a
// browser refuses, and echoing the origin instead would hand every site the
// cookies a browser holds for the API). Bearer tokens need no credentials.
func TestCORSAnyOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *httpapi.Deps) { d.Config.CORSOrigins = []string{"*"} })
	u := e.newUser(t)
	const origin = "https://anywhere.example"
	checkHeaders := func(what string, res *response) {
		t.Helper()
		if got := res.header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s: Access-Control-Allow-Origin = %q, want *", what, got)
		}
		if got := res.header.Values("Access-Control-Allow-Credentials"); len(got) != 0 {
			t.Errorf("%s: Access-Control-Allow-Credentials = %q, want none with *", what, got)
		}
	}
	res := e.do(t, request{method: http.MethodOptions, path: u.tasks(), header: http.Header{
		"Origin":                         {origin},
		"Access-Control-Request-Method":  {http.MethodPost},
		"Access-Control-Request-Headers": {"authorization,content-type"},
	}})
	if res.status < 200 || res.status > 299 {
		t.Errorf("preflight from %s = %s, want 2xx", origin, res)
	}
	checkHeaders("preflight from "+origin, res)
	res = e.do(t, request{method: http.MethodGet, path: u.tasks(), token: u.token, header: http.Header{"Origin": {origin}}})
	wantStatus(t, "GET from "+origin, res, http.StatusOK)
	checkHeaders("GET from "+origin, res)
}

// listHeader splits a comma-separated header into lower-case items.
func listHeader(h http.Header, key string) []string {
	var out []string
	for _, v := range h.Values(key) {
		for _, item := range strings.Split(v, ",") {
			if item = strings.ToLower(strings.TrimSpace(item)); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func TestHealth(t *testing.T) {
	t.Parallel()
	failing := httpapi.ReadyCheck{Name: "database", Check: func(context.Context) error { return errors.New(internals) }}
	passing := httpapi.ReadyCheck{Name: "keys", Check: func(context.Context) error { return nil }}
	tests := []struct {
		name      string
		checks    []httpapi.ReadyCheck
		wantReady int
	}{
		{"no checks", nil, http.StatusOK},
		{"passing check", []httpapi.ReadyCheck{passing}, http.StatusOK},
		{"failing check", []httpapi.ReadyCheck{passing, failing}, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(d *httpapi.Deps) { d.Ready = tt.checks })

			res := e.call(t, http.MethodGet, "/healthz", "", "")
			wantStatus(t, "GET /healthz", res, http.StatusOK)
			if got := strings.TrimSpace(string(res.body)); got != `{"status":"ok"}` {
				t.Errorf("GET /healthz body = %s, want {\"status\":\"ok\"}", got)
			}

			res = e.call(t, http.MethodGet, "/readyz", "", "")
			if tt.wantReady == http.StatusOK {
				wantStatus(t, "GET /readyz", res, http.StatusOK)
				return
			}
			wantDetail(t, "GET /readyz", res, http.StatusServiceUnavailable, "")
			if res.header.Get("Retry-After") == "" {
				t.Errorf("GET /readyz = 503 without Retry-After")
			}
		})
	}
}

// TestVerifierFailures: a verifier that panics or breaks is a JSON 500 that
// says nothing of why, one that cannot decide yet is 503 with Retry-After,
// and the router keeps serving.
func TestVerifierFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		verify verifierFunc
		want   int
	}{
		{"panics", func(context.Context, string) (auth.Identity, error) { panic(internals) }, http.StatusInternalServerError},
		{"panics with an error", func(context.Context, string) (auth.Identity, error) { panic(errors.New(internals)) }, http.StatusInternalServerError},
		{"fails", func(context.Context, string) (auth.Identity, error) { return auth.Identity{}, errors.New(internals) }, http.StatusInternalServerError},
		{"unavailable", func(context.Context, string) (auth.Identity, error) {
			return auth.Identity{}, fmt.Errorf("%s: %w", internals, auth.ErrUnavailable)
		}, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withVerifier(tt.verify))
			u := user{id: newUserID(t), token: e.remember("opaque-token-" + newUserID(t))}
			for _, r := range []request{
				{method: http.MethodGet, path: u.tasks()},
				{method: http.MethodPost, path: u.tasks(), body: `{"title": "x"}`},
				{method: http.MethodPatch, path: u.complete(1)},
				{method: http.MethodDelete, path: u.task(1)},
			} {
				r.token = u.token
				res := e.do(t, r)
				wantDetail(t, r.method+" "+r.path+" when the verifier "+tt.name, res, tt.want, "")
				if tt.want == http.StatusServiceUnavailable && res.header.Get("Retry-After") == "" {
					t.Errorf("%s %s: 503 without Retry-After", r.method, r.path)
				}
			}
			wantStatus(t, "GET /healthz afterwards", e.call(t, http.MethodGet, "/healthz", "", ""), http.StatusOK)
		})
	}
}
