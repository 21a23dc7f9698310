package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
)

// The task row, once. taskColumns is every column of tasks the repository
// reads or writes, with how; the statements and the scans are made from it:
// the reads' select list and scan targets, the insert and the update, and
// the batches' unnest arrays and their casts. A new column is one entry
// here, its migrations and its field in task.Stored. TestTaskColumns holds
// the table to the schema the migrations build, on both databases.

// statements says which statements write or read a column. A batch writes
// what its single statement writes.
type statements uint8

const (
	selects statements = 1 << iota // read by every statement that reads tasks
	inserts                        // written by the insert and the insert batch
	updates                        // written by the update and the update batch
	places                         // written by a move (placeSQL), with the updated ones
)

// column is one column of tasks.
type column struct {
	name string
	in   statements
	// pgType is the column's PostgreSQL type: the batches send the column
	// as an array, unnest($n::pgType[]).
	pgType string
	// write is how a written column takes its value from the task.
	write *writer
	// read is the scan target of a selected column in a row being read,
	// which puts the value into the row's task.Stored.
	read func(r *rowScan) any
}

var taskColumns = []column{
	{name: "id", pgType: "bigint", in: selects,
		read: scanInt(func(r *rowScan, v int64) { r.s.ID = task.ID(v) })},
	// The owner. A read of a member's (shared lists, issue 19) finds other
	// owners' tasks beside the caller's: each row says whose it is
	// (rowScan.task).
	{name: "user_id", pgType: "text", in: selects | inserts,
		write: writes(func(s *task.Stored) string { return string(s.Owner) }),
		read:  scanBytes(func(r *rowScan, v []byte) { r.owner = v })},
	{name: "title", pgType: "text", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) string { return s.Title }),
		read:  scanText(func(r *rowScan, v string) { r.s.Title = v })},
	{name: "description", pgType: "text", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) *string { return s.Description }),
		read:  scanNullText(func(r *rowScan, v *string) { r.s.Description = v })},
	{name: "completed", pgType: "bool", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) bool { return s.Completed }),
		read:  scanBool(func(r *rowScan, v bool) { r.s.Completed = v })},
	// The priority's rank, so that ORDER BY priority sorts by rank.
	{name: "priority", pgType: "int2", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) int16 { return int16(priorityOf(s).Rank()) }),
		read:  scanInt(func(r *rowScan, v int64) { r.s.Priority = priorityOfRank(v) })},
	// due_at and due_all_day are one task.Due (rowScan.task): an instant, or
	// a whole day kept as that date at 00:00 UTC.
	{name: "due_at", pgType: "timestamptz", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) *time.Time { return dueAt(s.Due) }),
		read:  scanNullTime(func(r *rowScan, v *time.Time) { r.dueAt = v })},
	{name: "due_all_day", pgType: "bool", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) bool { return s.Due.AllDay() }),
		read:  scanBool(func(r *rowScan, v bool) { r.dueAllDay = v })},
	// With due_at, the rest of the due (issue 18, migration 20261207000001):
	// its zone and whether it floats; then the recurrence.
	{name: "due_tz", pgType: "text", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) *string { return nonEmpty(s.Due.ZoneName()) }),
		read:  scanNullText(func(r *rowScan, v *string) { r.dueTZ = deref(v) })},
	{name: "due_floating", pgType: "bool", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) bool { return s.Due.Floating() }),
		read:  scanBool(func(r *rowScan, v bool) { r.dueFloating = v })},
	{name: "recurrence_rule", pgType: "text", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) *string { return nonEmpty(s.RecurrenceRule) }),
		read:  scanNullText(func(r *rowScan, v *string) { r.s.RecurrenceRule = deref(v) })},
	{name: "recurrence_from", pgType: "text", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) *string { return nonEmpty(s.RecurrenceFrom) }),
		read:  scanNullText(func(r *rowScan, v *string) { r.s.RecurrenceFrom = deref(v) })},
	{name: "recurrence_passed", pgType: "int4", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) int32 { return int32(s.RecurrencePassed) }),
		read:  scanInt(func(r *rowScan, v int64) { r.s.RecurrencePassed = int(v) })},
	{name: "reminders", pgType: "text", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) string { return encodeReminders(s.Reminders) }),
		read:  scanBytes(func(r *rowScan, v []byte) { r.reminders = v })},
	{name: "completed_at", pgType: "timestamptz", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) *time.Time { return s.CompletedAt }),
		read:  scanNullTime(func(r *rowScan, v *time.Time) { r.s.CompletedAt = v })},
	// The user whose request wrote the latest version (task.Stored.By;
	// NULL: the owner), which the revisions trigger records as the
	// revision's by (migration 20261212000010); never read.
	{name: "updated_by", pgType: "text", in: inserts | updates,
		write: writes(func(s *task.Stored) *string { return nonEmpty(string(s.By)) })},
	// The folded title, which titles sort and search by; never read.
	{name: "title_key", pgType: "text", in: inserts | updates,
		write: writes(func(s *task.Stored) string { return task.TitleKey(s.Title) })},
	{name: "created_at", pgType: "timestamptz", in: selects | inserts,
		write: writes(func(s *task.Stored) time.Time { return s.CreatedAt }),
		read:  scanTime(func(r *rowScan, v time.Time) { r.s.CreatedAt = v })},
	{name: "updated_at", pgType: "timestamptz", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) time.Time { return s.UpdatedAt }),
		read:  scanTime(func(r *rowScan, v time.Time) { r.s.UpdatedAt = v })},
	// 1 when inserted (insertTask); the version read plus one when updated
	// (updateArgs, updateMany), on condition that it is still the version
	// read.
	{name: "version", pgType: "bigint", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) int64 { return int64(s.Version) }),
		read: scanInt(func(r *rowScan, v int64) {
			r.s.Version = task.Version(v)
			if v < 1 {
				r.s.Version = -1 // Restore refuses it (0 would mean 1)
			}
		})},
	// A copy of the task's task_tags rows as a JSON array, kept by the
	// database's triggers whoever writes task_tags (migration
	// 20261126000002): read here, written by none of these statements.
	{name: "tags", pgType: "text", in: selects,
		read: scanBytes(func(r *rowScan, v []byte) { r.tags = v })},
	// The task's list (NULL: the inbox) and parent (NULL: top level): set
	// when it is created, changed by a move only (migration 20261201000001).
	{name: "list_id", pgType: "bigint", in: selects | inserts | places,
		write: writes(func(s *task.Stored) *int64 { return (*int64)(s.ListID) }),
		read: scanNullInt(func(r *rowScan, v *int64) {
			r.s.ListID = nil
			if v != nil {
				r.listID = list.ID(*v)
				r.s.ListID = &r.listID
			}
		})},
	{name: "parent_id", pgType: "bigint", in: selects | inserts | places,
		write: writes(func(s *task.Stored) *int64 { return (*int64)(s.ParentID) }),
		read: scanNullInt(func(r *rowScan, v *int64) {
			r.s.ParentID = nil
			if v != nil {
				r.parentID = task.ID(*v)
				r.s.ParentID = &r.parentID
			}
		})},
	// Who created the task (NULL: its owner) and who it is assigned to
	// (NULL: nobody), issue 19, migration 20261211000002.
	{name: "created_by", pgType: "text", in: selects | inserts,
		write: writes(func(s *task.Stored) *string { return createdBy(s) }),
		read:  scanNullText(func(r *rowScan, v *string) { r.s.CreatedBy = auth.UserID(deref(v)) })},
	{name: "assignee_id", pgType: "text", in: selects | inserts | updates,
		write: writes(func(s *task.Stored) *string { return (*string)(s.Assignee) }),
		read: scanNullText(func(r *rowScan, v *string) {
			r.s.Assignee = nil
			if v != nil {
				a := auth.UserID(*v)
				r.s.Assignee = &a
			}
		})},
	// The key a move gave the task, NULL for one never moved (a new task
	// needs no key, see sortKeyPG); read as sort_key.
	{name: "position", pgType: "text", in: places,
		write: writes(func(s *task.Stored) *string { return explicitKey(s.Position, int64(s.ID)) })},
	// The key the task sorts by among its siblings (generated: its position
	// or its implicit key): Task.Position.
	{name: "sort_key", pgType: "text", in: selects,
		read: scanText(func(r *rowScan, v string) { r.s.Position = v })},
}

// createdBy is what created_by keeps: NULL when the owner created the
// task.
func createdBy(s *task.Stored) *string {
	if s.CreatedBy == "" || s.CreatedBy == s.Owner {
		return nil
	}
	c := string(s.CreatedBy)
	return &c
}

// explicitKey is what the position column keeps of key, the key of task
// id: NULL for its implicit key (or none).
func explicitKey(key string, id int64) *string {
	if key == "" || key == position.Implicit(id) {
		return nil
	}
	return &key
}

// The columns of each kind of statement, in taskColumns' order.
var (
	selectedColumns = columnsIn(selects)
	insertedColumns = columnsIn(inserts)
	updatedColumns  = columnsIn(updates)
	placedColumns   = columnsIn(updates | places)
)

func columnsIn(in statements) []column {
	var out []column
	for _, c := range taskColumns {
		if c.in&in != 0 {
			out = append(out, c)
		}
	}
	return out
}

// joined is f of each column, comma-separated.
func joined(cols []column, f func(i int, c column) string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = f(i, c)
	}
	return strings.Join(parts, ", ")
}

// The statements, written once from the columns.
var (
	// selectList is what every read of tasks selects, t.id, t.title, ...,
	// in the order of a rowScan's targets. A statement may select more
	// after it (see extra).
	selectList = joined(selectedColumns, func(_ int, c column) string { return "t." + c.name })

	// getSQL reads one task of an owner, live; getAnySQL, in the trash too.
	getSQL    = newStmt("SELECT " + selectList + " FROM tasks AS t WHERE t.id = ? AND t.user_id = ? AND t.deleted_at IS NULL")
	getAnySQL = newStmt("SELECT " + selectList + " FROM tasks AS t WHERE t.id = ? AND t.user_id = ?")

	// insertSQL is a single create (insertArgs).
	insertSQL = newStmt("INSERT INTO tasks (" + joined(insertedColumns, func(_ int, c column) string { return c.name }) +
		") VALUES (" + joined(insertedColumns, func(int, column) string { return "?" }) + ") RETURNING id")

	// insertManySQL is a batch of creates (insertMany), PostgreSQL only:
	// the rows in order (WITH ORDINALITY, ORDER BY), so that the sequence
	// hands out ids in that order too.
	insertManySQL = "INSERT INTO tasks (" + joined(insertedColumns, func(_ int, c column) string { return c.name }) + ") " +
		"SELECT " + joined(insertedColumns, func(_ int, c column) string { return "u." + c.name }) + " " +
		"FROM unnest(" + joined(insertedColumns, func(i int, c column) string { return "$" + strconv.Itoa(i+1) + "::" + c.pgType + "[]" }) + ") " +
		"WITH ORDINALITY AS u(" + joined(insertedColumns, func(_ int, c column) string { return c.name }) + ", " + batchOrder + ") " +
		"ORDER BY u." + batchOrder + " RETURNING id"

	// updateSQL is a single update (updateArgs): the task's new values, on
	// condition that it is still live at the version read.
	updateSQL = newStmt("UPDATE tasks SET " + joined(updatedColumns, func(_ int, c column) string { return c.name + " = ?" }) +
		" WHERE id = ? AND user_id = ? AND version = ? AND deleted_at IS NULL")

	// placeSQL is a move's write of one task (placeArgs): updateSQL's, and
	// where the task is (list, parent, key).
	placeSQL = newStmt("UPDATE tasks SET " + joined(placedColumns, func(_ int, c column) string { return c.name + " = ?" }) +
		" WHERE id = ? AND user_id = ? AND version = ? AND deleted_at IS NULL")

	// getForUpdateSQL is getSQL for the update's fast path, which must know
	// whether the task has live subtasks (a completion then completes them
	// too, in a transaction).
	getForUpdateSQL = newStmt("SELECT " + selectList + ", EXISTS (SELECT 1 FROM tasks AS c WHERE c.parent_id = t.id AND c.deleted_at IS NULL)" +
		" FROM tasks AS t WHERE t.id = ? AND t.user_id = ? AND t.deleted_at IS NULL")

	// updateManySQL is a batch of updates (updateMany), one per task
	// (batcher.key), each on updateSQL's conditions; RETURNING names the
	// tasks that were still as read. The tasks are locked first, in id
	// order (the CTE), as every statement that writes many tasks locks them
	// (see lockInIDOrder), so that two such statements never wait on each
	// other in a cycle: the join alone locks in the order of its plan, which
	// on a small table is a hash join in heap order (a reviewer's test: 4
	// deadlocks in 4 s).
	updateManySQL = "WITH locked AS MATERIALIZED (SELECT id FROM tasks WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL " +
		"ORDER BY id FOR UPDATE) " +
		"UPDATE tasks AS t SET " + joined(updatedColumns, func(_ int, c column) string { return c.name + " = u." + c.name }) + " " +
		"FROM unnest($1::bigint[], $2::text[], $3::bigint[], " +
		joined(updatedColumns, func(i int, c column) string { return "$" + strconv.Itoa(i+4) + "::" + c.pgType + "[]" }) + ") " +
		"AS u(" + batchID + ", " + batchOwner + ", " + batchRead + ", " + joined(updatedColumns, func(_ int, c column) string { return c.name }) + ") " +
		"WHERE t.id = u." + batchID + " AND t.id IN (SELECT id FROM locked) AND t.user_id = u." + batchOwner +
		" AND t.version = u." + batchRead + " AND t.deleted_at IS NULL RETURNING t.id"
)

// The batches' own columns in unnest(...) AS u(...), beside the table's:
// a create's place in its batch, an update's task, owner and version read.
// No column of tasks may have these names (TestTaskColumns).
const (
	batchOrder = "batch_n"
	batchID    = "batch_id"
	batchOwner = "batch_user_id"
	batchRead  = "batch_version"
)

// insertArgs are a single create's arguments, after lead.
func insertArgs(s *task.Stored, lead ...any) []any {
	args := make([]any, len(lead), len(lead)+len(insertedColumns))
	copy(args, lead)
	for _, c := range insertedColumns {
		args = append(args, c.write.value(s))
	}
	return args
}

// updateArgs are a single update's arguments, after lead: next's values at
// version read+1 (next is changed so), then its id, owner and the version
// read.
func updateArgs(next *task.Stored, read int64, lead ...any) []any {
	next.Version = task.Version(read + 1)
	args := make([]any, len(lead), len(lead)+len(updatedColumns)+3)
	copy(args, lead)
	for _, c := range updatedColumns {
		args = append(args, c.write.value(next))
	}
	return append(args, int64(next.ID), string(next.Owner), read)
}

// placeArgs are a move's arguments for one task: next's values at version
// read+1 (next is changed so), then its id, owner and the version read.
func placeArgs(next *task.Stored, read int64) []any {
	next.Version = task.Version(read + 1)
	args := make([]any, 0, len(placedColumns)+3)
	for _, c := range placedColumns {
		args = append(args, c.write.value(next))
	}
	return append(args, int64(next.ID), string(next.Owner), read)
}

// columnArrays are the columns of n rows, row(0) to row(n-1), as the arrays
// a batch's unnest(...) reads, after lead.
func columnArrays(cols []column, n int, row func(i int) *task.Stored, lead ...any) []any {
	args := make([]any, len(lead), len(lead)+len(cols))
	copy(args, lead)
	for _, c := range cols {
		args = append(args, c.write.values(n, row))
	}
	return args
}

// writer is how a column is written: its value, for a single statement,
// and the array of its values, for a batch.
type writer struct {
	value  func(s *task.Stored) any
	values func(n int, row func(i int) *task.Stored) any
}

// writes is the writer of a column whose value f takes from the task. T is
// what the drivers are given: a type both pgx and Bun write as the column's
// type, and whose slice pgx sends as the column's array.
func writes[T any](f func(s *task.Stored) T) *writer {
	return &writer{
		value: func(s *task.Stored) any { return f(s) },
		values: func(n int, row func(i int) *task.Stored) any {
			a := make([]T, n)
			for i := range a {
				a[i] = f(row(i))
			}
			return a
		},
	}
}

func priorityOf(s *task.Stored) task.Priority {
	if s.Priority == "" {
		return task.DefaultPriority
	}
	return s.Priority
}

// priorityOfRank is the priority a rank was written for; one Restore
// refuses when there is none.
func priorityOfRank(rank int64) task.Priority {
	if p, ok := task.PriorityOfRank(int(rank)); ok {
		return p
	}
	return task.Priority(fmt.Sprintf("rank %d", rank))
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func dueAt(d task.Due) *time.Time {
	if d.IsZero() {
		return nil
	}
	at := d.Time()
	return &at
}

// extra names the columns a statement selects after selectList.
type extra uint8

const (
	noExtra extra = iota
	// extraCounts: the owner's task_counts row, live and completed, or two
	// NULLs (listSQL).
	extraCounts
	// extraDeletedAt: t.deleted_at, when the task went to the trash.
	extraDeletedAt
	// extraTrash: t.deleted_at and t.trashed_with, NULL for a live task.
	extraTrash
	// extraChildren: whether the task has live subtasks (getForUpdateSQL).
	extraChildren
	// extraNeighbour: a key next to the task's, or NULL (anchorSQL).
	extraNeighbour
	extras // how many there are
)

// taskRows is what a statement that selects tasks read.
type taskRows struct {
	tasks []*task.Task
	// counts: the owner's counters, extraCounts; zero without them.
	counts counters
	// deletedAt: when each task went to the trash, extraDeletedAt.
	deletedAt []time.Time
	// trash: each task's deletion time and mark, extraTrash.
	trash []trashed
	// children: whether each task has live subtasks, extraChildren.
	children []bool
	// neighbours: the key next to each task's, "" for none, extraNeighbour.
	neighbours []string
}

// trashed is when and why a task went to the trash; the zero value for a
// live task.
type trashed struct {
	at   *time.Time
	mark task.TrashMark
}

// counters are the owner's task_counts row as a page read it (listSQL);
// zero when the statement did not select it or the owner has none.
type counters struct{ live, completed int64 }

// rowScan is one row being read: the task it becomes, what some columns are
// read into before they are the task's, and the scan targets, which put
// each column's value there. One rowScan reads every row of a statement,
// each row overwriting the last; they are pooled, so that a read costs no
// allocation beyond the tasks it returns.
type rowScan struct {
	s           task.Stored
	dueAt       *time.Time
	dueAllDay   bool
	dueFloating bool
	dueTZ       string
	reminders   []byte // in the driver's buffer, until the next row
	tags        []byte // in the driver's buffer, until the next row
	listID      list.ID
	parentID    task.ID
	owner       []byte      // in the driver's buffer, until the next row
	other       auth.UserID // the last owner read who was not the caller

	live, completed *int64
	deletedAt       *time.Time
	trashedWith     *string
	hasChildren     bool
	neighbour       *string

	targets [extras][]any // by extra: selectedColumns' targets, then its own
}

var rowScans = sync.Pool{New: func() any { return newRowScan() }}

func newRowScan() *rowScan {
	r := &rowScan{}
	base := make([]any, len(selectedColumns))
	for i, c := range selectedColumns {
		base[i] = c.read(r)
	}
	more := func(ts ...any) []any { return append(base[:len(base):len(base)], ts...) }
	r.targets[noExtra] = base
	r.targets[extraCounts] = more(
		scanNullInt(func(r *rowScan, v *int64) { r.live = v })(r),
		scanNullInt(func(r *rowScan, v *int64) { r.completed = v })(r))
	r.targets[extraDeletedAt] = more(scanNullTime(func(r *rowScan, v *time.Time) { r.deletedAt = v })(r))
	r.targets[extraTrash] = more(scanNullTime(func(r *rowScan, v *time.Time) { r.deletedAt = v })(r),
		scanNullText(func(r *rowScan, v *string) { r.trashedWith = v })(r))
	r.targets[extraChildren] = more(scanBool(func(r *rowScan, v bool) { r.hasChildren = v })(r))
	r.targets[extraNeighbour] = more(scanNullText(func(r *rowScan, v *string) { r.neighbour = v })(r))
	return r
}

// release returns r to the pool, holding on to no row's memory.
func (r *rowScan) release() {
	r.reminders, r.owner, r.other = nil, nil, ""
	r.s, r.dueAt, r.tags, r.live, r.completed, r.deletedAt, r.trashedWith, r.neighbour = task.Stored{}, nil, nil, nil, nil, nil, nil, nil
	rowScans.Put(r)
}

// task is the row just scanned as a task; the task keeps none of the
// row's memory. caller is whose tasks the statement read, the owner of
// most rows: a row of theirs takes that string, another owner's its own.
func (r *rowScan) task(caller auth.UserID) (*task.Task, error) {
	s := r.s
	s.Owner = caller
	if string(r.owner) != string(caller) {
		// Another owner's: the string of the last such row when it is the
		// same owner (a shared list's rows are one owner's).
		if string(r.owner) != string(r.other) {
			r.other = auth.UserID(string(r.owner))
		}
		s.Owner = r.other
	}
	if r.dueAt != nil {
		d, err := task.RestoreDue(*r.dueAt, r.dueAllDay, r.dueFloating, r.dueTZ)
		if err != nil {
			return nil, fmt.Errorf("restore task %d: %w", s.ID, err)
		}
		s.Due = d
	}
	tags, err := decodeTags(r.tags)
	if err != nil {
		return nil, fmt.Errorf("restore task %d: %w", s.ID, err)
	}
	s.Tags = tags
	if s.Reminders, err = decodeReminders(r.reminders); err != nil {
		return nil, fmt.Errorf("restore task %d: %w", s.ID, err)
	}
	t, err := s.Restore()
	if err != nil {
		return nil, fmt.Errorf("restore task %d: %w", s.ID, err)
	}
	return t, nil
}

// The scan targets. Each takes a column's value from pgx by one of its typed
// scanner interfaces, which pgx prefers to sql.Scanner and which cost no
// allocation, and from database/sql (SQLite, transactions) by sql.Scanner;
// and hands it, as a Go value, to the column's set function. A nullable
// column's value lives in its target until the next row.

var errNull = errors.New("NULL in a NOT NULL column")

func scanText(set func(r *rowScan, v string)) func(r *rowScan) any {
	return func(r *rowScan) any { return &textTarget{r: r, set: set} }
}

type textTarget struct {
	r   *rowScan
	set func(*rowScan, string)
}

func (t *textTarget) ScanText(v pgtype.Text) error {
	if !v.Valid {
		return errNull
	}
	t.set(t.r, v.String)
	return nil
}

func (t *textTarget) Scan(src any) error {
	switch v := src.(type) {
	case string:
		t.set(t.r, v)
	case []byte:
		t.set(t.r, string(v))
	case nil:
		return errNull
	default:
		return fmt.Errorf("text column: unexpected %T", src)
	}
	return nil
}

func scanNullText(set func(r *rowScan, v *string)) func(r *rowScan) any {
	return func(r *rowScan) any { return &nullTextTarget{r: r, set: set} }
}

type nullTextTarget struct {
	r   *rowScan
	set func(*rowScan, *string)
	v   string
}

func (t *nullTextTarget) ScanText(v pgtype.Text) error {
	if !v.Valid {
		t.set(t.r, nil)
		return nil
	}
	t.v = v.String
	t.set(t.r, &t.v)
	return nil
}

func (t *nullTextTarget) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.set(t.r, nil)
		return nil
	case string:
		t.v = v
	case []byte:
		t.v = string(v)
	default:
		return fmt.Errorf("text column: unexpected %T", src)
	}
	t.set(t.r, &t.v)
	return nil
}

// scanBytes reads a text column in place: v is valid until the next row.
func scanBytes(set func(r *rowScan, v []byte)) func(r *rowScan) any {
	return func(r *rowScan) any { return &bytesTarget{r: r, set: set} }
}

type bytesTarget struct {
	r   *rowScan
	set func(*rowScan, []byte)
}

func (t *bytesTarget) ScanBytes(v []byte) error {
	t.set(t.r, v)
	return nil
}

func (t *bytesTarget) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		t.set(t.r, v)
	case string:
		t.set(t.r, []byte(v))
	case nil:
		t.set(t.r, nil)
	default:
		return fmt.Errorf("text column: unexpected %T", src)
	}
	return nil
}

func scanBool(set func(r *rowScan, v bool)) func(r *rowScan) any {
	return func(r *rowScan) any { return &boolTarget{r: r, set: set} }
}

type boolTarget struct {
	r   *rowScan
	set func(*rowScan, bool)
}

func (t *boolTarget) ScanBool(v pgtype.Bool) error {
	if !v.Valid {
		return errNull
	}
	t.set(t.r, v.Bool)
	return nil
}

func (t *boolTarget) Scan(src any) error {
	switch v := src.(type) {
	case bool:
		t.set(t.r, v)
	case int64: // SQLite keeps booleans as integers
		t.set(t.r, v != 0)
	case nil:
		return errNull
	default:
		return fmt.Errorf("boolean column: unexpected %T", src)
	}
	return nil
}

func scanInt(set func(r *rowScan, v int64)) func(r *rowScan) any {
	return func(r *rowScan) any { return &intTarget{r: r, set: set} }
}

type intTarget struct {
	r   *rowScan
	set func(*rowScan, int64)
}

func (t *intTarget) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		return errNull
	}
	t.set(t.r, v.Int64)
	return nil
}

func (t *intTarget) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		t.set(t.r, v)
	case nil:
		return errNull
	default:
		return fmt.Errorf("integer column: unexpected %T", src)
	}
	return nil
}

func scanNullInt(set func(r *rowScan, v *int64)) func(r *rowScan) any {
	return func(r *rowScan) any { return &nullIntTarget{r: r, set: set} }
}

type nullIntTarget struct {
	r   *rowScan
	set func(*rowScan, *int64)
	v   int64
}

func (t *nullIntTarget) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		t.set(t.r, nil)
		return nil
	}
	t.v = v.Int64
	t.set(t.r, &t.v)
	return nil
}

func (t *nullIntTarget) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.set(t.r, nil)
	case int64:
		t.v = v
		t.set(t.r, &t.v)
	default:
		return fmt.Errorf("integer column: unexpected %T", src)
	}
	return nil
}

func scanTime(set func(r *rowScan, v time.Time)) func(r *rowScan) any {
	return func(r *rowScan) any { return &timeTarget{r: r, set: set} }
}

type timeTarget struct {
	r   *rowScan
	set func(*rowScan, time.Time)
}

func (t *timeTarget) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		return errNull
	}
	if v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("timestamp column: %s", v.InfinityModifier)
	}
	t.set(t.r, v.Time)
	return nil
}

func (t *timeTarget) Scan(src any) error {
	if src == nil {
		return errNull
	}
	v, err := timeOf(src)
	if err != nil {
		return err
	}
	t.set(t.r, v)
	return nil
}

func scanNullTime(set func(r *rowScan, v *time.Time)) func(r *rowScan) any {
	return func(r *rowScan) any { return &nullTimeTarget{r: r, set: set} }
}

type nullTimeTarget struct {
	r   *rowScan
	set func(*rowScan, *time.Time)
	v   time.Time
}

func (t *nullTimeTarget) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		t.set(t.r, nil)
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("timestamp column: %s", v.InfinityModifier)
	}
	t.v = v.Time
	t.set(t.r, &t.v)
	return nil
}

func (t *nullTimeTarget) Scan(src any) error {
	if src == nil {
		t.set(t.r, nil)
		return nil
	}
	v, err := timeOf(src)
	if err != nil {
		return err
	}
	t.v = v
	t.set(t.r, &t.v)
	return nil
}

// sqliteTimeLayouts are how a time may come back from SQLite as text: the
// driver hands back a time.Time for a TIMESTAMP column it can parse, which
// is every time Bun wrote (its layout is the first here).
var sqliteTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"}

func timeOf(src any) (time.Time, error) {
	var s string
	switch v := src.(type) {
	case time.Time:
		return v, nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return time.Time{}, fmt.Errorf("timestamp column: unexpected %T", src)
	}
	for _, layout := range sqliteTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp column: cannot parse %q", s)
}

// decodeTags reads the tags column: a JSON array of strings, "[]" for none.
func decodeTags[T ~string | ~[]byte](s T) ([]string, error) {
	if len(s) == 0 || string(s) == "[]" {
		return nil, nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("decode tags %q: %w", s, err)
	}
	return tags, nil
}

// encodeReminders is the reminders column: a JSON array of
// task.Reminder.String, "[]" for none.
func encodeReminders(rs []task.Reminder) string {
	if len(rs) == 0 {
		return "[]"
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	b, _ := json.Marshal(out) // strings always marshal
	return string(b)
}

// decodeReminders reads the reminders column.
func decodeReminders(s []byte) ([]task.Reminder, error) {
	if len(s) == 0 || string(s) == "[]" {
		return nil, nil
	}
	var texts []string
	if err := json.Unmarshal(s, &texts); err != nil {
		return nil, fmt.Errorf("decode reminders %q: %w", s, err)
	}
	out := make([]task.Reminder, len(texts))
	for i, t := range texts {
		r, err := task.ParseReminder(t)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
