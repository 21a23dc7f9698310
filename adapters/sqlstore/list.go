package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The SQL side of task.Query: each function here mirrors the domain's
// reference (task.Query.Matches, Compare, IsAfter, task.StatsOf), and the
// repository contract suite holds the two to the same results.

// overdueSQL is Cutoffs.Overdue for a pending task, never NULL (so that NOT
// works): arguments false, Cutoffs.Today, Cutoffs.Local, Cutoffs.Now
// (overdueArgs).
const overdueSQL = "(t.completed = ? AND t.due_at IS NOT NULL AND " +
	"CASE WHEN t.due_all_day THEN t.due_at < ? WHEN t.due_floating THEN t.due_at < ? ELSE t.due_at < ? END)"

func overdueArgs(c task.Cutoffs) []any { return []any{false, c.Today, c.Local, c.Now} }

// filters appends q's filters (q normalized) on the live tasks caller
// reads, as a WHERE clause. Whose tasks those are is one condition on
// t.user_id, or two, when the caller may read shared lists (shared, see
// TaskRepository.shares):
//   - one list (q.List, not the inbox): the list's owner, when caller owns
//     it or may read it as a member (listOwner, one subquery the statement
//     runs once), so that the page is a range of the owner's indexes for
//     the owner and for a member alike;
//   - all lists: the caller's own tasks and those of the lists they may
//     read (reachable);
//   - otherwise (a caller who is nobody's member) the caller's own.
func filters(s *sqlText, caller auth.UserID, q task.Query, shared bool) *sqlText {
	s.adhoc = s.adhoc || planPerCall(q)
	one := shared && q.List != nil && *q.List != list.Inbox
	switch {
	case one:
		listOwner(s.add(" WHERE t.user_id = "), *q.List, caller, list.ActRead)
	case shared:
		reachable(s.add(" WHERE "), "t", caller, list.ActRead)
	default:
		s.add(" WHERE t.user_id = ?", string(caller))
	}
	s.add(" AND t.deleted_at IS NULL")
	scopeFilter(s, q.List, q.Parent)
	for _, st := range q.Statuses {
		switch st {
		case task.StatusPending:
			s.add(" AND t.completed = ?", false)
		case task.StatusCompleted:
			s.add(" AND t.completed = ?", true)
		}
	}
	if q.Assignee != nil {
		s.add(" AND t.assignee_id = ?", string(*q.Assignee))
	}
	if len(q.Priorities) > 0 {
		ranks := make([]int, len(q.Priorities))
		for i, p := range q.Priorities {
			ranks[i] = p.Rank()
		}
		in(s.add(" AND t.priority IN "), ranks)
	}
	if len(q.Tags) > 0 {
		// q.Tags are keys already. The subquery is one range of the
		// (user_id, tag_key, task_id) index per key and owner.
		s.add(" AND t.id IN (SELECT tt.task_id FROM task_tags AS tt WHERE tt.user_id ")
		switch {
		case one:
			listOwner(s.add("= "), *q.List, caller, list.ActRead)
		case shared:
			readers(s.add("IN "), caller, list.ActRead)
		default:
			s.add("= ?", string(caller))
		}
		in(s.add(" AND tt.tag_key IN "), q.Tags)
		if q.TagsMatch == task.MatchAll {
			s.add(" GROUP BY tt.task_id HAVING count(*) = ?", len(q.Tags))
		}
		s.add(")")
	}
	if q.Search != "" {
		needle := task.Fold(q.Search)
		if s.pg {
			// LIKE on the folded title and ILIKE on the description: both
			// served by the trigram GIN indexes.
			pattern := "%" + escapeLike(needle) + "%"
			s.add(" AND (t.title_key LIKE ? ESCAPE '!' OR t.description ILIKE ? ESCAPE '!')", pattern, pattern)
		} else {
			s.add(" AND (instr(t.title_key, ?) > 0 OR instr("+foldFunc+"(t.description), ?) > 0)", needle, needle)
		}
	}
	if r := q.DueRange(); !r.IsZero() {
		s.add(" AND t.due_at IS NOT NULL")
		if !r.AllDayFrom.IsZero() {
			// The outer bound lets the (user_id, due_at, id) index narrow the
			// scan; the CASE applies the bound of each kind of due date.
			s.add(" AND t.due_at >= ?", earlier(earlier(r.AllDayFrom, r.TimedFrom), r.FloatingFrom)).
				add(" AND CASE WHEN t.due_all_day THEN t.due_at >= ? WHEN t.due_floating THEN t.due_at >= ? ELSE t.due_at >= ? END",
					r.AllDayFrom, r.FloatingFrom, r.TimedFrom)
		}
		if !r.AllDayTo.IsZero() {
			s.add(" AND t.due_at < ?", later(later(r.AllDayTo, r.TimedTo), r.FloatingTo)).
				add(" AND CASE WHEN t.due_all_day THEN t.due_at < ? WHEN t.due_floating THEN t.due_at < ? ELSE t.due_at < ? END",
					r.AllDayTo, r.FloatingTo, r.TimedTo)
		}
	}
	if q.Overdue != nil {
		c := q.Cutoffs()
		if *q.Overdue {
			s.add(" AND "+overdueSQL, overdueArgs(c)...)
		} else {
			s.add(" AND NOT "+overdueSQL, overdueArgs(c)...)
		}
	}
	return s
}

// scopeFilter appends the list and parent filters (nil: none; list.Inbox,
// task.TopLevel: none set). On SQLite they compare as the scope index
// (tasks_scope_key) reads the columns, NULL as 0, so that a scope's page
// is a range of it; a parent alone is a range of tasks_parent_idx.
func scopeFilter(s *sqlText, l *list.ID, parent *task.ID) *sqlText {
	return scopeFilterOf(s, "t", l, parent)
}

// scopeFilterOf is scopeFilter on the tasks aliased alias. The fragments
// are added piece by piece: a list page builds its statement on every
// request, and a concatenation would make a string each time.
func scopeFilterOf(s *sqlText, alias string, l *list.ID, parent *task.ID) *sqlText {
	if l != nil {
		switch {
		case !s.pg:
			s.add(" AND ifnull(").add(alias).add(".list_id, 0) = ?", int64(*l))
		case *l == list.Inbox:
			s.add(" AND ").add(alias).add(".list_id IS NULL")
		default:
			s.add(" AND ").add(alias).add(".list_id = ?", int64(*l))
		}
	}
	if parent != nil {
		switch {
		case !s.pg && l != nil:
			s.add(" AND ifnull(").add(alias).add(".parent_id, 0) = ?", int64(*parent))
		case *parent == task.TopLevel:
			s.add(" AND ").add(alias).add(".parent_id IS NULL")
		default:
			s.add(" AND ").add(alias).add(".parent_id = ?", int64(*parent))
		}
	}
	return s
}

// onlyStatus reports whether q filters on nothing but status, so that its
// total is in task_counts.
func onlyStatus(q task.Query) bool {
	return !planPerCall(q) && q.List == nil && q.Parent == nil
}

// planPerCall reports whether the best plan of q's statement depends on its
// arguments (a search pattern, tags, a date range: see sqlText.adhoc).
func planPerCall(q task.Query) bool {
	return len(q.Priorities) > 0 || len(q.Tags) > 0 || q.Search != "" || !q.DueRange().IsZero() || q.Overdue != nil || q.Assignee != nil
}

// oneScope reports whether q lists one scope (a list and a parent), whose
// keys are unique: its order by position is sort_key alone, the order of
// tasks_scope_key, and a page of it is one range of that index.
func oneScope(q task.Query) bool { return q.List != nil && q.Parent != nil }

// direction is q's order in SQL, and the comparison that finds the rows
// after a cursor in it.
func direction(q task.Query) (dir, op string) {
	if q.Order == task.OrderDesc {
		return "DESC", "<"
	}
	return "ASC", ">"
}

// order appends q's order and, after a cursor, the start of the page: the
// order is (key, id), both in q's direction, so the keyset is one row
// comparison. For due_date, tasks without one come last in both directions.
// It returns the ORDER BY clause; the keyset condition is appended to s.
func order(s *sqlText, q task.Query) string {
	dir, op := direction(q)
	if q.Sort == task.SortDue {
		if c := q.After; c != nil {
			if c.NoDue {
				s.add(" AND t.due_at IS NULL AND t.id "+op+" ?", int64(c.ID))
			} else {
				s.add(" AND (t.due_at IS NULL OR (t.due_at, t.id) "+op+" (?, ?))", c.Time, int64(c.ID))
			}
		}
		return " ORDER BY t.due_at " + dir + " NULLS LAST, t.id " + dir
	}
	if q.Sort == task.SortPosition && oneScope(q) {
		// Keys are unique in the scope, so the id never breaks a tie; the
		// keyset's first bound is what the index range starts from.
		if c := q.After; c != nil {
			s.add(" AND t.sort_key "+op+"= ? AND (t.sort_key "+op+" ? OR t.id "+op+" ?)", c.Text, c.Text, int64(c.ID))
		}
		if s.pg {
			// The list and the parent are one value each, but PostgreSQL
			// does not take "IS NULL" (the inbox, the top level) as fixing
			// a column: ordered by the index's columns themselves, the
			// index order is the order asked for, and no sort follows.
			return " ORDER BY t.list_id " + dir + ", t.parent_id " + dir + ", t.sort_key " + dir
		}
		return " ORDER BY t.sort_key " + dir
	}
	var col string
	var key func(task.Cursor) any
	switch q.Sort {
	case task.SortUpdated:
		col, key = "t.updated_at", func(c task.Cursor) any { return c.Time }
	case task.SortTitle:
		col, key = "t.title_key", func(c task.Cursor) any { return c.Text }
	case task.SortPriority:
		col, key = "t.priority", func(c task.Cursor) any { return c.Rank }
	case task.SortPosition:
		col, key = "t.sort_key", func(c task.Cursor) any { return c.Text }
	default:
		col, key = "t.created_at", func(c task.Cursor) any { return c.Time }
	}
	if c := q.After; c != nil {
		s.add(" AND ("+col+", t.id) "+op+" (?, ?)", key(*c), int64(c.ID))
	}
	return " ORDER BY " + col + " " + dir + ", t.id " + dir
}

// listSQL is the statement of a page in any order but a due_date keyset
// page: one index range scan (for a caller's own tasks, or one list's).
// With counts, each row also carries the owner's task_counts row (two
// uncorrelated subqueries, which PostgreSQL and SQLite both evaluate once
// per statement), so that a page that needs its total gets it in the same
// round trip. shared: see filters.
func listSQL(s *sqlText, owner auth.UserID, q task.Query, counts, shared bool) *sqlText {
	s.add("SELECT " + selectList)
	if counts {
		s.extra = extraCounts
		s.add(", (SELECT c.live FROM task_counts AS c WHERE c.user_id = ?) AS counted_live"+
			", (SELECT c.completed FROM task_counts AS c WHERE c.user_id = ?) AS counted_completed", string(owner), string(owner))
	}
	filters(s.add(" FROM tasks AS t"), owner, q, shared)
	s.add(order(s, q))
	limit := 0
	if q.Limit > 0 {
		limit = q.Limit + 1 // one more tells whether there is a next page
	}
	return s.limitOffset(limit, q.Offset)
}

// withCounts reports whether a page of q should bring the owner's counters
// along: its total comes from them (status filters alone, on the caller's
// own tasks: not shared) and it is likely not the whole list (a page size
// a client asked for, or a later page). The whole list up to LIST_MAX, the
// common case, has its total in hand.
func withCounts(q task.Query, shared bool) bool {
	return !shared && onlyStatus(q) && (q.After != nil || q.Offset > 0 || q.Limit > 0 && q.Limit <= task.MaxPageSize)
}

// dueKeyset reports whether q's page is read by dueKeysetPage.
func dueKeyset(q task.Query) bool { return q.Sort == task.SortDue && q.Limit > 0 && q.Offset == 0 }

// dueSQL is one of dueKeysetPage's two statements: up to limit tasks with a
// due date after q's cursor (due), or without one (!due).
func dueSQL(s *sqlText, owner auth.UserID, q task.Query, shared, due bool, limit int) *sqlText {
	dir, op := direction(q)
	filters(s.add("SELECT "+selectList+" FROM tasks AS t"), owner, q, shared)
	c := q.After
	if due {
		s.add(" AND t.due_at IS NOT NULL")
		if c != nil {
			s.add(" AND (t.due_at, t.id) "+op+" (?, ?)", c.Time, int64(c.ID))
		}
		return s.add(" ORDER BY t.due_at "+dir+", t.id "+dir+" LIMIT ?", limit)
	}
	s.add(" AND t.due_at IS NULL")
	if c != nil && c.NoDue {
		s.add(" AND t.id "+op+" ?", int64(c.ID))
	}
	return s.add(" ORDER BY t.id "+dir+" LIMIT ?", limit)
}

// dueKeysetPage reads up to q.Limit+1 tasks of a due_date page in at most
// two index range scans: the tasks with a due date after the cursor, in
// (due_at, id) order, then, if the page is not full, those without one, in
// id order. One query ordered NULLS LAST would be the same list, but its
// keyset (due_at IS NULL OR (due_at, id) > cursor) is no index range, and
// in descending order NULLS LAST is not the index's order either: deep
// pages would read every task before them.
func dueKeysetPage(ctx context.Context, x runner, owner auth.UserID, q task.Query, shared bool) ([]*task.Task, error) {
	want := q.Limit + 1
	var ts []*task.Task
	if q.After == nil || !q.After.NoDue {
		rows, err := x.tasks(ctx, owner, dueSQL(x.sql(), owner, q, shared, true, want))
		if err != nil {
			return nil, err
		}
		ts = rows.tasks
	}
	if len(ts) == want {
		return ts, nil
	}
	none, err := x.tasks(ctx, owner, dueSQL(x.sql(), owner, q, shared, false, want-len(ts)))
	if err != nil {
		return nil, err
	}
	return append(ts, none.tasks...), nil
}

// ExplainList is the plan PostgreSQL runs for the statement List sends for
// q (the first, for a due_date keyset page), with its arguments bound as
// List binds them: EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF).
// For tests and benchmarks that show which index a page uses.
func (r *TaskRepository) ExplainList(ctx context.Context, owner auth.UserID, q task.Query) (string, error) {
	if !r.pg {
		return "", fmt.Errorf("explain: PostgreSQL only")
	}
	q, err := q.Normalized()
	if err != nil {
		return "", err
	}
	shared, err := r.shares(ctx, owner, q.List)
	if err != nil {
		return "", err
	}
	s := listSQL(r.run.sql(), owner, q, withCounts(q, shared), shared)
	if dueKeyset(q) {
		s = dueSQL(r.run.sql(), owner, q, shared, q.After == nil || !q.After.NoDue, q.Limit+1)
	}
	return r.explain(ctx, s)
}

// ExplainGet is the plan PostgreSQL runs for the statement Get sends, as
// ExplainList shows it.
func (r *TaskRepository) ExplainGet(ctx context.Context, caller auth.UserID, id task.ID) (string, error) {
	if !r.pg {
		return "", fmt.Errorf("explain: PostgreSQL only")
	}
	s, err := r.getStatement(ctx, r.run.sql(), caller, id)
	if err != nil {
		return "", err
	}
	return r.explain(ctx, s)
}

// explain runs EXPLAIN ANALYZE of s: its text, then its plan.
func (r *TaskRepository) explain(ctx context.Context, s *sqlText) (string, error) {
	var lines []string
	err := withPgx(ctx, r.db, func(ctx context.Context, c *pgx.Conn, _ pgx.QueryExecMode) error {
		rows, err := c.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "+s.String(),
			append([]any{pgx.QueryExecModeExec}, s.args...)...)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	return s.String() + "\n" + strings.Join(lines, "\n"), nil
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '!'.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Tags counts owner's tags by key, showing the smallest spelling of each
// (byte-wise, as the C collation and SQLite's BINARY compare). Tags of
// tasks in the trash do not count.
func (r *TaskRepository) Tags(ctx context.Context, owner auth.UserID) ([]task.TagCount, error) {
	name := "min(tt.tag)"
	if r.pg {
		name = `min(tt.tag COLLATE "C")`
	}
	var rows []struct {
		Name  string `bun:"name"`
		Count int    `bun:"count"`
	}
	err := r.on(ctx).idb().NewSelect().
		TableExpr("task_tags AS tt").
		Join("JOIN tasks AS t ON t.id = tt.task_id AND t.deleted_at IS NULL").
		ColumnExpr(name+" AS name").
		ColumnExpr("count(*) AS count").
		Where("tt.user_id = ?", string(owner)).
		GroupExpr("tt.tag_key").
		OrderExpr("tt.tag_key").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("count tags: %w", err)
	}
	out := make([]task.TagCount, len(rows))
	for i, row := range rows {
		out[i] = task.TagCount{Name: row.Name, Count: row.Count}
	}
	return out, nil
}

// Stats counts the live tasks caller reads in one pass, as task.StatsOf
// does: all of them (with those of the shared lists caller may read, see
// filters), or those of one list or of the inbox (in).
func (r *TaskRepository) Stats(ctx context.Context, caller auth.UserID, m task.Moment, in *list.ID) (task.Stats, error) {
	shared, err := r.shares(ctx, caller, in)
	if err != nil {
		return task.Stats{}, err
	}
	whose := &sqlText{pg: r.pg} // Bun's ? placeholders
	switch {
	case shared && in != nil && *in != list.Inbox:
		listOwner(whose.add("t.user_id = "), *in, caller, list.ActRead)
	case shared:
		reachable(whose, "t", caller, list.ActRead)
	default:
		whose.add("t.user_id = ?", string(caller))
	}
	c := m.Cutoffs()
	pending := "t.completed = ? AND "
	count := func(cond string) string {
		return "coalesce(sum(CASE WHEN " + cond + " THEN 1 ELSE 0 END), 0)"
	}
	var row struct {
		Total     int `bun:"total"`
		Completed int `bun:"completed"`
		Overdue   int `bun:"overdue"`
		DueToday  int `bun:"due_today"`
		Low       int `bun:"low"`
		Medium    int `bun:"medium"`
		High      int `bun:"high"`
	}
	q := r.on(ctx).idb().NewSelect().
		TableExpr("tasks AS t").
		ColumnExpr("count(*) AS total").
		ColumnExpr(count("t.completed = ?")+" AS completed", true).
		ColumnExpr(count(overdueSQL)+" AS overdue", overdueArgs(c)...).
		ColumnExpr(count(pending+"t.due_at IS NOT NULL AND "+
			"CASE WHEN t.due_all_day THEN t.due_at = ? WHEN t.due_floating THEN t.due_at >= ? AND t.due_at < ? "+
			"ELSE t.due_at >= ? AND t.due_at < ? END")+" AS due_today",
			false, c.Today, c.Today, c.Tomorrow, c.TodayStart, c.TomorrowStart).
		ColumnExpr(count(pending+"t.priority = ?")+" AS low", false, task.PriorityLow.Rank()).
		ColumnExpr(count(pending+"t.priority = ?")+" AS medium", false, task.PriorityMedium.Rank()).
		ColumnExpr(count(pending+"t.priority = ?")+" AS high", false, task.PriorityHigh.Rank()).
		Where(whose.String(), whose.args...).
		Where("t.deleted_at IS NULL")
	switch {
	case in == nil:
	case *in == list.Inbox:
		q = q.Where("t.list_id IS NULL")
	default:
		q = q.Where("t.list_id = ?", int64(*in))
	}
	if err := q.Scan(ctx, &row); err != nil {
		return task.Stats{}, fmt.Errorf("count tasks: %w", err)
	}
	return task.Stats{
		Total:     row.Total,
		Completed: row.Completed,
		Pending:   row.Total - row.Completed,
		Overdue:   row.Overdue,
		DueToday:  row.DueToday,
		ByPriority: map[task.Priority]int{
			task.PriorityLow:    row.Low,
			task.PriorityMedium: row.Medium,
			task.PriorityHigh:   row.High,
		},
	}, nil
}
