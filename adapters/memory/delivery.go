package memory

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// DeliveryStore is an application.DeliveryStore held in memory: the
// delivery targets and the reminders' outbox, under one mutex (one process,
// so the claim is the mutex).
type DeliveryStore struct {
	tasks *TaskRepository

	mu     sync.Mutex
	hooks  map[auth.UserID][]application.StoredWebhook
	pushes map[auth.UserID][]application.StoredPush
	lastID int64
	rows   map[string]*outboxRow // by unique key
	byID   map[int64]*outboxRow
	claims int64
}

type outboxRow struct {
	d       application.Delivery
	key     string
	nextAt  time.Time
	leaseTo time.Time
	done    bool
	outcome string
}

var _ application.DeliveryStore = (*DeliveryStore)(nil)

// Deliveries returns the store's delivery targets and outbox (kept apart
// from its transactions: no use case writes both).
func (s *Store) Deliveries() *DeliveryStore { return s.del }

func newDeliveryStore(tasks *TaskRepository) *DeliveryStore {
	return &DeliveryStore{tasks: tasks, hooks: map[auth.UserID][]application.StoredWebhook{},
		pushes: map[auth.UserID][]application.StoredPush{}, rows: map[string]*outboxRow{}, byID: map[int64]*outboxRow{}}
}

func (d *DeliveryStore) AddWebhook(_ context.Context, owner auth.UserID, w application.Webhook, now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks[owner] = append(slices.Clone(d.hooks[owner]), application.StoredWebhook{Webhook: w, CreatedAt: now})
	return nil
}

func (d *DeliveryStore) Webhooks(_ context.Context, owner auth.UserID) ([]application.StoredWebhook, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]application.StoredWebhook{}, d.hooks[owner]...), nil
}

func (d *DeliveryStore) DeleteWebhook(_ context.Context, owner auth.UserID, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	hs := d.hooks[owner]
	i := slices.IndexFunc(hs, func(w application.StoredWebhook) bool { return w.ID == id })
	if i < 0 {
		return application.ErrTargetNotFound
	}
	d.hooks[owner] = slices.Delete(slices.Clone(hs), i, i+1)
	return nil
}

func (d *DeliveryStore) AddPushSubscription(_ context.Context, owner auth.UserID, s application.StoredPush) (application.StoredPush, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ps := slices.Clone(d.pushes[owner])
	if i := slices.IndexFunc(ps, func(p application.StoredPush) bool { return p.Endpoint == s.Endpoint }); i >= 0 {
		s.ID, s.CreatedAt = ps[i].ID, ps[i].CreatedAt
		ps[i] = s
	} else {
		ps = append(ps, s)
	}
	d.pushes[owner] = ps
	return s, nil
}

func (d *DeliveryStore) PushSubscriptions(_ context.Context, owner auth.UserID) ([]application.StoredPush, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]application.StoredPush{}, d.pushes[owner]...), nil
}

func (d *DeliveryStore) DeletePushSubscription(_ context.Context, owner auth.UserID, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ps := d.pushes[owner]
	i := slices.IndexFunc(ps, func(p application.StoredPush) bool { return p.ID == id })
	if i < 0 {
		return application.ErrTargetNotFound
	}
	d.pushes[owner] = slices.Delete(slices.Clone(ps), i, i+1)
	return nil
}

// RemindedTasks returns the live, open tasks with reminders.
func (d *DeliveryStore) RemindedTasks(ctx context.Context, since time.Time) ([]*task.Task, error) {
	r := d.tasks
	defer r.read(ctx).done()
	var out []*task.Task
	for id, e := range r.tasks {
		if e.deletedAt == nil && !e.t.Completed() && len(e.t.Reminders()) > 0 && !e.t.UpdatedAt().Before(since) {
			out = append(out, e.t.WithID(id))
		}
	}
	return out, nil
}

func (d *DeliveryStore) Enqueue(_ context.Context, due []application.DueReminder, now time.Time) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, r := range due {
		var targets []string
		for _, w := range d.hooks[r.Owner] {
			if !w.CreatedAt.After(r.FiresAt) {
				targets = append(targets, w.ID)
			}
		}
		for _, p := range d.pushes[r.Owner] {
			if !p.CreatedAt.After(r.FiresAt) {
				targets = append(targets, p.ID)
			}
		}
		for _, t := range targets {
			key := strconv.FormatInt(int64(r.Task), 10) + "|" + r.Reminder + "|" + r.FiresAt.UTC().Format(time.RFC3339Nano) + "|" + t
			if _, ok := d.rows[key]; ok {
				continue
			}
			d.lastID++
			row := &outboxRow{key: key, nextAt: r.FiresAt.UTC(), d: application.Delivery{ID: d.lastID, Owner: r.Owner, Task: r.Task,
				Reminder: r.Reminder, FiresAt: r.FiresAt.UTC(), Target: t}}
			d.rows[key], d.byID[row.d.ID] = row, row
			n++
		}
	}
	return n, nil
}

func (d *DeliveryStore) Claim(_ context.Context, now time.Time, lease time.Duration, limit int) ([]application.Delivery, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.claims++
	token := "m" + strconv.FormatInt(d.claims, 10)
	var rows []*outboxRow
	for _, r := range d.byID {
		if !r.done && !r.nextAt.After(now) && !r.leaseTo.After(now) {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b *outboxRow) int { return a.nextAt.Compare(b.nextAt) })
	if len(rows) > limit {
		rows = rows[:limit]
	}
	out := make([]application.Delivery, len(rows))
	for i, r := range rows {
		r.leaseTo = now.Add(lease)
		r.d.Attempts++
		r.d.Claim = token
		out[i] = r.d
	}
	return out, nil
}

func (d *DeliveryStore) Finish(_ context.Context, del application.Delivery, done bool, outcome string, retryAt time.Time) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.byID[del.ID]
	if r == nil || r.d.Claim != del.Claim || r.done {
		return false, nil
	}
	r.done, r.outcome, r.leaseTo, r.d.Claim = done, outcome, time.Time{}, ""
	if !done {
		r.nextAt = retryAt
	}
	return true, nil
}

func (d *DeliveryStore) PurgeDeliveries(_ context.Context, before time.Time) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for k, r := range d.rows {
		if r.done && r.d.FiresAt.Before(before) {
			delete(d.rows, k)
			delete(d.byID, r.d.ID)
			n++
		}
	}
	return n, nil
}
