package egress

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNonPublic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ip, want string
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001:80b::200e", ""},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"::ffff:192.168.1.1", "private"},
		{"fd00::1", "private (unique local)"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"100.64.0.1", "shared (carrier-grade NAT)"},
		{"100.127.255.255", "shared (carrier-grade NAT)"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "reserved"},
		{"192.0.2.1", "reserved (documentation)"},
		{"64:ff9b::7f00:1", "reserved"},
		{"2002:7f00:1::", "reserved (6to4)"},
		{"2001:db8::1", "reserved (documentation)"},
	} {
		if got := NonPublic(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("NonPublic(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	// The neighbours of a refused range stay public.
	for _, ip := range []string{"100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "11.0.0.0", "223.255.255.255"} {
		if got := NonPublic(netip.MustParseAddr(ip)); got != "" {
			t.Errorf("NonPublic(%s) = %q, want public", ip, got)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		want         string // part of the reason; "" when accepted
	}{
		{"https://hooks.example.com/todo?x=1", false, ""},
		{"https://93.184.215.14:8443/in", false, ""},
		{"https://[2606:4700::1]/in", false, ""},
		{"http://hooks.example.com/", false, "https"},
		{"ftp://hooks.example.com/", false, "https URL"},
		{"javascript:alert(1)", false, "https URL"},
		{"hooks.example.com/in", false, "https URL"},
		{"https:///in", false, "with a host"},
		{"https://user:pw@hooks.example.com/", false, "user name"},
		{"https://hooks.example.com/#frag", false, "fragment"},
		{"https://hooks.example.com:0/", false, "port"},
		{"https://hooks.example.com:99999/", false, "port"},
		{"https://127.0.0.1/", false, "loopback"},
		{"https://[::1]:8080/", false, "loopback"},
		{"https://10.0.0.7/", false, "private"},
		{"https://169.254.169.254/latest/meta-data", false, "link-local"},
		{"https://[::ffff:10.0.0.1]/", false, "private"},
		{"https://100.64.1.1/", false, "carrier-grade"},
		{"https://localhost:8080/", false, "public host"},
		{"https://api.localhost/", false, ".localhost"},
		{"https://printer.local/", false, ".local"},
		{"https://metadata.google.internal/", false, ".internal"},
		{"https://router.home.arpa/", false, ".home.arpa"},
		{"https://intranet/", false, "public host"},
		{"https://LOCALHOST./", false, "public host"},
		{"https://" + strings.Repeat("a", 2050) + ".com/", false, "2048"},
		// AllowPrivate (tests) lets local receivers and plain http in, but
		// not other schemes or credentials.
		{"http://127.0.0.1:8080/in", true, ""},
		{"http://localhost/in", true, ""},
		{"ftp://127.0.0.1/", true, "https URL"},
		{"http://u:p@127.0.0.1/", true, "user name"},
	} {
		_, err := CheckURL(tc.url, tc.allowPrivate)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckURL(%q, %v) = %v, want accepted", tc.url, tc.allowPrivate, err)
		case tc.want != "" && err == nil:
			t.Errorf("CheckURL(%q, %v) accepted, want an error naming %q", tc.url, tc.allowPrivate, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("CheckURL(%q, %v) = %v, want it to name %q", tc.url, tc.allowPrivate, err, tc.want)
		}
	}
}

// TestControlRefusesNonPublic: the dialer's last check refuses a socket to
// a non-public address, whichever way the address was found.
func TestControlRefusesNonPublic(t *testing.T) {
	t.Parallel()
	g := &guard{}
	for _, addr := range []string{"127.0.0.1:80", "[::1]:443", "[::ffff:10.0.0.1]:443", "169.254.169.254:80"} {
		if err := g.control("tcp", addr, nil); !Refused(err) {
			t.Errorf("control(%s) = %v, want an AddressError", addr, err)
		}
	}
	if err := g.control("tcp", "93.184.215.14:443", nil); err != nil {
		t.Errorf("control(93.184.215.14:443) = %v, want nil", err)
	}
	g.allowPrivate = true
	if err := g.control("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("with AllowPrivate, control(127.0.0.1:80) = %v, want nil", err)
	}
}

// TestClientDoesNotFollowRedirects: a 3xx comes back as the answer; its
// Location (here a loopback address) is never requested.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	resp, err := NewClient(Options{AllowPrivate: true}).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	Drain(resp)
	if resp.StatusCode != http.StatusFound || hits.Load() != 1 {
		t.Errorf("got status %d after %d requests, want 302 after 1", resp.StatusCode, hits.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"Sun, 01 Mar 2026 12:05:00 GMT", 5 * time.Minute},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0},
		{"99999999999", 24 * time.Hour},
		{"Fri, 01 Mar 2030 12:00:00 GMT", 24 * time.Hour},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		if got := RetryAfter(h, now, 24*time.Hour); got != tc.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestRedactDropsThePath: a push endpoint's path is its capability, so an
// error about a request names the origin only.
func TestRedactDropsThePath(t *testing.T) {
	t.Parallel()
	_, err := NewClient(Options{}).Post("https://127.0.0.1:1/fcm/send/SECRET-TOKEN?key=SECRET", "text/plain", nil)
	if err == nil {
		t.Fatal("request to 127.0.0.1 went through")
	}
	got := Redact(err)
	if msg := got.Error(); strings.Contains(msg, "SECRET") || !strings.Contains(msg, "https://127.0.0.1:1") {
		t.Errorf("Redact(%v) = %q, want the origin and no path or query", err, msg)
	}
	if !Refused(got) {
		t.Errorf("Refused(%v) = false, want true (the AddressError survives redaction)", got)
	}
	if e := errors.New("plain"); Redact(e) != e {
		t.Error("Redact changed an error that holds no URL")
	}
}
