package bootstrap

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/application"
)

// PurgeBatch bounds each run of the purge: at most this many trashed tasks
// and this many idempotency keys, so that a backlog (after downtime, or a
// shortened retention) is worked off in short statements, run after run,
// instead of one long one holding locks.
const PurgeBatch = 1000

// Purge deletes for good, in the background, the tasks that have been in
// the trash longer than TRASH_RETENTION and the idempotency keys past
// their 24 hours: once at start, then every PURGE_INTERVAL. Every instance
// runs it; concurrent runs only share the work.
var Purge = fx.Module("purge", fx.Invoke(newPurger))

// purger owns the purge goroutine: OnStart starts it, OnStop stops it and
// waits for it.
type purger struct {
	svc       *application.Service
	keys      application.IdempotencyStore
	log       *zap.Logger
	retention time.Duration
	interval  time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

func newPurger(lc fx.Lifecycle, c Config, svc *application.Service, keys application.IdempotencyStore, log *zap.Logger) {
	p := &purger{svc: svc, keys: keys, log: log.Named("purge"), retention: c.TrashRetention, interval: c.PurgeInterval}
	if p.retention <= 0 {
		p.retention = DefaultTrashRetention
	}
	if p.interval <= 0 {
		p.interval = DefaultPurgeInterval
	}
	lc.Append(fx.Hook{OnStart: p.start, OnStop: p.stop})
}

func (p *purger) start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		tick := time.NewTicker(p.interval)
		defer tick.Stop()
		for {
			p.runOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

func (p *purger) stop(ctx context.Context) error {
	p.cancel()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runOnce deletes one batch of each. Errors are logged: the next run tries
// again.
func (p *purger) runOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, p.interval)
	defer cancel()
	tasks, err := p.svc.PurgeTrash(ctx, p.retention, PurgeBatch)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("purge trash", zap.Error(err))
	}
	keys, err := p.keys.Purge(ctx, time.Now(), PurgeBatch)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("purge idempotency keys", zap.Error(err))
	}
	if tasks > 0 || keys > 0 {
		p.log.Info("purged", zap.Int("tasks", tasks), zap.Int("idempotency_keys", keys))
	}
}
