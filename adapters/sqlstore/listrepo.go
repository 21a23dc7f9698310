package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
)

// ListRepository is a list.Repository in PostgreSQL or SQLite. Lists are
// not a hot path (a user has a few dozen, and the sidebar reads them in one
// statement with their counters, never their tasks), so its statements are
// Bun's, on database/sql. Everything that writes a list runs in a
// transaction under the owner's scope lock (tree.go), so that a list and
// its tasks go to the trash, come back or move together.
type ListRepository struct {
	db *bun.DB
	pg bool
}

var _ list.Repository = (*ListRepository)(nil)

// NewListRepository returns a repository on a migrated db.
func NewListRepository(db *bun.DB) *ListRepository {
	return &ListRepository{db: db, pg: db.Dialect().Name() == dialect.PG}
}

// on is the connection of ctx's statements: the repository's, or the
// transaction ctx carries on its database (tx.go).
func (r *ListRepository) on(ctx context.Context) runner {
	return bunRunner{db: conn(ctx, r.db), pg: r.pg}
}

// inTx runs fn in a transaction (a savepoint in ctx's, when it carries
// one) under owner's scope lock.
func (r *ListRepository) inTx(ctx context.Context, owner auth.UserID, fn func(ctx context.Context, x runner) error) error {
	return inTx(ctx, r.db, func(ctx context.Context) error {
		x := r.on(ctx)
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		return fn(ctx, x)
	})
}

// listRow is a list as the statements read it, with its counters.
type listRow struct {
	ID        int64      `bun:"id"`
	UserID    string     `bun:"user_id"`
	Name      string     `bun:"name"`
	Color     *string    `bun:"color"`
	SortKey   string     `bun:"sort_key"`
	Version   int64      `bun:"version"`
	CreatedAt time.Time  `bun:"created_at"`
	UpdatedAt time.Time  `bun:"updated_at"`
	DeletedAt *time.Time `bun:"deleted_at"`
	Live      int64      `bun:"live"`
	Completed int64      `bun:"completed"`
}

// listColumns is what every read of lists selects (listRow).
const listColumns = "l.id, l.user_id, l.name, l.color, l.sort_key, l.version, l.created_at, l.updated_at, l.deleted_at, " +
	"coalesce(c.live, 0) AS live, coalesce(c.completed, 0) AS completed"

const listFrom = " FROM lists AS l LEFT JOIN list_counts AS c ON c.list_id = l.id"

func (row listRow) summary() (list.Summary, error) {
	l, err := list.Stored{
		ID: list.ID(row.ID), Owner: auth.UserID(row.UserID), Name: row.Name, Color: row.Color, Position: row.SortKey,
		Version: list.Version(row.Version), CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
	}.Restore()
	if err != nil {
		return list.Summary{}, fmt.Errorf("restore list %d: %w", row.ID, err)
	}
	return list.Summary{List: l, Open: int(row.Live - row.Completed), Completed: int(row.Completed)}, nil
}

// readList reads owner's list id, live only or in the trash too; lock
// locks it (FOR UPDATE on PostgreSQL: trashing or deleting a list waits for
// the creates in it, which hold it FOR KEY SHARE, see tasks_list_live).
func readList(ctx context.Context, x runner, owner auth.UserID, id list.ID, liveOnly, lock bool) (listRow, error) {
	s := x.sql().add("SELECT "+listColumns+listFrom+" WHERE l.id = ? AND l.user_id = ?", int64(id), string(owner))
	if liveOnly {
		s.add(" AND l.deleted_at IS NULL")
	}
	if lock && s.pg {
		s.add(" FOR UPDATE OF l")
	}
	var rows []listRow
	if err := x.idb().NewRaw(s.String(), s.args...).Scan(ctx, &rows); err != nil {
		return listRow{}, fmt.Errorf("read list: %w", err)
	}
	if len(rows) == 0 {
		return listRow{}, list.ErrNotFound
	}
	return rows[0], nil
}

// nameTaken reports whether another live list that by owns has the name
// key (list.NameKey: the namer's own lists only). by's scope lock, held by
// x, keeps the answer true until the commit: every write of a name of
// by's lists takes it (no unique index does, since a list's owner may hold
// two lists of one name, migration 20261214000020).
func nameTaken(ctx context.Context, x runner, by auth.UserID, key string, except list.ID) (bool, error) {
	var n int64
	s := x.sql().add("SELECT count(*) FROM lists WHERE user_id = ? AND name_key = ? AND deleted_at IS NULL AND id <> ?",
		string(by), key, int64(except))
	if err := x.ints(ctx, s, &n); err != nil {
		return false, fmt.Errorf("read list names: %w", err)
	}
	return n > 0, nil
}

// Add inserts l at the bottom of its owner's lists (no key: the implicit
// one, after every other list).
func (r *ListRepository) Add(ctx context.Context, l *list.List) (list.Summary, error) {
	var out list.Summary
	err := r.inTx(ctx, l.Owner(), func(ctx context.Context, x runner) error {
		taken, err := nameTaken(ctx, x, l.Owner(), l.NameKey(), 0)
		if err != nil {
			return err
		}
		if taken {
			return list.ErrNameTaken
		}
		s := l.Stored()
		var id int64
		if err := x.idb().NewRaw("INSERT INTO lists (user_id, name, name_key, color, version, created_at, updated_at) "+
			"VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING id",
			string(s.Owner), s.Name, l.NameKey(), s.Color, s.CreatedAt, s.UpdatedAt).Scan(ctx, &id); err != nil {
			return fmt.Errorf("insert list: %w", err)
		}
		out = list.Summary{List: l.WithID(list.ID(id)).WithVersion(1)}
		return nil
	})
	return out, err
}

// Get returns owner's live list id with its counters.
func (r *ListRepository) Get(ctx context.Context, owner auth.UserID, id list.ID) (list.Summary, error) {
	row, err := readList(ctx, r.on(ctx), owner, id, true, false)
	if err != nil {
		return list.Summary{}, err
	}
	return row.summary()
}

// List reads owner's live lists in order with their counters: one range of
// lists_user_sort_key, and a primary-key lookup of list_counts per list.
func (r *ListRepository) List(ctx context.Context, owner auth.UserID) ([]list.Summary, error) {
	var rows []listRow
	if err := r.on(ctx).idb().NewRaw("SELECT "+listColumns+listFrom+
		" WHERE l.user_id = ? AND l.deleted_at IS NULL ORDER BY l.sort_key, l.id", string(owner)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list lists: %w", err)
	}
	out := make([]list.Summary, len(rows))
	for i, row := range rows {
		s, err := row.summary()
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// Update locks the list, applies fn and writes name and color, one version
// up, under the owner's scope lock. A new name is checked against by's
// lists: when by is the owner, under the lock that every naming of their
// lists takes; when by is an admin, without their lock, which needs none:
// the list is not among by's, so its name is no part of what another
// naming of by's checks, and either order of the two is allowed.
func (r *ListRepository) Update(ctx context.Context, by, owner auth.UserID, id list.ID, expect list.Version, fn func(*list.List) error) (list.Summary, error) {
	var out list.Summary
	err := r.inTx(ctx, owner, func(ctx context.Context, x runner) error {
		row, err := readList(ctx, x, owner, id, true, true)
		if err != nil {
			return err
		}
		cur, err := row.summary()
		if err != nil {
			return err
		}
		if err := list.Conflict(cur, expect); err != nil {
			return err
		}
		l := cur.List
		if err := fn(l); err != nil {
			return err
		}
		// A name kept (its case changed, or only the color) is not
		// checked: its owner may hold another list of that name already.
		if l.NameKey() != list.NameKey(row.Name) {
			taken, err := nameTaken(ctx, x, by, l.NameKey(), id)
			if err != nil {
				return err
			}
			if taken {
				return list.ErrNameTaken
			}
		}
		s := l.Stored()
		if _, err := x.idb().NewRaw("UPDATE lists SET name = ?, name_key = ?, color = ?, updated_at = ?, version = version + 1 WHERE id = ?",
			s.Name, l.NameKey(), s.Color, s.UpdatedAt, int64(id)).Exec(ctx); err != nil {
			return fmt.Errorf("update list: %w", err)
		}
		cur.List = l.WithVersion(l.Version() + 1)
		out = cur
		return nil
	})
	return out, err
}

// Move places the list right after or before another list of owner's
// sidebar (their lists and those shared with them, sidebar.go), or at the
// top: a key between the neighbours' (the trash included, so that a
// restored list never collides), read in one statement. Past
// position.RebalanceLen the owner's sidebar is re-keyed.
func (r *ListRepository) Move(ctx context.Context, owner auth.UserID, id list.ID, expect list.Version, a list.Anchor, at time.Time) (list.Summary, error) {
	if err := a.Check(); err != nil {
		return list.Summary{}, err
	}
	var out list.Summary
	err := r.inTx(ctx, owner, func(ctx context.Context, x runner) error {
		row, err := readList(ctx, x, owner, id, true, true)
		if err != nil {
			return err
		}
		cur, err := row.summary()
		if err != nil {
			return err
		}
		if err := list.Conflict(cur, expect); err != nil {
			return err
		}
		key, err := sidebarKey(ctx, x, owner, id, 0, a)
		if err != nil {
			return err
		}
		if position.NeedsRebalance(key) {
			// Every row the re-key writes, before the first write
			// (lockSidebar).
			if err := lockSidebar(ctx, x, owner); err != nil {
				return err
			}
		}
		l := cur.List
		l.MoveTo(key, at)
		if _, err := x.idb().NewRaw("UPDATE lists SET position = ?, updated_at = ?, version = version + 1 WHERE id = ?",
			key, l.UpdatedAt(), int64(id)).Exec(ctx); err != nil {
			return fmt.Errorf("move list: %w", err)
		}
		cur.List = l.WithVersion(l.Version() + 1)
		if position.NeedsRebalance(key) {
			if err := rebalanceSidebar(ctx, x, owner); err != nil {
				return err
			}
			row, err := readList(ctx, x, owner, id, true, false)
			if err != nil {
				return err
			}
			cur.List = cur.List.WithPosition(row.SortKey)
		}
		out = cur
		return nil
	})
	return out, err
}

// Trash moves the list and its live tasks to the trash: the list row locked
// first (creates in it finish, or see it trashed), then its tasks in id
// order, in one statement.
func (r *ListRepository) Trash(ctx context.Context, owner auth.UserID, id list.ID, expect list.Version, at time.Time) error {
	return r.inTx(ctx, owner, func(ctx context.Context, x runner) error {
		row, err := readList(ctx, x, owner, id, true, true)
		if err != nil {
			return err
		}
		cur, err := row.summary()
		if err != nil {
			return err
		}
		if err := list.Conflict(cur, expect); err != nil {
			return err
		}
		at = trashTime(at)
		// The tasks first, locked in id order, then the list: a statement
		// that writes takes the owner's change head (the feed's triggers),
		// which a toggle of one of the tasks, holding its row, waits for;
		// the list row is locked already (readList).
		ofList := func(q bun.QueryBuilder) bun.QueryBuilder {
			return q.Where("t.user_id = ?", string(owner)).Where("t.list_id = ?", int64(id)).Where("t.deleted_at IS NULL")
		}
		db := x.idb()
		if _, err := lockInIDOrder(db, r.pg, db.NewUpdate().Model((*tasksTable)(nil)).
			Set("deleted_at = ?", at).Set("trashed_with = ?", string(task.MarkList(id))), ofList).Exec(ctx); err != nil {
			return fmt.Errorf("trash the list's tasks: %w", err)
		}
		if _, err := x.idb().NewRaw("UPDATE lists SET deleted_at = ? WHERE id = ?", at, int64(id)).Exec(ctx); err != nil {
			return fmt.Errorf("trash list: %w", err)
		}
		return nil
	})
}

// Restore brings the list back with the tasks trashed with it (marked with
// it, at its deletion time), unless another live list took its name.
func (r *ListRepository) Restore(ctx context.Context, owner auth.UserID, id list.ID) (list.Summary, error) {
	err := r.inTx(ctx, owner, func(ctx context.Context, x runner) error {
		row, err := readList(ctx, x, owner, id, false, true)
		if err != nil {
			return err
		}
		if row.DeletedAt == nil {
			return nil
		}
		withList := func(q bun.QueryBuilder) bun.QueryBuilder {
			return q.Where("t.user_id = ?", string(owner)).Where("t.list_id = ?", int64(id)).
				Where("t.trashed_with = ?", string(task.MarkList(id))).
				Where("t.deleted_at = (SELECT l.deleted_at FROM lists AS l WHERE l.id = ?)", int64(id))
		}
		db := x.idb()
		if _, err := lockInIDOrder(db, r.pg, db.NewUpdate().Model((*tasksTable)(nil)).
			Set("deleted_at = NULL").Set("trashed_with = NULL"), withList).Exec(ctx); err != nil {
			return fmt.Errorf("restore the list's tasks: %w", err)
		}
		return restoreListAlone(ctx, x, owner, id)
	})
	if err != nil {
		return list.Summary{}, err
	}
	return r.Get(ctx, owner, id)
}

// restoreListAlone brings owner's list id back from the trash, without its
// tasks, unless another live list took its name (list.ErrNameTaken). A
// live list is left as it is. x holds the owner's scope lock.
func restoreListAlone(ctx context.Context, x runner, owner auth.UserID, id list.ID) error {
	row, err := readList(ctx, x, owner, id, false, false)
	if err != nil {
		return err
	}
	if row.DeletedAt == nil {
		return nil
	}
	taken, err := nameTaken(ctx, x, owner, list.NameKey(row.Name), id)
	if err != nil {
		return err
	}
	if taken {
		return list.ErrNameTaken
	}
	if _, err := x.idb().NewRaw("UPDATE lists SET deleted_at = NULL WHERE id = ?", int64(id)).Exec(ctx); err != nil {
		return fmt.Errorf("restore list: %w", err)
	}
	return nil
}

// Delete removes the list and all its tasks for good: the list row and its
// tasks locked first, in id order, then the list deleted (its tasks by ON
// DELETE CASCADE) and its counters.
func (r *ListRepository) Delete(ctx context.Context, owner auth.UserID, id list.ID, expect list.Version) error {
	return r.inTx(ctx, owner, func(ctx context.Context, x runner) error {
		row, err := readList(ctx, x, owner, id, false, true)
		if err != nil {
			return err
		}
		cur, err := row.summary()
		if err != nil {
			return err
		}
		if err := list.Conflict(cur, expect); err != nil {
			return err
		}
		return deleteLists(ctx, x, r.pg, []int64{int64(id)})
	})
}

// deleteLists deletes lists ids, their tasks and their counters.
func deleteLists(ctx context.Context, x runner, pg bool, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if pg {
		if _, err := x.idb().NewRaw("SELECT id FROM tasks WHERE list_id IN (?) ORDER BY id FOR UPDATE", bun.List(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("lock the lists' tasks: %w", err)
		}
	}
	for _, q := range []string{"DELETE FROM lists WHERE id IN (?)", "DELETE FROM list_counts WHERE list_id IN (?)"} {
		if _, err := x.idb().NewRaw(q, bun.List(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("delete lists: %w", err)
		}
	}
	return nil
}

// ListTrash reads owner's trashed lists, the latest deletion first.
func (r *ListRepository) ListTrash(ctx context.Context, owner auth.UserID) ([]list.Trashed, error) {
	var rows []listRow
	if err := r.on(ctx).idb().NewRaw("SELECT "+listColumns+listFrom+
		" WHERE l.user_id = ? AND l.deleted_at IS NOT NULL ORDER BY l.deleted_at DESC, l.id DESC", string(owner)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list trashed lists: %w", err)
	}
	out := make([]list.Trashed, len(rows))
	for i, row := range rows {
		s, err := row.summary()
		if err != nil {
			return nil, err
		}
		out[i] = list.Trashed{List: s.List, DeletedAt: row.DeletedAt.UTC()}
	}
	return out, nil
}

// EmptyTrash deletes owner's trashed lists with their tasks.
func (r *ListRepository) EmptyTrash(ctx context.Context, owner auth.UserID) (int, error) {
	var n int
	err := r.inTx(ctx, owner, func(ctx context.Context, x runner) error {
		var ids []int64
		if err := x.idb().NewRaw("SELECT id FROM lists WHERE user_id = ? AND deleted_at IS NOT NULL ORDER BY id", string(owner)).
			Scan(ctx, &ids); err != nil {
			return fmt.Errorf("empty trash: %w", err)
		}
		n = len(ids)
		return deleteLists(ctx, x, r.pg, ids)
	})
	return n, err
}

// PurgeTrash deletes at most limit lists trashed before cutoff, whoever
// owns them, the oldest first, with their tasks.
func (r *ListRepository) PurgeTrash(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	at := trashTime(cutoff)
	var n int
	err := inTx(ctx, r.db, func(ctx context.Context) error {
		x := r.on(ctx)
		tx := x.idb()
		q := "SELECT id FROM lists WHERE deleted_at IS NOT NULL AND deleted_at < ? ORDER BY deleted_at LIMIT ?"
		if r.pg {
			// Locked, and checked again as they are then: a list restored
			// meanwhile is skipped.
			q = "SELECT id FROM lists WHERE deleted_at IS NOT NULL AND deleted_at < ? AND id IN (" + q + ") ORDER BY id FOR UPDATE"
		}
		args := []any{at, limit}
		if r.pg {
			args = []any{at, at, limit}
		}
		var ids []int64
		if err := tx.NewRaw(q, args...).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("purge lists: %w", err)
		}
		n = len(ids)
		return deleteLists(ctx, x, r.pg, ids)
	})
	return n, err
}

func listProblem(field, msg string) error {
	return &task.ValidationError{Problems: []task.Problem{{Field: field, Msg: msg, Type: "value_error"}}}
}
