package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// tasksTable names the tasks table, alias t, for the statements Bun builds
// (delete, trash). Its columns are taskColumns (row.go).
type tasksTable struct {
	bun.BaseModel `bun:"table:tasks,alias:t"`
}

// tagRow is one tag of one task.
type tagRow struct {
	bun.BaseModel `bun:"table:task_tags,alias:tt"`

	TaskID   int64  `bun:"task_id,pk"`
	TagKey   string `bun:"tag_key,pk"` // task.TagKey
	UserID   string `bun:"user_id,notnull"`
	Position int16  `bun:"position,notnull"`
	Tag      string `bun:"tag,notnull"`
}

func newTagRows(id int64, t *task.Task) []tagRow {
	tags := t.Tags()
	rows := make([]tagRow, len(tags))
	for i, tag := range tags {
		rows[i] = tagRow{TaskID: id, TagKey: task.TagKey(tag), UserID: string(t.Owner()), Position: int16(i), Tag: tag}
	}
	return rows
}

// TaskRepository is a task.Repository in PostgreSQL or SQLite.
type TaskRepository struct {
	db *bun.DB
	pg bool // PostgreSQL, whose spelling the statements use
	// run runs the statements: on PostgreSQL on pgx, prepared, with creates
	// and the update's fast path group-committed (batch.go); on SQLite
	// through Bun.
	run runner
	// hint tells whether a user may be a member of a shared list (nil:
	// probe, a query): see ShareHint.
	hint ShareHint
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns a repository on a migrated db.
func NewTaskRepository(db *bun.DB) *TaskRepository {
	r := &TaskRepository{db: db, pg: db.Dialect().Name() == dialect.PG}
	r.run = bunRunner{db: db}
	if r.pg {
		r.run = newPgxRunner(db)
	}
	return r
}

// on is the runner of ctx's statements: the repository's, or, when ctx
// carries a transaction on the repository's database (tx.go), one on that
// transaction, through Bun.
func (r *TaskRepository) on(ctx context.Context) runner {
	if tx, ok := txOf(ctx, r.db); ok {
		return bunRunner{db: tx, pg: r.pg}
	}
	return r.run
}

// inTx runs fn in a transaction (a savepoint in ctx's, when it carries
// one), whose statements run on x.
func (r *TaskRepository) inTx(ctx context.Context, fn func(ctx context.Context, x runner) error) error {
	return inTx(ctx, r.db, func(ctx context.Context) error { return fn(ctx, r.on(ctx)) })
}

// Add inserts t, and its tags in the same transaction, and returns it with
// the id the database assigned, at version 1. Without tags or a parent it
// is one INSERT ... RETURNING id, prepared on PostgreSQL, where creates
// that arrive together share a statement and a commit (batch.go); the
// insert itself refuses a list that is not the owner's live list (the
// tasks_list_live trigger), and its key is implicit: no read, no lock. A
// subtask goes through AddAll, which checks its parent under the scope
// lock.
func (r *TaskRepository) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	if len(t.Tags()) > 0 || t.ParentID() != nil {
		out, err := r.AddAll(ctx, []*task.Task{t})
		if err != nil {
			return nil, err
		}
		return out[0], nil
	}
	// In a caller's transaction the insert may be refused (a list that is
	// not the owner's) and the caller carry on, as the shared lists' Add
	// does, trying the list's owner: alone keeps the transaction usable.
	var id task.ID
	err := alone(ctx, r.db, func(ctx context.Context, _ bun.IDB) error {
		var err error
		id, err = insertTask(ctx, r.on(ctx), t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t.WithID(id).WithVersion(1), nil
}

// AddAll inserts every task, then all their tags, in one transaction. When
// a task has a list or a parent the transaction first takes the owner's
// scope lock and reads the parents, holding them (FOR KEY SHARE) before it
// writes anything (see tree.go for the lock order).
func (r *TaskRepository) AddAll(ctx context.Context, ts []*task.Task) ([]*task.Task, error) {
	out := make([]*task.Task, len(ts))
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := checkParents(ctx, x, ts); err != nil {
			return err
		}
		var tags []tagRow
		for i, t := range ts {
			id, err := insertTask(ctx, x, t)
			if err != nil {
				return err
			}
			out[i] = t.WithID(id).WithVersion(1)
			tags = append(tags, newTagRows(int64(id), t)...)
		}
		if len(tags) > 0 {
			if _, err := x.idb().NewInsert().Model(&tags).Exec(ctx); err != nil {
				return fmt.Errorf("insert tags: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertTask inserts t's row (not its tags: the task_tags rows' triggers
// fill its tags column) at version 1 and returns its id.
func insertTask(ctx context.Context, x runner, t *task.Task) (task.ID, error) {
	row := t.Stored()
	row.ID, row.Version = 0, 1
	// The creation's revision names its creator (a member's task in a
	// shared list is in the owner's rows).
	row.By = t.CreatedBy()
	id, err := x.insert(ctx, row)
	if err != nil {
		return 0, fmt.Errorf("insert task: %w", placementError(err))
	}
	if id <= 0 {
		return 0, fmt.Errorf("insert task: database returned id %d", id)
	}
	return task.ID(id), nil
}

// checkParents checks the parents of new tasks (of one owner): each a live
// task of the owner, in the new task's list, above the deepest level
// (task.CheckNewSubtask). With a list or a parent among ts it takes the
// owner's scope lock first.
func checkParents(ctx context.Context, x runner, ts []*task.Task) error {
	var parents []task.ID
	placed := false
	for _, t := range ts {
		placed = placed || t.ListID() != nil || t.ParentID() != nil
		if p := t.ParentID(); p != nil && !slices.Contains(parents, *p) {
			parents = append(parents, *p)
		}
	}
	if !placed {
		return nil
	}
	owner := ts[0].Owner()
	if err := lockScope(ctx, x, owner); err != nil {
		return err
	}
	if len(parents) == 0 {
		return nil
	}
	slices.Sort(parents)
	if s := x.sql(); s.pg {
		in(s.add("SELECT t.id FROM tasks AS t WHERE t.user_id = ? AND t.id IN ", string(owner)), rawIDs(parents)).add(" ORDER BY t.id FOR KEY SHARE")
		if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
			return fmt.Errorf("lock parents: %w", err)
		}
	}
	ps, err := readLive(ctx, x, owner, parents, false)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if p := t.ParentID(); p != nil {
			parent := ps[slices.Index(parents, *p)]
			up, err := ancestors(ctx, x, owner, parent.ID())
			if err != nil {
				return err
			}
			if err := task.CheckNewSubtask(t, parent, up); err != nil {
				return err
			}
		}
	}
	return nil
}

// Get returns task id, unless it is in the trash, when caller reaches it
// for reading (their own, or one of a list where their role reads: see
// reachable), with its owner. One statement for everyone: for the owner it
// is the primary key's row and the first arm of the predicate; a member
// pays the lookup of their memberships in the same statement.
func (r *TaskRepository) Get(ctx context.Context, caller auth.UserID, id task.ID) (*task.Task, error) {
	x := r.on(ctx)
	s, err := r.getStatement(ctx, x.sql(), caller, id)
	if err != nil {
		return nil, err
	}
	rows, err := x.tasks(ctx, caller, s)
	if err != nil {
		return nil, fmt.Errorf("select task: %w", err)
	}
	if len(rows.tasks) == 0 {
		return nil, task.ErrNotFound
	}
	return rows.tasks[0], nil
}

// getStatement is Get's statement: the task caller reaches (getReachSQL), or,
// for a caller who is nobody's member (see mayShare), caller's own task
// (getSQL, the writes' read), with no membership subquery in its plan.
func (r *TaskRepository) getStatement(ctx context.Context, s *sqlText, caller auth.UserID, id task.ID) (*sqlText, error) {
	shared, err := r.mayShare(ctx, caller)
	if err != nil {
		return nil, err
	}
	if !shared {
		return s.fixed(getSQL, int64(id), string(caller)), nil
	}
	return getReachSQL(s, caller, id), nil
}

// getReachSQL is Get's statement for a caller who may be a member, written
// once (byCaller).
func getReachSQL(s *sqlText, caller auth.UserID, id task.ID) *sqlText {
	return byCaller(s, "get", func(s *sqlText, caller auth.UserID, id int64) *sqlText {
		return reachable(s.add("SELECT "+selectList+" FROM tasks AS t WHERE t.id = ? AND ", id), "t", caller, list.ActRead).
			add(" AND t.deleted_at IS NULL")
	}, caller, int64(id))
}

// getTask reads owner's own task id (not a shared one: the writes' reads),
// in one prepared statement on PostgreSQL; live only, or in the trash too.
// ErrNotFound when there is none.
func (r *TaskRepository) getTask(ctx context.Context, owner auth.UserID, id task.ID, liveOnly bool) (*task.Task, error) {
	st := getAnySQL
	if liveOnly {
		st = getSQL
	}
	x := r.on(ctx)
	rows, err := x.tasks(ctx, owner, x.sql().fixed(st, int64(id), string(owner)))
	if err != nil {
		return nil, fmt.Errorf("select task: %w", err)
	}
	if len(rows.tasks) == 0 {
		return nil, task.ErrNotFound
	}
	return rows.tasks[0], nil
}

// List returns one page of owner's tasks (see task.Repository). Every
// filter, the order, the keyset and the page size are SQL: a page costs one
// index range scan whatever its position, in one statement, prepared on
// PostgreSQL. The total needs no query when the first page holds every
// match; filtered by status alone it is the user's task_counts row; with
// other filters it is a COUNT over them.
func (r *TaskRepository) List(ctx context.Context, owner auth.UserID, q task.Query) (task.Page, error) {
	q, err := q.Normalized()
	if err != nil {
		return task.Page{}, err
	}
	x := r.on(ctx)
	shared, err := r.shares(ctx, owner, q.List)
	if err != nil {
		return task.Page{}, err
	}

	var ts []*task.Task
	var c counters
	counted := false
	if dueKeyset(q) {
		ts, err = dueKeysetPage(ctx, x, owner, q, shared)
	} else {
		counted = withCounts(q, shared)
		var rows taskRows
		rows, err = x.tasks(ctx, owner, listSQL(x.sql(), owner, q, counted, shared))
		ts, c = rows.tasks, rows.counts
	}
	if err != nil {
		return task.Page{}, fmt.Errorf("list tasks: %w", err)
	}

	more := q.Limit > 0 && len(ts) > q.Limit
	if more {
		ts = ts[:q.Limit]
	}
	page := task.Page{Tasks: ts}
	if page.Tasks == nil {
		page.Tasks = []*task.Task{}
	}
	switch {
	case q.After == nil && q.Offset == 0 && !more:
		page.Total = len(ts)
	case counted && len(ts) > 0:
		// The counters came with the page: no second round trip. A user
		// with tasks has a task_counts row; without one, 0 (as before).
		page.Total = totalOf(q, c.live, c.completed)
	default:
		if page.Total, err = count(ctx, x, owner, q, shared); err != nil {
			return task.Page{}, err
		}
	}
	if more {
		next := q.CursorAt(page.Tasks[len(page.Tasks)-1])
		page.Next = &next
	}
	return page, nil
}

// countsSQL reads the owner's counters.
var countsSQL = newStmt("SELECT live, completed FROM task_counts WHERE user_id = ?")

// count is how many of the live tasks caller reads (see filters) match q's
// filters.
func count(ctx context.Context, x runner, owner auth.UserID, q task.Query, shared bool) (int, error) {
	if onlyStatus(q) && !shared {
		var live, completed int64
		err := x.ints(ctx, x.sql().fixed(countsSQL, string(owner)), &live, &completed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return 0, nil
		case err != nil:
			return 0, fmt.Errorf("count tasks: %w", err)
		}
		return totalOf(q, live, completed), nil
	}
	var n int64
	s := filters(x.sql().add("SELECT count(*) FROM tasks AS t"), owner, q, shared)
	if err := x.ints(ctx, s, &n); err != nil {
		return 0, fmt.Errorf("count tasks: %w", err)
	}
	return int(n), nil
}

// totalOf is the total of q, filtered by status alone, from the owner's
// counters.
func totalOf(q task.Query, live, completed int64) int {
	pending, done := false, false
	for _, st := range q.Statuses {
		pending = pending || st == task.StatusPending
		done = done || st == task.StatusCompleted
	}
	switch {
	case pending && done:
		return 0 // a contradiction: no task is both
	case pending:
		return int(live - completed)
	case done:
		return int(completed)
	}
	return int(live)
}

// storedBy is t as written by a request of user by (task.Stored.By): the
// user the repository call was given, whom its revision names.
func storedBy(t *task.Task, by auth.UserID) task.Stored {
	s := t.Stored()
	s.By = by
	return s
}

// errStale means a conditional write found the row at another version
// than the one it read: someone else wrote it in between.
var errStale = errors.New("task changed since it was read")

// Update reads owner's task id, applies fn and writes the result, on
// condition that the row is still at the version read (UPDATE ... WHERE
// version = ?), so it can never overwrite a change it did not see. When fn
// changes nothing (task.Task.Changed) nothing is written and the task is
// returned as read:
//
//   - first without a transaction: one read and one conditional UPDATE,
//     both prepared on PostgreSQL, where the UPDATE shares a statement and
//     a commit with the updates of other tasks sent at the same moment
//     (batch.go). This is every write that leaves the tags as they are (a
//     toggle, an edit of the text) when nobody else writes the task at the
//     same moment.
//   - with expect (If-Match), a writer that lost the race finds 0 rows and
//     gets a *task.ConflictError with the task as it is now. Of many writers
//     on one version, exactly one writes.
//   - without, a lost race (or a change of tags, which rewrites task_tags
//     too, or the completion of a task with subtasks, which completes them
//     too) goes to a transaction that takes the owner's scope lock and
//     locks the task and its subtree (on SQLite the transaction, begun
//     IMMEDIATE on the only connection, holds the write lock), so writers
//     queue and every change lands.
//
// In a caller's transaction (tx.go) Update goes to the locking path at
// once: a conditional UPDATE that loses a race keeps its row lock until
// that transaction ends, and the locking path would then take the scope
// lock after it, against the lock order (tree.go), which deadlocks with
// a writer that holds the scope lock and waits for the row.
func (r *TaskRepository) Update(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, fn func(*task.Task) error) (*task.Task, error) {
	var out *task.Task
	if _, inTx := txOf(ctx, r.db); !inTx {
		var err error
		out, err = r.updateFast(ctx, owner, id, expect, fn)
		if !errors.Is(err, errSlowPath) {
			return out, err
		}
	}
	for attempt := 1; ; attempt++ {
		err := r.inTx(ctx, func(ctx context.Context, x runner) error {
			if err := lockScope(ctx, x, owner); err != nil {
				return err
			}
			c, err := load(ctx, x, owner, []task.ID{id})
			if err != nil {
				return err
			}
			t := c.get(id)
			if err := task.Conflict(t, expect); err != nil {
				return err
			}
			if err := fn(t); err != nil {
				return err
			}
			if t.Changed() { // else nothing to write
				c.put(t)
			}
			ts, err := c.finish(ctx, x, []task.ID{id})
			if err != nil {
				return err
			}
			out = ts[0]
			return nil
		})
		if !errors.Is(err, errStale) {
			if err != nil {
				return nil, err
			}
			return out, nil
		}
		if err := r.stillExpected(ctx, owner, id, expect); err != nil {
			return nil, err
		}
		// The version read is gone although expect still holds (or there
		// is none): read again. The row lock makes this all but impossible.
		if attempt == 3 {
			return nil, fmt.Errorf("update task: %w", errStale)
		}
	}
}

// errSlowPath sends Update from its fast path to its transaction.
var errSlowPath = errors.New("update needs a transaction")

// updateFast is Update's first try, without a transaction (see Update):
// errSlowPath when the transaction must do it.
func (r *TaskRepository) updateFast(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, fn func(*task.Task) error) (*task.Task, error) {
	x := r.on(ctx)
	rows, err := x.tasks(ctx, owner, x.sql().fixed(getForUpdateSQL, int64(id), string(owner)).withExtra(extraChildren))
	if err != nil {
		return nil, fmt.Errorf("select task: %w", err)
	}
	if len(rows.tasks) == 0 {
		return nil, task.ErrNotFound
	}
	t, hasChildren := rows.tasks[0], rows.children[0]
	read := int64(t.Version())
	if err := task.Conflict(t, expect); err != nil {
		return nil, err
	}
	before, wasCompleted := t.Tags(), t.Completed()
	if err := fn(t); err != nil {
		return nil, err
	}
	if !t.Changed() {
		// Nothing to write: the task as read is the answer, as of the read.
		return t, nil
	}
	if !slices.Equal(before, t.Tags()) || hasChildren && !wasCompleted && t.Completed() {
		return nil, errSlowPath
	}
	n, err := r.on(ctx).update(ctx, storedBy(t, task.Actor(ctx, owner)), read)
	if err != nil {
		return nil, fmt.Errorf("update task: %w", err)
	}
	if n == 1 {
		return t.WithVersion(task.Version(read + 1)), nil
	}
	if err := r.stillExpected(ctx, owner, id, expect); err != nil {
		return nil, err
	}
	return nil, errSlowPath
}

// stillExpected is what a write that found its row at another version than
// it read says: the task's *task.ConflictError when expect no longer holds,
// ErrNotFound when it is gone, nil when a retry may succeed.
func (r *TaskRepository) stillExpected(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version) error {
	current, err := r.getTask(ctx, owner, id, true)
	if err != nil {
		return err
	}
	return task.Conflict(current, expect)
}

// readLive reads owner's live tasks ids, in the order given; ErrNotFound
// when one is missing. lock takes their row locks on PostgreSQL, in id
// order (the same order for every writer, so two bulk writers cannot
// deadlock).
func readLive(ctx context.Context, x runner, owner auth.UserID, ids []task.ID, lock bool) ([]*task.Task, error) {
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	s := in(x.sql().add("SELECT "+selectList+" FROM tasks AS t WHERE t.user_id = ? AND t.id IN ", string(owner)), raw).
		add(" AND t.deleted_at IS NULL ORDER BY t.id")
	if lock {
		s.lockRows()
	}
	rows, err := x.tasks(ctx, owner, s)
	if err != nil {
		return nil, fmt.Errorf("select task for update: %w", err)
	}
	if len(rows.tasks) != len(ids) {
		return nil, task.ErrNotFound
	}
	byID := make(map[task.ID]*task.Task, len(rows.tasks))
	for _, t := range rows.tasks {
		byID[t.ID()] = t
	}
	out := make([]*task.Task, len(ids))
	for i, id := range ids {
		t, ok := byID[id]
		if !ok {
			return nil, task.ErrNotFound
		}
		out[i] = t
	}
	return out, nil
}

// rewriteTags rewrites t's tags when they changed from before. x runs in a
// transaction.
func rewriteTags(ctx context.Context, x runner, t *task.Task, before []string) error {
	if slices.Equal(before, t.Tags()) {
		return nil
	}
	db := x.idb()
	if _, err := db.NewDelete().Model((*tagRow)(nil)).Where("tt.task_id = ?", int64(t.ID())).Exec(ctx); err != nil {
		return fmt.Errorf("delete tags: %w", err)
	}
	if rows := newTagRows(int64(t.ID()), t); len(rows) > 0 {
		if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("insert tags: %w", err)
		}
	}
	return nil
}

// UpdateAll locks and reads every task, with their subtrees (a completion
// completes their open subtasks), applies fn to each and writes those it
// changed in one transaction under the owner's scope lock: a missing id, a failing fn
// or a failing write rolls all of it back.
func (r *TaskRepository) UpdateAll(ctx context.Context, owner auth.UserID, ids []task.ID, fn func(*task.Task) error) ([]*task.Task, error) {
	ids = task.UniqueIDs(ids)
	var out []*task.Task
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		c, err := load(ctx, x, owner, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			t := c.get(id)
			if err := fn(t); err != nil {
				return err
			}
			if t.Changed() { // else nothing to write
				c.put(t)
			}
		}
		out, err = c.finish(ctx, x, ids)
		return err
	})
	if errors.Is(err, errStale) {
		// The rows were locked (PostgreSQL) or the database was (SQLite):
		// nobody can have written them.
		return nil, fmt.Errorf("update tasks: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes owner's task id for good, from the list or the trash,
// with its subtree (parent_id ON DELETE CASCADE) and their tags. The
// subtree is locked first, in id order (lockRows), which the cascade alone
// would do in the order of its plan. With expect, the DELETE itself checks
// the version.
func (r *TaskRepository) Delete(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version) error {
	var n int64
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		ns, err := subtree(ctx, x, owner, []task.ID{id})
		if err != nil {
			return err
		}
		if err := lockRows(ctx, x, owner, newForest(ns).ids()); err != nil {
			return err
		}
		q := x.idb().NewDelete().Model((*tasksTable)(nil)).
			Where("t.id = ?", int64(id)).
			Where("t.user_id = ?", string(owner))
		if expect != task.AnyVersion {
			q = q.Where("t.version = ?", int64(expect))
		}
		n, err = affected(q.Exec(ctx))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	if n == 1 {
		return nil
	}
	current, err := r.getTask(ctx, owner, id, false)
	if err != nil {
		return err
	}
	if err := task.Conflict(current, expect); err != nil {
		return err
	}
	return task.ErrNotFound // gone and back at the version? Only a race can say so.
}
