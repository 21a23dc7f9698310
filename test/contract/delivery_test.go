package contract

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// deliveryStores are the reminders' delivery stores with their task
// repository (issue 18).
var deliveryStores = map[string]func(*testing.T) (task.Repository, application.DeliveryStore){
	"memory": func(*testing.T) (task.Repository, application.DeliveryStore) {
		s := memory.NewStore()
		s.SetFeedCheck(true) // every commit also compared with the whole store
		return s.Tasks(), s.Deliveries()
	},
	"sqlite": func(t *testing.T) (task.Repository, application.DeliveryStore) {
		db := openSQLiteDB(t)
		return sqlstore.NewTaskRepository(db), sqlstore.NewDeliveryStore(db)
	},
	"postgres": func(t *testing.T) (task.Repository, application.DeliveryStore) {
		db := openPostgresDB(t)
		return sqlstore.NewTaskRepository(db), sqlstore.NewDeliveryStore(db)
	},
}

// fakeSender records what it is asked to send, and answers with next.
type fakeSender struct {
	mu   sync.Mutex
	sent map[string]int // message ID -> times
	by   map[string]string
	next func(target string) application.DeliveryOutcome
}

func newFakeSender() *fakeSender { return &fakeSender{sent: map[string]int{}, by: map[string]string{}} }

func (f *fakeSender) record(target string, m application.Message) application.DeliveryResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent[m.ID]++
	f.by[m.ID] = target
	out := application.DeliveryOK
	if f.next != nil {
		out = f.next(target)
	}
	return application.DeliveryResult{Outcome: out}
}

func (f *fakeSender) count() (msgs, sends int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.sent {
		msgs++
		sends += n
	}
	return
}

func (f *fakeSender) CheckURL(string) error { return nil }
func (f *fakeSender) NewSecret() (string, error) {
	return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", nil
}
func (f *fakeSender) Send(_ context.Context, w application.Webhook, m application.Message) application.DeliveryResult {
	return f.record(w.ID, m)
}
func (f *fakeSender) CheckSubscription(application.PushSubscription) error { return nil }

type fakePush struct{ *fakeSender }

func (f fakePush) Send(_ context.Context, s application.PushSubscription, m application.Message) application.DeliveryResult {
	return f.record(s.Endpoint, m)
}

func TestReminderDelivery(t *testing.T) {
	for name, open := range deliveryStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tasks, store := open(t)
			clock := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
			hooks := newFakeSender()
			push := fakePush{newFakeSender()}
			opts := application.ReminderOptions{Lease: 10 * time.Second, Backoff: func(int) time.Duration { return 5 * time.Second }, MaxAttempts: 3}
			rems := application.NewReminders(store, tasks, push, hooks, now, opts)
			owner, other := auth.UserID("u-"+uniq()), auth.UserID("u-"+uniq())

			// Targets: scoped to their owner; a subscription of the same
			// endpoint keeps its ID.
			w, err := rems.AddWebhook(ctx, owner, "https://example.com/hook")
			if err != nil {
				t.Fatal(err)
			}
			sub := application.PushSubscription{Endpoint: "https://push.example.com/abc", P256dh: "k", Auth: "a"}
			p1, err := rems.AddPushSubscription(ctx, owner, sub)
			if err != nil {
				t.Fatal(err)
			}
			sub.Auth = "b"
			p2, err := rems.AddPushSubscription(ctx, owner, sub)
			if err != nil || p2.ID != p1.ID {
				t.Fatalf("second subscription of one endpoint: %v, id %q, want %q", err, p2.ID, p1.ID)
			}
			if ps, _ := rems.PushSubscriptions(ctx, owner); len(ps) != 1 || ps[0].Auth != "b" {
				t.Fatalf("subscriptions: %+v", ps)
			}
			if err := rems.DeleteWebhook(ctx, other, w.ID); !errors.Is(err, application.ErrTargetNotFound) {
				t.Fatalf("another user's delete: %v", err)
			}
			if ws, _ := rems.Webhooks(ctx, other); len(ws) != 0 {
				t.Fatalf("another user sees %d webhooks", len(ws))
			}

			// A task due at 12:30 with a reminder 15 minutes before and one
			// at 12:20.
			tk, err := task.New(owner, "review", nil, clock, task.WithDue("2026-12-10T12:30:00Z"),
				task.WithReminders([]task.ReminderInput{{Before: ref("PT15M")}, {At: ref("2026-12-10T12:20:00Z")}}))
			if err != nil {
				t.Fatal(err)
			}
			if tk, err = tasks.Add(ctx, tk); err != nil {
				t.Fatal(err)
			}
			// The scan reads tasks updated since a time.
			if ts, err := store.RemindedTasks(ctx, clock.Add(-time.Second)); err != nil || len(ts) != 1 || ts[0].ID() != tk.ID() {
				t.Fatalf("reminded tasks since just before: %v %d", err, len(ts))
			}
			if ts, err := store.RemindedTasks(ctx, clock.Add(time.Second)); err != nil || len(ts) != 0 {
				t.Fatalf("reminded tasks since just after: %v %d", err, len(ts))
			}
			advance(14 * time.Minute) // 12:14: nothing due
			if st, err := rems.Tick(ctx); err != nil || st.Claimed != 0 {
				t.Fatalf("12:14: %+v %v", st, err)
			}
			advance(time.Minute) // 12:15: the before reminder, to both targets
			// Two schedulers on one store tick at once: each row once.
			rems2 := application.NewReminders(store, tasks, push, hooks, now, opts)
			var wg sync.WaitGroup
			for _, r := range []*application.Reminders{rems, rems2} {
				wg.Add(1)
				go func() { defer wg.Done(); _, _ = r.Tick(ctx) }()
			}
			wg.Wait()
			if m, s := hooks.count(); m != 1 || s != 1 {
				t.Fatalf("webhook after 12:15: %d messages, %d sends; want 1, 1", m, s)
			}
			if m, s := push.count(); m != 1 || s != 1 {
				t.Fatalf("push after 12:15: %d messages, %d sends; want 1, 1", m, s)
			}
			// Ticking again sends nothing more.
			if _, err := rems2.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if _, s := hooks.count(); s != 1 {
				t.Fatalf("a second tick sent again: %d sends", s)
			}

			// 12:20: the webhook fails (retry), push says gone.
			hooks.next = func(string) application.DeliveryOutcome { return application.DeliveryRetry }
			push.next = func(string) application.DeliveryOutcome { return application.DeliveryGone }
			advance(5 * time.Minute)
			if _, err := rems.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if ps, _ := rems.PushSubscriptions(ctx, owner); len(ps) != 0 {
				t.Fatalf("a gone subscription stays: %+v", ps)
			}
			if _, s := hooks.count(); s != 2 {
				t.Fatalf("12:20: %d webhook sends, want 2", s)
			}
			// Before the backoff: nothing; after it: the retry, same ID.
			hooks.next = nil
			advance(4 * time.Second)
			_, _ = rems.Tick(ctx)
			if m, s := hooks.count(); m != 2 || s != 2 {
				t.Fatalf("before the backoff: %d messages, %d sends", m, s)
			}
			advance(2 * time.Second)
			_, _ = rems.Tick(ctx)
			if m, s := hooks.count(); m != 2 || s != 3 {
				t.Fatalf("after the backoff: %d messages, %d sends; want 2, 3", m, s)
			}

			// A claim that is never finished (its instance died) is taken
			// over once its lease ends, and not before.
			tk2, err := task.New(owner, "crash", nil, clock, task.WithReminders([]task.ReminderInput{{At: ref("2026-12-10T12:21:00Z")}}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err = tasks.Add(ctx, tk2); err != nil {
				t.Fatal(err)
			}
			advance(time.Minute)
			if _, err := store.Enqueue(ctx, []application.DueReminder{{Owner: owner, Task: mustID(t, tasks, owner, "crash"),
				Reminder: "at 2026-12-10T12:21:00Z", FiresAt: time.Date(2026, 12, 10, 12, 21, 0, 0, time.UTC)}}, now()); err != nil {
				t.Fatal(err)
			}
			ds, err := store.Claim(ctx, now(), 10*time.Second, 10)
			if err != nil || len(ds) != 1 {
				t.Fatalf("claim: %v %+v", err, ds)
			}
			if again, _ := store.Claim(ctx, now().Add(9*time.Second), 10*time.Second, 10); len(again) != 0 {
				t.Fatalf("claimed twice within the lease: %+v", again)
			}
			taken, err := store.Claim(ctx, now().Add(10*time.Second), 10*time.Second, 10)
			if err != nil || len(taken) != 1 || taken[0].ID != ds[0].ID || taken[0].Attempts != 2 {
				t.Fatalf("takeover: %v %+v", err, taken)
			}
			// The dead claim's finish is refused; the live one's is taken.
			if ok, err := store.Finish(ctx, ds[0], true, "delivered", time.Time{}); err != nil || ok {
				t.Fatalf("stale finish: %v %v", ok, err)
			}
			if ok, err := store.Finish(ctx, taken[0], true, "delivered", time.Time{}); err != nil || !ok {
				t.Fatalf("finish: %v %v", ok, err)
			}
			if left, _ := store.Claim(ctx, now().Add(time.Hour), time.Second, 10); len(left) != 0 {
				t.Fatalf("a finished row is claimed: %+v", left)
			}

			// A completed task's reminder is not sent.
			_, sends := hooks.count()
			if _, err := tasks.Update(ctx, owner, tk.ID(), task.AnyVersion, func(x *task.Task) error { x.ToggleCompleted(now()); return nil }); err != nil {
				t.Fatal(err)
			}
			_, _ = rems.Tick(ctx)
			if _, s := hooks.count(); s != sends {
				t.Fatalf("a completed task's reminder sent")
			}
			if n, err := store.PurgeDeliveries(ctx, now().Add(time.Hour)); err != nil || n == 0 {
				t.Fatalf("purge: %d %v", n, err)
			}
		})
	}
}

func mustID(t *testing.T, tasks task.Repository, owner auth.UserID, title string) task.ID {
	t.Helper()
	p, err := tasks.List(context.Background(), owner, task.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range p.Tasks {
		if x.Title() == title {
			return x.ID()
		}
	}
	t.Fatalf("no task %q", title)
	return 0
}
