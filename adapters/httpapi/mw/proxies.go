package mw

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"

	"github.com/go-chi/chi/v5/middleware"
)

// Proxies are the reverse proxies the service trusts (TRUSTED_PROXIES).
// Trusts is the one decision of whether a request's forwarded headers
// count: X-Forwarded-For for the client's address (ClientIP), and
// X-Forwarded-Host and X-Forwarded-Proto for the URLs the API writes. A
// client that reaches the service directly could put anything in them.
type Proxies struct {
	cidrs    []string
	prefixes []netip.Prefix
}

// NewProxies reads CIDR prefixes such as 10.0.0.0/8; none trusts nobody.
func NewProxies(cidrs []string) (Proxies, error) {
	p := Proxies{cidrs: cidrs}
	for _, c := range cidrs {
		prefix, err := netip.ParsePrefix(c)
		if err != nil {
			return Proxies{}, fmt.Errorf("trusted proxy %q: %w", c, err)
		}
		p.prefixes = append(p.prefixes, prefix)
	}
	return p, nil
}

// Trusts reports whether the peer at remoteAddr (a request's RemoteAddr)
// is a trusted proxy. An IPv4 address written as IPv6 (::ffff:a.b.c.d) is
// the IPv4 address, and a zone is ignored, so that neither can alias an
// address past the check.
func (p Proxies) Trusts(remoteAddr string) bool {
	if len(p.prefixes) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	peer = peer.Unmap().WithZone("")
	for _, prefix := range p.prefixes {
		if prefix.Contains(peer) {
			return true
		}
	}
	return false
}

// ClientIP resolves the caller's address for the IP rate limit: from a
// trusted proxy, the right-most X-Forwarded-For entry that is not one of
// the proxies; from anyone else, the peer's address. Read it with chi's
// middleware.GetClientIP.
func (p Proxies) ClientIP(next http.Handler) http.Handler {
	if len(p.prefixes) == 0 {
		return middleware.ClientIPFromRemoteAddr(next)
	}
	forwarded := middleware.ClientIPFromXFF(p.cidrs...)(next)
	direct := middleware.ClientIPFromRemoteAddr(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Trusts(r.RemoteAddr) {
			forwarded.ServeHTTP(w, r)
		} else {
			direct.ServeHTTP(w, r)
		}
	})
}
