// Package mw is the HTTP middleware the API runs every request through
// that knows nothing of tasks: request ids, the access log and metrics,
// panics, security headers, CORS, body and time limits, trusted proxies
// and client addresses, rate limits, and Idempotency-Key. It writes no
// error body itself: what it refuses goes to the API's Errors, and what it
// needs to know of the caller comes in as functions (the verified user),
// so that the API's handlers and this package do not import each other's
// internals.
package mw
