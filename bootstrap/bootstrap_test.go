package bootstrap

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/todo-backend/todo/adapters/webpush"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const secret = "test-secret-0123456789-0123456789-xx"

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret}))
	if err != nil {
		t.Fatalf("LoadConfig = %v, want nil", err)
	}
	if c.Port != 8000 || c.DatabaseURL != "sqlite:todo.db" || c.LogLevel != "info" || c.LogFormat != "json" {
		t.Errorf("defaults = port %d, db %q, log %q/%q; want 8000, sqlite:todo.db, info/json", c.Port, c.DatabaseURL, c.LogLevel, c.LogFormat)
	}
	if len(c.CORSOrigins) != 1 || c.CORSOrigins[0] != "http://localhost:3000" {
		t.Errorf("CORSOrigins = %v, want [http://localhost:3000]", c.CORSOrigins)
	}
	if c.ShutdownTimeout != 20*time.Second {
		t.Errorf("ShutdownTimeout = %v, want 20s", c.ShutdownTimeout)
	}
	if c.JWKSURL != "" || c.Issuer != "" || c.Audience != "" {
		t.Errorf("secret mode derived JWKS %q iss %q aud %q, want none", c.JWKSURL, c.Issuer, c.Audience)
	}
}

// TestLoadConfigBodyBytes: BODY_BYTES_IN_FLIGHT takes sizes as people
// write them.
func TestLoadConfigBodyBytes(t *testing.T) {
	for in, want := range map[string]int64{"": 8 << 20, "64MiB": 64 << 20, "1048576": 1 << 20, "100 MB": 100e6} {
		c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "BODY_BYTES_IN_FLIGHT": in}))
		if err != nil || c.BodyBytesInFlight != want {
			t.Errorf("BODY_BYTES_IN_FLIGHT=%q: %d, %v; want %d", in, c.BodyBytesInFlight, err, want)
		}
	}
}

// TestLoadConfigImport: IMPORT_MAX_BYTES takes sizes as people write them,
// IMPORT_MAX_ROWS an integer; unset, both are 0 (the router's defaults).
func TestLoadConfigImport(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "25MiB": 25 << 20, "1000": 1000} {
		c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "IMPORT_MAX_BYTES": in, "IMPORT_MAX_ROWS": "500"}))
		if err != nil || c.ImportMaxBytes != want || c.ImportMaxRows != 500 {
			t.Errorf("IMPORT_MAX_BYTES=%q: %d, rows %d, %v; want %d, 500", in, c.ImportMaxBytes, c.ImportMaxRows, err, want)
		}
	}
}

// TestLoadConfigAnyOrigin: CORS_ORIGINS=* alone is any origin (mw.CORS
// then allows no credentials).
func TestLoadConfigAnyOrigin(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "CORS_ORIGINS": " * "}))
	if err != nil {
		t.Fatalf("LoadConfig(CORS_ORIGINS=*) = %v, want nil", err)
	}
	if len(c.CORSOrigins) != 1 || c.CORSOrigins[0] != "*" {
		t.Errorf("CORSOrigins = %q, want [*]", c.CORSOrigins)
	}
}

func TestLoadConfigBetterAuthURL(t *testing.T) {
	tests := []struct {
		name                    string
		vars                    map[string]string
		wantJWKS, wantIss, want string
	}{
		{"base url", map[string]string{"BETTER_AUTH_URL": "http://localhost:3000"},
			"http://localhost:3000/api/auth/jwks", "http://localhost:3000", "http://localhost:3000"},
		{"trailing slash", map[string]string{"BETTER_AUTH_URL": "https://app.example.com/"},
			"https://app.example.com/api/auth/jwks", "https://app.example.com", "https://app.example.com"},
		{"base path given", map[string]string{"BETTER_AUTH_URL": "https://app.example.com/api/auth"},
			"https://app.example.com/api/auth/jwks", "https://app.example.com", "https://app.example.com"},
		{"explicit overrides", map[string]string{"BETTER_AUTH_URL": "https://app.example.com",
			"BETTER_AUTH_JWKS_URL": "https://keys.example.com/jwks", "BETTER_AUTH_ISSUER": "iss", "BETTER_AUTH_AUDIENCE": "aud"},
			"https://keys.example.com/jwks", "iss", "aud"},
		{"jwks url alone", map[string]string{"BETTER_AUTH_JWKS_URL": "https://keys.example.com/jwks"},
			"https://keys.example.com/jwks", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(env(tt.vars))
			if err != nil {
				t.Fatalf("LoadConfig = %v", err)
			}
			if c.JWKSURL != tt.wantJWKS || c.Issuer != tt.wantIss || c.Audience != tt.want {
				t.Errorf("got jwks %q iss %q aud %q, want %q %q %q", c.JWKSURL, c.Issuer, c.Audience, tt.wantJWKS, tt.wantIss, tt.want)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string // a word the error must contain
	}{
		{"no auth", map[string]string{}, "BETTER_AUTH_SECRET"},
		{"short secret", map[string]string{"BETTER_AUTH_SECRET": "short"}, "at least 32"},
		{"bad port", map[string]string{"BETTER_AUTH_SECRET": secret, "PORT": "http"}, "PORT"},
		{"port out of range", map[string]string{"BETTER_AUTH_SECRET": secret, "PORT": "70000"}, "PORT"},
		{"bad database url", map[string]string{"BETTER_AUTH_SECRET": secret, "DATABASE_URL": "mysql://u:hunter2@h/db"}, "DATABASE_URL"},
		{"bad auth url", map[string]string{"BETTER_AUTH_URL": "localhost:3000"}, "BETTER_AUTH_URL"},
		{"bad log format", map[string]string{"BETTER_AUTH_SECRET": secret, "LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"bad shutdown", map[string]string{"BETTER_AUTH_SECRET": secret, "SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		{"body bytes not a size", map[string]string{"BETTER_AUTH_SECRET": secret, "BODY_BYTES_IN_FLIGHT": "lots"}, "BODY_BYTES_IN_FLIGHT"},
		{"body bytes under one body", map[string]string{"BETTER_AUTH_SECRET": secret, "BODY_BYTES_IN_FLIGHT": "512KiB"}, "BODY_BYTES_IN_FLIGHT"},
		{"import bytes not a size", map[string]string{"BETTER_AUTH_SECRET": secret, "IMPORT_MAX_BYTES": "big"}, "IMPORT_MAX_BYTES"},
		{"import bytes over 1GiB", map[string]string{"BETTER_AUTH_SECRET": secret, "IMPORT_MAX_BYTES": "2GiB"}, "IMPORT_MAX_BYTES"},
		{"import rows zero", map[string]string{"BETTER_AUTH_SECRET": secret, "IMPORT_MAX_ROWS": "0"}, "IMPORT_MAX_ROWS"},
		{"any origin among others", map[string]string{"BETTER_AUTH_SECRET": secret, "CORS_ORIGINS": "*, http://localhost:3000"}, "CORS_ORIGINS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(env(tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadConfig(%v) = %v, want an error naming %s", tt.vars, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the database password", err)
			}
		})
	}
	if _, err := LoadConfig(env(nil)); !errors.Is(err, ErrNoAuth) {
		t.Errorf("LoadConfig(no auth) = %v, want ErrNoAuth", err)
	}
}

func TestLoadConfigReminders(t *testing.T) {
	pub, priv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := webpush.GenerateVAPIDKeys()
	vars := func(kv ...string) map[string]string {
		m := map[string]string{"BETTER_AUTH_SECRET": secret}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := LoadConfig(env(vars()))
	if err != nil || c.VAPID != nil || c.WebhookAllowPrivate {
		t.Errorf("unset: VAPID %v, WebhookAllowPrivate %v, err %v; want nil, false, nil", c.VAPID, c.WebhookAllowPrivate, err)
	}
	c, err = LoadConfig(env(vars("VAPID_PUBLIC_KEY", pub, "VAPID_PRIVATE_KEY", priv, "VAPID_SUBJECT", "mailto:ops@example.com",
		"WEBHOOK_ALLOW_PRIVATE", "true")))
	if err != nil || c.VAPID == nil || c.VAPID.PublicKey != pub || c.VAPID.Subject != "mailto:ops@example.com" || !c.WebhookAllowPrivate {
		t.Errorf("set: VAPID %v, WebhookAllowPrivate %v, err %v", c.VAPID, c.WebhookAllowPrivate, err)
	}
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"key without subject": {vars("VAPID_PUBLIC_KEY", pub, "VAPID_PRIVATE_KEY", priv), "VAPID_SUBJECT"},
		"subject alone":       {vars("VAPID_SUBJECT", "mailto:ops@example.com"), "VAPID_PRIVATE_KEY"},
		"keys of two pairs":   {vars("VAPID_PUBLIC_KEY", otherPub, "VAPID_PRIVATE_KEY", priv, "VAPID_SUBJECT", "mailto:ops@example.com"), "not the private key's"},
		"subject not mailto":  {vars("VAPID_PUBLIC_KEY", pub, "VAPID_PRIVATE_KEY", priv, "VAPID_SUBJECT", "ops@example.com"), "VAPID subject"},
		"allow private maybe": {vars("WEBHOOK_ALLOW_PRIVATE", "maybe"), "WEBHOOK_ALLOW_PRIVATE"},
	} {
		_, err := LoadConfig(env(tc.vars))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadConfig = %v, want an error naming %s", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), priv) {
			t.Errorf("%s: the error shows the VAPID private key", name)
		}
	}
}

func TestStorageKind(t *testing.T) {
	for url, want := range map[string]string{
		"memory:": "memory", "sqlite:todo.db": "sqlite", "postgres://h/db": "postgres",
		"postgresql://h/db?sslmode=require": "postgres", "mysql://h/db": "",
	} {
		if got := (Config{DatabaseURL: url}).StorageKind(); got != want {
			t.Errorf("StorageKind(%q) = %q, want %q", url, got, want)
		}
	}
}

// TestAppGraph checks that fx can build the whole graph for each storage
// kind without starting anything.
func TestAppGraph(t *testing.T) {
	for _, db := range []string{"memory:", "sqlite:" + t.TempDir() + "/x.db", "postgres://postgres@127.0.0.1:5432/test"} {
		c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "DATABASE_URL": db}))
		if err != nil {
			t.Fatal(err)
		}
		if err := fx.ValidateApp(App(c)); err != nil {
			t.Errorf("ValidateApp(%s) = %v", c.StorageKind(), err)
		}
	}
}
