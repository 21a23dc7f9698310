package mw

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
)

// RateLimit is a budget of Requests per Window (a sliding window). The zero
// value means no limit.
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// Enabled reports whether l limits anything.
func (l RateLimit) Enabled() bool { return l.Requests > 0 && l.Window > 0 }

func (l RateLimit) String() string {
	if !l.Enabled() {
		return "off"
	}
	return fmt.Sprintf("%d/%s", l.Requests, l.Window)
}

// ParseRateLimit reads a budget such as "100/1m", "10/s", "5000/1h" or
// "100/30s"; "", "0" and "off" mean no limit.
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "0", "off", "none":
		return RateLimit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return RateLimit{}, fmt.Errorf("rate limit %q: want REQUESTS/WINDOW such as 100/1m", s)
	}
	reqs, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || reqs < 1 {
		return RateLimit{}, fmt.Errorf("rate limit %q: requests must be a positive integer", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "10/s" is "10/1s"
	}
	window, err := time.ParseDuration(per)
	if err != nil || window < time.Second {
		return RateLimit{}, fmt.Errorf("rate limit %q: window must be a duration of at least 1s such as 1m", s)
	}
	return RateLimit{Requests: reqs, Window: window}, nil
}

// Limiter applies the rate limits to the API operations (those that need a
// token): by client IP before the token is checked, so that a flood of bad
// tokens costs no signature checks, and by the verified user id after.
// Health, metrics and documents are never limited.
type Limiter struct {
	ip, user *httprate.RateLimiter // nil when off
	errs     Errors
	// userOf returns the verified user of a request, once the token is
	// checked.
	userOf func(context.Context) (string, bool)
}

// NewLimiter limits each client IP to ip and each verified user to user
// (the zero RateLimit: no limit). errs answers a request over a limit
// (ErrTooManyRequests); userOf returns a request's verified user.
func NewLimiter(ip, user RateLimit, errs Errors, userOf func(context.Context) (string, bool)) *Limiter {
	l := &Limiter{errs: errs, userOf: userOf}
	if ip.Enabled() {
		l.ip = httprate.NewRateLimiter(ip.Requests, ip.Window)
	}
	if user.Enabled() {
		l.user = httprate.NewRateLimiter(user.Requests, user.Window)
	}
	return l
}

// IPLimited is the key of huma.Operation.Metadata that, set to true, has
// the IP limit count a public operation (one with no security
// requirement), such as a calendar feed, which anyone may poll.
const IPLimited = "ip-limited"

func ipLimited(ctx huma.Context) bool {
	op := ctx.Operation()
	return op != nil && (len(op.Security) > 0 || op.Metadata[IPLimited] == true)
}

func secured(ctx huma.Context) bool {
	op := ctx.Operation()
	return op != nil && len(op.Security) > 0
}

// ByIP is the API middleware (huma.API.UseMiddleware) of the IP limit: it
// runs before authentication, keyed by the client's address (ClientIP).
func (l *Limiter) ByIP(ctx huma.Context, next func(huma.Context)) {
	if l.ip == nil || !ipLimited(ctx) {
		next(ctx)
		return
	}
	r, w := humachi.Unwrap(ctx)
	key := "ip:" + httprate.CanonicalizeIP(middleware.GetClientIP(r.Context()))
	if l.ip.OnLimit(w, r, key) {
		l.errs.WriteError(w, r, ErrTooManyRequests)
		return
	}
	next(ctx)
}

// ByUser is the API middleware of the user limit: it runs after
// authentication, keyed by the verified user id.
func (l *Limiter) ByUser(ctx huma.Context, next func(huma.Context)) {
	if l.user == nil || !secured(ctx) {
		next(ctx)
		return
	}
	id, ok := l.userOf(ctx.Context())
	if !ok {
		next(ctx)
		return
	}
	r, w := humachi.Unwrap(ctx)
	if l.user.OnLimit(w, r, "user:"+id) {
		l.errs.WriteError(w, r, ErrTooManyRequests)
		return
	}
	next(ctx)
}
