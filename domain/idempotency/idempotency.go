// Package idempotency makes a retried request harmless: the first request
// with a key claims it, its response is kept with the key, and a repeat gets
// that response again instead of doing the work twice. Keys are kept in the
// database, so that every instance of the service sees them.
package idempotency

import (
	"context"
	"errors"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

// Key is an Idempotency-Key as one user sent it: keys of two users never
// meet.
type Key struct {
	Owner auth.UserID
	Value string
}

// Claim is one request's hold on a key.
type Claim struct {
	Key Key
	// Fingerprint identifies the request (its method, path and body): a key
	// is only ever replayed for the same request.
	Fingerprint string
	// Token identifies this claim; only its holder may finish or abandon it.
	Token string
	// Now is when the request arrived.
	Now time.Time
	// Lease is how long the claim holds an unfinished key. Past it the
	// request is taken to have died with its process (a crash, a kill), and
	// a repeat may claim the key again.
	Lease time.Duration
	// TTL is how long the key is kept from Now: repeats within it are
	// replayed, later ones run as new requests.
	TTL time.Duration
}

// Response is what the first request answered, to be replayed.
type Response struct {
	Status int
	Header map[string][]string
	Body   []byte
}

var (
	// ErrInFlight means another request holds the key and has not finished.
	ErrInFlight = errors.New("a request with this idempotency key is in progress")
	// ErrMismatch means the key was used for another request (another
	// fingerprint) within its TTL.
	ErrMismatch = errors.New("idempotency key used for another request")
)

// Store keeps keys and responses.
type Store interface {
	// Begin claims c.Key for the request. It returns (nil, nil) when the
	// request holds the key and must run; the stored response when the same
	// request already finished (replay it); ErrMismatch or ErrInFlight
	// otherwise. An expired key, or an unfinished one past its lease, is
	// claimed anew.
	Begin(ctx context.Context, c Claim) (*Response, error)
	// Finish stores the response of the request that holds the claim.
	Finish(ctx context.Context, c Claim, r Response) error
	// Abandon releases the claim without a response (the request failed in a
	// way a retry may fix), so that a repeat runs again.
	Abandon(ctx context.Context, c Claim) error
	// Purge removes at most limit keys expired at now and returns how many.
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}
