// Package bootstrap wires the service together with fx: configuration from
// the environment, zap, one module per adapter package and one for the
// application. It is the only package (with cmd) that imports fx.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"github.com/todo-backend/todo/adapters/transfer"
	"net"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/httpapi/docsui"
	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// App is the whole service for c: pass it to fx.New.
func App(c Config) fx.Option {
	return fx.Options(
		fx.Supply(c),
		fx.Provide(NewLogger),
		fx.WithLogger(func(l *zap.Logger) fxevent.Logger {
			zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
			zl.UseLogLevel(zapcore.DebugLevel) // wiring details only when asked for
			return zl
		}),
		fx.StartTimeout(30*time.Second),
		fx.StopTimeout(c.ShutdownTimeout+5*time.Second),
		Storage(c),
		Events(c),
		Auth,
		Application,
		Metrics,
		HTTP,
		Purge,
		Reminders(c),
	)
}

// Storage picks the storage module that DATABASE_URL names.
func Storage(c Config) fx.Option {
	if c.StorageKind() == "memory" {
		return Memory
	}
	return SQLStore
}

// readyCheck tags a readiness check for /readyz.
func readyCheck(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"ready"`))
}

// Memory keeps tasks in the process (DATABASE_URL=memory:): gone on restart.
// The repositories share one store, whose transactions span them all.
var Memory = fx.Module("memory",
	fx.Provide(
		memory.NewStore,
		func(s *memory.Store) task.Repository { return s.Tasks() },
		// The lists share the tasks' maps: a list goes to the trash with
		// its tasks.
		func(s *memory.Store) list.Repository { return s.Lists() },
		func(s *memory.Store) user.Repository { return s.Users() },
		func(s *memory.Store) application.Memberships { return s.Members() },
		func(s *memory.Store) application.IdempotencyStore { return s.Keys() },
		func(s *memory.Store) task.OccurrenceLog { return s.Occurrences() },
		func(s *memory.Store) application.Transactor { return s },
		func(s *memory.Store) application.ChangeLog { return s.Changes() },
		func() application.CalendarFeedStore { return memory.NewCalendarFeedStore() },
	),
)

// SQLStore keeps tasks in PostgreSQL or SQLite through Bun, migrated at start.
var SQLStore = fx.Module("sqlstore",
	fx.Provide(
		newDB,
		// The task repository asks the Sharers, not the database, whether a
		// caller may be a member of a shared list: everyone else's queries
		// of every list stay owner-only, with no round trip of their own.
		func(db *bun.DB, s *sqlstore.Sharers) task.Repository {
			r := sqlstore.NewTaskRepository(db)
			r.UseShareHint(s)
			return r
		},
		fx.Annotate(sqlstore.NewListRepository, fx.As(new(list.Repository))),
		fx.Annotate(sqlstore.NewUserRepository, fx.As(new(user.Repository))),
		newSharers,
		// The members repository adds each user it makes a member to the
		// Sharers (on this instance; the others hear of it from the
		// database: see newListener).
		func(db *bun.DB, s *sqlstore.Sharers) application.Memberships {
			return sqlstore.NewMemberRepository(db, sqlstore.RecordSharers(s))
		},
		fx.Annotate(sqlstore.NewIdempotencyStore, fx.As(new(application.IdempotencyStore))),
		fx.Annotate(sqlstore.NewOccurrenceLog, fx.As(new(task.OccurrenceLog))),
		fx.Annotate(sqlstore.NewTransactor, fx.As(new(application.Transactor))),
		fx.Annotate(sqlstore.NewChangeLog, fx.As(new(application.ChangeLog))),
		fx.Annotate(sqlstore.NewCalendarFeedStore, fx.As(new(application.CalendarFeedStore))),
		readyCheck(func(db *bun.DB) httpapi.ReadyCheck {
			return httpapi.ReadyCheck{Name: "database", Check: db.PingContext}
		}),
	),
	// The pool's own figures: connections open, in use, idle, waits.
	fx.Invoke(func(set *metrics.Set, db *bun.DB) { registerDBStats(set, db.DB, "todo") }),
)

// newSharers is the set of users who may be members of a shared list, so
// that everyone else's task queries stay owner-only without asking the
// database (sqlstore.Sharers). SQLite reads it at start, after the
// migrations (newDB's hook comes first); on PostgreSQL the listener reads
// it each time it listens (ListenOptions.Sharers), and until then the set
// answers true for everyone.
func newSharers(lc fx.Lifecycle, c Config, db *bun.DB, set *metrics.Set, log *zap.Logger) *sqlstore.Sharers {
	s := sqlstore.NewSharers(db, sqlstore.SharersOptions{})
	if c.StorageKind() != "postgres" {
		lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
			if err := s.Load(ctx); err != nil {
				return fmt.Errorf("read list members: %w", err)
			}
			return nil
		}})
	}
	// A user removed from every list leaves the set at the next sweep,
	// and gets the owner-only statements again.
	sweepCtx, stopSweeps := context.WithCancel(context.Background())
	swept := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(swept)
				tick := time.NewTicker(s.SweepEvery())
				defer tick.Stop()
				for {
					select {
					case <-sweepCtx.Done():
						return
					case <-tick.C:
					}
					if _, err := s.Sweep(sweepCtx); err != nil && sweepCtx.Err() == nil {
						log.Warn("sweep list members", zap.Error(err))
					}
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			stopSweeps()
			select {
			case <-swept:
			case <-ctx.Done():
			}
			return nil
		},
	})
	set.NewGauge("todo_sharers", func() float64 { return float64(s.Len()) })
	set.NewGauge("todo_sharers_ready", func() float64 {
		if s.Ready() {
			return 1
		}
		return 0
	})
	return s
}

func newDB(lc fx.Lifecycle, c Config, log *zap.Logger, set *metrics.Set) (*bun.DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := sqlstore.Open(ctx, c.DatabaseURL, sqlstore.Options{MaxOpenConns: c.DBMaxConns, Timeout: c.DBTimeout,
		OnEvent: dbEvents(set, log)})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// fx runs OnStop hooks in the reverse order of OnStart: this hook is
	// appended before the HTTP server's (the server needs the repositories,
	// which need the DB), so the database closes only after the server has
	// drained its requests.
	// db.Close also stops the breaker's probe (see sqlstore.ErrBreakerOpen).
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			// A migration may rightly take longer than one request's statement.
			if err := sqlstore.Migrate(sqlstore.WithoutTimeout(ctx), db); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			log.Info("database ready", zap.String("kind", c.StorageKind()))
			return nil
		},
		OnStop: func(context.Context) error {
			err := db.Close()
			log.Info("database closed")
			return err
		},
	})
	return db, nil
}

// Auth verifies Better Auth's tokens: JWKS, shared secret, or both.
var Auth = fx.Module("auth",
	fx.Provide(
		newVerifier,
		func(v *jwks.Verifier) auth.Verifier { return v },
		readyCheck(func(v *jwks.Verifier) httpapi.ReadyCheck {
			return httpapi.ReadyCheck{Name: "auth keys", Check: func(context.Context) error {
				if !v.Ready() {
					return errors.New("signing keys not loaded yet")
				}
				return nil
			}}
		}),
	),
)

func newVerifier(lc fx.Lifecycle, c Config, log *zap.Logger) (*jwks.Verifier, error) {
	cfg := jwks.Config{
		JWKSURL:  c.JWKSURL,
		Secret:   []byte(c.Secret),
		Issuer:   c.Issuer,
		Audience: c.Audience,
		OnRefreshError: func(err error) {
			log.Warn("jwks refresh failed", zap.Error(err))
		},
	}
	// The verifier's background refresh lives until the app stops.
	ctx, cancel := context.WithCancel(context.Background())
	v, err := jwks.New(ctx, cfg)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("token verifier: %w", err)
	}
	lc.Append(fx.Hook{
		// Give Better Auth a moment so the first requests do not get 503,
		// but never depend on it: the service starts either way.
		OnStart: func(ctx context.Context) error {
			if c.JWKSURL == "" {
				return nil
			}
			ctx, cancelWait := context.WithTimeout(ctx, 5*time.Second)
			defer cancelWait()
			if err := v.WaitReady(ctx); err != nil {
				log.Warn("signing keys not loaded yet; asymmetric tokens get 503 until they are", zap.String("jwks_url", c.JWKSURL))
			}
			return nil
		},
		OnStop: func(context.Context) error { cancel(); v.Close(); return nil },
	})
	mode := "secret (HS256)"
	switch {
	case c.JWKSURL != "" && c.Secret != "":
		mode = "jwks and secret"
	case c.JWKSURL != "":
		mode = "jwks"
	}
	log.Info("token verification", zap.String("mode", mode), zap.String("jwks_url", c.JWKSURL),
		zap.String("issuer", c.Issuer), zap.String("audience", c.Audience))
	return v, nil
}

// Application provides the use cases.
var Application = fx.Module("application",
	fx.Provide(
		func(t task.Repository, u user.Repository, l list.Repository, m application.Memberships, tx application.Transactor, o task.OccurrenceLog, ch application.ChangeLog, cf application.CalendarFeedStore) *application.Service {
			return application.New(t, u, nil, application.WithLists(l), application.WithMembers(m), application.WithTransactor(tx), application.WithOccurrences(o), application.WithChanges(ch),
				application.WithFormats(transfer.Formats(transfer.FormatsOptions{})), application.WithCalendarFeeds(cf))
		},
		newPurger,
	),
)

// newPurger is the purge use case with TRASH_RETENTION; Purge schedules it.
func newPurger(c Config, tasks task.Repository, lists list.Repository, keys application.IdempotencyStore, ch application.ChangeLog) *application.Purger {
	retention := c.TrashRetention
	if retention <= 0 {
		retention = DefaultTrashRetention
	}
	changes := c.ChangesRetention
	if changes <= 0 {
		changes = DefaultChangesRetention
	}
	return application.NewPurger(tasks, lists, keys, retention, nil).WithChanges(ch, changes)
}

// HTTP serves the API on PORT.
var HTTP = fx.Module("http",
	fx.Provide(newRouter, newServer),
	fx.Invoke(func(*http.Server) {}),
)

type routerParams struct {
	fx.In
	Config    Config
	Service   *application.Service
	Verifier  auth.Verifier
	Log       *zap.Logger
	Ready     []httpapi.ReadyCheck `group:"ready"`
	Metrics   *mw.Metrics
	Set       *metrics.Set
	Keys      application.IdempotencyStore
	Events    *application.Events
	Streams   *httpapi.Streams
	Reminders *application.Reminders
}

func newRouter(p routerParams) http.Handler {
	d := httpapi.Deps{
		Service:  p.Service,
		Verifier: p.Verifier,
		Log:      p.Log,
		Ready:    p.Ready,
		Docs:     docsui.Handler("/openapi.json"),
		Metrics:  p.Metrics,
		// Idempotency-Key responses, in the database with the tasks.
		Idempotency: p.Keys,
		Events:      p.Events,
		Streams:     p.Streams,
		Reminders:   p.Reminders,
		Config: httpapi.Config{
			CORSOrigins:    p.Config.CORSOrigins,
			Version:        p.Config.Version,
			RequestTimeout: p.Config.RequestTimeout,
			UserRateLimit:  p.Config.UserRateLimit,
			IPRateLimit:    p.Config.IPRateLimit,
			TrustedProxies: p.Config.TrustedProxies,
			PublicURL:      p.Config.PublicURL,
			ListMax:        p.Config.ListMax,
			// Bodies are read and checked one bounded amount at a time.
			BodyBytesInFlight: p.Config.BodyBytesInFlight,
			Events:            httpapi.EventsConfig{Keepalive: p.Config.EventsKeepalive},
			ImportMaxBytes:    p.Config.ImportMaxBytes,
			ImportMaxRows:     p.Config.ImportMaxRows,
		},
	}
	if p.Config.MetricsAddr == "" {
		d.MetricsHandler = mw.MetricsHandler(p.Set)
	}
	if c := p.Config; c.UserRateLimit.Enabled() || c.IPRateLimit.Enabled() {
		p.Log.Info("rate limits", zap.Stringer("per_user", c.UserRateLimit), zap.Stringer("per_ip", c.IPRateLimit))
	}
	return httpapi.NewRouter(d)
}

// maxHeaderBytes caps the request line and headers; a bearer token is a
// few hundred bytes.
const maxHeaderBytes = 64 << 10

func newServer(lc fx.Lifecycle, sd fx.Shutdowner, c Config, h http.Handler, streams *httpapi.Streams, log *zap.Logger) *http.Server {
	// The timeouts are long enough for any real request and short enough that
	// a slow client (one header byte a second) cannot hold a connection.
	srv := &http.Server{
		Addr:              fmt.Sprintf(":%d", c.Port),
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	// Streams of live events never end by themselves: Shutdown ends them
	// first, then waits for the other requests.
	srv.RegisterOnShutdown(streams.Close)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", srv.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", srv.Addr, err)
			}
			log.Info("listening", zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server stopped", zap.Error(err))
					_ = sd.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, c.ShutdownTimeout)
			defer cancel()
			log.Info("shutting down: draining requests", zap.Duration("timeout", c.ShutdownTimeout))
			// Streams of live events first: they end at once, with an
			// event saying so. Shutdown no longer knows the connections
			// they took over, so wait for those here.
			streams.Close()
			if err := streams.Wait(ctx); err != nil {
				log.Warn("event streams did not end in time", zap.Error(err))
			}
			if err := srv.Shutdown(ctx); err != nil {
				return fmt.Errorf("drain requests: %w", err)
			}
			log.Info("requests drained")
			return nil
		},
	})
	return srv
}
