package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// webhookRow is a webhooks row (migration 20261209000001).
type webhookRow struct {
	bun.BaseModel `bun:"table:webhooks,alias:w"`

	ID        string    `bun:"id,pk"`
	UserID    string    `bun:"user_id,notnull"`
	URL       string    `bun:"url,notnull"`
	Secret    string    `bun:"secret,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// pushRow is a push_subscriptions row.
type pushRow struct {
	bun.BaseModel `bun:"table:push_subscriptions,alias:p"`

	ID        string    `bun:"id,pk"`
	UserID    string    `bun:"user_id,notnull"`
	Endpoint  string    `bun:"endpoint,notnull"`
	P256dh    string    `bun:"p256dh,notnull"`
	Auth      string    `bun:"auth,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// deliveryRow is a reminder_deliveries row.
type deliveryRow struct {
	bun.BaseModel `bun:"table:reminder_deliveries,alias:d"`

	ID         int64      `bun:"id,pk,autoincrement"`
	UserID     string     `bun:"user_id,notnull"`
	TaskID     int64      `bun:"task_id,notnull"`
	Reminder   string     `bun:"reminder,notnull"`
	FiresAt    time.Time  `bun:"fires_at,notnull"`
	Target     string     `bun:"target,notnull"`
	Attempts   int        `bun:"attempts,notnull"`
	NextAt     time.Time  `bun:"next_at,notnull"`
	LeaseUntil *time.Time `bun:"lease_until"`
	Claim      *string    `bun:"claim"`
	DoneAt     *time.Time `bun:"done_at"`
	Outcome    *string    `bun:"outcome"`
}

// DeliveryStore is an application.DeliveryStore in PostgreSQL or SQLite.
// On PostgreSQL a claim is one UPDATE of the rows a subquery locked with
// FOR UPDATE SKIP LOCKED, so that instances claiming at once take
// different rows; on SQLite, whose writes run one at a time, the same
// UPDATE without the lock clause.
type DeliveryStore struct {
	db *bun.DB
	pg bool
}

var _ application.DeliveryStore = (*DeliveryStore)(nil)

// NewDeliveryStore returns the store on a migrated db.
func NewDeliveryStore(db *bun.DB) *DeliveryStore {
	return &DeliveryStore{db: db, pg: db.Dialect().Name() == dialect.PG}
}

func (s *DeliveryStore) AddWebhook(ctx context.Context, owner auth.UserID, w application.Webhook, now time.Time) error {
	row := webhookRow{ID: w.ID, UserID: string(owner), URL: w.URL, Secret: w.Secret, CreatedAt: now.UTC()}
	if _, err := s.db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	return nil
}

func (s *DeliveryStore) Webhooks(ctx context.Context, owner auth.UserID) ([]application.StoredWebhook, error) {
	var rows []webhookRow
	if err := s.db.NewSelect().Model(&rows).Where("w.user_id = ?", string(owner)).OrderExpr("w.created_at, w.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select webhooks: %w", err)
	}
	out := make([]application.StoredWebhook, len(rows))
	for i, r := range rows {
		out[i] = application.StoredWebhook{Webhook: application.Webhook{ID: r.ID, URL: r.URL, Secret: r.Secret}, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

func (s *DeliveryStore) DeleteWebhook(ctx context.Context, owner auth.UserID, id string) error {
	n, err := affected(s.db.NewDelete().Model((*webhookRow)(nil)).Where("id = ?", id).Where("user_id = ?", string(owner)).Exec(ctx))
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n == 0 {
		return application.ErrTargetNotFound
	}
	return nil
}

func (s *DeliveryStore) AddPushSubscription(ctx context.Context, owner auth.UserID, p application.StoredPush) (application.StoredPush, error) {
	row := pushRow{ID: p.ID, UserID: string(owner), Endpoint: p.Endpoint, P256dh: p.P256dh, Auth: p.Auth, CreatedAt: p.CreatedAt.UTC()}
	// A browser that subscribes again (new keys) keeps its row and ID.
	err := s.db.NewInsert().Model(&row).
		On("CONFLICT (user_id, endpoint) DO UPDATE").Set("p256dh = EXCLUDED.p256dh").Set("auth = EXCLUDED.auth").
		Returning("id, created_at").Scan(ctx, &row.ID, &row.CreatedAt)
	if err != nil {
		return application.StoredPush{}, fmt.Errorf("insert push subscription: %w", err)
	}
	p.ID, p.CreatedAt = row.ID, row.CreatedAt.UTC()
	return p, nil
}

func (s *DeliveryStore) PushSubscriptions(ctx context.Context, owner auth.UserID) ([]application.StoredPush, error) {
	var rows []pushRow
	if err := s.db.NewSelect().Model(&rows).Where("p.user_id = ?", string(owner)).OrderExpr("p.created_at, p.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select push subscriptions: %w", err)
	}
	out := make([]application.StoredPush, len(rows))
	for i, r := range rows {
		out[i] = application.StoredPush{ID: r.ID, CreatedAt: r.CreatedAt.UTC(),
			PushSubscription: application.PushSubscription{Endpoint: r.Endpoint, P256dh: r.P256dh, Auth: r.Auth}}
	}
	return out, nil
}

func (s *DeliveryStore) DeletePushSubscription(ctx context.Context, owner auth.UserID, id string) error {
	n, err := affected(s.db.NewDelete().Model((*pushRow)(nil)).Where("id = ?", id).Where("user_id = ?", string(owner)).Exec(ctx))
	if err != nil {
		return fmt.Errorf("delete push subscription: %w", err)
	}
	if n == 0 {
		return application.ErrTargetNotFound
	}
	return nil
}

// remindedWhere selects the tasks the scheduler reads: live, open, with
// reminders.
const remindedWhere = "t.deleted_at IS NULL AND NOT t.completed AND t.reminders <> '[]'"

// RemindedTasks reads every live, open task with reminders, owner by
// owner (a row is restored as its owner's task), updated at or after
// since.
func (s *DeliveryStore) RemindedTasks(ctx context.Context, since time.Time) ([]*task.Task, error) {
	where := remindedWhere + " AND t.updated_at >= ?"
	since = since.UTC()
	var owners []string
	if err := s.db.NewRaw("SELECT DISTINCT t.user_id FROM tasks AS t WHERE "+where, since).Scan(ctx, &owners); err != nil {
		return nil, fmt.Errorf("select reminded owners: %w", err)
	}
	x := bunRunner{db: s.db, pg: s.pg}
	var out []*task.Task
	for _, o := range owners {
		q := x.sql()
		q.text = "SELECT " + selectList + " FROM tasks AS t WHERE t.user_id = ? AND " + where
		q.args = []any{o, since}
		rows, err := x.tasks(ctx, auth.UserID(o), q)
		if err != nil {
			return nil, fmt.Errorf("select reminded tasks: %w", err)
		}
		out = append(out, rows.tasks...)
	}
	return out, nil
}

func (s *DeliveryStore) Enqueue(ctx context.Context, due []application.DueReminder, now time.Time) (int, error) {
	byOwner := map[auth.UserID][]application.DueReminder{}
	for _, d := range due {
		byOwner[d.Owner] = append(byOwner[d.Owner], d)
	}
	total := 0
	for owner, ds := range byOwner {
		hooks, err := s.Webhooks(ctx, owner)
		if err != nil {
			return total, err
		}
		pushes, err := s.PushSubscriptions(ctx, owner)
		if err != nil {
			return total, err
		}
		var rows []deliveryRow
		add := func(d application.DueReminder, target string) {
			rows = append(rows, deliveryRow{UserID: string(owner), TaskID: int64(d.Task), Reminder: d.Reminder,
				FiresAt: d.FiresAt.UTC(), Target: target, NextAt: d.FiresAt.UTC()})
		}
		for _, d := range ds {
			for _, w := range hooks {
				if !w.CreatedAt.After(d.FiresAt) {
					add(d, w.ID)
				}
			}
			for _, p := range pushes {
				if !p.CreatedAt.After(d.FiresAt) {
					add(d, p.ID)
				}
			}
		}
		if len(rows) == 0 {
			continue
		}
		n, err := affected(s.db.NewInsert().Model(&rows).ExcludeColumn("id").
			On("CONFLICT (task_id, reminder, fires_at, target) DO NOTHING").Exec(ctx))
		if err != nil {
			return total, fmt.Errorf("enqueue reminders: %w", err)
		}
		total += int(n)
	}
	return total, nil
}

func (s *DeliveryStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]application.Delivery, error) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	lock := ""
	if s.pg {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	now = now.UTC()
	var rows []deliveryRow
	err := s.db.NewRaw("UPDATE reminder_deliveries SET lease_until = ?, claim = ?, attempts = attempts + 1 "+
		"WHERE id IN (SELECT id FROM reminder_deliveries WHERE done_at IS NULL AND next_at <= ? "+
		"AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_at LIMIT ?"+lock+") "+
		"RETURNING id, user_id, task_id, reminder, fires_at, target, attempts, next_at",
		now.Add(lease), token, now, now, limit).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("claim reminders: %w", err)
	}
	out := make([]application.Delivery, len(rows))
	for i, r := range rows {
		out[i] = application.Delivery{ID: r.ID, Owner: auth.UserID(r.UserID), Task: task.ID(r.TaskID), Reminder: r.Reminder,
			FiresAt: r.FiresAt.UTC(), Target: r.Target, Attempts: r.Attempts, Claim: token}
	}
	return out, nil
}

func (s *DeliveryStore) Finish(ctx context.Context, d application.Delivery, done bool, outcome string, retryAt time.Time) (bool, error) {
	q := s.db.NewUpdate().Model((*deliveryRow)(nil)).
		Set("lease_until = NULL").Set("claim = NULL").Set("outcome = ?", outcome).
		Where("id = ?", d.ID).Where("claim = ?", d.Claim).Where("done_at IS NULL")
	if done {
		q = q.Set("done_at = ?", time.Now().UTC())
	} else {
		q = q.Set("next_at = ?", retryAt.UTC())
	}
	n, err := affected(q.Exec(ctx))
	if err != nil {
		return false, fmt.Errorf("finish delivery: %w", err)
	}
	return n == 1, nil
}

func (s *DeliveryStore) PurgeDeliveries(ctx context.Context, before time.Time) (int, error) {
	n, err := affected(s.db.NewDelete().Model((*deliveryRow)(nil)).Where("done_at IS NOT NULL").Where("fires_at < ?", before.UTC()).Exec(ctx))
	if err != nil {
		return 0, fmt.Errorf("purge deliveries: %w", err)
	}
	return int(n), nil
}
