package contract

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

func TestIdempotencyStore(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(*testing.T) application.IdempotencyStore{
		"memory": func(*testing.T) application.IdempotencyStore { return memory.NewIdempotencyStore() },
		"sqlite": func(t *testing.T) application.IdempotencyStore { return sqlstore.NewIdempotencyStore(openSQLiteDB(t)) },
		"postgres": func(t *testing.T) application.IdempotencyStore {
			return sqlstore.NewIdempotencyStore(openPostgresDB(t))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, application.IdempotencyStore)
			}{
				{"claim, finish, replay", testKeyReplay},
				{"abandon frees the key", testKeyAbandon},
				{"a claim past its lease is taken over", testKeyLease},
				{"an expired key is new", testKeyExpiry},
				{"of 20 requests racing on a key one claims it", testKeyRace},
				{"purge removes expired keys, bounded", testKeyPurge},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, s)
				})
			}
		})
	}
}

// claim is a fresh owner's claim on key at now.
func claim(owner auth.UserID, key, fingerprint string, now time.Time) application.IdempotencyClaim {
	return application.IdempotencyClaim{
		Key:         application.IdempotencyKey{Owner: owner, Value: key},
		Fingerprint: fingerprint,
		Token:       "token-" + uniq(),
		Now:         now,
		Lease:       time.Minute,
		TTL:         24 * time.Hour,
	}
}

func begin(t *testing.T, s application.IdempotencyStore, c application.IdempotencyClaim) (*application.StoredResponse, error) {
	t.Helper()
	return s.Begin(context.Background(), c)
}

func wantClaimed(t *testing.T, what string, s application.IdempotencyStore, c application.IdempotencyClaim) {
	t.Helper()
	if r, err := begin(t, s, c); r != nil || err != nil {
		t.Fatalf("%s: Begin() = %v, %v, want the claim", what, r, err)
	}
}

func wantErr(t *testing.T, what string, s application.IdempotencyStore, c application.IdempotencyClaim, want error) {
	t.Helper()
	if r, err := begin(t, s, c); r != nil || !errors.Is(err, want) {
		t.Errorf("%s: Begin() = %v, %v, want %v", what, r, err, want)
	}
}

func wantResponse(t *testing.T, what string, s application.IdempotencyStore, c application.IdempotencyClaim, want application.StoredResponse) {
	t.Helper()
	r, err := begin(t, s, c)
	if err != nil || r == nil {
		t.Fatalf("%s: Begin() = %v, %v, want the stored response", what, r, err)
	}
	if r.Status != want.Status || !bytes.Equal(r.Body, want.Body) ||
		!maps.EqualFunc(r.Header, want.Header, slices.Equal[[]string]) {
		t.Errorf("%s: Begin() = %+v, want %+v", what, *r, want)
	}
}

func testKeyReplay(t *testing.T, s application.IdempotencyStore) {
	ctx := context.Background()
	owner := newOwner()
	first := claim(owner, "k", "fp", base)
	wantClaimed(t, "first", s, first)
	again := claim(owner, "k", "fp", base.Add(time.Second))
	wantErr(t, "same request while the first runs", s, again, application.ErrKeyInFlight)
	wantErr(t, "another request while the first runs", s, claim(owner, "k", "other", base.Add(time.Second)), application.ErrKeyMismatch)

	resp := application.StoredResponse{
		Status: 201,
		Header: map[string][]string{"Content-Type": {"application/json"}, "Etag": {`"1-1"`}, "X-Two": {"a", "b"}},
		Body:   []byte("{\"id\":1,\"title\":\"caf\u00e9 \\u0000\"}\n"),
	}
	if err := s.Finish(ctx, first, resp); err != nil {
		t.Fatalf("Finish() = %v", err)
	}
	wantResponse(t, "same request after the first", s, again, resp)
	wantResponse(t, "same request an hour later", s, claim(owner, "k", "fp", base.Add(time.Hour)), resp)
	wantErr(t, "another request after the first", s, claim(owner, "k", "other", base.Add(time.Second)), application.ErrKeyMismatch)
	// Finishing again, or abandoning, changes nothing.
	if err := s.Finish(ctx, first, application.StoredResponse{Status: 500}); err != nil {
		t.Errorf("Finish() again = %v", err)
	}
	if err := s.Abandon(ctx, first); err != nil {
		t.Errorf("Abandon() after Finish = %v", err)
	}
	wantResponse(t, "after a second Finish and an Abandon", s, again, resp)
	// Keys are per owner; an empty body round-trips.
	other := claim(newOwner(), "k", "other", base)
	wantClaimed(t, "the same key of another owner", s, other)
	empty := application.StoredResponse{Status: 204, Header: map[string][]string{}, Body: []byte{}}
	if err := s.Finish(ctx, other, empty); err != nil {
		t.Fatal(err)
	}
	r, err := begin(t, s, other)
	if err != nil || r == nil || r.Status != 204 || len(r.Body) != 0 {
		t.Errorf("replay of an empty response = %+v, %v", r, err)
	}
}

func testKeyAbandon(t *testing.T, s application.IdempotencyStore) {
	ctx := context.Background()
	owner := newOwner()
	first := claim(owner, "k", "fp", base)
	wantClaimed(t, "first", s, first)
	// Only the holder may abandon.
	if err := s.Abandon(ctx, claim(owner, "k", "fp", base)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "after a stranger's Abandon", s, claim(owner, "k", "fp", base), application.ErrKeyInFlight)
	if err := s.Abandon(ctx, first); err != nil {
		t.Fatalf("Abandon() = %v", err)
	}
	retry := claim(owner, "k", "another fingerprint is fine now", base.Add(time.Second))
	wantClaimed(t, "after Abandon", s, retry)
	// The abandoned claim can no longer finish.
	if err := s.Finish(ctx, first, application.StoredResponse{Status: 201, Body: []byte("stale")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "after the abandoned claim's Finish", s, retry, application.ErrKeyInFlight)
}

func testKeyLease(t *testing.T, s application.IdempotencyStore) {
	ctx := context.Background()
	owner := newOwner()
	dead := claim(owner, "k", "fp", base)
	wantClaimed(t, "first", s, dead)
	wantErr(t, "within the lease", s, claim(owner, "k", "fp", base.Add(59*time.Second)), application.ErrKeyInFlight)
	heir := claim(owner, "k", "fp", base.Add(61*time.Second))
	wantClaimed(t, "past the lease", s, heir)
	// The first request, if it was only slow, can no longer store its response.
	if err := s.Finish(ctx, dead, application.StoredResponse{Status: 201, Body: []byte("dead")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "after the dead claim's Finish", s, claim(owner, "k", "fp", base.Add(62*time.Second)), application.ErrKeyInFlight)
	resp := application.StoredResponse{Status: 201, Header: map[string][]string{}, Body: []byte("heir")}
	if err := s.Finish(ctx, heir, resp); err != nil {
		t.Fatal(err)
	}
	wantResponse(t, "after the heir's Finish", s, claim(owner, "k", "fp", base.Add(63*time.Second)), resp)
}

func testKeyExpiry(t *testing.T, s application.IdempotencyStore) {
	ctx := context.Background()
	owner := newOwner()
	first := claim(owner, "k", "fp", base)
	wantClaimed(t, "first", s, first)
	if err := s.Finish(ctx, first, application.StoredResponse{Status: 201, Body: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "another request within the TTL", s, claim(owner, "k", "new", base.Add(23*time.Hour)), application.ErrKeyMismatch)
	later := claim(owner, "k", "new", base.Add(24*time.Hour))
	wantClaimed(t, "another request once the key expired", s, later)
	resp := application.StoredResponse{Status: 200, Header: map[string][]string{}, Body: []byte("new")}
	if err := s.Finish(ctx, later, resp); err != nil {
		t.Fatal(err)
	}
	wantResponse(t, "the new request again", s, claim(owner, "k", "new", base.Add(25*time.Hour)), resp)
}

func testKeyRace(t *testing.T, s application.IdempotencyStore) {
	const n = 20
	owner := newOwner()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	resps := make([]*application.StoredResponse, n)
	for i := range n {
		wg.Go(func() {
			<-start
			resps[i], errs[i] = s.Begin(context.Background(), claim(owner, "race", "fp", base))
		})
	}
	close(start)
	wg.Wait()
	claimed := 0
	for i := range n {
		switch {
		case errs[i] == nil && resps[i] == nil:
			claimed++
		case errors.Is(errs[i], application.ErrKeyInFlight):
		default:
			t.Errorf("Begin() %d = %v, %v, want the claim or ErrInFlight", i, resps[i], errs[i])
		}
	}
	if claimed != 1 {
		t.Errorf("%d of %d racing requests claimed the key, want 1", claimed, n)
	}
}

// testKeyPurge works in the year 2000, which no other case does, so that
// the purge (across owners) finds exactly its keys.
func testKeyPurge(t *testing.T, s application.IdempotencyStore) {
	ctx := context.Background()
	owner := newOwner()
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		c := claim(owner, "old"+strconv.Itoa(i), "fp", old.Add(time.Duration(i)*time.Hour))
		wantClaimed(t, "old key", s, c)
		if i > 0 {
			if err := s.Finish(ctx, c, application.StoredResponse{Status: 201, Body: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	fresh := claim(owner, "fresh", "fp", old.Add(48*time.Hour))
	wantClaimed(t, "fresh key", s, fresh)
	now := old.Add(30 * time.Hour) // the three old keys expired, the fresh one not
	for _, want := range []int{2, 1, 0} {
		if n, err := s.Purge(ctx, now, 2); n != want || err != nil {
			t.Errorf("Purge(now, 2) = %d, %v, want %d", n, err, want)
		}
	}
	wantErr(t, "the fresh key after the purge", s, claim(owner, "fresh", "fp", now), application.ErrKeyInFlight)
}
