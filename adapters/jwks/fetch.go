package jwks

import (
	"context"
	"time"

	"github.com/MicahParks/jwkset"
)

// load starts jwkset's periodic refresh into v.keys (every RefreshInterval,
// the first fetch at once), then retries with backoff until the JWKS has
// yielded at least one key, and marks the Verifier ready. It is the
// goroutine New starts; jwkset's refresh goroutine, started here too, also
// ends with ctx.
//
// jwkset fetches once when its storage is created and then only every
// RefreshInterval, so a Better Auth that is down at start would leave the
// API without keys until then: hence the extra one-shot fetches below until
// the first success. Fetches for unknown kids are Verify's (awaitRefresh).
func (v *Verifier) load(ctx context.Context) {
	defer v.wg.Done()
	cfg := v.cfg
	_, err := jwkset.NewStorageFromHTTP(cfg.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    cfg.HTTPClient,
		Ctx:                       ctx,
		HTTPTimeout:               cfg.FetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       func(_ context.Context, err error) { v.onError(err) },
		RefreshInterval:           cfg.RefreshInterval,
		Storage:                   v.keys,
		ValidateOptions:           validate,
	})
	if err != nil { // only for a bad URL, which New already refused
		v.onError(err)
		return
	}

	delay := cfg.RetryMin
	for !v.hasKeys(ctx) {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, cfg.RetryMax)
		v.fetch(ctx)
	}
	v.ready.Store(true)
	close(v.readyCh)
}

// validate accepts keys without "use": Better Auth sends none.
var validate = jwkset.JWKValidateOptions{}

// fetch gets the JWKS once and, if it is valid, replaces v.keys with it.
// A failure leaves the keys as they were and goes to OnRefreshError unless
// the Verifier is closing.
func (v *Verifier) fetch(ctx context.Context) {
	// A storage without RefreshInterval fetches once, into v.keys, and
	// starts no goroutine.
	_, err := jwkset.NewStorageFromHTTP(v.cfg.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:          v.cfg.HTTPClient,
		Ctx:             ctx,
		HTTPTimeout:     v.cfg.FetchTimeout,
		Storage:         v.keys,
		ValidateOptions: validate,
	})
	if err != nil && v.life.Err() == nil {
		v.onError(err)
	}
}

func (v *Verifier) onError(err error) {
	if v.cfg.OnRefreshError != nil {
		v.cfg.OnRefreshError(err)
	}
}

// hasKeys reports whether a fetch has stored at least one key. Better Auth
// creates its first key lazily, so an empty set counts as not loaded yet.
func (v *Verifier) hasKeys(ctx context.Context) bool {
	all, err := v.keys.KeyReadAll(ctx)
	return err == nil && len(all) > 0
}
