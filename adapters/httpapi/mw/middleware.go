package mw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
	"go.uber.org/zap"
)

type ctxKey int

const requestInfoKey ctxKey = 0

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

// RequestIDField is the request's id as a log field, so that a log line
// written deeper down can be matched with the access log's.
func RequestIDField(ctx context.Context) zap.Field {
	if ri := infoFrom(ctx); ri != nil {
		return zap.String("request_id", ri.id)
	}
	return zap.Skip()
}

// SetUser names the caller in the access log line.
func SetUser(ctx context.Context, userID string) {
	if ri := infoFrom(ctx); ri != nil {
		ri.userID = userID
	}
}

// SetAuthFailure says why the token was refused, for the metrics.
func SetAuthFailure(ctx context.Context, reason string) {
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

// RequestID takes the caller's X-Request-ID when it is sane, or makes one, and
// echoes it on the response.
func RequestID(next http.Handler) http.Handler {
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

// AccessLog writes one line per request: method, route pattern, status,
// duration, request id and user id (never the token), and counts the request
// in m. Its fields are built only when the logger writes info lines.
//
// It also holds back the response (see respWriter): an API answer goes out
// with its Content-Length in one write instead of as a chunked stream.
func AccessLog(log *zap.Logger, m *Metrics) func(http.Handler) http.Handler {
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

// Recoverer turns a panic into ErrPanic, which errs answers (500), and logs
// the stack.
func Recoverer(log *zap.Logger, errs Errors) func(http.Handler) http.Handler {
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
				log.Error("panic", zap.Any("panic", rec), zap.ByteString("stack", debug.Stack()), RequestIDField(r.Context()))
				errs.WriteError(w, r, ErrPanic)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

var (
	nosniffValue = []string{"nosniff"}
	noStoreValue = []string{"no-store"}
)

// SecurityHeaders marks API answers as private and not to be sniffed.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Shared value slices: Set and Add never write into them (Set
		// replaces the slice, Add appends past its capacity).
		h["X-Content-Type-Options"] = nosniffValue
		h["Cache-Control"] = noStoreValue
		next.ServeHTTP(w, r)
	})
}

// Deadline bounds the work of every request: storage calls and token checks
// still running after d end with context.DeadlineExceeded, which the error
// table answers with 503 and Retry-After. It covers what a per-statement
// timeout cannot: waiting for a free database connection when all of them
// hang on a database that stopped answering. Zero means no deadline.
// Requests for which exempt is true (streams of live events, which last as
// long as their client stays) get none; exempt may be nil.
func Deadline(d time.Duration, exempt func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if exempt != nil && exempt(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// LimitBody refuses a declared body over max at once (ErrTooLarge) and
// caps the rest, so a client cannot make the server read more than max
// bytes.
func LimitBody(max int64, errs Errors) func(http.Handler) http.Handler {
	return LimitBodyBy(func(*http.Request) int64 { return max }, errs)
}

// LimitBodyBy is LimitBody with a bound per request (imports have their
// own).
func LimitBodyBy(max func(*http.Request) int64, errs Errors) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if takesBody(r.Method) && r.ContentLength > max(r) {
				errs.WriteError(w, r, ErrTooLarge)
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

// AnyOrigin, alone in the list of origins, lets any web page call the API.
const AnyOrigin = "*"

// CORS answers preflights for the configured origins and lets their pages
// read the answers. Listed origins are allowed credentials, as the FastAPI
// peers allowed them. AnyOrigin never is: browsers refuse "*" with
// credentials, and the way round it (echoing whatever Origin came, with
// credentials) would let every site on the web send the cookies a browser
// holds for the API. Bearer tokens go in the Authorization header, which
// needs no credentials mode, so a frontend calling the API with fetch loses
// nothing; one that sets credentials: "include" must be listed by name.
func CORS(origins []string) func(http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, AnyOrigin)
	if anyOrigin {
		origins = []string{AnyOrigin}
	}
	return cors.Handler(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID", "Last-Event-ID"},
		ExposedHeaders:   []string{"X-Request-ID", "ETag", "Link", "X-Total-Count", "Retry-After", "Location", "Idempotent-Replayed"},
		AllowCredentials: !anyOrigin,
		MaxAge:           600,
	})
}
