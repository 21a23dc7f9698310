// Command api is the todo service: `serve` (the default) runs the HTTP API,
// `migrate up|down|status` manages the schema, `token` prints a development
// token, `openapi` prints the API's OpenAPI document, and `vapid-keys` makes
// a Web Push key pair.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/joho/godotenv"
	"go.uber.org/dig"
	"go.uber.org/fx"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/adapters/webpush"
	"github.com/todo-backend/todo/bootstrap"
	"github.com/todo-backend/todo/domain/auth"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: api [command]

commands:
  serve                   run the HTTP API (default)
  migrate up|down|status  apply, roll back (last group) or list schema migrations
  token --user ID         print an HS256 token signed with BETTER_AUTH_SECRET
  openapi                 print the OpenAPI 3.1 document
  vapid-keys              print a new Web Push (VAPID) key pair, as .env lines
  version                 print the version

Configuration comes from the environment (and a .env file when present):
PORT, DATABASE_URL, BETTER_AUTH_URL, BETTER_AUTH_JWKS_URL, BETTER_AUTH_ISSUER,
BETTER_AUTH_AUDIENCE, BETTER_AUTH_SECRET, CORS_ORIGINS, LOG_LEVEL, LOG_FORMAT,
SHUTDOWN_TIMEOUT, DB_MAX_CONNS, DB_TIMEOUT, REQUEST_TIMEOUT, READ_HEADER_TIMEOUT,
READ_TIMEOUT, WRITE_TIMEOUT, IDLE_TIMEOUT, RATE_LIMIT, RATE_LIMIT_IP,
TRUSTED_PROXIES, PUBLIC_URL, METRICS_ADDR, VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY,
VAPID_SUBJECT, WEBHOOK_ALLOW_PRIVATE. See README.md and docs/RELIABILITY.md.
`

func main() {
	code, err := run(os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(args []string, stdout io.Writer) (int, error) {
	// A missing .env is normal; variables already set win over the file.
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 1, fmt.Errorf("read .env: %w", err)
	}
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve()
	case "migrate":
		return 0, migrate(args, stdout)
	case "token":
		return 0, token(args, stdout)
	case "openapi":
		doc, err := httpapi.OpenAPI(version)
		if err != nil {
			return 1, err
		}
		_, err = fmt.Fprintln(stdout, string(doc))
		return 0, err
	case "version":
		_, err := fmt.Fprintln(stdout, version)
		return 0, err
	case "vapid-keys":
		return 0, vapidKeys(stdout)
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usage)
		return 0, err
	}
	return 2, fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

func loadConfig() (bootstrap.Config, error) {
	c, err := bootstrap.LoadConfig(os.Getenv)
	c.Version = version
	return c, err
}

// gcPercent is the collector's GOGC unless the environment sets one. The
// service's live heap is small (a few MiB: pools, caches, the tasks of the
// requests in flight) and nearly everything a request allocates dies with
// it, so Go's default, 100, collects every few MiB of garbage: under load in
// `make bench` that was a sixth of the service's CPU. 200 halves how often,
// for a resident set that stays under 64 MiB at 128 connections
// (docs/PERFORMANCE.md). No memory limit is set by default: a soft limit
// below the live heap makes the collector run back to back; a container
// with a memory limit should set GOMEMLIMIT a little under it, as
// deploy/deployment.yaml does.
const gcPercent = 200

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

func serve() (int, error) {
	tuneGC()
	c, err := loadConfig()
	if err != nil {
		return 1, fmt.Errorf("configuration:\n%w", err)
	}
	app := fx.New(bootstrap.App(c))
	if err := app.Err(); err != nil {
		// fx wraps a constructor's error in the whole dependency path, with
		// source locations; the constructor's own error says what is wrong
		// (e.g. "open database: ...") in one line.
		return 1, dig.RootCause(err)
	}
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return 1, fmt.Errorf("start: %w", err)
	}
	sig := <-app.Wait()
	stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		return 1, fmt.Errorf("stop: %w", err)
	}
	return sig.ExitCode, nil
}

func migrate(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: api migrate up|down|status")
	}
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		dbURL = bootstrap.DefaultDatabaseURL
	}
	if dbURL == "memory:" {
		return errors.New("DATABASE_URL=memory: has no schema to migrate")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "up":
		if err := sqlstore.Migrate(ctx, db); err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, "migrated")
		return err
	case "down":
		if err := sqlstore.Rollback(ctx, db); err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, "rolled back the last migration group")
		return err
	case "status":
		ms, err := sqlstore.MigrationStatus(ctx, db)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if _, err := fmt.Fprintln(stdout, m); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown migrate command %q: want up, down or status", args[0])
}

func token(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	userID := fs.String("user", "", "user id (the token's sub)")
	email := fs.String("email", "", "email claim (default USER@example.com)")
	name := fs.String("name", "", "name claim (default USER)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *userID == "" {
		return errors.New("usage: api token --user ID [--email E] [--name N] [--ttl 1h]")
	}
	secret := os.Getenv("BETTER_AUTH_SECRET")
	if secret == "" {
		return errors.New("BETTER_AUTH_SECRET is not set: the token is signed with it (HS256)")
	}
	if *email == "" {
		*email = *userID + "@example.com"
	}
	if *name == "" {
		*name = *userID
	}
	c, _ := bootstrap.LoadConfig(os.Getenv) // issuer/audience when configured; other problems do not matter here
	tok, err := jwks.SignHS256([]byte(secret), auth.Identity{UserID: auth.UserID(*userID), Email: *email, Name: *name},
		*ttl, time.Now(), c.Issuer, c.Audience)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// vapidKeys prints a new VAPID key pair for the environment. Browsers
// subscribe with the public key, and push services refuse messages signed
// with any other: generate it once per deployment and keep it.
func vapidKeys(stdout io.Writer) error {
	pub, priv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "VAPID_PUBLIC_KEY=%s\nVAPID_PRIVATE_KEY=%s\n", pub, priv)
	return err
}
