package bootstrap

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

func TestLoadConfigTrash(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret}))
	if err != nil || c.TrashRetention != 720*time.Hour || c.PurgeInterval != time.Minute {
		t.Errorf("defaults: TrashRetention %v, PurgeInterval %v (%v), want 720h, 1m", c.TrashRetention, c.PurgeInterval, err)
	}
	c, err = LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "TRASH_RETENTION": "168h", "PURGE_INTERVAL": "10s"}))
	if err != nil || c.TrashRetention != 168*time.Hour || c.PurgeInterval != 10*time.Second {
		t.Errorf("TRASH_RETENTION=168h PURGE_INTERVAL=10s: %v, %v (%v)", c.TrashRetention, c.PurgeInterval, err)
	}
	for _, bad := range []string{"30 days", "-1h", "0"} {
		if _, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "TRASH_RETENTION": bad})); err == nil {
			t.Errorf("TRASH_RETENTION=%q accepted", bad)
		}
	}
}

// TestPurgeJob runs the purge through its fx lifecycle on a memory store:
// it deletes the trashed task older than the retention and the expired
// key, leaves the rest, and stops when the app stops.
func TestPurgeJob(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	store := memory.NewStore()
	tasks, keys := store.Tasks(), store.Keys()
	add := func(title string, trashedAt time.Time) *task.Task {
		t.Helper()
		tk, err := task.New("u_purge", title, nil, now)
		if err == nil {
			tk, err = tasks.Add(ctx, tk)
		}
		if err == nil && !trashedAt.IsZero() {
			err = tasks.Trash(ctx, "u_purge", tk.ID(), task.AnyVersion, trashedAt)
		}
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	old := add("old", now.Add(-31*24*time.Hour))
	recent := add("recent", now.Add(-time.Hour))
	live := add("live", time.Time{})
	claim := func(key string, at time.Time) application.IdempotencyClaim {
		return application.IdempotencyClaim{Key: application.IdempotencyKey{Owner: "u_purge", Value: key}, Fingerprint: "f", Token: key,
			Now: at, Lease: time.Minute, TTL: 24 * time.Hour}
	}
	for _, c := range []application.IdempotencyClaim{claim("expired", now.Add(-25*time.Hour)), claim("fresh", now)} {
		if _, err := keys.Begin(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	lc := fxtest.NewLifecycle(t)
	c := Config{TrashRetention: 30 * 24 * time.Hour, PurgeInterval: 10 * time.Millisecond}
	newPurgeSchedule(lc, c, newPurger(c, tasks, memory.NewListRepository(tasks), keys, store.Changes()), zap.NewNop())
	lc.RequireStart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := tasks.ListTrash(ctx, "u_purge", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the purge did not run: %d tasks in the trash, want 1", page.Total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	lc.RequireStop()

	if _, err := tasks.RestoreFromTrash(ctx, "u_purge", old.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("the task trashed 31 days ago: %v, want purged", err)
	}
	for _, tk := range []*task.Task{recent, live} {
		if _, err := tasks.RestoreFromTrash(ctx, "u_purge", tk.ID()); err != nil {
			t.Errorf("task %q: %v, want it kept", tk.Title(), err)
		}
	}
	if n, err := keys.Purge(ctx, now, 0); n != 0 || err != nil {
		t.Errorf("after the purge job, Purge() found %d expired keys (%v), want 0", n, err)
	}
	if _, err := keys.Begin(ctx, claim("fresh", now)); !errors.Is(err, application.ErrKeyInFlight) {
		t.Errorf("the fresh key: %v, want it kept (in flight)", err)
	}
}

// TestLoadConfigChanges: CHANGES_RETENTION (issue 16) defaults to 30 days,
// takes a duration, and refuses what is not a positive one.
func TestLoadConfigChanges(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret}))
	if err != nil || c.ChangesRetention != 720*time.Hour {
		t.Errorf("default ChangesRetention %v (%v), want 720h", c.ChangesRetention, err)
	}
	c, err = LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "CHANGES_RETENTION": "48h"}))
	if err != nil || c.ChangesRetention != 48*time.Hour {
		t.Errorf("CHANGES_RETENTION=48h: %v (%v)", c.ChangesRetention, err)
	}
	for _, bad := range []string{"a month", "-1h", "0"} {
		if _, err := LoadConfig(env(map[string]string{"BETTER_AUTH_SECRET": secret, "CHANGES_RETENTION": bad})); err == nil {
			t.Errorf("CHANGES_RETENTION=%q accepted", bad)
		}
	}
}

// TestPurgeChanges: the purge's last step prunes the feed's tombstones
// older than CHANGES_RETENTION, after which an older cursor is expired.
func TestPurgeChanges(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	tasks := store.Tasks()
	tk, err := task.New("u_feed", "gone", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	added, err := tasks.Add(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	if err := tasks.Delete(ctx, "u_feed", added.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	c := Config{TrashRetention: time.Hour, ChangesRetention: time.Hour}
	now := time.Now()
	p := application.NewPurger(tasks, store.Lists(), store.Keys(), c.TrashRetention, func() time.Time { return now }).
		WithChanges(store.Changes(), c.ChangesRetention)
	if _, err := p.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Changes().Changes(ctx, "u_feed", 0, 10, false); err != nil {
		t.Fatalf("a fresh tombstone was pruned: %v", err)
	}
	now = now.Add(2 * time.Hour)
	got, err := p.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := got[len(got)-1]; last.Name != "change_tombstones" || last.Removed != 1 {
		t.Errorf("purge steps %v, want change_tombstones removing 1", got)
	}
	if _, err := store.Changes().Changes(ctx, "u_feed", 0, 10, false); !errors.Is(err, application.ErrChangesExpired) {
		t.Errorf("a cursor from before the pruned tombstone: %v, want ErrChangesExpired", err)
	}
}
