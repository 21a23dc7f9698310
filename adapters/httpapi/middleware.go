package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
	"go.uber.org/zap"
)

type ctxKey int

const requestInfoKey ctxKey = 0

// errorWriter renders what a middleware refuses in the API's error shapes:
// the middleware says what went wrong (one of the errors below, or one a
// store returned), the API's error table how it looks.
type errorWriter interface {
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

// What the middleware refuses, for the error table.
var (
	errPanic             = errors.New("handler panicked") // logged with its stack by recoverer
	errTooLarge          = errors.New("request body too large")
	errTooManyRequests   = errors.New("rate limit exceeded")
	errBadIdempotencyKey = errors.New("idempotency key is not 1 to 255 printable ASCII characters, sent once")
)

// requestInfo travels in the request context so that inner layers can tell
// the access log who the caller was.
type requestInfo struct {
	id     string
	userID string
	// authFailure is why the token was refused (or could not be checked),
	// set by the error table, for the metrics.
	authFailure string
}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey).(*requestInfo)
	return ri
}

func requestIDField(ctx context.Context) zap.Field {
	if ri := infoFrom(ctx); ri != nil {
		return zap.String("request_id", ri.id)
	}
	return zap.Skip()
}

// setUser names the caller in the access log line.
func setUser(ctx context.Context, userID string) {
	if ri := infoFrom(ctx); ri != nil {
		ri.userID = userID
	}
}

// setAuthFailure says why the token was refused, for the metrics.
func setAuthFailure(ctx context.Context, reason string) {
	if ri := infoFrom(ctx); ri != nil {
		ri.authFailure = reason
	}
}

// requestCtx is the request's context with its requestInfo, which it
// answers for requestInfoKey, and its id, for chi's middleware.RequestIDKey:
// one allocation where two context.WithValue and the info were three.
type requestCtx struct {
	context.Context
	info     requestInfo
	idHeader [1]string // the X-Request-ID header's value slice
}

func (c *requestCtx) Value(key any) any {
	switch key {
	case requestInfoKey:
		return &c.info
	case middleware.RequestIDKey:
		return c.info.id
	}
	return c.Context.Value(key)
}

// headerRequestID is X-Request-ID as net/http spells it (canonical), so
// that reading and setting it need not canonicalize it on every request.
const headerRequestID = "X-Request-Id"

// requestID takes the caller's X-Request-ID when it is sane, or makes one, and
// echoes it on the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(headerRequestID)
		if !saneRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		ctx := &requestCtx{Context: r.Context(), info: requestInfo{id: id}}
		ctx.idHeader[0] = id
		w.Header()[headerRequestID] = ctx.idHeader[:]
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// accessLog writes one line per request: method, route pattern, status,
// duration, request id and user id (never the token), and counts the request
// in m. Its fields are built only when the logger writes info lines.
//
// It also holds back the response (see respWriter): an API answer goes out
// with its Content-Length in one write instead of as a chunked stream.
func accessLog(log *zap.Logger, m *Metrics) func(http.Handler) http.Handler {
	// Where the line is written is always here: no caller (runtime.Caller
	// on every request).
	log = log.WithOptions(zap.WithCaller(false))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := newRespWriter(w, r.Method)
			next.ServeHTTP(ww, r)
			ww.finish()
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil {
				if p := rc.RoutePattern(); p != "" {
					route = p
				}
			}
			status, written := ww.status, ww.bytes
			ww.free()
			if status == 0 {
				status = http.StatusOK
			}
			took := time.Since(start)
			ri := infoFrom(r.Context())
			if ce := log.Check(zap.InfoLevel, "request"); ce != nil {
				fields := make([]zap.Field, 0, 7)
				fields = append(fields,
					zap.String("method", r.Method),
					zap.String("route", route),
					zap.Int("status", status),
					zap.Duration("duration", took),
					zap.Int("bytes", written),
				)
				if ri != nil {
					fields = append(fields, zap.String("request_id", ri.id))
					if ri.userID != "" {
						fields = append(fields, zap.String("user_id", ri.userID))
					}
				}
				ce.Write(fields...)
			}
			var authFailure string
			if ri != nil {
				authFailure = ri.authFailure
			}
			m.observe(route, r.Method, status, took, authFailure)
		})
	}
}

// recoverer turns a panic into errPanic, which errs answers (500), and logs
// the stack.
func recoverer(log *zap.Logger, errs errorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil {
					return
				}
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				log.Error("panic", zap.Any("panic", rec), zap.ByteString("stack", debug.Stack()), requestIDField(r.Context()))
				errs.WriteError(w, r, errPanic)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

var (
	nosniffValue = []string{"nosniff"}
	noStoreValue = []string{"no-store"}
)

// securityHeaders marks API answers as private and not to be sniffed.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Shared value slices: Set and Add never write into them (Set
		// replaces the slice, Add appends past its capacity).
		h["X-Content-Type-Options"] = nosniffValue
		h["Cache-Control"] = noStoreValue
		next.ServeHTTP(w, r)
	})
}

// deadline bounds the work of every request: storage calls and token checks
// still running after d end with context.DeadlineExceeded, which the error
// table answers with 503 and Retry-After. It covers what a per-statement
// timeout cannot: waiting for a free database connection when all of them
// hang on a database that stopped answering. Zero means no deadline.
func deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// limitBody refuses a declared body over max at once (errTooLarge) and
// caps the rest, so a client cannot make the server read more than max
// bytes.
func limitBody(max int64, errs errorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max && takesBody(r.Method) {
				errs.WriteError(w, r, errTooLarge)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// takesBody reports whether requests with this method carry a body the API
// reads. Bodies of other requests are never read, so they cost nothing.
func takesBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// allowHeader lists the methods a path does answer, for a 405's Allow
// header (RFC 9110, and what FastAPI sends).
func allowHeader(router chi.Routes, path string) string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if router.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}

// corsFor answers preflights for the configured origins. Credentials are
// allowed because FastAPI peers allowed them, and origins are never "*".
func corsFor(origins []string) func(http.Handler) http.Handler {
	return cors.Handler(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"},
		ExposedHeaders:   []string{"X-Request-ID", "ETag", "Link", "X-Total-Count", "Retry-After", "Location", "Idempotent-Replayed"},
		AllowCredentials: true,
		MaxAge:           600,
	})
}
