package application

import (
	"context"
	"errors"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

// Idempotency makes a retried request harmless: the first request with a
// key claims it, its outcome is kept with the key, and a repeat gets that
// outcome again instead of doing the work twice. Replaying a request's
// outcome is a use-case concern, not a rule of tasks; the keys are kept in
// the store, so that every instance of the service sees them, and the
// outcome is stored in the transaction that did the work (see Transactor),
// so that the work and its record are kept or lost together.

// IdempotencyKey is an Idempotency-Key as one user sent it: keys of two
// users never meet.
type IdempotencyKey struct {
	Owner auth.UserID
	Value string
}

// IdempotencyClaim is one request's hold on a key.
type IdempotencyClaim struct {
	Key IdempotencyKey
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

// StoredResponse is what the first request answered, to be replayed: the
// status, headers and body as the transport sent them, kept as data.
type StoredResponse struct {
	Status int
	Header map[string][]string
	Body   []byte
}

var (
	// ErrKeyInFlight means another request holds the key and has not
	// finished.
	ErrKeyInFlight = errors.New("a request with this idempotency key is in progress")
	// ErrKeyMismatch means the key was used for another request (another
	// fingerprint) within its TTL.
	ErrKeyMismatch = errors.New("idempotency key used for another request")
)

// IdempotencyStore keeps keys and responses. Its calls honour a
// transaction in their context, as the repositories' do.
type IdempotencyStore interface {
	// Begin claims c.Key for the request. It returns (nil, nil) when the
	// request holds the key and must run; the stored response when the same
	// request already finished (replay it); ErrKeyMismatch or
	// ErrKeyInFlight otherwise. An expired key, or an unfinished one past
	// its lease, is claimed anew.
	Begin(ctx context.Context, c IdempotencyClaim) (*StoredResponse, error)
	// Finish stores the response of the request that holds the claim.
	Finish(ctx context.Context, c IdempotencyClaim, r StoredResponse) error
	// Abandon releases the claim without a response (the request failed in a
	// way a retry may fix), so that a repeat runs again.
	Abandon(ctx context.Context, c IdempotencyClaim) error
	// Purge removes at most limit keys expired at now and returns how many.
	Purge(ctx context.Context, now time.Time, limit int) (int, error)
}
