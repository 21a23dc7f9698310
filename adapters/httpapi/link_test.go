package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi"
)

// linkOf returns the URL in the next-page Link of a page of one task out
// of two.
func linkOf(t *testing.T, e *env, u user, remote string, header http.Header) *url.URL {
	t.Helper()
	res := e.doFrom(t, remote, request{method: http.MethodGet, path: u.tasks() + "?limit=1", token: u.token, header: header})
	wantStatus(t, "GET ?limit=1 from "+remote, res, http.StatusOK)
	link := res.header.Get("Link")
	m := linkRE.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("GET ?limit=1 from %s: Link = %q, want <url>; rel=\"next\"", remote, link)
	}
	next, err := url.Parse(m[1])
	if err != nil {
		t.Fatalf("Link URL %q: %v", m[1], err)
	}
	if !strings.HasSuffix(next.Path, u.tasks()) || next.Query().Get("cursor") == "" {
		t.Errorf("Link URL %q: want the list's path with a cursor", m[1])
	}
	return next
}

var spoofed = http.Header{
	"X-Forwarded-Host":  {"evil.example"},
	"X-Forwarded-Proto": {"https"},
}

// TestLinkIgnoresUntrustedForwardedHeaders: X-Forwarded-Host and
// X-Forwarded-Proto from a peer that is not a trusted proxy do not reach
// Link, or a client following it would send its token to that host; nor
// does the Host header. The link is then relative to the request.
func TestLinkIgnoresUntrustedForwardedHeaders(t *testing.T) {
	t.Parallel()
	for name, trusted := range map[string][]string{"no proxies": nil, "proxies elsewhere": {"10.0.0.0/8"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(d *httpapi.Deps) { d.Config.TrustedProxies = trusted })
			u := e.newUser(t)
			e.create(t, u, "one")
			e.create(t, u, "two")
			next := linkOf(t, e, u, "192.0.2.7:4000", spoofed)
			if next.Scheme != "" || next.Host != "" || next.Path != u.tasks() {
				t.Errorf("Link from an untrusted peer with X-Forwarded-Host = %s, want a relative reference to %s", next, u.tasks())
			}
		})
	}
}

// TestLinkTrustsForwardedHeadersFromProxies: behind a trusted proxy, Link
// names the host and scheme the client used, as the proxy says.
func TestLinkTrustsForwardedHeadersFromProxies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *httpapi.Deps) { d.Config.TrustedProxies = []string{"10.0.0.0/8"} })
	u := e.newUser(t)
	e.create(t, u, "one")
	e.create(t, u, "two")
	proxied := http.Header{"X-Forwarded-Host": {"api.example.com"}, "X-Forwarded-Proto": {"https"}}
	if next := linkOf(t, e, u, "10.1.2.3:5000", proxied); next.Scheme != "https" || next.Host != "api.example.com" || next.Path != u.tasks() {
		t.Errorf("Link via a trusted proxy = %s, want https://api.example.com%s?...", next, u.tasks())
	}
	// The proxy passes the client's Host on and says only the scheme.
	if next := linkOf(t, e, u, "10.1.2.3:5000", http.Header{"X-Forwarded-Proto": {"https"}}); next.Scheme != "https" || next.Host != "todo.test" {
		t.Errorf("Link via a trusted proxy with X-Forwarded-Proto only = %s, want https://todo.test%s?...", next, u.tasks())
	}
}

// TestLinkOnPublicURL: with a public base URL configured, Link is absolute
// on it, whatever the forwarded headers say.
func TestLinkOnPublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *httpapi.Deps) {
		d.Config.TrustedProxies = []string{"10.0.0.0/8"}
		d.Config.PublicURL = "https://todo.example.org/v1"
	})
	u := e.newUser(t)
	e.create(t, u, "one")
	e.create(t, u, "two")
	for _, remote := range []string{"192.0.2.7:4000", "10.1.2.3:5000"} {
		next := linkOf(t, e, u, remote, spoofed)
		if next.Scheme != "https" || next.Host != "todo.example.org" || next.Path != "/v1"+u.tasks() {
			t.Errorf("Link from %s with PublicURL = %s, want https://todo.example.org/v1%s?...", remote, next, u.tasks())
		}
	}
}
