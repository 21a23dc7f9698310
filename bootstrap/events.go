package bootstrap

import (
	"context"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
)

// Events wires live events (issue 16): the in-process hub, which is every
// store's ChangeWatcher and the ChangePublisher the memory and SQLite
// stores tell after their commits (memory.Store.SetPublisher,
// sqlstore.PublishChanges); on PostgreSQL the publisher that notifies,
// after this instance's commits, the changes of watched users
// (sqlstore.PublishChanges too), and the listening connection that feeds
// the hub what every instance commits; the registry of open streams,
// which the HTTP server closes first when it shuts down; and the use case,
// over the store's ChangeLog.
func Events(c Config) fx.Option {
	opts := []fx.Option{
		fx.Provide(
			application.NewHub,
			func(h *application.Hub) application.ChangePublisher { return h },
			func(c Config) *httpapi.Streams { return httpapi.NewStreams(c.EventsMaxPerUser) },
			newEvents,
		),
		// Streams open on this instance, and whether its listener listens.
		fx.Invoke(func(set *metrics.Set, s *httpapi.Streams) {
			set.NewGauge("todo_event_streams", func() float64 { return float64(s.Open("")) })
		}),
	}
	switch c.StorageKind() {
	case "memory":
		opts = append(opts,
			fx.Provide(func() application.TicketStore { return memory.NewTicketStore() }),
			fx.Invoke(func(s *memory.Store, p application.ChangePublisher) { s.SetPublisher(p) }))
	default:
		opts = append(opts,
			fx.Provide(func(db *bun.DB) application.TicketStore { return sqlstore.NewTicketStore(db) }),
			fx.Invoke(publishSQL))
	}
	if c.StorageKind() == "postgres" {
		// The listener is the watcher: it registers the users with streams
		// here (change_watchers), whose changes the publishers notify.
		opts = append(opts, fx.Provide(newListener, func(l *sqlstore.Listener) application.ChangeWatcher { return l }))
	} else {
		opts = append(opts, fx.Provide(func(h *application.Hub) application.ChangeWatcher { return h }))
	}
	return fx.Module("events", opts...)
}

type eventsParams struct {
	fx.In
	Changes application.ChangeLog `optional:"true"`
	Watcher application.ChangeWatcher
	Tickets application.TicketStore
	Log     *zap.Logger
}

// newEvents is the use case of live events, or nil while the store keeps
// no change feed (the routes then answer 503).
func newEvents(p eventsParams) *application.Events {
	if p.Changes == nil {
		p.Log.Warn("live events are off: the store keeps no change feed")
		return nil
	}
	return application.NewEvents(p.Changes, p.Watcher, p.Tickets, nil)
}

// publishSQL has the store's commits told, from start (after the
// migrations: their hook runs first) to stop (before the database closes):
// on SQLite to the hub, on PostgreSQL to every instance's listener, in
// notifications sent after the commits (sqlstore.PublishChanges).
func publishSQL(lc fx.Lifecycle, db *bun.DB, p application.ChangePublisher) {
	stop := func() {}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { stop = sqlstore.PublishChanges(db, p); return nil },
		OnStop:  func(context.Context) error { stop(); return nil },
	})
}

// newListener holds the PostgreSQL listening connection from start to
// stop (DATABASE_LISTEN_URL, or DATABASE_URL), keeps the change_watchers
// rows on the pool, and keeps the Sharers current with the memberships
// other instances write.
func newListener(lc fx.Lifecycle, c Config, hub *application.Hub, db *bun.DB, sharers *sqlstore.Sharers, set *metrics.Set, log *zap.Logger) (*sqlstore.Listener, error) {
	url := c.DatabaseListenURL
	if url == "" {
		url = c.DatabaseURL
	}
	log = log.Named("listen")
	timeout := c.DBTimeout
	if timeout <= 0 {
		timeout = DefaultDBTimeout
	}
	l, err := sqlstore.NewListener(url, hub, sqlstore.ListenOptions{DB: db, Sharers: sharers, RaceWindow: timeout + time.Second,
		CheckInterval: c.EventsCheckInterval, OnEvent: func(e sqlstore.ListenEvent) {
			switch {
			case e.Up && e.Err == nil:
				log.Info("listening for changes", zap.String("channel", application.ChangeChannel))
			case e.Up:
				log.Warn("change listener", zap.Error(e.Err))
			default:
				log.Warn("change listener lost its connection; streams resync, shared lists are read for everyone, reconnecting", zap.Error(e.Err))
			}
		}})
	if err != nil {
		return nil, err
	}
	set.NewGauge("todo_change_listener_up", func() float64 {
		if l.Listening() {
			return 1
		}
		return 0
	})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { l.Start(); return nil },
		OnStop:  func(context.Context) error { l.Stop(); return nil },
	})
	return l, nil
}
