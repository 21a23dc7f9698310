package bootstrap

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/application"
)

// Purge schedules the purge use case (application.Purger, which Application
// provides: tasks in the trash longer than TRASH_RETENTION, idempotency
// keys past their 24 hours) in the background: once at start, then every
// PURGE_INTERVAL. Every instance runs it; concurrent runs only share the
// work.
var Purge = fx.Module("purge", fx.Invoke(newPurgeSchedule))

// purgeSchedule owns the purge goroutine: OnStart starts it, OnStop stops
// it and waits for it.
type purgeSchedule struct {
	purger   *application.Purger
	log      *zap.Logger
	interval time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

func newPurgeSchedule(lc fx.Lifecycle, c Config, purger *application.Purger, log *zap.Logger) {
	p := &purgeSchedule{purger: purger, log: log.Named("purge"), interval: c.PurgeInterval}
	if p.interval <= 0 {
		p.interval = DefaultPurgeInterval
	}
	lc.Append(fx.Hook{OnStart: p.start, OnStop: p.stop})
}

func (p *purgeSchedule) start(context.Context) error {
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

func (p *purgeSchedule) stop(ctx context.Context) error {
	p.cancel()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runOnce runs the purge once, within one interval. Errors are logged: the
// next run tries again.
func (p *purgeSchedule) runOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, p.interval)
	defer cancel()
	purged, err := p.purger.Purge(ctx)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("purge", zap.Error(err))
	}
	fields := make([]zap.Field, 0, len(purged))
	removed := 0
	for _, s := range purged {
		fields = append(fields, zap.Int(s.Name, s.Removed))
		removed += s.Removed
	}
	if removed > 0 {
		p.log.Info("purged", fields...)
	}
}
