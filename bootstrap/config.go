package bootstrap

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/adapters/webpush"
)

// Config is everything the service reads from its environment.
type Config struct {
	Port            int
	DatabaseURL     string
	BetterAuthURL   string
	JWKSURL         string
	Issuer          string
	Audience        string
	Secret          string
	CORSOrigins     []string
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration
	DBMaxConns      int
	Version         string
	// ListMax is how many tasks a list returns without a limit (LIST_MAX,
	// default httpapi.DefaultListMax); a Link header leads to the rest.
	ListMax int
	// BodyBytesInFlight bounds the request-body bytes read at once
	// (BODY_BYTES_IN_FLIGHT, default mw.DefaultBodyBytesInFlight): past it
	// a request waits for room until REQUEST_TIMEOUT, then gets 503.
	BodyBytesInFlight int64
	// ImportMaxBytes bounds an import's file (IMPORT_MAX_BYTES, default
	// httpapi.DefaultImportMaxBytes), ImportMaxRows its lists and tasks
	// (IMPORT_MAX_ROWS, default httpapi.DefaultImportMaxRows).
	ImportMaxBytes int64
	ImportMaxRows  int

	// DBTimeout bounds each database statement and transaction (DB_TIMEOUT).
	DBTimeout time.Duration
	// RequestTimeout bounds each request's work (REQUEST_TIMEOUT); past it
	// the answer is 503 with Retry-After.
	RequestTimeout time.Duration
	// The HTTP server's timeouts (READ_HEADER_TIMEOUT, READ_TIMEOUT,
	// WRITE_TIMEOUT, IDLE_TIMEOUT): a client slower than these is dropped.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// UserRateLimit (RATE_LIMIT) and IPRateLimit (RATE_LIMIT_IP): off by
	// default.
	UserRateLimit, IPRateLimit mw.RateLimit
	// TrustedProxies (TRUSTED_PROXIES) are the reverse proxies whose
	// X-Forwarded-For names the client for RATE_LIMIT_IP and whose
	// X-Forwarded-Host and X-Forwarded-Proto count for Link URLs.
	TrustedProxies []string
	// PublicURL (PUBLIC_URL), when set, is the service's public base URL
	// (https://api.example.com): Link URLs are absolute on it. Without it
	// they are relative, unless a trusted proxy forwards the host.
	PublicURL string
	// MetricsAddr (METRICS_ADDR), when set, serves /metrics on a listener of
	// its own (e.g. 127.0.0.1:9090) instead of on PORT.
	MetricsAddr string
	// TrashRetention (TRASH_RETENTION) is how long a deleted task stays in
	// the trash before the purge deletes it for good.
	TrashRetention time.Duration
	// ChangesRetention (CHANGES_RETENTION) is how long the change feed
	// keeps the tombstone of something deleted for good: a cursor older
	// than that is 410 and the client takes a snapshot.
	ChangesRetention time.Duration
	// PurgeInterval (PURGE_INTERVAL) is how often the purge runs; each run
	// deletes at most application.PurgeBatch of each kind: trashed tasks,
	// trashed lists, expired idempotency keys.
	PurgeInterval time.Duration
	// VAPID (VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT) signs the
	// Web Push reminders; nil when none is set, and then no push is sent.
	VAPID *webpush.VAPID
	// WebhookAllowPrivate (WEBHOOK_ALLOW_PRIVATE) lets reminders reach
	// loopback and private addresses, webhooks over plain http as well:
	// for tests with a local receiver or push service, never in
	// production.
	WebhookAllowPrivate bool
	// DatabaseListenURL (DATABASE_LISTEN_URL) is where the PostgreSQL
	// connection that listens for the change feed's notifications goes:
	// DATABASE_URL when unset. A transaction-mode pooler (Neon's -pooler
	// host) cannot LISTEN; give the direct host here.
	DatabaseListenURL string
	// EventsMaxPerUser (EVENTS_MAX_PER_USER) caps the streams of live
	// events each user holds open on one instance.
	EventsMaxPerUser int
	// EventsKeepalive (EVENTS_KEEPALIVE) is how often an idle stream sends
	// a comment line.
	EventsKeepalive time.Duration
	// EventsCheckInterval (EVENTS_CHECK_INTERVAL) is how often, on
	// PostgreSQL, an instance with streams open reads their users' change
	// heads, so that a change whose notification was never sent (its
	// writer's instance died after the commit) still reaches them.
	EventsCheckInterval time.Duration
	// RemindersPoll (REMINDERS_POLL) is how often each instance looks for
	// reminders falling due and claims their deliveries.
	RemindersPoll time.Duration
	// RemindersLease (REMINDERS_LEASE) is how long a claimed delivery is
	// an instance's: each attempt ends within it, and after a crash
	// another instance takes the delivery over once it ends.
	RemindersLease time.Duration
}

// Defaults for the variables CONTRACT.md names.
const (
	DefaultPort        = 8000
	DefaultDatabaseURL = "sqlite:todo.db"
	DefaultCORSOrigins = "http://localhost:3000"

	DefaultShutdownTimeout     = 20 * time.Second
	DefaultDBTimeout           = 5 * time.Second
	DefaultRequestTimeout      = 10 * time.Second
	DefaultReadHeaderTimeout   = 5 * time.Second
	DefaultReadTimeout         = 30 * time.Second
	DefaultWriteTimeout        = 30 * time.Second
	DefaultIdleTimeout         = 120 * time.Second
	DefaultTrashRetention      = 30 * 24 * time.Hour
	DefaultPurgeInterval       = time.Minute
	DefaultChangesRetention    = 30 * 24 * time.Hour
	DefaultRemindersPoll       = time.Second
	DefaultRemindersLease      = 30 * time.Second
	DefaultEventsCheckInterval = time.Second
)

// ErrNoAuth means no way to verify tokens was configured.
var ErrNoAuth = errors.New("no authentication configured: set BETTER_AUTH_URL (Better Auth's base URL, " +
	"keys from its JWKS), or BETTER_AUTH_JWKS_URL, or BETTER_AUTH_SECRET (HS256 shared secret, compatibility mode)")

// LoadConfig reads the configuration through getenv (os.Getenv in main).
// Unset variables take CONTRACT.md's defaults; a value that cannot be right
// is an error naming the variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:   get("DATABASE_URL", DefaultDatabaseURL),
		BetterAuthURL: strings.TrimRight(get("BETTER_AUTH_URL", ""), "/"),
		JWKSURL:       get("BETTER_AUTH_JWKS_URL", ""),
		Issuer:        get("BETTER_AUTH_ISSUER", ""),
		Audience:      get("BETTER_AUTH_AUDIENCE", ""),
		Secret:        getenv("BETTER_AUTH_SECRET"),
		LogLevel:      get("LOG_LEVEL", "info"),
		LogFormat:     get("LOG_FORMAT", "json"),
		Version:       get("APP_VERSION", "dev"),
	}
	var errs []error
	port, err := strconv.Atoi(get("PORT", strconv.Itoa(DefaultPort)))
	if err != nil || port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be a port number (0-65535), got %q", getenv("PORT")))
	}
	c.Port = port
	for _, o := range strings.Split(get("CORS_ORIGINS", DefaultCORSOrigins), ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if slices.Contains(c.CORSOrigins, mw.AnyOrigin) && len(c.CORSOrigins) > 1 {
		// Listed origins get credentials and "*" never does (mw.CORS): a
		// mix would leave the listed ones without what they were listed
		// for.
		errs = append(errs, fmt.Errorf("CORS_ORIGINS: * (any origin, without credentials) must stand alone; list origins by name for credentials, got %q", getenv("CORS_ORIGINS")))
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
		def  time.Duration
	}{
		{"SHUTDOWN_TIMEOUT", &c.ShutdownTimeout, DefaultShutdownTimeout},
		{"DB_TIMEOUT", &c.DBTimeout, DefaultDBTimeout},
		{"REQUEST_TIMEOUT", &c.RequestTimeout, DefaultRequestTimeout},
		{"READ_HEADER_TIMEOUT", &c.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{"READ_TIMEOUT", &c.ReadTimeout, DefaultReadTimeout},
		{"WRITE_TIMEOUT", &c.WriteTimeout, DefaultWriteTimeout},
		{"IDLE_TIMEOUT", &c.IdleTimeout, DefaultIdleTimeout},
		{"TRASH_RETENTION", &c.TrashRetention, DefaultTrashRetention},
		{"PURGE_INTERVAL", &c.PurgeInterval, DefaultPurgeInterval},
		{"CHANGES_RETENTION", &c.ChangesRetention, DefaultChangesRetention},
		{"EVENTS_KEEPALIVE", &c.EventsKeepalive, httpapi.DefaultEventsKeepalive},
		{"EVENTS_CHECK_INTERVAL", &c.EventsCheckInterval, DefaultEventsCheckInterval},
		{"REMINDERS_POLL", &c.RemindersPoll, DefaultRemindersPoll},
		{"REMINDERS_LEASE", &c.RemindersLease, DefaultRemindersLease},
	} {
		v := get(d.name, "")
		if v == "" {
			*d.to = d.def
			continue
		}
		if *d.to, err = time.ParseDuration(v); err != nil || *d.to <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive duration such as %s, got %q", d.name, d.def, v))
		}
	}
	if c.RequestTimeout >= c.WriteTimeout && c.WriteTimeout > 0 {
		errs = append(errs, fmt.Errorf("REQUEST_TIMEOUT (%s) must be shorter than WRITE_TIMEOUT (%s), or the 503 it causes cannot be sent", c.RequestTimeout, c.WriteTimeout))
	}
	if c.UserRateLimit, err = mw.ParseRateLimit(getenv("RATE_LIMIT")); err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT: %w", err))
	}
	if c.IPRateLimit, err = mw.ParseRateLimit(getenv("RATE_LIMIT_IP")); err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_IP: %w", err))
	}
	for _, p := range strings.Split(getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES must be CIDR prefixes such as 10.0.0.0/8, got %q", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.PublicURL = strings.TrimRight(get("PUBLIC_URL", ""), "/"); c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("PUBLIC_URL must be an http(s) URL with no query such as https://api.example.com, got %q", c.PublicURL))
		}
	}
	if c.MetricsAddr = get("METRICS_ADDR", ""); c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("METRICS_ADDR must be HOST:PORT or :PORT such as 127.0.0.1:9090, got %q", c.MetricsAddr))
		}
	}
	c.ListMax = httpapi.DefaultListMax
	if v := get("LIST_MAX", ""); v != "" {
		if c.ListMax, err = strconv.Atoi(v); err != nil || c.ListMax < 1 {
			errs = append(errs, fmt.Errorf("LIST_MAX must be a positive integer, got %q", v))
		}
	}
	c.BodyBytesInFlight = mw.DefaultBodyBytesInFlight
	if v := get("BODY_BYTES_IN_FLIGHT", ""); v != "" {
		n, err := humanize.ParseBytes(v)
		if err != nil || n < httpapi.DefaultMaxBodyBytes || n > 1<<40 {
			errs = append(errs, fmt.Errorf("BODY_BYTES_IN_FLIGHT must be a size of at least 1MiB (the largest body) such as 8MiB, got %q", v))
		}
		c.BodyBytesInFlight = int64(min(n, 1<<40))
	}
	c.EventsMaxPerUser = httpapi.DefaultEventsMaxPerUser
	if v := get("EVENTS_MAX_PER_USER", ""); v != "" {
		if c.EventsMaxPerUser, err = strconv.Atoi(v); err != nil || c.EventsMaxPerUser < 1 {
			errs = append(errs, fmt.Errorf("EVENTS_MAX_PER_USER must be a positive integer, got %q", v))
		}
	}
	if c.DatabaseListenURL = get("DATABASE_LISTEN_URL", ""); c.DatabaseListenURL != "" {
		if l := strings.ToLower(c.DatabaseListenURL); !strings.HasPrefix(l, "postgres://") && !strings.HasPrefix(l, "postgresql://") {
			errs = append(errs, errors.New("DATABASE_LISTEN_URL must be a postgres:// URL (the direct host, not a pooler)"))
		}
	}
	if v := get("IMPORT_MAX_BYTES", ""); v != "" {
		n, err := humanize.ParseBytes(v)
		if err != nil || n < 1 || n > 1<<30 {
			errs = append(errs, fmt.Errorf("IMPORT_MAX_BYTES must be a size from 1B to 1GiB such as 10MiB, got %q", v))
		}
		c.ImportMaxBytes = int64(min(n, 1<<30))
	}
	if v := get("IMPORT_MAX_ROWS", ""); v != "" {
		if c.ImportMaxRows, err = strconv.Atoi(v); err != nil || c.ImportMaxRows < 1 || c.ImportMaxRows > 1_000_000 {
			errs = append(errs, fmt.Errorf("IMPORT_MAX_ROWS must be an integer from 1 to 1000000, got %q", v))
		}
	}
	if v := get("DB_MAX_CONNS", ""); v != "" {
		if c.DBMaxConns, err = strconv.Atoi(v); err != nil || c.DBMaxConns < 1 {
			errs = append(errs, fmt.Errorf("DB_MAX_CONNS must be a positive integer, got %q", v))
		}
	}
	switch c.LogFormat {
	case "json", "console":
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be json or console, got %q", c.LogFormat))
	}
	if c.BetterAuthURL != "" {
		u, err := url.Parse(c.BetterAuthURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("BETTER_AUTH_URL must be an http(s) URL such as http://localhost:3000, got %q", c.BetterAuthURL))
		} else {
			origin := u.Scheme + "://" + u.Host
			if c.JWKSURL == "" {
				base := strings.TrimSuffix(c.BetterAuthURL, "/api/auth")
				c.JWKSURL = base + "/api/auth/jwks"
			}
			if c.Issuer == "" {
				c.Issuer = origin
			}
			if c.Audience == "" {
				c.Audience = origin
			}
		}
	}
	if c.JWKSURL != "" {
		if u, err := url.Parse(c.JWKSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("BETTER_AUTH_JWKS_URL must be an http(s) URL, got %q", c.JWKSURL))
		}
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		errs = append(errs, errors.New("BETTER_AUTH_SECRET must be at least 32 characters (Better Auth's own minimum)"))
	}
	if c.StorageKind() == "" {
		errs = append(errs, fmt.Errorf("DATABASE_URL must be postgres://..., postgresql://..., sqlite:PATH or memory:, got %q", redactURL(c.DatabaseURL)))
	}
	if c.JWKSURL == "" && c.Secret == "" {
		errs = append(errs, ErrNoAuth)
	}
	pub, priv, sub := get("VAPID_PUBLIC_KEY", ""), get("VAPID_PRIVATE_KEY", ""), get("VAPID_SUBJECT", "")
	switch {
	case pub == "" && priv == "" && sub == "":
	case pub == "" || priv == "" || sub == "":
		errs = append(errs, errors.New("VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT go together: set all three (`todo-api vapid-keys` makes a key pair) or none"))
	default:
		if v, err := webpush.ParseVAPID(pub, priv, sub); err != nil {
			errs = append(errs, err)
		} else {
			c.VAPID = &v
		}
	}
	if v := get("WEBHOOK_ALLOW_PRIVATE", ""); v != "" {
		if c.WebhookAllowPrivate, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE must be true or false, got %q", v))
		}
	}
	return c, errors.Join(errs...)
}

// StorageKind names the store a DATABASE_URL selects.
func (c Config) StorageKind() string {
	switch {
	case c.DatabaseURL == "memory:" || c.DatabaseURL == "memory://":
		return "memory"
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		return "sqlite"
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		return "postgres"
	}
	return ""
}

// redactURL hides a password in a URL so that it can go into an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if i := strings.Index(s, "@"); i >= 0 {
			return "***" + s[i:]
		}
		return s
	}
	return u.Redacted()
}
