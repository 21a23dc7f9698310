package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// The SQL side of task.Query: each function here mirrors the domain's
// reference (task.Query.Matches, Compare, IsAfter, task.StatsOf), and the
// repository contract suite holds the two to the same results.

// overdueSQL is Cutoffs.Overdue for a pending task, never NULL (so that NOT
// works): arguments false, Cutoffs.Today, Cutoffs.Now.
const overdueSQL = "(t.completed = ? AND t.due_at IS NOT NULL AND " +
	"CASE WHEN t.due_all_day THEN t.due_at < ? ELSE t.due_at < ? END)"

// applyFilters adds q's filters (q normalized) to a select of owner's tasks.
func applyFilters(sel *bun.SelectQuery, owner auth.UserID, q task.Query, pg bool) *bun.SelectQuery {
	for _, s := range q.Statuses {
		switch s {
		case task.StatusPending:
			sel = sel.Where("t.completed = ?", false)
		case task.StatusCompleted:
			sel = sel.Where("t.completed = ?", true)
		}
	}
	if len(q.Priorities) > 0 {
		ranks := make([]int, len(q.Priorities))
		for i, p := range q.Priorities {
			ranks[i] = p.Rank()
		}
		sel = sel.Where("t.priority IN (?)", bun.In(ranks))
	}
	if len(q.Tags) > 0 {
		// q.Tags are keys already. The subquery is one range of the
		// (user_id, tag_key, task_id) index per key.
		sub := "SELECT tt.task_id FROM task_tags AS tt WHERE tt.user_id = ? AND tt.tag_key IN (?)"
		if q.TagsMatch == task.MatchAll {
			sel = sel.Where("t.id IN ("+sub+" GROUP BY tt.task_id HAVING count(*) = ?)", string(owner), bun.In(q.Tags), len(q.Tags))
		} else {
			sel = sel.Where("t.id IN ("+sub+")", string(owner), bun.In(q.Tags))
		}
	}
	if q.Search != "" {
		needle := task.Fold(q.Search)
		if pg {
			// LIKE on the folded title and ILIKE on the description: both
			// served by the trigram GIN indexes.
			pattern := "%" + escapeLike(needle) + "%"
			sel = sel.Where("(t.title_key LIKE ? ESCAPE '!' OR t.description ILIKE ? ESCAPE '!')", pattern, pattern)
		} else {
			sel = sel.Where("(instr(t.title_key, ?) > 0 OR instr("+foldFunc+"(t.description), ?) > 0)", needle, needle)
		}
	}
	if r := q.DueRange(); !r.IsZero() {
		sel = sel.Where("t.due_at IS NOT NULL")
		if !r.AllDayFrom.IsZero() {
			// The outer bound lets the (user_id, due_at, id) index narrow the
			// scan; the CASE applies the bound of each kind of due date.
			sel = sel.Where("t.due_at >= ?", earlier(r.AllDayFrom, r.TimedFrom)).
				Where("CASE WHEN t.due_all_day THEN t.due_at >= ? ELSE t.due_at >= ? END", r.AllDayFrom, r.TimedFrom)
		}
		if !r.AllDayTo.IsZero() {
			sel = sel.Where("t.due_at < ?", later(r.AllDayTo, r.TimedTo)).
				Where("CASE WHEN t.due_all_day THEN t.due_at < ? ELSE t.due_at < ? END", r.AllDayTo, r.TimedTo)
		}
	}
	if q.Overdue != nil {
		c := q.Cutoffs()
		if *q.Overdue {
			sel = sel.Where(overdueSQL, false, c.Today, c.Now)
		} else {
			sel = sel.Where("NOT "+overdueSQL, false, c.Today, c.Now)
		}
	}
	return sel
}

// applyOrder sorts and, after a cursor, starts the page: the order is
// (key, id), both in q's direction, so the keyset is one row comparison.
// For due_date, tasks without one come last in both directions.
func applyOrder(sel *bun.SelectQuery, q task.Query) *bun.SelectQuery {
	dir, op := "ASC", ">"
	if q.Order == task.OrderDesc {
		dir, op = "DESC", "<"
	}
	if q.Sort == task.SortDue {
		sel = sel.OrderExpr("t.due_at " + dir + " NULLS LAST, t.id " + dir)
		if c := q.After; c != nil {
			if c.NoDue {
				sel = sel.Where("t.due_at IS NULL AND t.id "+op+" ?", int64(c.ID))
			} else {
				sel = sel.Where("(t.due_at IS NULL OR (t.due_at, t.id) "+op+" (?, ?))", c.Time, int64(c.ID))
			}
		}
		return sel
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
	default:
		col, key = "t.created_at", func(c task.Cursor) any { return c.Time }
	}
	sel = sel.OrderExpr(col + " " + dir + ", t.id " + dir)
	if c := q.After; c != nil {
		sel = sel.Where("("+col+", t.id) "+op+" (?, ?)", key(*c), int64(c.ID))
	}
	return sel
}

// dueKeysetPage reads up to q.Limit+1 tasks of a due_date page in at most
// two index range scans: the tasks with a due date after the cursor, in
// (due_at, id) order, then, if the page is not full, those without one, in
// id order. One query ordered NULLS LAST would be the same list, but its
// keyset (due_at IS NULL OR (due_at, id) > cursor) is no index range, and
// in descending order NULLS LAST is not the index's order either: deep
// pages would read every task before them.
func (r *TaskRepository) dueKeysetPage(ctx context.Context, q task.Query, filter func(*bun.SelectQuery) *bun.SelectQuery) ([]taskRow, error) {
	dir, op := "ASC", ">"
	if q.Order == task.OrderDesc {
		dir, op = "DESC", "<"
	}
	want := q.Limit + 1
	var rows []taskRow
	c := q.After
	if c == nil || !c.NoDue {
		sel := filter(r.db.NewSelect().Model(&rows)).
			Where("t.due_at IS NOT NULL").
			OrderExpr("t.due_at " + dir + ", t.id " + dir).
			Limit(int64(want))
		if c != nil {
			sel = sel.Where("(t.due_at, t.id) "+op+" (?, ?)", c.Time, int64(c.ID))
		}
		if err := sel.Scan(ctx); err != nil {
			return nil, err
		}
	}
	if len(rows) == want {
		return rows, nil
	}
	var none []taskRow
	sel := filter(r.db.NewSelect().Model(&none)).
		Where("t.due_at IS NULL").
		OrderExpr("t.id " + dir).
		Limit(int64(want - len(rows)))
	if c != nil && c.NoDue {
		sel = sel.Where("t.id "+op+" ?", int64(c.ID))
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, err
	}
	return append(rows, none...), nil
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
	if r.db.Dialect().Name() == dialect.PG {
		name = `min(tt.tag COLLATE "C")`
	}
	var rows []struct {
		Name  string `bun:"name"`
		Count int    `bun:"count"`
	}
	err := r.db.NewSelect().
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

// Stats counts owner's live tasks in one pass, as task.StatsOf does.
func (r *TaskRepository) Stats(ctx context.Context, owner auth.UserID, m task.Moment) (task.Stats, error) {
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
	err := r.db.NewSelect().
		TableExpr("tasks AS t").
		ColumnExpr("count(*) AS total").
		ColumnExpr(count("t.completed = ?")+" AS completed", true).
		ColumnExpr(count(overdueSQL)+" AS overdue", false, c.Today, c.Now).
		ColumnExpr(count(pending+"t.due_at IS NOT NULL AND "+
			"CASE WHEN t.due_all_day THEN t.due_at = ? ELSE t.due_at >= ? AND t.due_at < ? END")+" AS due_today",
			false, c.Today, c.TodayStart, c.TomorrowStart).
		ColumnExpr(count(pending+"t.priority = ?")+" AS low", false, task.PriorityLow.Rank()).
		ColumnExpr(count(pending+"t.priority = ?")+" AS medium", false, task.PriorityMedium.Rank()).
		ColumnExpr(count(pending+"t.priority = ?")+" AS high", false, task.PriorityHigh.Rank()).
		Where("t.user_id = ?", string(owner)).
		Where("t.deleted_at IS NULL").
		Scan(ctx, &row)
	if err != nil {
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
