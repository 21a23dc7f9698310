package mw

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// Idempotency keys make a retried POST harmless. The first request with a
// key claims it in the store (a row in the database, so every instance sees
// it); its response is held back until it is stored with the key, then
// sent. A repeat with the same key, method, path and body gets that
// response again, with Idempotent-Replayed: true, and does nothing. A repeat
// while the first is still running gets 409 with Retry-After; the same key
// with another request, 422. Responses of 500 and above are not kept: the
// key is released so that a retry runs again.

const (
	headerIdempotencyKey = "Idempotency-Key"
	// HeaderReplayed marks a response that is the stored one of an earlier
	// request with the same key.
	HeaderReplayed = "Idempotent-Replayed"
	// IdempotencyTTL is how long a key and its response are kept.
	IdempotencyTTL = 24 * time.Hour
	// DefaultIdempotencyLease is how long an unfinished request holds its
	// key (see application.IdempotencyClaim.Lease) when the router has no
	// request timeout longer than half of it.
	DefaultIdempotencyLease = time.Minute
	maxIdempotencyKeyLen    = 255
)

// Idempotency makes the operations it is the middleware of honour
// Idempotency-Key (see above).
type Idempotency struct {
	Store   application.IdempotencyStore // nil: the header is ignored
	Lease   time.Duration                // how long an unfinished request holds its key; 0: DefaultIdempotencyLease
	MaxBody int64                        // the largest body read (the router's limit)
	Errors  Errors
	Log     *zap.Logger
	// Owner returns the user a request acts for when it is authorized to
	// (its token's user is the URL's): keys are per user, and a request
	// that is refused never touches them.
	Owner func(huma.Context) (auth.UserID, bool)
}

// Middleware is the operation middleware (huma.Operation.Middlewares). It
// runs after authentication.
func (k *Idempotency) Middleware(ctx huma.Context, next func(huma.Context)) {
	key, present := idempotencyKey(ctx)
	owner, authorized := k.Owner(ctx)
	if !present || k.Store == nil || !authorized {
		next(ctx) // the handler answers 401 or 403 as it would without a key
		return
	}
	r, w := humachi.Unwrap(ctx)
	if !validIdempotencyKey(key) {
		k.Errors.WriteError(w, r, ErrBadIdempotencyKey)
		return
	}
	body, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), k.MaxBody+1))
	if err != nil {
		k.Errors.WriteError(w, r, err)
		return
	}
	rec := &recorder{humaContext: ctx, reqBody: body, header: http.Header{}}
	if int64(len(body)) > k.MaxBody {
		next(rec) // huma answers 413; nothing worth keeping
		rec.flush()
		return
	}
	claim := application.IdempotencyClaim{
		Key:         application.IdempotencyKey{Owner: owner, Value: key},
		Fingerprint: fingerprint(ctx, body),
		Token:       rand.Text(),
		Now:         time.Now(),
		Lease:       k.Lease,
		TTL:         IdempotencyTTL,
	}
	if claim.Lease <= 0 {
		claim.Lease = DefaultIdempotencyLease
	}
	stored, err := k.Store.Begin(ctx.Context(), claim)
	if err != nil { // in progress (409), another request (422), or the store failed
		k.Errors.WriteError(w, r, err)
		return
	}
	if stored != nil {
		replay(ctx, stored)
		return
	}

	done := false
	defer func() {
		if !done { // the handler panicked: let a retry run again
			k.release(ctx.Context(), claim, nil)
		}
	}()
	next(rec)
	done = true
	status := rec.Status()
	var keep *application.StoredResponse
	if status > 0 && status < http.StatusInternalServerError && status != 499 {
		keep = &application.StoredResponse{Status: status, Header: rec.header, Body: rec.buf.Bytes()}
	}
	k.release(ctx.Context(), claim, keep)
	rec.flush()
}

// release stores the response with the claim's key (or, with none,
// abandons the claim), whether or not the client is still there: a retry
// must find it.
func (k *Idempotency) release(ctx context.Context, c application.IdempotencyClaim, r *application.StoredResponse) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var err error
	if r != nil {
		err = k.Store.Finish(ctx, c, *r)
	} else {
		err = k.Store.Abandon(ctx, c)
	}
	if err != nil {
		// The response goes out anyway; a repeat will wait for the lease.
		k.Log.Warn("idempotency key not released", zap.Error(err), RequestIDField(ctx))
	}
}

// idempotencyKey returns the Idempotency-Key header and whether there is
// one. Sent twice, it comes back as "" (which is invalid).
func idempotencyKey(ctx huma.Context) (string, bool) {
	var values []string
	ctx.EachHeader(func(name, value string) {
		if strings.EqualFold(name, headerIdempotencyKey) {
			values = append(values, value)
		}
	})
	switch len(values) {
	case 0:
		return "", false
	case 1:
		return strings.TrimSpace(values[0]), true
	}
	return "", true
}

func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// fingerprint identifies a request: method, path, query and body. A JSON
// body is compacted first, so that a client re-encoding the same value
// with other spacing is the same request.
func fingerprint(ctx huma.Context, body []byte) string {
	var compact bytes.Buffer
	if json.Compact(&compact, body) == nil {
		body = compact.Bytes()
	}
	u := ctx.URL()
	h := sha256.New()
	h.Write([]byte(ctx.Method() + " " + u.Path + "?" + u.RawQuery + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// replay answers with a stored response.
func replay(ctx huma.Context, r *application.StoredResponse) {
	for name, values := range r.Header {
		for i, v := range values {
			if i == 0 {
				ctx.SetHeader(name, v)
			} else {
				ctx.AppendHeader(name, v)
			}
		}
	}
	ctx.SetHeader(HeaderReplayed, "true")
	ctx.SetStatus(r.Status)
	_, _ = ctx.BodyWriter().Write(r.Body)
}

// humaContext names the embedded context of recorder, whose own name
// (Context) would hide huma.Context's Context method.
type humaContext = huma.Context

// recorder runs the handler with the body already read, and holds back
// the response (status and body; headers go through, since they are sent
// with the status) until the middleware has stored it.
type recorder struct {
	humaContext
	reqBody []byte
	status  int
	header  http.Header
	buf     bytes.Buffer
}

func (r *recorder) BodyReader() io.Reader { return bytes.NewReader(r.reqBody) }

func (r *recorder) SetStatus(code int) { r.status = code }

func (r *recorder) Status() int { return r.status }

func (r *recorder) SetHeader(name, value string) {
	r.header.Set(name, value)
	r.humaContext.SetHeader(name, value)
}

func (r *recorder) AppendHeader(name, value string) {
	r.header.Add(name, value)
	r.humaContext.AppendHeader(name, value)
}

func (r *recorder) BodyWriter() io.Writer { return &r.buf }

// flush sends what the handler answered.
func (r *recorder) flush() {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	r.humaContext.SetStatus(status)
	if r.buf.Len() > 0 {
		_, _ = r.humaContext.BodyWriter().Write(r.buf.Bytes())
	}
}
