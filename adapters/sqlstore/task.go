package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// taskRow is a tasks row as Bun reads and writes it.
type taskRow struct {
	bun.BaseModel `bun:"table:tasks"`

	ID          int64     `bun:"id,pk,autoincrement"`
	UserID      string    `bun:"user_id,notnull"`
	Title       string    `bun:"title,notnull"`
	Description *string   `bun:"description"`
	Completed   bool      `bun:"completed,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

func newTaskRow(t *task.Task) taskRow {
	return taskRow{
		ID:          int64(t.ID()),
		UserID:      string(t.Owner()),
		Title:       t.Title(),
		Description: t.Description(),
		Completed:   t.Completed(),
		CreatedAt:   t.CreatedAt(),
		UpdatedAt:   t.UpdatedAt(),
	}
}

func (r *taskRow) task() (*task.Task, error) {
	t, err := task.Restore(task.ID(r.ID), auth.UserID(r.UserID), r.Title, r.Description, r.Completed, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("restore task %d: %w", r.ID, err)
	}
	return t, nil
}

// TaskRepository is a task.Repository in PostgreSQL or SQLite.
type TaskRepository struct {
	db *bun.DB
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns a repository on a migrated db.
func NewTaskRepository(db *bun.DB) *TaskRepository {
	return &TaskRepository{db: db}
}

// Add inserts t and returns it with the id the database assigned.
func (r *TaskRepository) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	row := newTaskRow(t)
	row.ID = 0
	if _, err := r.db.NewInsert().Model(&row).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert task: %w", err)
	}
	if row.ID <= 0 {
		return nil, fmt.Errorf("insert task: database returned id %d", row.ID)
	}
	return t.WithID(task.ID(row.ID)), nil
}

// Get returns owner's task id.
func (r *TaskRepository) Get(ctx context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	var row taskRow
	err := r.db.NewSelect().Model(&row).
		Where("id = ?", int64(id)).
		Where("user_id = ?", string(owner)).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, task.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select task: %w", err)
	}
	return row.task()
}

// List returns owner's tasks matching f, oldest first, ties broken by id.
func (r *TaskRepository) List(ctx context.Context, owner auth.UserID, f task.Filter) ([]*task.Task, error) {
	var rows []taskRow
	q := r.db.NewSelect().Model(&rows).
		Where("user_id = ?", string(owner)).
		OrderExpr("created_at ASC, id ASC")
	switch f.Status {
	case task.StatusPending:
		q = q.Where("completed = ?", false)
	case task.StatusCompleted:
		q = q.Where("completed = ?", true)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	out := make([]*task.Task, 0, len(rows))
	for i := range rows {
		t, err := rows[i].task()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Update loads owner's task id inside a transaction, applies fn and writes the
// result. On PostgreSQL the row is locked (SELECT ... FOR UPDATE) until the
// commit; on SQLite the transaction holds the only connection and, begun
// IMMEDIATE, the database's write lock. Either way no other change can land
// between the read and the write.
func (r *TaskRepository) Update(ctx context.Context, owner auth.UserID, id task.ID, fn func(*task.Task) error) (*task.Task, error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin task update: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit

	var row taskRow
	q := tx.NewSelect().Model(&row).
		Where("id = ?", int64(id)).
		Where("user_id = ?", string(owner))
	if r.db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	err = q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, task.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select task for update: %w", err)
	}
	t, err := row.task()
	if err != nil {
		return nil, err
	}
	if err := fn(t); err != nil {
		return nil, err
	}
	next := newTaskRow(t)
	res, err := tx.NewUpdate().Model(&next).
		Column("title", "description", "completed", "updated_at").
		Where("id = ?", row.ID).
		Where("user_id = ?", row.UserID).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("update task: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("update task: %w", err)
	} else if n != 1 {
		return nil, fmt.Errorf("update task: %d rows changed, want 1", n)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit task update: %w", err)
	}
	return t, nil
}

// Delete removes owner's task id.
func (r *TaskRepository) Delete(ctx context.Context, owner auth.UserID, id task.ID) error {
	res, err := r.db.NewDelete().Model((*taskRow)(nil)).
		Where("id = ?", int64(id)).
		Where("user_id = ?", string(owner)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	if n == 0 {
		return task.ErrNotFound
	}
	return nil
}
