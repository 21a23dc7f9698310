package jwks

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

const burst = 32

// waiters returns a Config hook that reports each verification which starts
// waiting for an unknown-kid refresh, and the channel it reports on.
func waiters() (func(), chan struct{}) {
	ch := make(chan struct{}, 10*burst)
	return func() { ch <- struct{}{} }, ch
}

// waitFor receives n values from ch, failing the test after 10 s.
func waitFor(t *testing.T, ch <-chan struct{}, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for i := range n {
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("waited 10s: %d of %d verifications waiting for the refresh", i, n)
		}
	}
}

// TestRotationBurstWaitsForRefresh: after Better Auth rotates its key, a
// burst of tokens signed with the new key arrives while the one refresh it
// causes is still in flight. All of them wait for that refresh and pass;
// none gets 401 (which would log its user out), and the JWKS is fetched once.
func TestRotationBurstWaitsForRefresh(t *testing.T) {
	t.Parallel()
	oldKey, nextKey := newKey(t, "EdDSA"), newKey(t, "EdDSA")
	s := newKeyServer(t, oldKey.jwk(t))
	onWait, waiting := waiters()
	v := readyVerifier(t, s, Config{onWait: onWait}) // default limiter: one unknown-kid fetch per 5 min

	s.publish(t, nextKey.jwk(t), oldKey.jwk(t))
	release := s.hold(t)
	s.drain()
	before := s.hits.Load()
	now := time.Now()
	tokens := make([]string, burst)
	for i := range tokens {
		tokens[i] = nextKey.sign(t, claimsWith(now, map[string]any{"sub": randomKID(t)}))
	}
	errs := make([]error, burst)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() { _, errs[i] = v.Verify(t.Context(), tokens[i]) })
	}
	// The whole burst is waiting while the fetch is held at the server.
	waitFor(t, waiting, burst)
	s.waitHits(t, 1)
	release()
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("Verify(new kid #%d) = %v, want nil", i, err)
		}
	}
	if got := s.hits.Load() - before; got != 1 {
		t.Errorf("JWKS requests for a burst of %d new-kid tokens = %d, want 1", burst, got)
	}
	if _, err := v.Verify(t.Context(), oldKey.sign(t, claimsAt(now))); err != nil {
		t.Errorf("Verify(old kid, still published) = %v, want nil", err)
	}
	if got := s.hits.Load() - before; got != 1 {
		t.Errorf("JWKS requests after the old kid = %d, want still 1", got)
	}
}

// TestUnknownKIDBurstRateLimited: a burst of random kids shares one refresh,
// then gets 401; once the bucket is empty (here one fetch an hour), the next
// burst gets 401 at once, without any fetch.
func TestUnknownKIDBurstRateLimited(t *testing.T) {
	t.Parallel()
	k := newKey(t, "EdDSA")
	s := newKeyServer(t, k.jwk(t))
	onWait, waiting := waiters()
	v := readyVerifier(t, s, Config{onWait: onWait, UnknownKIDInterval: time.Hour, UnknownKIDBurst: 1})
	before := s.hits.Load()
	stranger := newKey(t, "EdDSA")
	now := time.Now()
	randomTokens := func() []string {
		tokens := make([]string, burst)
		for i := range tokens {
			stranger.kid = randomKID(t)
			tokens[i] = stranger.sign(t, claimsAt(now))
		}
		return tokens
	}
	verifyAll := func(tokens []string) []error {
		errs := make([]error, len(tokens))
		var wg sync.WaitGroup
		for i := range tokens {
			wg.Go(func() { _, errs[i] = v.Verify(t.Context(), tokens[i]) })
		}
		wg.Wait()
		return errs
	}
	check := func(round string, errs []error) {
		t.Helper()
		for i, err := range errs {
			if got := reasonOf(t, err); got != "unknown kid" {
				t.Errorf("%s: Verify(random kid #%d) reason = %q, want unknown kid", round, i, got)
			}
		}
	}

	release := s.hold(t)
	first := make(chan []error, 1)
	tokens := randomTokens()
	go func() { first <- verifyAll(tokens) }()
	waitFor(t, waiting, burst)
	s.waitHits(t, 1)
	release()
	check("first burst", <-first)
	if got := s.hits.Load() - before; got != 1 {
		t.Errorf("JWKS requests for the first burst of %d random kids = %d, want 1", burst, got)
	}

	check("second burst", verifyAll(randomTokens()))
	if got := s.hits.Load() - before; got != 1 {
		t.Errorf("JWKS requests after a second burst in the rate window = %d, want still 1", got)
	}
	if _, err := v.Verify(t.Context(), k.sign(t, claimsAt(now))); err != nil {
		t.Errorf("Verify(valid) after the bursts = %v, want nil", err)
	}
}

// TestRefreshOutlivesItsRequest: the request that started the refresh goes
// away; its wait ends with the context's error, but the refresh goes on for
// the others waiting on it.
func TestRefreshOutlivesItsRequest(t *testing.T) {
	t.Parallel()
	oldKey, nextKey := newKey(t, "EdDSA"), newKey(t, "EdDSA")
	s := newKeyServer(t, oldKey.jwk(t))
	onWait, waiting := waiters()
	v := readyVerifier(t, s, Config{onWait: onWait})
	s.publish(t, nextKey.jwk(t), oldKey.jwk(t))
	release := s.hold(t)
	s.drain()
	before := s.hits.Load()
	now := time.Now()

	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, err := v.Verify(ctx, nextKey.sign(t, claimsAt(now)))
		first <- err
	}()
	waitFor(t, waiting, 1)
	s.waitHits(t, 1)

	const others = 8
	errs := make([]error, others)
	var wg sync.WaitGroup
	for i := range errs {
		token := nextKey.sign(t, claimsWith(now, map[string]any{"sub": randomKID(t)}))
		wg.Go(func() { _, errs[i] = v.Verify(t.Context(), token) })
	}
	waitFor(t, waiting, others)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) || errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Verify(new kid, cancelled while waiting) = %v, want context.Canceled", err)
	}
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Verify(new kid #%d) after the first request left = %v, want nil", i, err)
		}
	}
	if got := s.hits.Load() - before; got != 1 {
		t.Errorf("JWKS requests = %d, want 1", got)
	}
}
