// Package egress makes the HTTP clients that call URLs our users choose:
// webhook URLs and Web Push endpoints. Such a URL can name any host, so
// without a guard a user could make the service post to its own network
// (a database's HTTP port, a cloud metadata service at 169.254.169.254):
// server-side request forgery. The clients here connect to public addresses
// only, and decide at dial time, on the address actually dialed, so that a
// name which resolved to a public address when it was registered and to a
// private one later (DNS rebinding) is still refused.
//
// Both the webhook and the Web Push adapters use it; it lives here because
// adapters do not import each other.
package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults for Options.
const (
	// DefaultDialTimeout bounds connecting (TCP, then TLS separately).
	DefaultDialTimeout = 5 * time.Second
	// DefaultTimeout bounds a whole request, answer included. Standard
	// Webhooks suggests giving receivers 15 to 30 s; 15 s keeps a worker
	// from waiting long on one slow receiver.
	DefaultTimeout = 15 * time.Second
	// MaxDrain is how much of an answer's body is read (and thrown away) so
	// that the connection can be reused; a longer body closes it instead.
	MaxDrain = 4 << 10
)

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure NewClient.
type Options struct {
	// AllowPrivate lets requests reach non-public addresses (loopback,
	// private networks...), for tests with a local receiver
	// (WEBHOOK_ALLOW_PRIVATE). Never in production.
	AllowPrivate bool
	// DialTimeout and Timeout default to DefaultDialTimeout and
	// DefaultTimeout.
	DialTimeout, Timeout time.Duration
	// Resolver defaults to net.DefaultResolver; tests give one that answers
	// a loopback address for a public-looking name.
	Resolver Resolver
}

// AddressError is a request refused because its host is, or resolved to,
// an address that is not public. It is final: retrying will not help
// until the receiver moves.
type AddressError struct {
	Host string
	Addr netip.Addr
	Kind string // why Addr is not public: "loopback", "private", ...
}

func (e *AddressError) Error() string {
	if e.Host == e.Addr.String() {
		return fmt.Sprintf("address %s is %s, not public", e.Addr, e.Kind)
	}
	return fmt.Sprintf("host %s resolves to %s, which is %s, not public", e.Host, e.Addr, e.Kind)
}

// ErrNoAddress is a host that resolved to no address at all.
var ErrNoAddress = errors.New("host has no address")

// NewClient returns a client for URLs that users chose: it dials public
// addresses only (unless AllowPrivate), never uses a proxy from the
// environment (the proxy's own address would be the one checked), follows
// no redirect (the 3xx answer is returned; a redirect could lead anywhere,
// and Standard Webhooks treats it as a failure), and gives up after
// Timeout.
func NewClient(o Options) *http.Client {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	g := &guard{
		allowPrivate: o.AllowPrivate,
		resolver:     o.Resolver,
	}
	g.dialer = &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second, Control: g.control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            g.dialContext,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    o.DialTimeout,
			ExpectContinueTimeout:  time.Second,
			MaxIdleConns:           100,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        90 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       o.Timeout,
	}
}

// guard resolves names itself, so that it checks every address before
// dialing it; the dialer's Control checks the address of the socket once
// more, whatever path led to it.
type guard struct {
	allowPrivate bool
	resolver     Resolver
	dialer       *net.Dialer
}

func (g *guard) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ipNet := "ip"
		switch network {
		case "tcp4":
			ipNet = "ip4"
		case "tcp6":
			ipNet = "ip6"
		}
		if addrs, err = g.resolver.LookupNetIP(ctx, ipNet, host); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, ip := range addrs {
		ip = ip.Unmap()
		if err := g.check(host, ip); err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("%s: %w", host, ErrNoAddress)
	}
	return nil, errors.Join(errs...)
}

// control runs on every socket before it connects.
func (g *guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	return g.check(ap.Addr().String(), ap.Addr().Unmap())
}

func (g *guard) check(host string, ip netip.Addr) error {
	if g.allowPrivate {
		return nil
	}
	if kind := NonPublic(ip); kind != "" {
		return &AddressError{Host: host, Addr: ip, Kind: kind}
	}
	return nil
}

// nonPublic lists the addresses no request may reach, with what they are
// (IANA's special-purpose address registries). IPv6 outside 2000::/3 is
// refused as a whole below.
var nonPublic = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved (IETF protocol assignments)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "reserved (documentation)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "reserved (6to4 relay)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved (benchmarking)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "reserved (documentation)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "reserved (documentation)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // and 255.255.255.255, broadcast

	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
	{netip.MustParsePrefix("2001::/23"), "reserved (IETF protocol assignments, Teredo)"},
	{netip.MustParsePrefix("2001:db8::/32"), "reserved (documentation)"},
	{netip.MustParsePrefix("2002::/16"), "reserved (6to4)"},
	{netip.MustParsePrefix("3fff::/20"), "reserved (documentation)"},
}

var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// NonPublic says what ip is when it is not a public unicast address
// ("loopback", "private", ...), and "" when it is public. An IPv4 address
// mapped into IPv6 is judged as the IPv4 address.
func NonPublic(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.Unmap().WithZone("")
	for _, n := range nonPublic {
		if n.prefix.Contains(ip) {
			return n.kind
		}
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return "reserved" // NAT64 (64:ff9b::/96) and IPv4-compatible among them
	}
	return ""
}

// CheckURL says why raw may not be a target, or returns its parsed form:
// an absolute https URL (http too when allowPrivate) with a host, without
// userinfo or fragment. Unless allowPrivate, its host must not be an
// address that NonPublic refuses, nor a name that is local by definition
// (localhost, *.localhost, *.local, *.internal, *.home.arpa, or a single
// label that a resolver's search list would complete inside our network).
// A name's addresses are checked when a request dials it; this check only
// refuses early what can never pass. The error is a reason fit for a 422
// answer.
func CheckURL(raw string, allowPrivate bool) (*url.URL, error) {
	if len(raw) > 2048 {
		return nil, errors.New("must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("must be an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	case u.Scheme == "http":
		return nil, errors.New("must use https")
	default:
		return nil, errors.New("must be an https URL")
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errors.New("must be an absolute URL with a host")
	}
	if u.User != nil {
		return nil, errors.New("must not carry a user name or password")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return nil, errors.New("must not have a fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("has an invalid port")
		}
	}
	if allowPrivate {
		return u, nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if kind := NonPublic(ip); kind != "" {
			return nil, fmt.Errorf("must not point to a %s address", kind)
		}
		return u, nil
	}
	if !strings.Contains(host, ".") {
		return nil, errors.New("must name a public host (a domain name with a dot, or a public address)")
	}
	for _, local := range []string{"localhost", "local", "internal", "home.arpa"} {
		if host == local || strings.HasSuffix(host, "."+local) {
			return nil, fmt.Errorf("must name a public host, not one under .%s", local)
		}
	}
	return u, nil
}

// Drain reads what is left of an answer's body, at most MaxDrain bytes,
// and closes it. Nothing read is kept: a receiver's answer is not ours to
// store or log.
func Drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxDrain))
	_ = resp.Body.Close()
}

// RetryAfter reads an answer's Retry-After header (seconds or an HTTP
// date, RFC 9110) as a delay from now, zero when absent, unreadable or in
// the past. It is capped at limit, so that a receiver cannot park a
// message for a year.
func RetryAfter(h http.Header, now time.Time, limit time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(limit/time.Second) {
			return limit
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), limit)
}

// Redact describes a request error without its URL: http.Client's errors
// quote the whole URL, and a push endpoint's path or a webhook's query can
// be a credential.
func Redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", strings.ToUpper(ue.Op), hostOf(ue.URL), ue.Err)
	}
	return err
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}

// Refused says whether a request failed because its host is not public:
// final, where connection errors, timeouts, TLS and DNS problems may pass.
func Refused(err error) bool {
	var ae *AddressError
	return errors.As(err, &ae)
}
