package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// taskRow is a tasks row as Bun reads and writes it.
type taskRow struct {
	bun.BaseModel `bun:"table:tasks,alias:t"`

	ID          int64      `bun:"id,pk,autoincrement"`
	UserID      string     `bun:"user_id,notnull"`
	Title       string     `bun:"title,notnull"`
	Description *string    `bun:"description"`
	Completed   bool       `bun:"completed,notnull"`
	Priority    int16      `bun:"priority,notnull"` // task.Priority.Rank
	DueAt       *time.Time `bun:"due_at"`           // task.Due.Time
	DueAllDay   bool       `bun:"due_all_day,notnull"`
	CompletedAt *time.Time `bun:"completed_at"`
	TitleKey    string     `bun:"title_key,notnull"` // task.TitleKey
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`
	Version     int64      `bun:"version,notnull"`
	DeletedAt   *time.Time `bun:"deleted_at"`   // in the trash since; nil when live
	Tags        string     `bun:"tags,notnull"` // JSON array, a copy of the task_tags rows (encodeTags)

	// The owner's task_counts row, read with a page when its total is
	// likely needed (see listSQL); nil without one.
	CountedLive      *int64 `bun:"counted_live,scanonly"`
	CountedCompleted *int64 `bun:"counted_completed,scanonly"`
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

func newTaskRow(t *task.Task) taskRow {
	row := taskRow{
		ID:          int64(t.ID()),
		UserID:      string(t.Owner()),
		Title:       t.Title(),
		Description: t.Description(),
		Completed:   t.Completed(),
		Priority:    int16(t.Priority().Rank()),
		CompletedAt: t.CompletedAt(),
		TitleKey:    task.TitleKey(t.Title()),
		CreatedAt:   t.CreatedAt(),
		UpdatedAt:   t.UpdatedAt(),
		Version:     int64(t.Version()),
		Tags:        encodeTags(t.Tags()),
	}
	if d := t.Due(); !d.IsZero() {
		at := d.Time()
		row.DueAt, row.DueAllDay = &at, d.AllDay()
	}
	return row
}

func newTagRows(id int64, t *task.Task) []tagRow {
	tags := t.Tags()
	rows := make([]tagRow, len(tags))
	for i, tag := range tags {
		rows[i] = tagRow{TaskID: id, TagKey: task.TagKey(tag), UserID: string(t.Owner()), Position: int16(i), Tag: tag}
	}
	return rows
}

func (r *taskRow) task() (*task.Task, error) {
	tags, err := decodeTags(r.Tags)
	if err != nil {
		return nil, fmt.Errorf("restore task %d: %w", r.ID, err)
	}
	return r.restore(tags)
}

// restore is the row, with tags for its Tags column, as a task. The task
// keeps none of the row's pointers.
func (r *taskRow) restore(tags []string) (*task.Task, error) {
	s := task.Stored{
		ID:          task.ID(r.ID),
		Owner:       auth.UserID(r.UserID),
		Title:       r.Title,
		Description: r.Description,
		Completed:   r.Completed,
		Tags:        tags,
		CompletedAt: r.CompletedAt,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
		Version:     task.Version(r.Version),
	}
	if r.Version < 1 {
		s.Version = -1 // Restore refuses it
	}
	p, ok := task.PriorityOfRank(int(r.Priority))
	if !ok {
		p = task.Priority(fmt.Sprintf("rank %d", r.Priority)) // Restore refuses it
	}
	s.Priority = p
	switch {
	case r.DueAt != nil && r.DueAllDay:
		s.Due = task.DueOn(r.DueAt.UTC())
	case r.DueAt != nil:
		s.Due = task.DueAt(*r.DueAt)
	}
	t, err := s.Restore()
	if err != nil {
		return nil, fmt.Errorf("restore task %d: %w", r.ID, err)
	}
	return t, nil
}

// TaskRepository is a task.Repository in PostgreSQL or SQLite.
type TaskRepository struct {
	db *bun.DB
	// PostgreSQL's group commit (batch.go) for creates and for the
	// update's fast path.
	ins *batcher[taskRow]
	upd *batcher[updateArg]
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns a repository on a migrated db.
func NewTaskRepository(db *bun.DB) *TaskRepository {
	return &TaskRepository{db: db, ins: newInserter(db), upd: newUpdater(db)}
}

// Add inserts t, and its tags in the same transaction, and returns it with
// the id the database assigned, at version 1. Without tags it is one
// INSERT ... RETURNING id, prepared on PostgreSQL, where creates that
// arrive together share a statement and a commit (batch.go).
func (r *TaskRepository) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	if len(t.Tags()) > 0 {
		out, err := r.AddAll(ctx, []*task.Task{t})
		if err != nil {
			return nil, err
		}
		return out[0], nil
	}
	if !isPG(r.db) {
		id, err := insertTask(ctx, r.db, t)
		if err != nil {
			return nil, err
		}
		return t.WithID(id).WithVersion(1), nil
	}
	id, err := r.ins.do(ctx, newTaskRow(t))
	if err != nil {
		return nil, fmt.Errorf("insert task: %w", err)
	}
	if id <= 0 {
		return nil, fmt.Errorf("insert task: database returned id %d", id)
	}
	return t.WithID(task.ID(id)).WithVersion(1), nil
}

// AddAll inserts every task, then all their tags, in one transaction.
func (r *TaskRepository) AddAll(ctx context.Context, ts []*task.Task) ([]*task.Task, error) {
	out := make([]*task.Task, len(ts))
	err := r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var tags []tagRow
		for i, t := range ts {
			id, err := insertTask(ctx, tx, t)
			if err != nil {
				return err
			}
			out[i] = t.WithID(id).WithVersion(1)
			tags = append(tags, newTagRows(int64(id), t)...)
		}
		if len(tags) > 0 {
			if _, err := tx.NewInsert().Model(&tags).Exec(ctx); err != nil {
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

// insertTask inserts t's row (not its tags) at version 1 and returns its id.
func insertTask(ctx context.Context, db bun.IDB, t *task.Task) (task.ID, error) {
	row := newTaskRow(t)
	row.ID, row.Version, row.DeletedAt = 0, 1, nil
	if _, err := db.NewInsert().Model(&row).Returning("id").Exec(ctx); err != nil {
		return 0, fmt.Errorf("insert task: %w", err)
	}
	if row.ID <= 0 {
		return 0, fmt.Errorf("insert task: database returned id %d", row.ID)
	}
	return task.ID(row.ID), nil
}

// Get returns owner's task id, unless it is in the trash.
func (r *TaskRepository) Get(ctx context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	return r.getTask(ctx, owner, id, true)
}

// getTask reads owner's task id, in one prepared statement on PostgreSQL;
// live only, or in the trash too. ErrNotFound when there is none.
func (r *TaskRepository) getTask(ctx context.Context, owner auth.UserID, id task.ID, liveOnly bool) (*task.Task, error) {
	s := newSQL(isPG(r.db)).add("SELECT "+taskColumns+" FROM tasks AS t WHERE t.id = ? AND t.user_id = ?", int64(id), string(owner))
	if liveOnly {
		s.add(" AND t.deleted_at IS NULL")
	}
	t, err := queryTask(ctx, r.db, owner, s)
	if err != nil && !errors.Is(err, task.ErrNotFound) {
		return nil, fmt.Errorf("select task: %w", err)
	}
	return t, err
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
	pg := isPG(r.db)

	var ts []*task.Task
	var c counters
	counted := false
	if dueKeyset(q) {
		ts, err = r.dueKeysetPage(ctx, owner, q)
	} else {
		counted = withCounts(q)
		ts, c, err = queryTasks(ctx, r.db, owner, listSQL(owner, q, pg, counted))
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
		if page.Total, err = r.count(ctx, owner, q); err != nil {
			return task.Page{}, err
		}
	}
	if more {
		next := q.CursorAt(page.Tasks[len(page.Tasks)-1])
		page.Next = &next
	}
	return page, nil
}

// count is how many of owner's live tasks match q's filters.
func (r *TaskRepository) count(ctx context.Context, owner auth.UserID, q task.Query) (int, error) {
	pg := isPG(r.db)
	if onlyStatus(q) {
		var live, completed int64
		s := newSQL(pg).add("SELECT live, completed FROM task_counts WHERE user_id = ?", string(owner))
		err := queryInts(ctx, r.db, s, &live, &completed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return 0, nil
		case err != nil:
			return 0, fmt.Errorf("count tasks: %w", err)
		}
		return totalOf(q, live, completed), nil
	}
	var n int64
	s := filters(newSQL(pg).add("SELECT count(*) FROM tasks AS t"), owner, q)
	if err := queryInts(ctx, r.db, s, &n); err != nil {
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

// errStale means a conditional write found the row at another version
// than the one it read: someone else wrote it in between.
var errStale = errors.New("task changed since it was read")

// Update reads owner's task id, applies fn and writes the result, on
// condition that the row is still at the version read (UPDATE ... WHERE
// version = ?), so it can never overwrite a change it did not see:
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
//     too) goes to a transaction that locks the row as it reads it
//     (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the transaction, begun
//     IMMEDIATE on the only connection, holds the write lock), so writers
//     queue and every change lands.
func (r *TaskRepository) Update(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, fn func(*task.Task) error) (*task.Task, error) {
	out, err := r.updateFast(ctx, owner, id, expect, fn)
	if !errors.Is(err, errSlowPath) {
		return out, err
	}
	for attempt := 1; ; attempt++ {
		err := r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			row, t, err := r.readLive(ctx, tx, owner, []task.ID{id}, expect == task.AnyVersion)
			if err != nil {
				return err
			}
			if err := task.Conflict(t[0], expect); err != nil {
				return err
			}
			before := t[0].Tags()
			if err := fn(t[0]); err != nil {
				return err
			}
			out, err = writeTask(ctx, tx, &row[0], t[0], before)
			return err
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
	t, err := r.getTask(ctx, owner, id, true)
	if err != nil {
		return nil, err
	}
	read := int64(t.Version())
	if err := task.Conflict(t, expect); err != nil {
		return nil, err
	}
	before := t.Tags()
	if err := fn(t); err != nil {
		return nil, err
	}
	if !slices.Equal(before, t.Tags()) {
		return nil, errSlowPath
	}
	arg := updateArg{next: newTaskRow(t), read: read}
	var n int64
	if isPG(r.db) {
		n, err = r.upd.do(ctx, arg)
	} else {
		n, err = updateOne(ctx, r.db, arg)
	}
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
	current, err := r.Get(ctx, owner, id)
	if err != nil {
		return err
	}
	return task.Conflict(current, expect)
}

// readLive reads owner's live tasks ids, in the order given; ErrNotFound when one is missing. lock takes their row locks on
// PostgreSQL, in id order (the same order for every writer, so two bulk
// writers cannot deadlock).
func (r *TaskRepository) readLive(ctx context.Context, tx bun.Tx, owner auth.UserID, ids []task.ID, lock bool) ([]taskRow, []*task.Task, error) {
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	var rows []taskRow
	q := tx.NewSelect().Model(&rows).
		Where("t.user_id = ?", string(owner)).
		Where("t.id IN (?)", bun.List(raw)).
		Where("t.deleted_at IS NULL").
		OrderExpr("t.id")
	if lock && r.db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("select task for update: %w", err)
	}
	if len(rows) != len(ids) {
		return nil, nil, task.ErrNotFound
	}
	byID := make(map[int64]int, len(rows))
	for i := range rows {
		byID[rows[i].ID] = i
	}
	outRows := make([]taskRow, len(ids))
	out := make([]*task.Task, len(ids))
	for i, id := range raw {
		j, ok := byID[id]
		if !ok {
			return nil, nil, task.ErrNotFound
		}
		t, err := rows[j].task()
		if err != nil {
			return nil, nil, err
		}
		outRows[i], out[i] = rows[j], t
	}
	return outRows, out, nil
}

// writeTask writes t over row, one version up, on condition that the row
// is still at the version read (errStale otherwise), and rewrites its tags
// when they changed from before.
func writeTask(ctx context.Context, tx bun.Tx, row *taskRow, t *task.Task, before []string) (*task.Task, error) {
	next := newTaskRow(t)
	next.Version = row.Version + 1
	res, err := tx.NewUpdate().Model(&next).
		Column("title", "description", "completed", "priority", "due_at", "due_all_day",
			"completed_at", "title_key", "updated_at", "version", "tags").
		Where("t.id = ?", row.ID).
		Where("t.user_id = ?", row.UserID).
		Where("t.version = ?", row.Version).
		Where("t.deleted_at IS NULL").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("update task: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("update task: %w", err)
	} else if n != 1 {
		return nil, errStale
	}
	if !slices.Equal(before, t.Tags()) {
		if _, err := tx.NewDelete().Model((*tagRow)(nil)).Where("tt.task_id = ?", row.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete tags: %w", err)
		}
		if rows := newTagRows(row.ID, t); len(rows) > 0 {
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return nil, fmt.Errorf("insert tags: %w", err)
			}
		}
	}
	return t.WithVersion(task.Version(next.Version)), nil
}

// UpdateAll locks and reads every task, applies fn to each and writes them
// in one transaction: a missing id, a failing fn or a failing write rolls
// all of it back.
func (r *TaskRepository) UpdateAll(ctx context.Context, owner auth.UserID, ids []task.ID, fn func(*task.Task) error) ([]*task.Task, error) {
	ids = task.UniqueIDs(ids)
	out := make([]*task.Task, len(ids))
	err := r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		rows, ts, err := r.readLive(ctx, tx, owner, ids, true)
		if err != nil {
			return err
		}
		for i, t := range ts {
			before := t.Tags()
			if err := fn(t); err != nil {
				return err
			}
			if out[i], err = writeTask(ctx, tx, &rows[i], t, before); err != nil {
				return err
			}
		}
		return nil
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

// Delete removes owner's task id for good, from the list or the trash; its
// tags go with it (ON DELETE CASCADE). With expect, the DELETE itself checks
// the version.
func (r *TaskRepository) Delete(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version) error {
	q := r.db.NewDelete().Model((*taskRow)(nil)).
		Where("t.id = ?", int64(id)).
		Where("t.user_id = ?", string(owner))
	if expect != task.AnyVersion {
		q = q.Where("t.version = ?", int64(expect))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	n, err := res.RowsAffected()
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
