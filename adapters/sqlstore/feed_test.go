package sqlstore_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// heard is a ChangePublisher that remembers what it was told.
type heard struct {
	mu   sync.Mutex
	got  map[auth.UserID]application.Seq
	wake chan struct{}
}

func (h *heard) Publish(owner auth.UserID, head application.Seq) {
	h.mu.Lock()
	h.got[owner] = max(h.got[owner], head)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// wait waits until owner's head reaches want, or fails after 10 s.
func (h *heard) wait(t *testing.T, owner auth.UserID, want application.Seq) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		got := h.got[owner]
		h.mu.Unlock()
		if got >= want {
			return
		}
		select {
		case <-h.wake:
		case <-deadline:
			t.Fatalf("published head of %s is %d, want %d", owner, got, want)
		}
	}
}

// TestPublishChangesSQLite: on SQLite the publisher hears every commit
// that changed a user's data, with the head it reached: a write alone, a
// transaction once it commits, and nothing of one rolled back.
func TestPublishChangesSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	h := &heard{got: map[auth.UserID]application.Seq{}, wake: make(chan struct{}, 1)}
	stop := sqlstore.PublishChanges(db, h)
	defer stop()
	tasks, feed := sqlstore.NewTaskRepository(db), sqlstore.NewChangeLog(db)
	owner := auth.UserID("u_publish")
	add := func(ctx context.Context, title string) {
		t.Helper()
		tk, err := task.New(owner, title, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tasks.Add(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	add(ctx, "alone")
	h.wait(t, owner, 1)

	tx := sqlstore.NewTransactor(db)
	if err := tx.InTx(ctx, func(ctx context.Context) error {
		add(ctx, "in a transaction")
		add(ctx, "and another")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.wait(t, owner, 3)
	_ = tx.InTx(ctx, func(ctx context.Context) error {
		add(ctx, "rolled back")
		return context.Canceled
	})
	add(ctx, "after the rollback")
	head, err := feed.Head(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	h.wait(t, owner, head)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.got[owner] != head {
		t.Errorf("published head %d, the feed's head %d", h.got[owner], head)
	}
}

// TestPublishChangesSQLiteMembers (issue 19): an owner's write to a shared
// list's task is published for the list's member too, with the member's
// own head.
func TestPublishChangesSQLiteMembers(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	h := &heard{got: map[auth.UserID]application.Seq{}, wake: make(chan struct{}, 1)}
	stop := sqlstore.PublishChanges(db, h)
	defer stop()
	owner, member := auth.UserID("u_owner"), auth.UserID("u_member")
	l, err := list.New(owner, "Groceries", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sqlstore.NewListRepository(db).Add(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	id := sum.List.ID()
	if _, err := db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'viewer', ?, ?)",
		int64(id), string(member), string(owner), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	feed := sqlstore.NewChangeLog(db)
	joined, err := feed.Head(ctx, member)
	if err != nil || joined == 0 {
		t.Fatalf("the member's head after joining: %d, %v", joined, err)
	}
	h.wait(t, member, joined)
	tk, err := task.New(owner, "milk", nil, time.Now(), task.InList(&id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.NewTaskRepository(db).Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
	head, err := feed.Head(ctx, member)
	if err != nil || head <= joined {
		t.Fatalf("the member's head after the owner's write: %d (was %d), %v", head, joined, err)
	}
	h.wait(t, member, head)
}
