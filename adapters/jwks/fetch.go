package jwks

import (
	"context"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"
)

// load sets up the jwkset client that fetches into v.keys (on a timer, and
// on unknown kids via awaitRefresh), then retries with backoff until the
// JWKS has yielded at least one key, and marks the Verifier ready. It is the
// goroutine New starts; jwkset's own refresh goroutine, started here too,
// also ends with ctx.
//
// jwkset fetches once when its storage is created and then only every
// RefreshInterval (or on an unknown kid, rate-limited), so a Better Auth
// that is down at start would leave the API without keys for an hour: hence
// the extra one-shot fetches below until the first success.
func (v *Verifier) load(ctx context.Context) {
	defer v.wg.Done()
	cfg := v.cfg
	validate := jwkset.JWKValidateOptions{} // keys without "use" are valid: Better Auth sends none
	onError := func(_ context.Context, err error) {
		if cfg.OnRefreshError != nil {
			cfg.OnRefreshError(err)
		}
	}

	// The first fetch happens here; on failure the storage is still usable
	// and refreshes every RefreshInterval, and on unknown kids.
	remote, err := jwkset.NewStorageFromHTTP(cfg.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    cfg.HTTPClient,
		Ctx:                       ctx,
		HTTPTimeout:               cfg.FetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       onError,
		RefreshInterval:           cfg.RefreshInterval,
		Storage:                   v.keys,
		ValidateOptions:           validate,
	})
	if err != nil { // only for a bad URL, which New already refused
		onError(ctx, err)
		return
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{cfg.JWKSURL: remote},
		RateLimitWaitMax:  cfg.FetchTimeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(cfg.UnknownKIDInterval), 1),
	})
	if err != nil {
		onError(ctx, err)
		return
	}
	v.remote.Store(&client)

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
		// A storage without RefreshInterval fetches once, into v.keys, and
		// starts no goroutine.
		_, err := jwkset.NewStorageFromHTTP(cfg.JWKSURL, jwkset.HTTPClientStorageOptions{
			Client:          cfg.HTTPClient,
			Ctx:             ctx,
			HTTPTimeout:     cfg.FetchTimeout,
			Storage:         v.keys,
			ValidateOptions: validate,
		})
		if err != nil && ctx.Err() == nil {
			onError(ctx, err)
		}
	}
	v.ready.Store(true)
	close(v.readyCh)
}

// hasKeys reports whether a fetch has stored at least one key. Better Auth
// creates its first key lazily, so an empty set counts as not loaded yet.
func (v *Verifier) hasKeys(ctx context.Context) bool {
	all, err := v.keys.KeyReadAll(ctx)
	return err == nil && len(all) > 0
}
