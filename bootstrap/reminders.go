package bootstrap

import (
	"context"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/adapters/webhook"
	"github.com/todo-backend/todo/adapters/webpush"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

// Reminders delivers reminders falling due (issue 18): the delivery
// targets' use cases and, in the background, the scheduler, ticking every
// REMINDERS_POLL on every instance (the outbox's claims share the work).
// The delivery store comes from the storage module.
func Reminders(c Config) fx.Option {
	store := fx.Provide(func(db *bun.DB) application.DeliveryStore { return sqlstore.NewDeliveryStore(db) })
	if c.StorageKind() == "memory" {
		store = fx.Provide(func(s *memory.Store) application.DeliveryStore { return s.Deliveries() })
	}
	return fx.Module("reminders", store, fx.Provide(newReminders), fx.Invoke(newReminderSchedule))
}

func newReminders(c Config, store application.DeliveryStore, tasks task.Repository, hub *application.Hub, log *zap.Logger) (*application.Reminders, error) {
	var push application.PushSender
	if c.VAPID != nil {
		s, err := webpush.New(*c.VAPID, webpush.Options{AllowPrivate: c.WebhookAllowPrivate})
		if err != nil {
			return nil, err
		}
		push = s
	}
	l := log.Named("reminders")
	return application.NewReminders(store, tasks, push, webhook.New(webhook.Options{AllowPrivate: c.WebhookAllowPrivate}), nil,
		application.ReminderOptions{
			Lease:   c.RemindersLease,
			Backoff: webhook.Backoff,
			// Each instance sends reminders to the live streams it serves.
			Stream:      hub.Remind,
			MaxAttempts: webhook.MaxAttempts,
			Log: func(d application.Delivery, r application.DeliveryResult) {
				// The target's ID only: URLs and endpoints carry capabilities.
				l.Warn("reminder not delivered", zap.Int64("delivery", d.ID), zap.String("target", d.Target),
					zap.Int("attempt", d.Attempts), zap.Stringer("outcome", r.Outcome), zap.Int("status", r.Status), zap.Error(r.Err))
			},
		}), nil
}

// newReminderSchedule runs the scheduler from OnStart to OnStop, which
// waits for the tick in progress (its attempts end within the lease).
func newReminderSchedule(lc fx.Lifecycle, c Config, r *application.Reminders, log *zap.Logger) {
	l := log.Named("reminders")
	poll := c.RemindersPoll
	if poll <= 0 {
		poll = DefaultRemindersPoll
	}
	var cancel context.CancelFunc
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			var ctx context.Context
			ctx, cancel = context.WithCancel(context.Background())
			go func() {
				defer close(done)
				r.Run(ctx, poll, func(err error) { l.Warn("reminder tick", zap.Error(err)) })
			}()
			l.Info("reminder scheduler started", zap.Duration("poll", poll), zap.Duration("lease", c.RemindersLease))
			return nil
		},
		OnStop: func(ctx context.Context) error {
			cancel()
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
}
