package bootstrap

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
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
