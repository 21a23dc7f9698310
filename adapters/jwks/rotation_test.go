package jwks

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRotationAfterUnknownKIDs is the reported outage: ten tokens with
// unknown kids (stale tabs, forgeries), then Better Auth rotates its key.
// With the default bucket the new key's tokens must be accepted within one
// UnknownKIDInterval, not 401 (which signs users out) for five minutes.
// The clock is the test's: whenever a refresh waits for the bucket, the
// test moves the clock by exactly that wait, so nothing depends on real
// time.
func TestRotationAfterUnknownKIDs(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now(), sleeping: make(chan time.Duration, 1)}
	oldKey, nextKey, stranger := newKey(t, "EdDSA"), newKey(t, "EdDSA"), newKey(t, "EdDSA")
	s := newKeyServer(t, oldKey.jwk(t))
	v := readyVerifier(t, s, Config{now: clock.Now, sleep: clock.Sleep}) // the default bucket
	start := clock.Now()

	// verify runs Verify, moving the clock whenever the refresh waits.
	verify := func(token string) (waited time.Duration, err error) {
		done := make(chan error, 1)
		go func() {
			_, err := v.Verify(t.Context(), token)
			done <- err
		}()
		for {
			select {
			case err := <-done:
				return waited, err
			case d := <-clock.sleeping:
				waited += d
				clock.Add(d)
			}
		}
	}
	before := s.hits.Load()
	for i := range 10 {
		stranger.kid = randomKID(t)
		if _, err := verify(stranger.sign(t, claimsAt(clock.Now()))); reasonOf(t, err) != "unknown kid" {
			t.Fatalf("Verify(unknown kid #%d) = %v, want unknown kid", i+1, err)
		}
	}
	flood := clock.Now().Sub(start)
	fetches := s.hits.Load() - before
	if bound := bucketBound(flood); fetches > bound {
		t.Errorf("JWKS fetches for 10 unknown kids over %v = %d, want at most %d", flood, fetches, bound)
	}

	// Better Auth rotates: the new key signs, the old one stays published.
	s.publish(t, nextKey.jwk(t), oldKey.jwk(t))
	waited, err := verify(nextKey.sign(t, claimsAt(clock.Now())))
	if err != nil {
		t.Fatalf("Verify(rotated key) after 10 unknown kids = %v, want nil", err)
	}
	if waited > DefaultUnknownKIDInterval {
		t.Errorf("Verify(rotated key) waited %v for the bucket, want at most %v", waited, DefaultUnknownKIDInterval)
	}
	if _, err := v.Verify(t.Context(), oldKey.sign(t, claimsAt(clock.Now()))); err != nil {
		t.Errorf("Verify(old key, still published) = %v, want nil", err)
	}
	t.Logf("figures: key rotation after 10 unknown kids: %d JWKS fetches over %v of clock for the unknown kids; "+
		"the rotated key accepted after waiting %v for the bucket, %d fetch", fetches, flood, waited, s.hits.Load()-before-fetches)
}

// TestUnknownKIDFloodBounded sends 10,000 tokens with random kids over one
// minute of the test's clock (100 every 600 ms, all concurrent), and, half
// way, tokens of a freshly rotated key. The JWKS fetches they cause stay
// within the bucket's bound (burst + one per interval of clock that passed),
// every random kid gets 401, and the rotated key is accepted.
func TestUnknownKIDFloodBounded(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now()}
	oldKey, nextKey, stranger := newKey(t, "EdDSA"), newKey(t, "EdDSA"), newKey(t, "EdDSA")
	s := newKeyServer(t, oldKey.jwk(t))
	waiting := make(chan struct{}, 20_000)
	v := readyVerifier(t, s, Config{now: clock.Now, sleep: clock.Sleep, onWait: func() { waiting <- struct{}{} }})
	// A hung verification fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	const waves, perWave = 100, 100
	const step = 600 * time.Millisecond
	start := clock.Now()
	before := s.hits.Load()
	var (
		wg       sync.WaitGroup
		unknown  atomic.Int64
		rotated  = make([]error, 10)
		mistakes = make(chan error, waves*perWave)
	)
	for w := range waves {
		clock.Add(step)
		// Forged, as a flood would be: one signed payload under many kids
		// (the signature is never checked: no key has that kid).
		_, rest, _ := strings.Cut(stranger.sign(t, claimsAt(clock.Now())), ".")
		tokens := make([]string, perWave)
		for i := range tokens {
			header := `{"alg":"EdDSA","kid":"` + randomKID(t) + `"}`
			tokens[i] = base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + rest
		}
		for _, token := range tokens {
			wg.Go(func() {
				_, err := v.Verify(ctx, token)
				if reasonOf(t, err) == "unknown kid" {
					unknown.Add(1)
				} else {
					mistakes <- err
				}
			})
		}
		if w == waves/2 {
			// Better Auth rotates in the middle of the flood.
			s.publish(t, nextKey.jwk(t), oldKey.jwk(t))
			for i := range rotated {
				token := nextKey.sign(t, claimsWith(clock.Now(), map[string]any{"sub": randomKID(t)}))
				wg.Go(func() { _, rotated[i] = v.Verify(ctx, token) })
			}
		}
		// The wave is in once as many verifications wait for a fetch
		// before the clock moves on.
		for range perWave {
			select {
			case <-waiting:
			case <-ctx.Done():
				t.Fatalf("wave %d: verifications never started waiting", w)
			}
		}
	}
	// The flood is over; let the clock run until the last waits end.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		case <-time.After(10 * time.Millisecond):
			if clock.pending() > 0 {
				clock.Add(DefaultUnknownKIDInterval)
			}
		case <-ctx.Done():
			t.Fatalf("verifications still waiting after 2 minutes")
		}
	}
	close(mistakes)
	for err := range mistakes {
		t.Errorf("Verify(random kid) = %v, want unknown kid", err)
	}
	accepted := 0
	for i, err := range rotated {
		if err != nil {
			t.Errorf("Verify(rotated key #%d) during the flood = %v, want nil", i, err)
		} else {
			accepted++
		}
	}
	elapsed := clock.Now().Sub(start)
	fetches := s.hits.Load() - before
	if bound := bucketBound(elapsed); fetches > bound {
		t.Errorf("JWKS fetches for %d random kids over %v of clock = %d, want at most %d", waves*perWave, elapsed, fetches, bound)
	}
	t.Logf("figures: flood of %d random kids (%d per %v, concurrent) over %v of clock: %d answered unknown kid, %d JWKS fetches "+
		"(bound %d: burst %d + one per %v); tokens of a key rotated half way: %d of %d accepted",
		waves*perWave, perWave, step, elapsed, unknown.Load(), fetches, bucketBound(elapsed), DefaultUnknownKIDBurst, DefaultUnknownKIDInterval,
		accepted, len(rotated))
}

// bucketBound is the most unknown-kid fetches the default bucket allows in
// d: the burst, plus one per interval.
func bucketBound(d time.Duration) int64 {
	return int64(DefaultUnknownKIDBurst) + int64(d/DefaultUnknownKIDInterval)
}

// TestRotationDuringFetch: a token of a freshly rotated key arrives while a
// fetch caused by some other unknown kid is already on the wire, and that
// fetch answers with the keys from before the rotation. The token must not
// take that answer for the final word (401, a signed-out user): it waits for
// the next fetch, which has the new key.
func TestRotationDuringFetch(t *testing.T) {
	t.Parallel()
	oldKey, nextKey, stranger := newKey(t, "EdDSA"), newKey(t, "EdDSA"), newKey(t, "EdDSA")
	s := newKeyServer(t, oldKey.jwk(t))
	onWait, waiting := waiters()
	v := readyVerifier(t, s, Config{onWait: onWait})
	now := time.Now()
	before := s.hits.Load()
	s.drain()

	release := s.hold(t)
	forged := make(chan error, 1)
	go func() {
		_, err := v.Verify(t.Context(), stranger.sign(t, claimsAt(now)))
		forged <- err
	}()
	waitFor(t, waiting, 1)
	s.waitHits(t, 1) // that fetch has the old keys and is held

	s.publish(t, nextKey.jwk(t), oldKey.jwk(t))
	rotated := make(chan error, 1)
	go func() {
		_, err := v.Verify(t.Context(), nextKey.sign(t, claimsAt(now)))
		rotated <- err
	}()
	waitFor(t, waiting, 1)
	release()

	if err := <-forged; reasonOf(t, err) != "unknown kid" {
		t.Errorf("Verify(random kid) = %v, want unknown kid", err)
	}
	if err := <-rotated; err != nil {
		t.Errorf("Verify(rotated key) that joined an older fetch = %v, want nil", err)
	}
	if got := s.hits.Load() - before; got != 2 {
		t.Errorf("JWKS fetches = %d, want 2 (the held one, then one for the rotated key)", got)
	}
}
