package application

import (
	"context"
	"errors"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// Reminder delivery (issue 18). A reminder falling due becomes one row of
// an outbox per target of its user (each webhook, each push subscription,
// and the live stream when there is one), under a unique key (task,
// reminder, fires_at, target), so that however many instances enqueue it,
// it is enqueued once. An instance claims due rows with a lease (in
// PostgreSQL with FOR UPDATE SKIP LOCKED), delivers them, and marks them
// done, fenced by its claim: a crash mid-delivery leaves the row to be
// claimed again once the lease ends.

// ErrTargetNotFound: no such webhook or push subscription of the user.
var ErrTargetNotFound = errors.New("no such webhook or push subscription")

// Target kinds, the prefix of a target's ID.
const (
	WebhookPrefix = "wh_"
	PushPrefix    = "ps_"
)

// StoredPush is a push subscription as stored: its ID and the browser's
// subscription.
type StoredPush struct {
	ID string
	PushSubscription
	CreatedAt time.Time
}

// StoredWebhook is a webhook as stored.
type StoredWebhook struct {
	Webhook
	CreatedAt time.Time
}

// DueReminder is one reminder of a task that fell due at FiresAt.
type DueReminder struct {
	Owner    auth.UserID
	Task     task.ID
	Reminder string // task.Reminder.String
	FiresAt  time.Time
}

// Delivery is one outbox row claimed: a due reminder and one target.
type Delivery struct {
	ID       int64
	Owner    auth.UserID
	Task     task.ID
	Reminder string
	FiresAt  time.Time
	Target   string // a webhook's or push subscription's ID
	Attempts int    // this one included
	Claim    string // the claim's token; Finish is fenced by it
}

// DeliveryStore keeps the users' delivery targets and the outbox of
// reminders. Every target call is scoped to an owner.
type DeliveryStore interface {
	AddWebhook(ctx context.Context, owner auth.UserID, w Webhook, now time.Time) error
	Webhooks(ctx context.Context, owner auth.UserID) ([]StoredWebhook, error)
	DeleteWebhook(ctx context.Context, owner auth.UserID, id string) error
	// AddPushSubscription stores s; a subscription with the same endpoint
	// is replaced, keeping its ID, which is returned.
	AddPushSubscription(ctx context.Context, owner auth.UserID, s StoredPush) (StoredPush, error)
	PushSubscriptions(ctx context.Context, owner auth.UserID) ([]StoredPush, error)
	DeletePushSubscription(ctx context.Context, owner auth.UserID, id string) error

	// RemindedTasks returns every live, open task with reminders, of
	// every user, updated at or after since (zero: all of them).
	RemindedTasks(ctx context.Context, since time.Time) ([]*task.Task, error)
	// Enqueue adds one outbox row per reminder and target of its owner
	// registered at or before the reminder's time, due at the reminder's
	// time; a row already there (any instance's) is left alone. It
	// returns how many it added.
	Enqueue(ctx context.Context, due []DueReminder, now time.Time) (int, error)
	// Claim takes up to limit rows that are not done, whose next attempt
	// is due at now, and that no live lease holds, leasing them until
	// now+lease under one new claim token.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// Finish ends d's attempt, if d's claim still holds it: done (with
	// outcome), or to try again at retryAt. It reports whether the claim
	// held.
	Finish(ctx context.Context, d Delivery, done bool, outcome string, retryAt time.Time) (bool, error)
	// PurgeDeliveries removes done rows whose reminder fell due before
	// before.
	PurgeDeliveries(ctx context.Context, before time.Time) (int, error)
}

// EffectiveFiresAt is when r fires for a task due d. A relative reminder
// of an all-day or floating due has no instant in the domain (the user's
// zone is not known): it is read in UTC, so "1 hour before" a day is
// 23:00 UTC the day before, and before a floating 09:00 is 08:00 UTC.
func EffectiveFiresAt(r task.Reminder, d task.Due) (time.Time, bool) {
	if t, ok := r.FiresAt(d); ok {
		return t, true
	}
	before, rel := r.Before()
	if !rel || d.IsZero() {
		return time.Time{}, false
	}
	// All-day and floating dues keep their wall-clock reading labelled
	// UTC.
	c := d.Time()
	return time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), time.UTC).Add(-before), true
}
