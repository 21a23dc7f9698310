package mw

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"golang.org/x/sync/semaphore"
)

// DefaultBodyBytesInFlight is the default bound of BodyBudget: 8 bodies of
// the largest size (1 MiB) at once, tens of thousands of ordinary ones. A
// 1 MiB body costs up to about 8 MiB while it is read, decoded and checked
// (a long string is copied along the way), and the collector lets the heap
// grow to three times what is live (GOGC=200): 200 clients sending 1 MiB
// titles at once then peak at 145 MiB resident (16 MiB: 239 MiB; no bound:
// 1.4 GiB).
const DefaultBodyBytesInFlight = 8 << 20

// ErrBodiesBusy: the request bodies being read and decoded were over the
// bound for longer than the request may wait. It comes wrapped with the
// request context's error (context.DeadlineExceeded), so the API answers it
// as any request that ran out of time: 503 with Retry-After.
var ErrBodiesBusy = errors.New("request bodies in flight over the bound")

// BodyBudget bounds the request-body bytes the API holds at once: each
// request that carries a body reserves its declared length (the largest
// body allowed when it declares none, as a chunked one) from the time its
// token is checked until it is answered, and waits for room, as long as
// its deadline allows. Whatever a body makes the server build while it is
// read, decoded and checked is then bounded by the bound times a constant,
// however many clients send at once.
type BodyBudget struct {
	sem     *semaphore.Weighted
	total   int64
	maxBody int64
	// large and largeMax: requests large matches (imports) may send up to
	// largeMax bytes, and reserve as much (at most the whole bound).
	large    func(*http.Request) bool
	largeMax int64
	errs     Errors
}

// NewBodyBudget bounds the bytes of the bodies in flight by total (at
// least maxBody, the largest body allowed); errs answers a request that
// could not wait (ErrBodiesBusy).
func NewBodyBudget(total, maxBody int64, errs Errors) *BodyBudget {
	total = max(total, maxBody)
	return &BodyBudget{sem: semaphore.NewWeighted(total), total: total, maxBody: maxBody, errs: errs}
}

// Middleware is the API middleware (huma.API.UseMiddleware) of the bound:
// it runs after authentication, so that requests that are refused their
// token never wait for room or take any.
func (b *BodyBudget) Middleware(ctx huma.Context, next func(huma.Context)) {
	r, w := humachi.Unwrap(ctx)
	n := b.weight(r)
	if n == 0 {
		next(ctx)
		return
	}
	if err := b.sem.Acquire(ctx.Context(), n); err != nil {
		// The request's deadline passed (or its client left) while
		// waiting.
		b.errs.WriteError(w, r, fmt.Errorf("%w: %w", ErrBodiesBusy, err))
		return
	}
	defer b.sem.Release(n)
	next(ctx)
}

// weight is what a request reserves: its declared length, the largest body
// allowed when it declares none, nothing when it has no body to read.
func (b *BodyBudget) weight(r *http.Request) int64 {
	switch {
	case !takesBody(r.Method) || r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody:
		return 0
	}
	maxBody := b.maxBody
	if b.large != nil && b.large(r) {
		maxBody = b.largeMax
	}
	if r.ContentLength < 0 || r.ContentLength > maxBody {
		return min(maxBody, b.total)
	}
	return r.ContentLength
}

// Large says that requests match matches may send bodies of up to max
// bytes (imports): one declaring no length reserves max, or the whole
// bound when max is larger.
func (b *BodyBudget) Large(match func(*http.Request) bool, max int64) {
	b.large, b.largeMax = match, max
}
