package bootstrap

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// TestMemoryTransactor checks the memory wiring: the Service's units of
// work (InTx, which the HTTP layer runs keyed requests in) are the store's
// transactions, and the store is that of the repositories provided, so
// that a unit of work spans them (a write rolled back is gone) and does
// not wait for itself.
func TestMemoryTransactor(t *testing.T) {
	var (
		svc   *application.Service
		tasks task.Repository
	)
	app := fxtest.New(t, fx.Supply(Config{}), Memory, Application, fx.Populate(&svc, &tasks))
	app.RequireStart()
	defer app.RequireStop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errRollback := errors.New("roll back")
	var id task.ID
	err := svc.InTx(ctx, func(ctx context.Context) error {
		tk, err := task.New("u_wiring", "rolled back", nil, time.Now())
		if err == nil {
			tk, err = tasks.Add(ctx, tk)
		}
		if err != nil {
			return err
		}
		id = tk.ID()
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx() = %v, want fn's error", err)
	}
	if _, err := tasks.Get(ctx, "u_wiring", id); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("the task added in a unit of work rolled back: %v, want ErrNotFound", err)
	}
}

// TestSQLiteSharers checks the Sharers' wiring on SQLite: read at start,
// after the migrations, and told by the members repository the service
// uses of each membership it writes.
func TestSQLiteSharers(t *testing.T) {
	var (
		sharers *sqlstore.Sharers
		members application.Memberships
		db      *bun.DB
	)
	c := Config{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "x.db")}
	app := fxtest.New(t, fx.Supply(c), fx.Provide(zap.NewNop, newMetricSet), SQLStore, fx.Populate(&sharers, &members, &db))
	if sharers.Ready() {
		t.Fatal("the set answers before start")
	}
	app.RequireStart()
	defer app.RequireStop()
	if !sharers.Ready() {
		t.Fatal("the set does not answer after start")
	}
	ctx := context.Background()
	owner, member := auth.UserID("u_owner"), auth.UserID("u_member")
	for _, u := range []auth.UserID{owner, member} {
		if err := sqlstore.NewUserRepository(db).Save(ctx, user.FromIdentity(auth.Identity{UserID: u, Email: string(u) + "@example.com"})); err != nil {
			t.Fatal(err)
		}
	}
	l, err := list.New(owner, "Groceries", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sqlstore.NewListRepository(db).Add(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := members.Invite(ctx, list.Invitation{ListID: sum.List.ID(), Email: "u_member@example.com", Role: list.RoleViewer, InvitedBy: owner, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := sharers.MayRead(ctx, member); ok {
		t.Fatal("MayRead(invitee) = true before they accepted")
	}
	if _, err := members.Accept(ctx, member, inv.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := sharers.MayRead(ctx, member); !ok {
		t.Error("MayRead(member) = false after Accept through the wired repository")
	}
}
