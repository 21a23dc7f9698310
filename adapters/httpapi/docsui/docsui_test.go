package docsui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi/docsui"
)

func get(t *testing.T, h http.Handler, method, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, target, err)
	}
	return res, string(body)
}

var (
	scriptRE = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)
	linkRE   = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
)

func TestPage(t *testing.T) {
	h := docsui.Handler("/openapi.json")
	for _, target := range []string{"/docs", "/docs/"} {
		res, body := get(t, h, http.MethodGet, target, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", target, res.StatusCode)
		}
		for name, want := range map[string]string{
			"Content-Type":  "text/html; charset=utf-8",
			"Cache-Control": "no-cache",
		} {
			if got := res.Header.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", target, name, got, want)
			}
		}
		csp := res.Header.Get("Content-Security-Policy")
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy = %q, want no 'unsafe-...' source", target, csp)
		}
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy = %q, want it to contain %q", target, csp, want)
			}
		}
		if !strings.Contains(body, `data-spec-url="/openapi.json"`) {
			t.Errorf("GET %s: page does not pass the spec URL:\n%s", target, body)
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("GET %s: page names an absolute URL:\n%s", target, body)
		}
		scripts := scriptRE.FindAllStringSubmatch(body, -1)
		if len(scripts) == 0 {
			t.Errorf("GET %s: page has no script", target)
		}
		for _, s := range scripts {
			if !strings.Contains(s[1], "src=") || strings.TrimSpace(s[2]) != "" {
				t.Errorf("GET %s: inline script %q, want only <script src=...>", target, s[0])
			}
		}

		// Every file the page loads is served from here, cacheable for good.
		links := linkRE.FindAllStringSubmatch(body, -1)
		if len(links) != 4 {
			t.Errorf("GET %s: page links %d files, want 4 (css, icon, bundle, init)", target, len(links))
		}
		for _, l := range links {
			ref := l[1]
			if !strings.HasPrefix(ref, "/docs/") {
				t.Errorf("GET %s: page links %q, want a path under /docs/", target, ref)
				continue
			}
			res, _ := get(t, h, http.MethodGet, strings.ReplaceAll(ref, "&amp;", "&"), nil)
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200", ref, res.StatusCode)
			}
			if got, want := res.Header.Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
				t.Errorf("GET %s: Cache-Control = %q, want %q", ref, got, want)
			}
		}
	}
}

func TestPageSpecURL(t *testing.T) {
	tests := []struct {
		specURL  string
		wantAttr string
		wantCSP  string
	}{
		{"/openapi.json", `data-spec-url="/openapi.json"`, "connect-src 'self';"},
		{"https://api.example.com/v1/openapi.json", `data-spec-url="https://api.example.com/v1/openapi.json"`,
			"connect-src 'self' https://api.example.com;"},
		{`/openapi.json?x="><script>alert(1)</script>`,
			`data-spec-url="/openapi.json?x=%22%3e%3cscript%3ealert%281%29%3c/script%3e"`, "connect-src 'self';"},
	}
	for _, tt := range tests {
		res, body := get(t, docsui.Handler(tt.specURL), http.MethodGet, "/docs", nil)
		if !strings.Contains(body, tt.wantAttr) {
			t.Errorf("Handler(%q) page lacks %s:\n%s", tt.specURL, tt.wantAttr, body)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, tt.wantCSP) {
			t.Errorf("Handler(%q) Content-Security-Policy = %q, want it to contain %q", tt.specURL, csp, tt.wantCSP)
		}
	}
}

// assetURLs returns the versioned asset URLs that the page links, by file name.
func assetURLs(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	_, body := get(t, h, http.MethodGet, "/docs", nil)
	urls := map[string]string{}
	for _, l := range linkRE.FindAllStringSubmatch(body, -1) {
		u := strings.ReplaceAll(l[1], "&amp;", "&")
		name, _, _ := strings.Cut(strings.TrimPrefix(u, "/docs/"), "?")
		urls[name] = u
	}
	return urls
}

func TestAssets(t *testing.T) {
	h := docsui.Handler("/openapi.json")
	urls := assetURLs(t, h)
	tests := []struct {
		name        string
		contentType string
		linked      bool
	}{
		{"swagger-ui-bundle.js", "text/javascript; charset=utf-8", true},
		{"init.js", "text/javascript; charset=utf-8", true},
		{"swagger-ui.css", "text/css; charset=utf-8", true},
		{"favicon-32x32.png", "image/png", true},
		{"LICENSE", "text/plain; charset=utf-8", false},
		{"NOTICE", "text/plain; charset=utf-8", false},
		{"swagger-ui-bundle.js.LICENSE.txt", "text/plain; charset=utf-8", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := urls[tt.name] != ""; got != tt.linked {
				t.Errorf("page links %s: %v, want %v", tt.name, got, tt.linked)
			}
			res, body := get(t, h, http.MethodGet, "/docs/"+tt.name, nil)
			if res.StatusCode != http.StatusOK || body == "" {
				t.Fatalf("GET /docs/%s: status %d, %d bytes; want 200 with a body", tt.name, res.StatusCode, len(body))
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("GET /docs/%s: Content-Type = %q, want %q", tt.name, got, tt.contentType)
			}
			// Without the version in the URL the bytes may change with a new
			// build, so the browser must revalidate.
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("GET /docs/%s: Cache-Control = %q, want no-cache", tt.name, got)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatalf("GET /docs/%s: no ETag", tt.name)
			}
			res, body = get(t, h, http.MethodGet, "/docs/"+tt.name, http.Header{"If-None-Match": {etag}})
			if res.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("GET /docs/%s with If-None-Match: status %d, %d bytes; want 304, empty", tt.name, res.StatusCode, len(body))
			}
			res, body = get(t, h, http.MethodHead, "/docs/"+tt.name, nil)
			if res.StatusCode != http.StatusOK || body != "" {
				t.Errorf("HEAD /docs/%s: status %d, %d bytes; want 200, empty", tt.name, res.StatusCode, len(body))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	h := docsui.Handler("/openapi.json")
	tests := []struct {
		method, target string
		status         int
		allow          string
	}{
		{http.MethodGet, "/docs/missing.js", http.StatusNotFound, ""},
		{http.MethodGet, "/docs/dist/swagger-ui.css", http.StatusNotFound, ""},
		{http.MethodGet, "/docs/page/index.html", http.StatusNotFound, ""},
		{http.MethodGet, "/docsx", http.StatusNotFound, ""},
		{http.MethodPost, "/docs", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/docs/init.js", http.StatusMethodNotAllowed, "GET, HEAD"},
	}
	for _, tt := range tests {
		res, body := get(t, h, tt.method, tt.target, nil)
		if res.StatusCode != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.target, res.StatusCode, tt.status)
		}
		if got := res.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s %s: Content-Type = %q, want application/json", tt.method, tt.target, got)
		}
		var detail struct{ Detail string }
		if err := json.Unmarshal([]byte(body), &detail); err != nil || detail.Detail != http.StatusText(tt.status) {
			t.Errorf("%s %s: body %s, want {\"detail\": %q}", tt.method, tt.target, body, http.StatusText(tt.status))
		}
		if got := res.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.target, got, tt.allow)
		}
	}
}

var cssURLRE = regexp.MustCompile(`url\(\s*['"]?([^'")]*)`)

// TestNothingRemote checks the shipped text for ways to load from the
// internet. The bundle holds URLs in strings that are never fetched (links in
// rendered docs, JSON Schema ids), so it is checked for known CDN hosts; the
// browser test is the proof that nothing is loaded.
func TestNothingRemote(t *testing.T) {
	h := docsui.Handler("/openapi.json")
	cdnHosts := []string{
		"fonts.googleapis.com", "fonts.gstatic.com", "unpkg.com", "cdn.jsdelivr.net",
		"cdnjs.cloudflare.com", "esm.sh", "cdn.skypack.dev",
	}
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js"} {
		_, body := get(t, h, http.MethodGet, "/docs/"+name, nil)
		for _, host := range cdnHosts {
			if strings.Contains(body, host) {
				t.Errorf("/docs/%s names %s", name, host)
			}
		}
		if strings.Contains(body, "sourceMappingURL") {
			t.Errorf("/docs/%s names a source map, which is not shipped", name)
		}
	}

	_, css := get(t, h, http.MethodGet, "/docs/swagger-ui.css", nil)
	if strings.Contains(css, "@import") {
		t.Errorf("swagger-ui.css has an @import")
	}
	for _, m := range cssURLRE.FindAllStringSubmatch(css, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			t.Errorf("swagger-ui.css loads url(%s), want only data: URLs", m[1])
		}
	}

	_, init := get(t, h, http.MethodGet, "/docs/init.js", nil)
	if strings.Contains(init, "http://") || strings.Contains(init, "https://") {
		t.Errorf("init.js names an absolute URL:\n%s", init)
	}
}

// TestVendoredVersion checks that dist/ holds the version that update.sh pins,
// so that an edited pin is not committed without its files.
func TestVendoredVersion(t *testing.T) {
	script, err := os.ReadFile("update.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VERSION=(\S+)$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("update.sh has no VERSION= line")
	}
	got, err := os.ReadFile("dist/VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != string(m[1]) {
		t.Errorf("dist/VERSION = %q, want %q from update.sh; run update.sh", strings.TrimSpace(string(got)), m[1])
	}
}
