package bootstrap

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
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
}

// Defaults for the variables CONTRACT.md names.
const (
	DefaultPort        = 8000
	DefaultDatabaseURL = "sqlite:todo.db"
	DefaultCORSOrigins = "http://localhost:3000"
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
	if c.ShutdownTimeout, err = time.ParseDuration(get("SHUTDOWN_TIMEOUT", "20s")); err != nil || c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT must be a positive duration such as 20s, got %q", getenv("SHUTDOWN_TIMEOUT")))
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
