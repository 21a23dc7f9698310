package mw

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
// it), in a statement of its own. Its handler then runs in a unit of work
// (application.Transactor), and its response is stored with the key in the
// same one: the handler's writes and the record of their response are
// committed together, or neither is. The response is held back until then,
// and sent after the commit. A repeat with the same key, method, path and
// body gets that response again, with Idempotent-Replayed: true, and does
// nothing. A repeat while the first is still running gets 409 with
// Retry-After (on a store that runs one transaction at a time, SQLite's or
// memory's, it waits for the first and gets its response); the same key
// with another request, 422. Responses of 500 and above are not kept: the
// unit of work is rolled back and the key released, so that a retry runs
// again.
//
// So a key left unfinished (the process killed, the database gone) never
// stands for committed work: once its lease has passed, a retry may take
// it over and run the request, which will then have run once. A commit
// whose reply was lost has stored the response too, and a retry replays
// it.

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
	Tx      application.Transactor       // runs the handler and Finish as one unit of work; required with Store
	Lease   time.Duration                // how long an unfinished request holds its key; 0: DefaultIdempotencyLease
	MaxBody int64                        // the largest body read (the router's limit)
	Errors  Errors
	Log     *zap.Logger
	// Stream hands the handler the body as it arrives instead of reading
	// it first (see streamed): for bodies too large to hold, an import's.
	Stream bool
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
	if k.Stream {
		k.streamed(ctx, next, key, owner)
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
		if !done { // the handler panicked (its unit of work is rolled back): let a retry run again
			k.abandon(ctx.Context(), claim)
		}
	}()
	err = k.Tx.InTx(ctx.Context(), func(tx context.Context) error {
		rec.reset() // the store may run this again (a deadlock): nothing of a failed run
		rec.ctx = tx
		next(rec)
		status := rec.Status()
		if status <= 0 || status >= http.StatusInternalServerError || status == 499 {
			return errNotKept
		}
		return k.Store.Finish(tx, claim, application.StoredResponse{Status: status, Header: rec.header, Body: rec.buf.Bytes()})
	})
	done = true
	k.settle(ctx, rec, claim, err)
}

// settle answers a keyed request once its unit of work has ended with err:
// the recorded response when it committed (nil) or was not to be kept
// (errNotKept: the claim is released); otherwise the error, for Finish or
// the commit failed: the handler's writes were rolled back, and its
// response must not go out. (Unless the commit succeeded and only its
// reply was lost: then the key holds the response, Abandon leaves it, and
// a retry replays it.)
func (k *Idempotency) settle(ctx huma.Context, rec *recorder, claim application.IdempotencyClaim, err error) {
	switch {
	case err == nil:
		rec.flush()
	case errors.Is(err, errNotKept):
		k.abandon(ctx.Context(), claim)
		rec.flush()
	default:
		k.abandon(ctx.Context(), claim)
		r, w := humachi.Unwrap(ctx)
		k.Errors.WriteError(w, r, err)
	}
}

// headerBodyHash is kept with a streamed request's response, not sent: the
// SHA-256 of its body, which a repeat must match.
const headerBodyHash = "Idempotency-Body-Sha256"

// streamed is Middleware for a body that is never held in memory (Stream):
// the key is claimed on the method, path and query alone, and the body's
// SHA-256 is computed as the handler reads it (the rest, up to MaxBody, is
// read after it) and kept with the response. A repeat reads its body
// through the hash (constant memory) and gets the response only when the
// hashes agree; the same key with another body is 422 as always. A repeat
// while the first runs is 409 before any of its body is read.
func (k *Idempotency) streamed(ctx huma.Context, next func(huma.Context), key string, owner auth.UserID) {
	r, w := humachi.Unwrap(ctx)
	claim := application.IdempotencyClaim{
		Key:         application.IdempotencyKey{Owner: owner, Value: key},
		Fingerprint: fingerprint(ctx, []byte("streamed")),
		Token:       rand.Text(),
		Now:         time.Now(),
		Lease:       k.Lease,
		TTL:         IdempotencyTTL,
	}
	if claim.Lease <= 0 {
		claim.Lease = DefaultIdempotencyLease
	}
	stored, err := k.Store.Begin(ctx.Context(), claim)
	if err != nil {
		k.Errors.WriteError(w, r, err)
		return
	}
	hash := sha256.New()
	body := io.TeeReader(io.LimitReader(ctx.BodyReader(), k.MaxBody+1), hash)
	if stored != nil {
		if _, err := io.Copy(io.Discard, body); err != nil {
			k.Errors.WriteError(w, r, err)
			return
		}
		if hex.EncodeToString(hash.Sum(nil)) != http.Header(stored.Header).Get(headerBodyHash) {
			k.Errors.WriteError(w, r, application.ErrKeyMismatch)
			return
		}
		kept := *stored
		h := http.Header(stored.Header).Clone()
		h.Del(headerBodyHash)
		kept.Header = h
		replay(ctx, &kept)
		return
	}
	rec := &recorder{humaContext: ctx, reqStream: body, header: http.Header{}}
	done := false
	defer func() {
		if !done {
			k.abandon(ctx.Context(), claim)
		}
	}()
	runs := 0
	err = k.Tx.InTx(ctx.Context(), func(tx context.Context) error {
		// The store may run this again (after a deadlock), but the body
		// it streamed is gone: nothing was written, and the client may
		// send it again (a 503 with Retry-After).
		if runs++; runs > 1 {
			return application.ErrUnavailable
		}
		rec.ctx = tx
		next(rec)
		status := rec.Status()
		if status <= 0 || status >= http.StatusInternalServerError || status == 499 {
			return errNotKept
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return errNotKept // the client is gone
		}
		header := rec.header.Clone()
		header.Set(headerBodyHash, hex.EncodeToString(hash.Sum(nil)))
		return k.Store.Finish(tx, claim, application.StoredResponse{Status: status, Header: header, Body: rec.buf.Bytes()})
	})
	done = true
	k.settle(ctx, rec, claim, err)
}

// errNotKept rolls back the unit of work of a request whose response is
// not kept (a 5xx, a client gone, no response at all).
var errNotKept = errors.New("response not kept")

// abandon releases the claim, whether or not the client is still there: a
// retry must find the key free.
func (k *Idempotency) abandon(ctx context.Context, c application.IdempotencyClaim) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := k.Store.Abandon(ctx, c); err != nil {
		// A repeat will wait for the lease; the key holds no committed work.
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

// recorder runs the handler with the body already read, in the unit of
// work's context, and holds back the response (status, headers and body)
// until the middleware has stored it: a response whose unit of work fails
// is never sent, not even its headers.
type recorder struct {
	humaContext
	ctx     context.Context // the unit of work's; nil: the request's
	reqBody []byte
	// reqStream, when set, is the body as it arrives (Idempotency.Stream).
	reqStream io.Reader
	status    int
	header    http.Header
	buf       bytes.Buffer
}

func (r *recorder) Context() context.Context {
	if r.ctx != nil {
		return r.ctx
	}
	return r.humaContext.Context()
}

func (r *recorder) BodyReader() io.Reader {
	if r.reqStream != nil {
		return r.reqStream
	}
	return bytes.NewReader(r.reqBody)
}

func (r *recorder) SetStatus(code int) { r.status = code }

// reset forgets the response recorded so far: a unit of work that the store
// runs again (after a deadlock, Transactor) answers from nothing.
func (r *recorder) reset() {
	r.status = 0
	r.header = http.Header{}
	r.buf.Reset()
}

func (r *recorder) Status() int { return r.status }

func (r *recorder) SetHeader(name, value string) { r.header.Set(name, value) }

func (r *recorder) AppendHeader(name, value string) { r.header.Add(name, value) }

func (r *recorder) BodyWriter() io.Writer { return &r.buf }

// flush sends what the handler answered.
func (r *recorder) flush() {
	for name, values := range r.header {
		for i, v := range values {
			if i == 0 {
				r.humaContext.SetHeader(name, v)
			} else {
				r.humaContext.AppendHeader(name, v)
			}
		}
	}
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	r.humaContext.SetStatus(status)
	if r.buf.Len() > 0 {
		_, _ = r.humaContext.BodyWriter().Write(r.buf.Bytes())
	}
}
