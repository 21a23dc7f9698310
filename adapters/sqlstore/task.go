package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
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
	DeletedAt   *time.Time `bun:"deleted_at"` // in the trash since; nil when live
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

func (r *taskRow) task(tags []string) (*task.Task, error) {
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
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns a repository on a migrated db.
func NewTaskRepository(db *bun.DB) *TaskRepository {
	return &TaskRepository{db: db}
}

// Add inserts t, and its tags in the same transaction, and returns it with
// the id the database assigned, at version 1.
func (r *TaskRepository) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	if len(t.Tags()) == 0 {
		id, err := insertTask(ctx, r.db, t)
		if err != nil {
			return nil, err
		}
		return t.WithID(id).WithVersion(1), nil
	}
	out, err := r.AddAll(ctx, []*task.Task{t})
	if err != nil {
		return nil, err
	}
	return out[0], nil
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
	return getTask(ctx, r.db, owner, id, true)
}

// getTask reads owner's task id with its tags; live only, or in the trash
// too.
func getTask(ctx context.Context, db bun.IDB, owner auth.UserID, id task.ID, liveOnly bool) (*task.Task, error) {
	var row taskRow
	q := db.NewSelect().Model(&row).
		Where("t.id = ?", int64(id)).
		Where("t.user_id = ?", string(owner))
	if liveOnly {
		q = q.Where("t.deleted_at IS NULL")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, task.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select task: %w", err)
	}
	tags, err := loadTags(ctx, db, owner, row.ID)
	if err != nil {
		return nil, err
	}
	return row.task(tags[row.ID])
}

// loadTags returns the tags of owner's tasks ids, in each task's order.
func loadTags(ctx context.Context, db bun.IDB, owner auth.UserID, ids ...int64) (map[int64][]string, error) {
	out := make(map[int64][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []tagRow
	err := db.NewSelect().Model(&rows).
		Column("task_id", "tag").
		Where("tt.user_id = ?", string(owner)).
		Where("tt.task_id IN (?)", bun.In(ids)).
		OrderExpr("tt.task_id, tt.position").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select tags: %w", err)
	}
	for _, t := range rows {
		out[t.TaskID] = append(out[t.TaskID], t.Tag)
	}
	return out, nil
}

// List returns one page of owner's tasks (see task.Repository). Every
// filter, the order, the keyset and the page size are SQL: a page costs one
// index range scan whatever its position, and one more query loads the
// page's tags. The total is a second COUNT over the same filters, skipped
// when the first page already holds every match.
func (r *TaskRepository) List(ctx context.Context, owner auth.UserID, q task.Query) (task.Page, error) {
	q, err := q.Normalized()
	if err != nil {
		return task.Page{}, err
	}
	pg := r.db.Dialect().Name() == dialect.PG
	filter := func(sel *bun.SelectQuery) *bun.SelectQuery {
		return applyFilters(sel.Where("t.user_id = ?", string(owner)).Where("t.deleted_at IS NULL"), owner, q, pg)
	}

	var rows []taskRow
	if q.Sort == task.SortDue && q.Limit > 0 && q.Offset == 0 {
		rows, err = r.dueKeysetPage(ctx, q, filter)
	} else {
		sel := filter(r.db.NewSelect().Model(&rows))
		sel = applyOrder(sel, q)
		switch {
		case q.Limit > 0:
			sel = sel.Limit(int64(q.Limit) + 1) // one more tells whether there is a next page
		case q.Offset > 0 && !pg:
			sel = sel.Limit(math.MaxInt64) // SQLite needs a LIMIT before OFFSET (bun drops a negative one)
		}
		if q.Offset > 0 {
			sel = sel.Offset(int64(q.Offset))
		}
		err = sel.Scan(ctx)
	}
	if err != nil {
		return task.Page{}, fmt.Errorf("list tasks: %w", err)
	}

	page := task.Page{Tasks: make([]*task.Task, 0, len(rows))}
	more := q.Limit > 0 && len(rows) > q.Limit
	if more {
		rows = rows[:q.Limit]
	}
	if q.After == nil && q.Offset == 0 && !more {
		page.Total = len(rows)
	} else {
		n, err := filter(r.db.NewSelect().Model((*taskRow)(nil))).Count(ctx)
		if err != nil {
			return task.Page{}, fmt.Errorf("count tasks: %w", err)
		}
		page.Total = int(n)
	}

	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	tags, err := loadTags(ctx, r.db, owner, ids...)
	if err != nil {
		return task.Page{}, err
	}
	for i := range rows {
		t, err := rows[i].task(tags[rows[i].ID])
		if err != nil {
			return task.Page{}, err
		}
		page.Tasks = append(page.Tasks, t)
	}
	if more {
		next := q.CursorAt(page.Tasks[len(page.Tasks)-1])
		page.Next = &next
	}
	return page, nil
}

// errStale means a conditional write found the row at another version
// than the one it read: someone else wrote it in between.
var errStale = errors.New("task changed since it was read")

// Update reads owner's task id, applies fn and writes the result, tags
// included, in one transaction. The write is conditional on the version
// read (UPDATE ... WHERE version = ?), so it can never overwrite a change
// it did not see:
//
//   - with expect (If-Match), the row is read without a lock and checked
//     against expect; a writer that lost the race finds 0 rows and gets a
//     *task.ConflictError with the task as it is now. Of many writers on
//     one version, exactly one writes.
//   - without, the row is locked as it is read (SELECT ... FOR UPDATE on
//     PostgreSQL; on SQLite the transaction, begun IMMEDIATE on the only
//     connection, holds the write lock), so writers queue and every change
//     lands.
func (r *TaskRepository) Update(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, fn func(*task.Task) error) (*task.Task, error) {
	for attempt := 1; ; attempt++ {
		var out *task.Task
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
		current, err := r.Get(ctx, owner, id)
		if err != nil {
			return nil, err
		}
		if err := task.Conflict(current, expect); err != nil {
			return nil, err
		}
		// The version read is gone although expect still holds (or there
		// is none): read again. The row lock makes this all but impossible.
		if attempt == 3 {
			return nil, fmt.Errorf("update task: %w", errStale)
		}
	}
}

// readLive reads owner's live tasks ids, in the order given, with their
// tags; ErrNotFound when one is missing. lock takes their row locks on
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
		Where("t.id IN (?)", bun.In(raw)).
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
	tags, err := loadTags(ctx, tx, owner, raw...)
	if err != nil {
		return nil, nil, err
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
		t, err := rows[j].task(tags[id])
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
			"completed_at", "title_key", "updated_at", "version").
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
	current, err := getTask(ctx, r.db, owner, id, false)
	if err != nil {
		return err
	}
	if err := task.Conflict(current, expect); err != nil {
		return err
	}
	return task.ErrNotFound // gone and back at the version? Only a race can say so.
}
