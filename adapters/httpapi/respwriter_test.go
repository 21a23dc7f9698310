package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/httpapi/mw"
)

// wire sends one request to srv over a real connection and returns the
// response with its whole body.
func wire(t *testing.T, srv *httptest.Server, method, path, token string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res, body
}

// TestResponseFraming checks how answers travel: a list of tasks over 2 KB
// (which net/http would send chunked) goes with its Content-Length, a huge
// one is still streamed, and HEAD, 304 and 204 carry no body.
func TestResponseFraming(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	u := e.newUser(t)
	long := strings.Repeat("d", 600)
	for range 12 {
		res := e.call(t, http.MethodPost, u.tasks(), u.token, jsonBody(t, map[string]any{"title": "framing", "description": long}))
		wantStatus(t, "POST", res, http.StatusCreated)
	}

	res, body := wire(t, srv, http.MethodGet, u.tasks(), u.token, nil)
	if res.StatusCode != http.StatusOK || len(res.TransferEncoding) != 0 || res.ContentLength != int64(len(body)) || len(body) < 4<<10 {
		t.Errorf("GET list: %d, Transfer-Encoding %q, Content-Length %d for %d bytes; want 200 with a Content-Length of over 4 KB",
			res.StatusCode, res.TransferEncoding, res.ContentLength, len(body))
	}
	var tasks []taskJSON
	if err := json.Unmarshal(body, &tasks); err != nil || len(tasks) != 12 {
		t.Errorf("GET list: %d tasks (%v), want 12", len(tasks), err)
	}
	for _, h := range []string{"X-Request-Id", "X-Total-Count", "Cache-Control", "X-Content-Type-Options", "Content-Type"} {
		if res.Header.Get(h) == "" {
			t.Errorf("GET list: no %s header", h)
		}
	}

	res, body = wire(t, srv, http.MethodHead, u.tasks(), u.token, nil)
	if len(body) != 0 {
		t.Errorf("HEAD list: %d, %d bytes of body, want none", res.StatusCode, len(body))
	}

	tk := tasks[0]
	path := u.task(tk.ID)
	res, _ = wire(t, srv, http.MethodGet, path, u.token, nil)
	etag := res.Header.Get("ETag")
	res, body = wire(t, srv, http.MethodGet, path, u.token, http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || len(body) != 0 || res.Header.Get("ETag") != etag {
		t.Errorf("GET with If-None-Match: %d, ETag %q, %d bytes of body; want 304, %q, none", res.StatusCode, res.Header.Get("ETag"), len(body), etag)
	}
	res, body = wire(t, srv, http.MethodDelete, path, u.token, nil)
	if res.StatusCode != http.StatusNoContent || len(body) != 0 || res.Header.Get("Content-Length") != "" {
		t.Errorf("DELETE: %d, Content-Length %q, %d bytes of body; want 204 with neither", res.StatusCode, res.Header.Get("Content-Length"), len(body))
	}

	// Over 64 KB: streamed, as before.
	for range 110 {
		res := e.call(t, http.MethodPost, u.tasks(), u.token, jsonBody(t, map[string]any{"title": "framing", "description": long}))
		wantStatus(t, "POST", res, http.StatusCreated)
	}
	res, body = wire(t, srv, http.MethodGet, u.tasks(), u.token, nil)
	tasks = nil
	if err := json.Unmarshal(body, &tasks); err != nil || len(tasks) != 121 {
		t.Errorf("GET long list: %d tasks (%v), want 121", len(tasks), err)
	}
	if len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Errorf("GET list of %d bytes: Transfer-Encoding %q, Content-Length %d; want it streamed (chunked)", len(body), res.TransferEncoding, res.ContentLength)
	}
}

// TestMetricsWithoutInfoLog checks that requests are counted when the
// access log writes nothing (LOG_LEVEL=warn).
func TestMetricsWithoutInfoLog(t *testing.T) {
	set := metrics.NewSet()
	e := newEnv(t, func(d *httpapi.Deps) {
		d.Log = zap.NewNop()
		d.Metrics = mw.NewMetrics(set)
		d.MetricsHandler = mw.MetricsHandler(set)
	})
	u := e.newUser(t)
	for range 3 {
		wantStatus(t, "GET list", e.call(t, http.MethodGet, u.tasks(), u.token, ""), http.StatusOK)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`todo_http_requests_total{method="GET",route="/api/{user_id}/tasks",status="200"} 3`,
		`todo_http_request_duration_seconds_count{method="GET",route="/api/{user_id}/tasks"} 3`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics has no %s:\n%s", want, rec.Body)
		}
	}
}
