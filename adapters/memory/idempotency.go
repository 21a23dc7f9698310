package memory

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/todo-backend/todo/application"
)

// IdempotencyStore is an application.IdempotencyStore held in memory, in a Store: keys
// are seen by this process only, which is all a memory: service has.
type IdempotencyStore struct {
	s    *Store
	keys map[application.IdempotencyKey]*keyEntry
}

type keyEntry struct {
	fingerprint string
	token       string
	lockedUntil time.Time
	expiresAt   time.Time
	done        bool
	resp        application.StoredResponse
}

var _ application.IdempotencyStore = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns an empty store of keys, in a Store of its own.
func NewIdempotencyStore() *IdempotencyStore { return NewStore().Keys() }

// Begin claims the key, or says why not.
func (s *IdempotencyStore) Begin(ctx context.Context, c application.IdempotencyClaim) (*application.StoredResponse, error) {
	defer s.s.write(ctx).done()
	e, ok := s.keys[c.Key]
	switch {
	case !ok || !c.Now.Before(e.expiresAt):
		// New, or expired: claim it.
	case e.fingerprint != c.Fingerprint:
		return nil, application.ErrKeyMismatch
	case e.done:
		r := e.resp
		r.Header = cloneHeader(r.Header)
		r.Body = slices.Clone(r.Body)
		return &r, nil
	case c.Now.Before(e.lockedUntil):
		return nil, application.ErrKeyInFlight
	}
	s.keys[c.Key] = &keyEntry{
		fingerprint: c.Fingerprint,
		token:       c.Token,
		lockedUntil: c.Now.Add(c.Lease),
		expiresAt:   c.Now.Add(c.TTL),
	}
	return nil, nil
}

// Finish keeps the response, if the claim still holds the key.
func (s *IdempotencyStore) Finish(ctx context.Context, c application.IdempotencyClaim, r application.StoredResponse) error {
	defer s.s.write(ctx).done()
	if e, ok := s.keys[c.Key]; ok && e.token == c.Token && !e.done {
		e.done = true
		e.resp = application.StoredResponse{Status: r.Status, Header: cloneHeader(r.Header), Body: slices.Clone(r.Body)}
	}
	return nil
}

// Abandon forgets the key, if the claim still holds it.
func (s *IdempotencyStore) Abandon(ctx context.Context, c application.IdempotencyClaim) error {
	defer s.s.write(ctx).done()
	if e, ok := s.keys[c.Key]; ok && e.token == c.Token && !e.done {
		delete(s.keys, c.Key)
	}
	return nil
}

// Purge forgets up to limit expired keys.
func (s *IdempotencyStore) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	defer s.s.write(ctx).done()
	n := 0
	for k, e := range s.keys {
		if limit > 0 && n >= limit {
			break
		}
		if !now.Before(e.expiresAt) {
			delete(s.keys, k)
			n++
		}
	}
	return n, nil
}

func cloneHeader(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	out := maps.Clone(h)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}
