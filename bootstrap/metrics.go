package bootstrap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/adapters/sqlstore"
)

// Metrics provides the service's metric set and the router's metrics, and
// serves them on METRICS_ADDR when it is set (else the router serves them
// on PORT). The Go runtime's and the process's metrics (go_goroutines,
// go_memstats_heap_inuse_bytes, process_*) are written with them.
var Metrics = fx.Module("metrics",
	fx.Provide(newMetricSet, mw.NewMetrics),
	fx.Invoke(newMetricsServer),
)

func newMetricSet() *metrics.Set {
	// # HELP/# TYPE lines, so that Prometheus knows counters from gauges.
	metrics.ExposeMetadata(true)
	return metrics.NewSet()
}

// registerDBStats exposes the connection pool's figures under the names
// prometheus/client_golang's DBStats collector uses, labelled db_name.
func registerDBStats(set *metrics.Set, db *sql.DB, name string) {
	for _, g := range []struct {
		name string
		f    func(sql.DBStats) float64
	}{
		{"go_sql_max_open_connections", func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) }},
		{"go_sql_open_connections", func(s sql.DBStats) float64 { return float64(s.OpenConnections) }},
		{"go_sql_in_use_connections", func(s sql.DBStats) float64 { return float64(s.InUse) }},
		{"go_sql_idle_connections", func(s sql.DBStats) float64 { return float64(s.Idle) }},
		{"go_sql_wait_count_total", func(s sql.DBStats) float64 { return float64(s.WaitCount) }},
		{"go_sql_wait_duration_seconds_total", func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }},
		{"go_sql_max_idle_closed_total", func(s sql.DBStats) float64 { return float64(s.MaxIdleClosed) }},
		{"go_sql_max_idle_time_closed_total", func(s sql.DBStats) float64 { return float64(s.MaxIdleTimeClosed) }},
		{"go_sql_max_lifetime_closed_total", func(s sql.DBStats) float64 { return float64(s.MaxLifetimeClosed) }},
	} {
		set.NewGauge(mw.Label(g.name, "db_name", name), func() float64 { return g.f(db.Stats()) })
	}
}

// dbEvents logs, once each, what the database connection decides by itself
// (the breaker opening and closing, the fallback to exec mode behind a
// pooler), and counts the breaker's:
//   - todo_db_breaker_open: 1 while PostgreSQL is silent and statements are
//     refused at once (503) until a probe gets an answer, else 0;
//   - todo_db_breaker_opened_total: how often it opened.
func dbEvents(set *metrics.Set, log *zap.Logger) func(sqlstore.Event) {
	var open atomic.Bool
	set.NewGauge("todo_db_breaker_open", func() float64 {
		if open.Load() {
			return 1
		}
		return 0
	})
	opened := set.NewCounter("todo_db_breaker_opened_total")
	return func(e sqlstore.Event) {
		switch e.Kind {
		case sqlstore.BreakerOpened:
			open.Store(true)
			opened.Inc()
			log.Warn("database not answering: requests get 503 at once until a probe gets an answer", zap.Error(e.Err))
		case sqlstore.BreakerClosed:
			open.Store(false)
			log.Info("database answering again", zap.Duration("down", e.Down), zap.NamedError("answer", e.Err))
		case sqlstore.ExecModeFallback:
			log.Warn("the database keeps no prepared statements between transactions (a transaction pooler: PgBouncer "+
				"before 1.21, or max_prepared_statements = 0): statements run unprepared (exec mode) from now on", zap.Error(e.Err))
		}
	}
}

// newMetricsServer serves /metrics on METRICS_ADDR, apart from the API, so
// that it can stay on a private interface.
func newMetricsServer(lc fx.Lifecycle, sd fx.Shutdowner, c Config, set *metrics.Set, log *zap.Logger) {
	if c.MetricsAddr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", mw.MetricsHandler(set))
	srv := &http.Server{
		Addr:              c.MetricsAddr,
		Handler:           mux,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(log.Named("metrics")),
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", srv.Addr)
			if err != nil {
				return fmt.Errorf("listen on METRICS_ADDR %s: %w", srv.Addr, err)
			}
			log.Info("metrics listening", zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("metrics server stopped", zap.Error(err))
					_ = sd.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error { return srv.Shutdown(ctx) },
	})
}
