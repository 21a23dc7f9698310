// Package jwks verifies bearer tokens issued by Better Auth: asymmetric tokens
// against the keys Better Auth publishes at its JWKS URL (keyfunc/v3), and, in
// compatibility mode, HS256 tokens signed with the shared BETTER_AUTH_SECRET.
package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/todo-backend/todo/domain/auth"
)

// Defaults and limits for Config. They are exported so that the
// configuration layer can document them.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat when Config.Leeway is 0.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway caps Config.Leeway: the contract allows at most 60 s.
	MaxLeeway = 60 * time.Second
	// DefaultRefreshInterval is how often the JWKS is fetched again, so that
	// a key published ahead of its first token is known when that token
	// comes, and a withdrawn key stops verifying within minutes.
	DefaultRefreshInterval = 5 * time.Minute
	// DefaultUnknownKIDInterval and DefaultUnknownKIDBurst shape the token
	// bucket of JWKS fetches caused by kids that are not in the cached set:
	// a burst of 3, then one every 5 s, so at most 15 a minute whatever the
	// kids, and a key rotated during a flood of made-up kids is fetched
	// within 5 s.
	DefaultUnknownKIDInterval = 5 * time.Second
	DefaultUnknownKIDBurst    = 3
	// DefaultFetchTimeout bounds one JWKS request.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultRetryMin and DefaultRetryMax bound the backoff between attempts
	// while no key was ever loaded.
	DefaultRetryMin = time.Second
	DefaultRetryMax = 30 * time.Second
	// DefaultCacheSize is how many verified tokens are remembered.
	DefaultCacheSize = 10_000
	// MinSecretLen is the shortest HS256 secret accepted: RFC 7518 section
	// 3.2 requires a key at least as long as the hash output.
	MinSecretLen = 32
	// maxTokenLen refuses absurd inputs before hashing or parsing them.
	maxTokenLen = 16 << 10
	// minRSABits is the smallest RSA modulus RFC 7518 allows for RS256 and PS256.
	minRSABits = 2048
)

const algHS256 = "HS256"

// asymmetric lists the algorithms Better Auth's jwt plugin can sign with; the
// only ones accepted from the JWKS.
var asymmetric = []string{"EdDSA", "ES256", "ES512", "PS256", "RS256"}

// Config says where trusted keys come from and what a token must claim. At
// least one of JWKSURL and Secret must be set; with both, each is used only
// for its own algorithms (HS256 for Secret, the asymmetric ones for JWKSURL).
type Config struct {
	// JWKSURL is Better Auth's key set, usually <BETTER_AUTH_URL>/api/auth/jwks.
	JWKSURL string
	// Secret is BETTER_AUTH_SECRET for HS256 tokens (compatibility mode). At
	// least MinSecretLen bytes.
	Secret []byte
	// Issuer, when set, must equal the token's iss.
	Issuer string
	// Audience, when set, must be one of the token's aud values.
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat: 0 means
	// DefaultLeeway, a negative value means none, and anything above
	// MaxLeeway is lowered to MaxLeeway.
	Leeway time.Duration
	// RefreshInterval is how often the JWKS is fetched again; 0 means
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// UnknownKIDInterval and UnknownKIDBurst bound the JWKS fetches caused
	// by unknown kids, so that a flood of made-up kids cannot flood Better
	// Auth: a token bucket of UnknownKIDBurst fetches, refilled one per
	// UnknownKIDInterval. A token with an unknown kid waits for the next
	// fetch the bucket allows (if it comes within FetchTimeout), so a
	// rotated key is accepted within UnknownKIDInterval however many bad
	// kids came before it. 0 means DefaultUnknownKIDInterval and
	// DefaultUnknownKIDBurst.
	UnknownKIDInterval time.Duration
	UnknownKIDBurst    int
	// FetchTimeout bounds one JWKS request, and how long an unknown-kid
	// fetch may wait for the bucket; 0 means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff between fetches
	// while no key was ever loaded; 0 means DefaultRetryMin / DefaultRetryMax.
	RetryMin, RetryMax time.Duration
	// CacheSize is how many verified tokens are remembered so that a token
	// costs one signature check per lifetime; 0 means DefaultCacheSize and a
	// negative value disables the cache.
	CacheSize int
	// HTTPClient fetches the JWKS; nil means http.DefaultClient.
	HTTPClient *http.Client
	// OnRefreshError, when set, receives every failed JWKS fetch (for logs).
	// It may be called concurrently, from background goroutines and from Verify.
	OnRefreshError func(error)

	now    func() time.Time                                 // tests move the clock
	sleep  func(ctx context.Context, d time.Duration) error // waits d on that clock
	onWait func()                                           // tests: a verification starts waiting for a refresh
}

// Verifier implements auth.Verifier. Its methods are safe for concurrent use.
type Verifier struct {
	cfg     Config
	secret  []byte
	allowed map[string]bool
	parser  *jwt.Parser
	cache   *tokenCache // nil when disabled
	now     func() time.Time

	// JWKS mode only.
	keys      *jwkset.MemoryJWKSet // the keys last fetched
	keyfunc   keyfunc.Keyfunc      // over keys alone: never fetches
	limiter   *rate.Limiter        // unknown-kid fetches, read on cfg.now
	fetches   atomic.Uint64        // unknown-kid fetches begun, numbering them
	refreshes singleflight.Group   // the one unknown-kid refresh in flight
	life      context.Context      // ends with Close: bounds refreshes
	ready     atomic.Bool
	readyCh   chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

var _ auth.Verifier = (*Verifier)(nil)

// Reasons travel inside the error so the HTTP layer can log them; they never
// contain the token.
var (
	errMalformed    = auth.Unauthenticated("malformed")
	errAlgorithm    = auth.Unauthenticated("algorithm not allowed")
	errSignature    = auth.Unauthenticated("bad signature")
	errExpired      = auth.Unauthenticated("expired")
	errNotYetValid  = auth.Unauthenticated("not yet valid")
	errIssuedFuture = auth.Unauthenticated("issued in the future")
	errIssuer       = auth.Unauthenticated("wrong issuer")
	errAudience     = auth.Unauthenticated("wrong audience")
	errClaimMissing = auth.Unauthenticated("missing required claim")
	errClaims       = auth.Unauthenticated("invalid claims")
	errUTF8         = auth.Unauthenticated("invalid UTF-8")
	errMissingKID   = auth.Unauthenticated("missing kid")
	errUnknownKID   = auth.Unauthenticated("unknown kid")
	errKeyMismatch  = auth.Unauthenticated("key does not match algorithm")
	errInvalid      = auth.Unauthenticated("invalid token")

	errNoKeys = fmt.Errorf("jwks: %w: signing keys not loaded yet", auth.ErrUnavailable)
)

// New returns a Verifier for cfg. In JWKS mode it never waits for Better
// Auth: keys are fetched in the background, retried with backoff until the
// first success (until then, asymmetric tokens get an error wrapping
// auth.ErrUnavailable), then refreshed every RefreshInterval. That
// background work stops when ctx is cancelled or Close is called, whichever
// comes first.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.JWKSURL == "" && len(cfg.Secret) == 0 {
		return nil, errors.New("jwks: no key source: set a JWKS URL, a secret, or both")
	}
	if len(cfg.Secret) > 0 && len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("jwks: secret has %d bytes, HS256 needs at least %d", len(cfg.Secret), MinSecretLen)
	}
	if cfg.JWKSURL != "" {
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil {
			return nil, fmt.Errorf("jwks: parse JWKS URL: %w", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("jwks: JWKS URL %q is not an absolute http(s) URL", cfg.JWKSURL)
		}
	}
	cfg = withDefaults(cfg)

	v := &Verifier{
		cfg:     cfg,
		secret:  cfg.Secret,
		allowed: make(map[string]bool),
		now:     cfg.now,
		readyCh: make(chan struct{}),
	}
	var methods []string
	if len(cfg.Secret) > 0 {
		methods = append(methods, algHS256)
	}
	if cfg.JWKSURL != "" {
		methods = append(methods, asymmetric...)
	}
	for _, m := range methods {
		v.allowed[m] = true
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(cfg.now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	if cfg.CacheSize > 0 {
		v.cache = newTokenCache(cfg.CacheSize)
	}

	if cfg.JWKSURL == "" {
		v.ready.Store(true)
		close(v.readyCh)
		v.cancel = func() {}
		return v, nil
	}
	v.keys = jwkset.NewMemoryStorage()
	kf, err := keyfunc.New(keyfunc.Options{
		Storage: v.keys,
		// A key published for encryption must not check signatures.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil { // only without storage
		return nil, fmt.Errorf("jwks: %w", err)
	}
	v.keyfunc = kf
	v.limiter = rate.NewLimiter(rate.Every(cfg.UnknownKIDInterval), cfg.UnknownKIDBurst)
	ctx, v.cancel = context.WithCancel(ctx)
	v.life = ctx
	v.wg.Add(1)
	go v.load(ctx)
	return v, nil
}

func withDefaults(cfg Config) Config {
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	case cfg.Leeway > MaxLeeway:
		cfg.Leeway = MaxLeeway
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.UnknownKIDInterval <= 0 {
		cfg.UnknownKIDInterval = DefaultUnknownKIDInterval
	}
	if cfg.UnknownKIDBurst <= 0 {
		cfg.UnknownKIDBurst = DefaultUnknownKIDBurst
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	cfg.RetryMax = max(cfg.RetryMax, cfg.RetryMin)
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.sleep == nil {
		cfg.sleep = sleep
	}
	return cfg
}

// Ready reports whether every kind of configured token can be checked: true
// in secret-only mode, and in JWKS mode once keys were fetched at least once
// (it stays true through later Better Auth outages). Meant for /readyz.
func (v *Verifier) Ready() bool { return v.ready.Load() }

// WaitReady blocks until Ready is true or ctx is done, so that start-up can
// give Better Auth a moment before taking traffic without depending on it.
func (v *Verifier) WaitReady(ctx context.Context) error {
	select {
	case <-v.readyCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jwks: wait for keys: %w", ctx.Err())
	}
}

// Close stops the background fetching and waits for it; Verify keeps
// working on the keys already loaded. Safe to call more than once.
func (v *Verifier) Close() {
	v.cancel()
	v.wg.Wait()
}

// claims are the parts of Better Auth's payload the API uses.
type claims struct {
	jwt.RegisteredClaims
	UserID string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
}

// UnmarshalJSON refuses a payload that is not UTF-8, as JSON text must be:
// encoding/json would quietly turn each bad byte into U+FFFD, so that a
// name or an email would arrive other than it was signed.
func (c *claims) UnmarshalJSON(b []byte) error {
	if !utf8.Valid(b) {
		return errUTF8
	}
	type plain claims // without this method
	return json.Unmarshal(b, (*plain)(c))
}

// Verify checks token and returns the identity it carries. Failures wrap
// auth.ErrUnauthenticated with a reason (see auth.ReasonError), a
// well-signed token included when its payload is not UTF-8 or its identity
// breaks auth.Identity.Validate's rules; or auth.ErrUnavailable for an
// asymmetric token while no JWKS key was ever loaded. Errors never contain
// the token. ctx bounds the wait when an unknown kid triggers a JWKS
// refresh; if it ends first, the error wraps ctx.Err() instead.
func (v *Verifier) Verify(ctx context.Context, token string) (auth.Identity, error) {
	if token == "" || len(token) > maxTokenLen {
		return auth.Identity{}, errMalformed
	}
	var sum [sha256.Size]byte
	if v.cache != nil {
		sum = hashToken(token)
		if id, ok := v.cache.get(sum, v.now(), v.keyCurrent); ok {
			return id, nil
		}
	}

	var c claims
	var used any // the key that checked the signature
	tok, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		k, err := v.key(ctx, t)
		used = k
		return k, err
	})
	if err != nil {
		return auth.Identity{}, v.reason(tok, err)
	}

	id := auth.Identity{UserID: auth.UserID(c.Subject), Email: c.Email, Name: c.Name}
	if c.ExpiresAt != nil {
		id.Expires = c.ExpiresAt.UTC()
	}
	if id.UserID == "" {
		id.UserID = auth.UserID(c.UserID)
	}
	// Signed is not the same as sane: users choose their email and name.
	if err := id.Validate(); err != nil {
		return auth.Identity{}, err
	}
	if v.cache != nil && c.ExpiresAt != nil {
		e := cacheEntry{id: id, expires: c.ExpiresAt.Add(v.cfg.Leeway)}
		if tok.Method.Alg() != algHS256 {
			e.kid, _ = tok.Header["kid"].(string)
			e.key, _ = used.(crypto.PublicKey)
		}
		v.cache.put(sum, e, v.now())
	}
	return id, nil
}

// hashToken is sha256(token) without a heap copy for tokens of usual size.
func hashToken(token string) [sha256.Size]byte {
	var buf [4096]byte
	return sha256.Sum256(append(buf[:0], token...))
}

// key picks the key for t: the secret for HS256, the JWKS key named by kid
// for the rest. The parser already refused algorithms not configured.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == algHS256 {
		if len(v.secret) == 0 { // unreachable: the parser refuses HS256 then
			return nil, errAlgorithm
		}
		return v.secret, nil
	}
	if !v.ready.Load() {
		return nil, errNoKeys
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errMissingKID
	}
	key, err := v.keyfunc.KeyfuncCtx(ctx)(t)
	if errors.Is(err, jwkset.ErrKeyNotFound) {
		if err := v.awaitRefresh(ctx, kid); err != nil {
			return nil, err
		}
		key, err = v.keyfunc.KeyfuncCtx(ctx)(t)
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			return nil, errUnknownKID
		}
	}
	if err != nil { // keyfunc refused the key: its alg or use does not fit
		return nil, errKeyMismatch
	}
	if !fits(alg, key) {
		return nil, errKeyMismatch
	}
	return key, nil
}

// awaitRefresh waits for a JWKS fetch that began after this call did, so
// that it sees a key published before the token that names it. All
// verifications that miss a kid share the fetch in flight (a burst after a
// rotation waits for one fetch instead of failing), and one that joined a
// fetch already on the wire goes on to the next. ctx only ends this
// caller's wait: the fetch runs on v.life, so the request that started it
// cannot cancel it for the others.
func (v *Verifier) awaitRefresh(ctx context.Context, kid string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("jwks: look up kid: %w", err)
	}
	arrived := v.fetches.Load()
	// At most twice: a second flight starts after the first ended, so its
	// fetch begins after this call did.
	for i := range 2 {
		done := v.refreshes.DoChan("", v.refresh)
		if i == 0 && v.cfg.onWait != nil {
			v.cfg.onWait()
		}
		select {
		case r := <-done:
			began, _ := r.Val.(uint64)
			if began == 0 || began > arrived || v.hasKey(kid) {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("jwks: look up kid: %w", ctx.Err())
		}
	}
	return nil
}

// refresh is the one unknown-kid fetch in flight: it takes a token from the
// bucket (Config.UnknownKIDInterval, UnknownKIDBurst), waiting for the next
// if it comes within FetchTimeout, then fetches the JWKS into v.keys. It
// returns the fetch's number, or 0 when the bucket refused and nothing was
// fetched. Being single-flight, it reads the clock in order, which the
// bucket needs.
func (v *Verifier) refresh() (any, error) {
	now := v.now()
	r := v.limiter.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > v.cfg.FetchTimeout {
		r.CancelAt(now)
		return uint64(0), nil
	} else if wait > 0 {
		if err := v.cfg.sleep(v.life, wait); err != nil {
			return uint64(0), nil // closing
		}
	}
	n := v.fetches.Add(1)
	ctx, cancel := context.WithTimeout(v.life, v.cfg.FetchTimeout)
	defer cancel()
	v.fetch(ctx) // a failure leaves the keys as they were; OnRefreshError has it
	return n, nil
}

// hasKey reports whether the cached set holds kid.
func (v *Verifier) hasKey(kid string) bool {
	_, err := v.keys.KeyRead(context.Background(), kid)
	return err == nil
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fits reports whether key is the kind of key alg needs, so that, say, an RSA
// key published without alg never checks an ES256 signature.
func fits(alg string, key any) bool {
	switch alg {
	case "EdDSA":
		k, ok := key.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize
	case "ES256":
		k, ok := key.(*ecdsa.PublicKey)
		return ok && k.Curve != nil && k.Curve.Params().Name == "P-256"
	case "ES512":
		k, ok := key.(*ecdsa.PublicKey)
		return ok && k.Curve != nil && k.Curve.Params().Name == "P-521"
	case "RS256", "PS256":
		k, ok := key.(*rsa.PublicKey)
		return ok && k.N != nil && k.N.BitLen() >= minRSABits
	}
	return false
}

// keyCurrent reports whether the JWKS still publishes key under kid, so that
// a cached token stops working once its key is withdrawn.
func (v *Verifier) keyCurrent(kid string, key crypto.PublicKey) bool {
	if kid == "" && key == nil {
		return true // HS256: the secret does not change while running
	}
	jwk, err := v.keys.KeyRead(context.Background(), kid)
	if err != nil {
		return false
	}
	current := jwk.Key()
	if s, ok := current.(crypto.Signer); ok {
		current = s.Public()
	}
	k, ok := key.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(current)
}

// reason turns the parser's error into one of the package's reasons.
func (v *Verifier) reason(tok *jwt.Token, err error) error {
	var re *auth.ReasonError
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		return errNoKeys
	case errors.As(err, &re):
		return re
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("jwks: verify: %w", err)
	case errors.Is(err, jwt.ErrTokenMalformed) || tok == nil:
		return errMalformed
	}
	if alg, _ := tok.Header["alg"].(string); !v.allowed[alg] {
		return errAlgorithm
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return errSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return errExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return errNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errIssuedFuture
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return errIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return errAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return errClaimMissing
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return errClaims
	}
	return errInvalid
}
