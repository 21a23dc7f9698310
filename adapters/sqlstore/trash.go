package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// The trash: a task with deleted_at set. Moving a task in or out is one
// UPDATE of that column; the task's fields and version stay as they are, so
// a restored task is exactly the one deleted.

// Trash sets deleted_at on owner's live task id; with expect, only at that
// version (checked by the UPDATE itself).
func (r *TaskRepository) Trash(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, at time.Time) error {
	q := r.on(ctx).idb().NewUpdate().Model((*tasksTable)(nil)).
		Set("deleted_at = ?", trashTime(at)).
		Where("t.id = ?", int64(id)).
		Where("t.user_id = ?", string(owner)).
		Where("t.deleted_at IS NULL")
	if expect != task.AnyVersion {
		q = q.Where("t.version = ?", int64(expect))
	}
	n, err := affected(q.Exec(ctx))
	if err != nil {
		return fmt.Errorf("trash task: %w", err)
	}
	if n == 1 {
		return nil
	}
	current, err := r.Get(ctx, owner, id)
	if err != nil {
		return err
	}
	if err := task.Conflict(current, expect); err != nil {
		return err
	}
	return task.ErrNotFound
}

// trashTime is the deletion time as every store keeps it: UTC microseconds.
func trashTime(at time.Time) time.Time { return at.UTC().Truncate(time.Microsecond) }

func affected(res interface{ RowsAffected() (int64, error) }, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// errPartial rolls back a bulk statement that did not find every id.
var errPartial = errors.New("not every task was found")

// TrashAll trashes every task in one UPDATE, rolled back unless it found
// them all.
func (r *TaskRepository) TrashAll(ctx context.Context, owner auth.UserID, ids []task.ID, at time.Time) (int, error) {
	ids = task.UniqueIDs(ids)
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	var n int64
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		var err error
		live := func(q bun.QueryBuilder) bun.QueryBuilder {
			return q.Where("t.user_id = ?", string(owner)).Where("t.id IN (?)", bun.List(raw)).Where("t.deleted_at IS NULL")
		}
		tx := x.idb()
		n, err = affected(lockInIDOrder(tx, r.pg, tx.NewUpdate().Model((*tasksTable)(nil)).
			Set("deleted_at = ?", trashTime(at)), live).
			Exec(ctx))
		if err != nil {
			return fmt.Errorf("trash tasks: %w", err)
		}
		if n != int64(len(ids)) {
			return errPartial
		}
		return nil
	})
	if errors.Is(err, errPartial) {
		return 0, task.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// TrashCompleted trashes owner's completed tasks in one UPDATE.
func (r *TaskRepository) TrashCompleted(ctx context.Context, owner auth.UserID, at time.Time) (int, error) {
	completed := func(q bun.QueryBuilder) bun.QueryBuilder {
		return q.Where("t.user_id = ?", string(owner)).Where("t.completed = ?", true).Where("t.deleted_at IS NULL")
	}
	db := r.on(ctx).idb()
	n, err := affected(lockInIDOrder(db, r.pg, db.NewUpdate().Model((*tasksTable)(nil)).
		Set("deleted_at = ?", trashTime(at)), completed).
		Exec(ctx))
	if err != nil {
		return 0, fmt.Errorf("trash completed tasks: %w", err)
	}
	return int(n), nil
}

// ListTrash reads a page of owner's trash from tasks_user_trash_idx.
func (r *TaskRepository) ListTrash(ctx context.Context, owner auth.UserID, limit, offset int) (task.TrashPage, error) {
	x := r.on(ctx)
	s := x.sql().add("SELECT "+selectList+", t.deleted_at FROM tasks AS t"+
		" WHERE t.user_id = ? AND t.deleted_at IS NOT NULL ORDER BY t.deleted_at DESC, t.id DESC", string(owner)).
		limitOffset(limit, offset)
	s.extra = extraDeletedAt
	rows, err := x.tasks(ctx, owner, s)
	if err != nil {
		return task.TrashPage{}, fmt.Errorf("list trash: %w", err)
	}
	var total int64
	if err := x.ints(ctx, x.sql().fixed(trashCountSQL, string(owner)), &total); err != nil {
		return task.TrashPage{}, fmt.Errorf("count trash: %w", err)
	}
	page := task.TrashPage{Items: make([]task.Trashed, len(rows.tasks)), Total: int(total)}
	for i, t := range rows.tasks {
		page.Items[i] = task.Trashed{Task: t, DeletedAt: rows.deletedAt[i]}
	}
	return page, nil
}

// trashCountSQL counts an owner's trash.
var trashCountSQL = newStmt("SELECT count(*) FROM tasks AS t WHERE t.user_id = ? AND t.deleted_at IS NOT NULL")

// RestoreFromTrash clears deleted_at and reads the task back.
func (r *TaskRepository) RestoreFromTrash(ctx context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	n, err := affected(r.on(ctx).idb().NewUpdate().Model((*tasksTable)(nil)).
		Set("deleted_at = NULL").
		Where("t.id = ?", int64(id)).
		Where("t.user_id = ?", string(owner)).
		Where("t.deleted_at IS NOT NULL").
		Exec(ctx))
	if err != nil {
		return nil, fmt.Errorf("restore task: %w", err)
	}
	_ = n // 0: not in the trash, or not there at all; Get tells which
	return r.Get(ctx, owner, id)
}

// EmptyTrash deletes owner's trashed tasks (tags by ON DELETE CASCADE).
func (r *TaskRepository) EmptyTrash(ctx context.Context, owner auth.UserID) (int, error) {
	n, err := affected(r.on(ctx).idb().NewDelete().Model((*tasksTable)(nil)).
		Where("t.user_id = ?", string(owner)).
		Where("t.deleted_at IS NOT NULL").
		Exec(ctx))
	if err != nil {
		return 0, fmt.Errorf("empty trash: %w", err)
	}
	return int(n), nil
}

// PurgeTrash deletes at most limit tasks trashed before cutoff, the oldest
// first, in one statement that reads tasks_trash_purge_idx. The outer
// DELETE repeats the condition: on PostgreSQL a row the subquery picked may
// be restored by a concurrent transaction before the DELETE locks it, and
// only the outer WHERE is checked again on the row as it is then.
func (r *TaskRepository) PurgeTrash(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	at := trashTime(cutoff)
	n, err := affected(r.on(ctx).idb().NewRaw(
		"DELETE FROM tasks WHERE deleted_at IS NOT NULL AND deleted_at < ? AND id IN ("+
			"SELECT id FROM tasks WHERE deleted_at IS NOT NULL AND deleted_at < ? ORDER BY deleted_at LIMIT ?)",
		at, at, limit).Exec(ctx))
	if err != nil {
		return 0, fmt.Errorf("purge trash: %w", err)
	}
	return int(n), nil
}

// lockInIDOrder is q, an UPDATE of the tasks that where selects, which on
// PostgreSQL first locks those rows in id order (a subquery SELECT ...
// ORDER BY id FOR UPDATE). Every statement that writes many tasks takes
// their locks in that order (this, UpdateAll's read, the update batches of
// batch.go), so that two of them never wait on each other in a cycle; left
// to its plan, an UPDATE locks rows in the order of an index or of the
// heap. SQLite (!pg) writes one transaction at a time.
func lockInIDOrder(db bun.IDB, pg bool, q *bun.UpdateQuery, where func(bun.QueryBuilder) bun.QueryBuilder) *bun.UpdateQuery {
	where(q.QueryBuilder())
	if !pg {
		return q
	}
	sel := db.NewSelect().Model((*tasksTable)(nil)).Column("t.id")
	where(sel.QueryBuilder())
	return q.Where("t.id IN (?)", sel.OrderExpr("t.id").For("UPDATE"))
}
