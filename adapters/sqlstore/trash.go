package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// The trash: a task with deleted_at set, and trashed_with saying whether it
// went on its own or with an ancestor or its list (task.TrashMark). Moving
// tasks in or out changes those two columns only; the tasks' fields and
// versions stay as they are, so a restored task is exactly the one deleted.
// Trashing and restoring take the owner's scope lock (see tree.go): a
// subtree read is the whole subtree until the transaction ends.

// Trash moves owner's live task id and its live subtree to the trash; with
// expect, only at that version.
func (r *TaskRepository) Trash(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, at time.Time) error {
	return r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		c, err := load(ctx, x, owner, []task.ID{id})
		if err != nil {
			return err
		}
		if err := task.Conflict(c.get(id), expect); err != nil {
			return err
		}
		_, err = trashTasks(ctx, x, owner, c, []task.ID{id}, at)
		return err
	})
}

// trashTime is the deletion time as every store keeps it: UTC microseconds.
func trashTime(at time.Time) time.Time { return at.UTC().Truncate(time.Microsecond) }

func affected(res interface{ RowsAffected() (int64, error) }, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TrashAll trashes every task with its subtree, all or none (ErrNotFound
// when one is not owner's live task), and returns how many went.
func (r *TaskRepository) TrashAll(ctx context.Context, owner auth.UserID, ids []task.ID, at time.Time) (int, error) {
	ids = task.UniqueIDs(ids)
	var n int
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		c, err := load(ctx, x, owner, ids)
		if err != nil {
			return err
		}
		n, err = trashTasks(ctx, x, owner, c, ids, at)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// TrashCompleted trashes owner's completed tasks, each with its subtree,
// and returns how many went.
func (r *TaskRepository) TrashCompleted(ctx context.Context, owner auth.UserID, at time.Time) (int, error) {
	var n int
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		var ids []task.ID
		if err := x.idb().NewSelect().Model((*tasksTable)(nil)).Column("t.id").
			Where("t.user_id = ?", string(owner)).Where("t.completed = ?", true).Where("t.deleted_at IS NULL").
			OrderExpr("t.id").Scan(ctx, &ids); err != nil {
			return fmt.Errorf("select completed tasks: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		c, err := load(ctx, x, owner, ids)
		if err != nil {
			return err
		}
		// Read again, locked: one may have been reopened since.
		ids = slices.DeleteFunc(ids, func(id task.ID) bool { return !c.get(id).Completed() })
		n, err = trashTasks(ctx, x, owner, c, ids, at)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("trash completed tasks: %w", err)
	}
	return n, nil
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

// RestoreFromTrash brings the task back with what was trashed with it (its
// subtree where a task has task.RestoredWith's mark and the task's
// deletion time), and its ancestors and list alone when they are in the
// trash, then reads it back. A list whose name another took meanwhile is
// list.ErrNameTaken, and nothing is restored.
func (r *TaskRepository) RestoreFromTrash(ctx context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		up, err := nodes(ctx, x, chainSQL(x.sql(), owner, id))
		if err != nil {
			return err
		}
		if len(up) == 0 {
			return task.ErrNotFound
		}
		me := up[0]
		if me.at == nil {
			return nil // live: read back below
		}
		ns, err := subtree(ctx, x, owner, []task.ID{id})
		if err != nil {
			return err
		}
		with := task.RestoredWith(id, me.mark)
		restore := append([]task.ID{id}, newForest(ns).under(id, func(n node) bool {
			return n.at != nil && n.mark == with && n.at.Equal(*me.at)
		})...)
		for _, a := range up[1:] {
			if a.at == nil {
				break
			}
			restore = append(restore, a.id)
		}
		slices.Sort(restore)
		t, err := readAny(ctx, x, owner, id)
		if err != nil {
			return err
		}
		// The rows first, then the writes: every write takes the owner's
		// change head (the feed's triggers, lock order in tree.go).
		if err := lockRows(ctx, x, owner, restore); err != nil {
			return err
		}
		if l := t.ListID(); l != nil {
			if err := restoreListAlone(ctx, x, owner, *l); err != nil {
				return err
			}
		}
		s := in(x.sql().add("UPDATE tasks SET deleted_at = NULL, trashed_with = NULL WHERE user_id = ? AND id IN ", string(owner)), rawIDs(restore))
		if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
			return fmt.Errorf("restore tasks: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.getTask(ctx, owner, id, true)
}

// readAny reads owner's task id, live or in the trash.
func readAny(ctx context.Context, x runner, owner auth.UserID, id task.ID) (*task.Task, error) {
	rows, err := x.tasks(ctx, owner, x.sql().fixed(getAnySQL, int64(id), string(owner)))
	if err != nil {
		return nil, fmt.Errorf("select task: %w", err)
	}
	if len(rows.tasks) == 0 {
		return nil, task.ErrNotFound
	}
	return rows.tasks[0], nil
}

// EmptyTrash deletes owner's trashed tasks (their subtrees, in the trash
// with them, and tags by ON DELETE CASCADE), under the owner's scope lock,
// which every other writer of trashed tasks takes.
func (r *TaskRepository) EmptyTrash(ctx context.Context, owner auth.UserID) (int, error) {
	var n int64
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		var err error
		n, err = affected(x.idb().NewDelete().Model((*tasksTable)(nil)).
			Where("t.user_id = ?", string(owner)).
			Where("t.deleted_at IS NOT NULL").
			Exec(ctx))
		return err
	})
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
