package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	domainuser "github.com/todo-backend/todo/domain/user"
)

// failingUsers is a user.Repository whose Save fails with err, or, with
// block, waits for the request's deadline as a call queued behind a hung
// database does.
type failingUsers struct {
	err   error
	block bool
}

func (f failingUsers) Save(ctx context.Context, _ domainuser.User) error {
	if f.block {
		<-ctx.Done()
		return fmt.Errorf("record user: %w", ctx.Err())
	}
	return f.err
}

func withUsers(users domainuser.Repository) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) {
		d.Service = application.New(memory.NewTaskRepository(), users, nil)
	}
}

// apiRequests is one request of each API operation for u.
func apiRequests(u user) []request {
	return []request{
		{method: http.MethodGet, path: u.tasks()},
		{method: http.MethodPost, path: u.tasks(), body: `{"title": "x"}`},
		{method: http.MethodGet, path: u.task(1)},
		{method: http.MethodPut, path: u.task(1), body: `{"title": "x"}`},
		{method: http.MethodPatch, path: u.complete(1)},
		{method: http.MethodDelete, path: u.task(1)},
	}
}

// TestStorageUnavailable: storage that cannot be reached, or a request that
// ran out of time waiting for it, is 503 with Retry-After and the plain
// detail body, never 500, and says nothing of the cause; the cause is logged
// once, with the request id.
func TestStorageUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []func(*httpapi.Deps)
	}{
		{"store unavailable", []func(*httpapi.Deps){withUsers(failingUsers{
			err: fmt.Errorf("upsert user: %w: %s", application.ErrUnavailable, internals)})}},
		{"request deadline", []func(*httpapi.Deps){withUsers(failingUsers{block: true}),
			func(d *httpapi.Deps) { d.Config.RequestTimeout = 20 * time.Millisecond }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.opts...)
			u := e.newUser(t)
			for _, r := range apiRequests(u) {
				r.token = u.token
				res := e.do(t, r)
				wantDetail(t, r.method+" "+r.path, res, http.StatusServiceUnavailable, "Service temporarily unavailable, retry shortly")
				if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
					t.Errorf("%s %s: 503 with Retry-After %q, want seconds", r.method, r.path, res.header.Get("Retry-After"))
				}
			}
			logged := e.logs.FilterMessage("service unavailable").All()
			if len(logged) != len(apiRequests(u)) {
				t.Errorf("%d \"service unavailable\" log lines for %d requests, want one each", len(logged), len(apiRequests(u)))
			}
			for _, l := range logged {
				if l.Level != zap.WarnLevel || l.ContextMap()["error"] == nil || l.ContextMap()["request_id"] == nil {
					t.Errorf("log line %v, want a warning with the error and the request id", l.ContextMap())
				}
			}
			if n := e.logs.FilterMessage("request failed").Len(); n != 0 {
				t.Errorf("%d \"request failed\" (500) log lines, want none", n)
			}
		})
	}
}

// TestSecurityHeaders: every API answer, errors included, is private and not
// to be sniffed.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "x")
	other := e.newUser(t)
	for _, r := range []request{
		{method: http.MethodGet, path: u.tasks(), token: u.token},
		{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{"title": "y"}`},
		{method: http.MethodGet, path: u.task(tk.ID), token: u.token},
		{method: http.MethodDelete, path: u.task(tk.ID), token: u.token},
		{method: http.MethodGet, path: u.tasks(), outsideDoc: true},                              // 401
		{method: http.MethodGet, path: u.tasks(), token: other.token},                            // 403
		{method: http.MethodGet, path: u.task(tk.ID), token: u.token},                            // 404
		{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{}`, outsideDoc: true}, // 422
		{method: http.MethodPut, path: u.tasks(), token: u.token, body: `{}`, outsideDoc: true},  // 405
		{method: http.MethodGet, path: "/nope", outsideDoc: true},                                // 404
		{method: http.MethodGet, path: "/healthz"},                                               // 200
		{method: http.MethodPost, path: u.tasks(), token: u.token, body: strings.Repeat(" ", 2<<20), // 413
			outsideDoc: true},
	} {
		res := e.do(t, r)
		if got := res.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control = %q, want no-store", r.method, r.path, res.status, got)
		}
		if got := res.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options = %q, want nosniff", r.method, r.path, res.status, got)
		}
	}
}

// TestDeepAndLargeJSON: nesting and size that stress a JSON decoder are
// refused with 422 or 413, never 500.
func TestDeepAndLargeJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "x")
	deep := func(open, close string, n int) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	bodies := []string{
		`{"title": ` + deep("[", "]", 200_000) + `}`,
		`{"title": "x", "description": ` + deep(`{"a":`, "}", 50_000) + `}`,
		deep("[", "]", 500_000),
		`{"title": ` + deep("[", "", 400_000),
		`{"title": "x", "extra": ` + deep(`{"a":`, "}", 100_000) + `}`,
		`{"title": "x", "description": "` + strings.Repeat(`\u00e9`, 170_000) + `"}`,
		`{"title": "x"` + strings.Repeat(`, "k": 1`, 100_000) + `}`,
		`{"title": 1` + strings.Repeat("0", 500_000) + `}`,
	}
	for _, body := range bodies {
		for _, r := range []request{
			{method: http.MethodPost, path: u.tasks()},
			{method: http.MethodPut, path: u.task(tk.ID)},
			{method: http.MethodPatch, path: u.complete(tk.ID)},
		} {
			r.token, r.body, r.outsideDoc = u.token, body, true
			res := e.do(t, r)
			if res.status >= 500 {
				t.Errorf("%s %s with %d bytes starting %.40q = %s, want no 5xx", r.method, r.path, len(body), body, res)
			}
		}
	}
}

// limitedEnv is an env whose router has rate limits.
func limitedEnv(t *testing.T, perUser, perIP string, trusted ...string) *env {
	t.Helper()
	ul, err := mw.ParseRateLimit(perUser)
	if err != nil {
		t.Fatal(err)
	}
	il, err := mw.ParseRateLimit(perIP)
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, func(d *httpapi.Deps) {
		d.Config.UserRateLimit, d.Config.IPRateLimit, d.Config.TrustedProxies = ul, il, trusted
	})
}

// doFrom is env.do from the client address remote, with extra headers.
func (e *env) doFrom(t *testing.T, remote string, r request) *response {
	t.Helper()
	req := r.build(t.Context())
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	got := &response{status: rec.Code, header: rec.Result().Header, body: body}
	e.checkCommon(t, r, got)
	for _, c := range contracts(t) {
		for _, err := range c.check(t.Context(), r, got) {
			t.Error(err)
		}
	}
	return got
}

func want429(t *testing.T, what string, res *response) {
	t.Helper()
	wantDetail(t, what, res, http.StatusTooManyRequests, "")
	if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: 429 with Retry-After %q, want seconds", what, res.header.Get("Retry-After"))
	}
}

// TestRateLimitPerUser: past the budget a user gets 429 with Retry-After on
// every operation; another user, on the same address, does not; health
// checks are never limited.
func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	e := limitedEnv(t, "3/1m", "")
	alice, bob := e.newUser(t), e.newUser(t)
	for i := range 3 {
		res := e.call(t, http.MethodGet, alice.tasks(), alice.token, "")
		wantStatus(t, fmt.Sprintf("alice's request %d of 3", i+1), res, http.StatusOK)
	}
	for _, r := range apiRequests(alice) {
		r.token = alice.token
		want429(t, "alice over budget: "+r.method+" "+r.path, e.do(t, r))
	}
	wantStatus(t, "bob's first request", e.call(t, http.MethodGet, bob.tasks(), bob.token, ""), http.StatusOK)
	for range 5 {
		wantStatus(t, "GET /healthz", e.call(t, http.MethodGet, "/healthz", "", ""), http.StatusOK)
	}
	// A bad token is 401, not counted against the user it names.
	res := e.do(t, request{method: http.MethodGet, path: bob.tasks(), token: "not-a-token", outsideDoc: true})
	wantStatus(t, "bad token", res, http.StatusUnauthorized)
}

// TestRateLimitPerIP: the IP budget applies before the token is checked, so
// a flood of bad tokens from one address is cut off with 429; other
// addresses are served. Behind a trusted proxy the client is the
// X-Forwarded-For entry, not the proxy.
func TestRateLimitPerIP(t *testing.T) {
	t.Parallel()
	e := limitedEnv(t, "", "2/1m", "10.0.0.0/8")
	u := e.newUser(t)
	bad := request{method: http.MethodGet, path: u.tasks(), token: "forged", outsideDoc: true}
	for i := range 2 {
		wantStatus(t, fmt.Sprintf("bad token %d from 192.0.2.7", i+1), e.doFrom(t, "192.0.2.7:4000", bad), http.StatusUnauthorized)
	}
	want429(t, "third request from 192.0.2.7 (bad token)", e.doFrom(t, "192.0.2.7:4001", bad))
	good := request{method: http.MethodGet, path: u.tasks(), token: u.token}
	want429(t, "good token from 192.0.2.7", e.doFrom(t, "192.0.2.7:4002", good))
	wantStatus(t, "good token from 192.0.2.8", e.doFrom(t, "192.0.2.8:4000", good), http.StatusOK)

	// Two clients behind the proxy 10.1.2.3 have their own budgets; an
	// untrusted peer cannot pick its address with the header.
	for _, client := range []string{"198.51.100.1", "198.51.100.2"} {
		r := good
		r.header = http.Header{"X-Forwarded-For": {client}}
		for i := range 2 {
			wantStatus(t, fmt.Sprintf("request %d of %s via the proxy", i+1, client), e.doFrom(t, "10.1.2.3:5000", r), http.StatusOK)
		}
		want429(t, "third request of "+client+" via the proxy", e.doFrom(t, "10.1.2.3:5000", r))
	}
	spoofed := good
	spoofed.header = http.Header{"X-Forwarded-For": {"203.0.113.99"}}
	want429(t, "192.0.2.7 claiming another address", e.doFrom(t, "192.0.2.7:4003", spoofed))
}

// TestNoRateLimitByDefault: without limits, many requests are all served.
func TestNoRateLimitByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for i := range 300 {
		res := e.doFrom(t, "192.0.2.1:1", request{method: http.MethodGet, path: u.tasks(), token: u.token})
		if res.status != http.StatusOK {
			t.Fatalf("request %d without limits = %s, want 200", i+1, res)
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want mw.RateLimit
		ok   bool
	}{
		{"", mw.RateLimit{}, true},
		{"off", mw.RateLimit{}, true},
		{"0", mw.RateLimit{}, true},
		{"100/1m", mw.RateLimit{Requests: 100, Window: time.Minute}, true},
		{"100/m", mw.RateLimit{Requests: 100, Window: time.Minute}, true},
		{"10/s", mw.RateLimit{Requests: 10, Window: time.Second}, true},
		{" 5000 / 1h ", mw.RateLimit{Requests: 5000, Window: time.Hour}, true},
		{"100", mw.RateLimit{}, false},
		{"x/1m", mw.RateLimit{}, false},
		{"0/1m", mw.RateLimit{}, false},
		{"10/1ms", mw.RateLimit{}, false},
		{"10/soon", mw.RateLimit{}, false},
	} {
		got, err := mw.ParseRateLimit(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRateLimit(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestMetrics: requests are counted by route pattern (no user ids in the
// labels), method and status; refused tokens by reason; /metrics serves them
// with the Go runtime's own.
func TestMetrics(t *testing.T) {
	t.Parallel()
	set := metrics.NewSet()
	e := newEnv(t, func(d *httpapi.Deps) {
		d.Metrics = mw.NewMetrics(set)
		d.MetricsHandler = mw.MetricsHandler(set)
	})
	u := e.newUser(t)
	e.create(t, u, "a")
	e.create(t, u, "b")
	e.call(t, http.MethodGet, u.tasks(), u.token, "")
	e.do(t, request{method: http.MethodGet, path: u.tasks(), outsideDoc: true})                                   // no token
	e.do(t, request{method: http.MethodGet, path: u.tasks(), token: "x.y.z", outsideDoc: true})                   // malformed
	e.do(t, request{method: http.MethodGet, path: u.tasks(), token: u.token + "x", outsideDoc: true})             // bad signature
	e.do(t, request{method: http.MethodGet, path: "/api/" + u.id + "/nothing-here", outsideDoc: true})            // unmatched
	e.do(t, request{method: http.MethodGet, path: "/api/" + u.id + "/tasks/0", token: u.token, outsideDoc: true}) // 422
	e.do(t, request{method: "BREW", path: u.tasks(), token: u.token, outsideDoc: true})                           // any method

	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", rec.Code)
	}
	text := rec.Body.String()
	if strings.Contains(text, u.id) {
		t.Errorf("/metrics shows a user id")
	}
	if strings.Contains(text, "BREW") {
		t.Errorf("/metrics shows a method the client made up")
	}
	const tasks = `route="/api/{user_id}/tasks"`
	for _, want := range []string{
		`todo_http_requests_total{method="POST",` + tasks + `,status="201"} 2`,
		`todo_http_requests_total{method="GET",` + tasks + `,status="200"} 1`,
		`todo_http_requests_total{method="GET",` + tasks + `,status="401"} 3`,
		`todo_http_requests_total{method="GET",route="/api/{user_id}/tasks/{id}",status="422"} 1`,
		`todo_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`todo_http_requests_total{method="other",`,
		`todo_auth_failures_total{reason="no bearer token"} 1`,
		`todo_auth_failures_total{reason="malformed"} 1`,
		`todo_auth_failures_total{reason="bad signature"} 1`,
		`todo_http_request_duration_seconds_bucket{method="POST",` + tasks + `,le="0.001"}`,
		`todo_http_request_duration_seconds_count{method="POST",` + tasks + `} 2`,
		"go_goroutines ",
		"go_memstats_heap_inuse_bytes ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}

func TestLabel(t *testing.T) {
	for _, tt := range []struct {
		name string
		kv   []string
		want string
	}{
		{"m", nil, "m"},
		{"m", []string{"a", "b"}, `m{a="b"}`},
		{"m", []string{"a", `q"uo\te` + "\n", "b", "{x}"}, `m{a="q\"uo\\te\n",b="{x}"}`},
	} {
		if got := mw.Label(tt.name, tt.kv...); got != tt.want {
			t.Errorf("Label(%q, %q) = %s, want %s", tt.name, tt.kv, got, tt.want)
		}
	}
}
