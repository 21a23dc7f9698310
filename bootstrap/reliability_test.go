package bootstrap

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
)

func TestLoadConfigReliabilityDefaults(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret}))
	if err != nil {
		t.Fatalf("LoadConfig = %v", err)
	}
	for _, d := range []struct {
		name      string
		got, want time.Duration
	}{
		{"DBTimeout", c.DBTimeout, 5 * time.Second},
		{"RequestTimeout", c.RequestTimeout, 10 * time.Second},
		{"ReadHeaderTimeout", c.ReadHeaderTimeout, 5 * time.Second},
		{"ReadTimeout", c.ReadTimeout, 30 * time.Second},
		{"WriteTimeout", c.WriteTimeout, 30 * time.Second},
		{"IdleTimeout", c.IdleTimeout, 120 * time.Second},
	} {
		if d.got != d.want {
			t.Errorf("default %s = %v, want %v", d.name, d.got, d.want)
		}
	}
	if c.UserRateLimit.Enabled() || c.IPRateLimit.Enabled() {
		t.Errorf("default rate limits = %v per user, %v per IP; want both off (make run is unlimited)", c.UserRateLimit, c.IPRateLimit)
	}
	if c.MetricsAddr != "" || len(c.TrustedProxies) != 0 || c.PublicURL != "" {
		t.Errorf("default METRICS_ADDR %q, TRUSTED_PROXIES %v, PUBLIC_URL %q; want none", c.MetricsAddr, c.TrustedProxies, c.PublicURL)
	}
}

func TestLoadConfigReliabilityValues(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{
		"BETTER_AUTH_SECRET": secret, "DB_TIMEOUT": "2s", "REQUEST_TIMEOUT": "3s", "READ_HEADER_TIMEOUT": "1s",
		"RATE_LIMIT": "100/1m", "RATE_LIMIT_IP": "20/s", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1/32",
		"METRICS_ADDR": "127.0.0.1:9090", "PUBLIC_URL": "https://api.example.com/todo/",
	}))
	if err != nil {
		t.Fatalf("LoadConfig = %v", err)
	}
	if c.DBTimeout != 2*time.Second || c.RequestTimeout != 3*time.Second || c.ReadHeaderTimeout != time.Second {
		t.Errorf("timeouts = %v, %v, %v; want 2s, 3s, 1s", c.DBTimeout, c.RequestTimeout, c.ReadHeaderTimeout)
	}
	if want := (mw.RateLimit{Requests: 100, Window: time.Minute}); c.UserRateLimit != want {
		t.Errorf("RATE_LIMIT=100/1m gives %v, want %v", c.UserRateLimit, want)
	}
	if want := (mw.RateLimit{Requests: 20, Window: time.Second}); c.IPRateLimit != want {
		t.Errorf("RATE_LIMIT_IP=20/s gives %v, want %v", c.IPRateLimit, want)
	}
	if want := []string{"10.0.0.0/8", "192.168.1.1/32"}; !slices.Equal(c.TrustedProxies, want) {
		t.Errorf("TRUSTED_PROXIES = %v, want %v", c.TrustedProxies, want)
	}
	if c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("METRICS_ADDR = %q", c.MetricsAddr)
	}
	if c.PublicURL != "https://api.example.com/todo" {
		t.Errorf("PUBLIC_URL=https://api.example.com/todo/ gives %q, want it without the trailing slash", c.PublicURL)
	}
}

func TestLoadConfigReliabilityErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"bad db timeout", map[string]string{"DB_TIMEOUT": "fast"}, "DB_TIMEOUT"},
		{"zero db timeout", map[string]string{"DB_TIMEOUT": "0s"}, "DB_TIMEOUT"},
		{"bad read header timeout", map[string]string{"READ_HEADER_TIMEOUT": "-1s"}, "READ_HEADER_TIMEOUT"},
		{"request outlives write", map[string]string{"REQUEST_TIMEOUT": "40s"}, "WRITE_TIMEOUT"},
		{"bad rate limit", map[string]string{"RATE_LIMIT": "lots"}, "RATE_LIMIT"},
		{"rate limit window", map[string]string{"RATE_LIMIT": "10/1ms"}, "RATE_LIMIT"},
		{"bad ip rate limit", map[string]string{"RATE_LIMIT_IP": "-3/1m"}, "RATE_LIMIT_IP"},
		{"bad proxy", map[string]string{"TRUSTED_PROXIES": "10.0.0.1"}, "TRUSTED_PROXIES"},
		{"bad metrics addr", map[string]string{"METRICS_ADDR": "9090"}, "METRICS_ADDR"},
		{"public url without scheme", map[string]string{"PUBLIC_URL": "api.example.com"}, "PUBLIC_URL"},
		{"public url with query", map[string]string{"PUBLIC_URL": "https://api.example.com/?a=1"}, "PUBLIC_URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["BETTER_AUTH_SECRET"] = secret
			_, err := LoadConfig(env(tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadConfig(%v) = %v, want an error naming %s", tt.vars, err, tt.want)
			}
		})
	}
}

// running is an App started in the test process with its logs observed.
type running struct {
	app  *fx.App
	logs *observer.ObservedLogs
}

func startApp(t *testing.T, vars map[string]string) *running {
	t.Helper()
	vars["BETTER_AUTH_SECRET"] = secret
	vars["PORT"] = "0"
	c, err := LoadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	app := fx.New(App(c), fx.Decorate(func(*zap.Logger) *zap.Logger { return zap.New(core) }))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	r := &running{app: app, logs: logs}
	t.Cleanup(func() {
		_ = app.Stop(context.Background())
		if t.Failed() {
			for _, e := range logs.All() {
				t.Logf("log: %s %v", e.Message, e.ContextMap())
			}
		}
	})
	return r
}

// addr is where the server named by message ("listening", "metrics
// listening") listens, on loopback.
func (r *running) addr(t *testing.T, message string) string {
	t.Helper()
	for _, e := range r.logs.FilterMessage(message).All() {
		a, _ := e.ContextMap()["addr"].(string)
		_, port, err := net.SplitHostPort(a)
		if err == nil {
			return "127.0.0.1:" + port
		}
	}
	t.Fatalf("no %q log line with an address", message)
	return ""
}

func (r *running) messages() []string {
	var out []string
	for _, e := range r.logs.All() {
		out = append(out, e.Message)
	}
	return out
}

func token(t *testing.T, userID string) string {
	t.Helper()
	tok, err := jwks.SignHS256([]byte(secret), auth.Identity{UserID: auth.UserID(userID), Email: userID + "@example.com"}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestShutdownDrainsBeforeClosingDatabase: a request in flight when the app
// stops (its body still arriving) is answered 201 and stored, because the
// HTTP server drains before the database closes (fx runs OnStop hooks in
// reverse order of OnStart). With the order reversed the insert would hit a
// closed database and answer 500; without the drain the connection would be
// cut.
func TestShutdownDrainsBeforeClosingDatabase(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "todo.db")
	r := startApp(t, map[string]string{"DATABASE_URL": dbURL, "SHUTDOWN_TIMEOUT": "10s"})
	addr := r.addr(t, "listening")

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue tells us when the handler is reading the body:
	// from then on the request is in flight for certain.
	body := `{"title": "in flight at shutdown"}`
	head := fmt.Sprintf("POST /api/alice/tasks HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", addr, token(t, "alice"), len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	readContinue(t, br)
	if _, err := io.WriteString(conn, body[:10]); err != nil {
		t.Fatal(err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- r.app.Stop(context.Background()) }()
	waitLog(t, r, "shutting down: draining requests")
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("send the rest of the body during the drain: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the answer of the request in flight: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("request in flight at shutdown = %d, want 201", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Stop = %v", err)
	}

	msgs := r.messages()
	drained, closed := slices.Index(msgs, "requests drained"), slices.Index(msgs, "database closed")
	if drained < 0 || closed < 0 || drained > closed {
		t.Errorf("stop order: %q at %d, %q at %d; want the drain first", "requests drained", drained, "database closed", closed)
	}
	db, err := sqlstore.Open(t.Context(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.NewRaw("SELECT count(*) FROM tasks WHERE user_id = 'alice'").Scan(t.Context(), &n); err != nil || n != 1 {
		t.Errorf("tasks stored after the drain = %d (%v), want 1", n, err)
	}
}

// readContinue reads the server's "100 Continue" interim answer.
func readContinue(t *testing.T, br *bufio.Reader) {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q (%v)", line, err)
	}
	if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("100 Continue not followed by a blank line: %q (%v)", blank, err)
	}
}

func waitLog(t *testing.T, r *running, message string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r.logs.FilterMessage(message).Len() > 0 {
			return
		}
	}
	t.Fatalf("no %q log line", message)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetrics: /metrics on PORT shows the runtime, the pool and the
// requests; with METRICS_ADDR it moves to its own listener.
func TestMetrics(t *testing.T) {
	t.Run("on PORT", func(t *testing.T) {
		r := startApp(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "todo.db")})
		base := "http://" + r.addr(t, "listening")
		if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
			t.Fatalf("GET /healthz = %d", code)
		}
		code, body := get(t, base+"/metrics")
		if code != http.StatusOK {
			t.Fatalf("GET /metrics = %d, want 200", code)
		}
		for _, want := range []string{
			"go_goroutines ", "go_memstats_heap_inuse_bytes ", `go_sql_open_connections{db_name="todo"}`,
			"todo_db_breaker_open 0", "todo_db_breaker_opened_total 0",
			`todo_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
			`todo_http_request_duration_seconds_bucket{method="GET",route="/healthz",le=`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("GET /metrics does not show %s", want)
			}
		}
	})
	t.Run("on METRICS_ADDR", func(t *testing.T) {
		r := startApp(t, map[string]string{"DATABASE_URL": "memory:", "METRICS_ADDR": "127.0.0.1:0"})
		if code, _ := get(t, "http://"+r.addr(t, "listening")+"/metrics"); code != http.StatusNotFound {
			t.Errorf("GET /metrics on PORT with METRICS_ADDR set = %d, want 404", code)
		}
		code, body := get(t, "http://"+r.addr(t, "metrics listening")+"/metrics")
		if code != http.StatusOK || !strings.Contains(body, "go_goroutines ") {
			t.Errorf("GET /metrics on METRICS_ADDR = %d, want 200 with go_goroutines", code)
		}
	})
}
