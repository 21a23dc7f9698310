package mw

import (
	"errors"
	"net/http"
)

// Errors renders what a middleware refuses in the API's error shapes: the
// middleware says what went wrong, the API's error table how it looks
// (CONTRACT.md's bodies are the API's, not this package's).
type Errors interface {
	// WriteError answers r with err: one of the errors below, or one a
	// store returned (Idempotency's).
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

// What the middleware refuses.
var (
	// ErrPanic: a handler panicked. Recoverer has logged it, with the
	// stack.
	ErrPanic = errors.New("handler panicked")
	// ErrTooLarge: the declared body is over the limit (LimitBody).
	ErrTooLarge = errors.New("request body too large")
	// ErrTooManyRequests: over a rate limit (Limiter); Retry-After is set.
	ErrTooManyRequests = errors.New("rate limit exceeded")
	// ErrBadIdempotencyKey: the Idempotency-Key header is not 1 to 255
	// printable ASCII characters, or was sent twice.
	ErrBadIdempotencyKey = errors.New("idempotency key is not 1 to 255 printable ASCII characters, sent once")
)
