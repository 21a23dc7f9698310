package contract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// TestSearchUsesTrigramIndex seeds 100,000 tasks for one user with one
// INSERT ... SELECT generate_series, and shows with EXPLAIN that the query
// the repository sends for a search uses the pg_trgm GIN indexes rather
// than reading every task of the user. Skipped with -short (a few seconds).
func TestSearchUsesTrigramIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 tasks: skipped with -short")
	}
	t.Parallel()
	ctx := context.Background()
	db := openPostgresDB(t)
	owner := newOwner()
	// One connection, so that its settings hold for every statement.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%.60s: %v", query, err)
		}
	}
	// As bench/seed does: the migration's secondary indexes are dropped for
	// the load and rebuilt from their own definitions, which is several
	// times faster than maintaining ten indexes row by row.
	var defs []struct {
		Name string `bun:"indexname"`
		Def  string `bun:"indexdef"`
	}
	if err := conn.NewRaw(`SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'tasks'
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)`).Scan(ctx, &defs); err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		exec("DROP INDEX ?", bun.Ident(d.Name))
	}
	// Titles of varied words, as real lists have, some descriptions; a few
	// tasks (added below) mention oat milk.
	exec(`
		INSERT INTO tasks (user_id, title, title_key, description, completed, priority, created_at, updated_at)
		SELECT ?, w.title, lower(w.title),
		       CASE WHEN i % 4 = 0 THEN 'note ' || substr(md5(i::text), 1, 8) END,
		       i % 4 = 0, 1 + i % 3, at, at
		FROM generate_series(1, 100000) AS i,
		     LATERAL (SELECT (ARRAY['Call','Buy','Fix','Plan','Read','Write','Clean','Pay'])[1 + i % 8] || ' ' ||
		                     substr(md5(i::text), 1, 4) || ' ' ||
		                     (ARRAY['report','groceries','car','trip','book','bills','kitchen','taxes'])[1 + (i / 8) % 8] AS title,
		                     timestamptz '2026-01-01' + i * interval '1 second' AS at) AS w`,
		string(owner))
	exec("SET maintenance_work_mem = '256MB'")
	for _, d := range defs {
		exec(d.Def)
	}
	if len(defs) < 8 {
		t.Errorf("rebuilt %d secondary indexes of tasks, want the migrations' 8 or more", len(defs))
	}
	repo := sqlstore.NewTaskRepository(db)
	for _, title := range []string{"Buy oat milk", "oat milk, 2 litres", "OAT MILK for Sunday"} {
		mustAdd(t, repo, mustNewWith(t, owner, title, base))
	}
	// What autovacuum does after a load: statistics, and GIN's pending list
	// (fastupdate) merged into the index. Left pending, its entries must be
	// scanned linearly, and the planner rightly prices that high.
	exec("VACUUM (ANALYZE) tasks")

	indexes := []string{"tasks_title_key_trgm_idx", "tasks_description_trgm_idx"}
	usesIndexes := func(plan string) bool {
		for _, index := range indexes {
			if !strings.Contains(plan, index) {
				return false
			}
		}
		return !strings.Contains(plan, "Seq Scan")
	}
	for _, search := range []string{"oat milk", "Milk"} {
		q := task.Query{Search: search, Limit: 50}
		page, err := repo.List(ctx, owner, q)
		if err != nil || len(page.Tasks) != 3 {
			t.Fatalf("List(search %q) = %d tasks, %v, want 3", search, len(page.Tasks), err)
		}
		text, err := repo.ExplainList(ctx, owner, q)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("search %q:\n%s", search, text)
		if !usesIndexes(text) {
			// ANALYZE samples 30,000 of the rows, and one CI run (of many)
			// saw the planner walk tasks_user_created_idx instead. What the
			// planner knew is logged, the statistics taken once more, and
			// the plan must then use the indexes.
			t.Logf("search %q: the plan does not use %v; the statistics it had:\n%s", search, indexes, planInputs(t, conn))
			exec("VACUUM (ANALYZE) tasks")
			if text, err = repo.ExplainList(ctx, owner, q); err != nil {
				t.Fatal(err)
			}
			t.Logf("search %q, after a second VACUUM (ANALYZE):\n%s", search, text)
		}
		for _, index := range indexes {
			if !strings.Contains(text, index) {
				t.Errorf("search %q: the plan does not use %s:\n%s\n%s", search, index, text, planInputs(t, conn))
			}
		}
		if strings.Contains(text, "Seq Scan") {
			t.Errorf("search %q: the plan reads the table:\n%s", search, text)
		}
	}
}

// planInputs is what the planner reads to price a search on tasks: the
// table's size, its columns' statistics and its indexes' sizes.
func planInputs(t *testing.T, conn bun.Conn) string {
	t.Helper()
	var out []string
	rows, err := conn.QueryContext(context.Background(), `
		SELECT 'table ' || relname || ': reltuples ' || reltuples || ', relpages ' || relpages
		FROM pg_class WHERE relnamespace = current_schema()::regnamespace
		  AND relname IN ('tasks', 'tasks_title_key_trgm_idx', 'tasks_description_trgm_idx', 'tasks_user_created_idx')
		UNION ALL
		SELECT 'column ' || attname || ': null_frac ' || null_frac || ', n_distinct ' || n_distinct ||
		       ', histogram ' || coalesce(array_length(histogram_bounds::text::text[], 1), 0) ||
		       ', mcv ' || coalesce(array_length(most_common_vals::text::text[], 1), 0)
		FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'tasks'
		  AND attname IN ('user_id', 'title_key', 'description')
		UNION ALL
		SELECT 'analyzed: ' || coalesce(last_analyze::text, 'never') || ', vacuumed: ' || coalesce(last_vacuum::text, 'never') ||
		       ', autoanalyzed: ' || coalesce(last_autoanalyze::text, 'never')
		FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'tasks'`)
	if err != nil {
		return fmt.Sprintf("(statistics: %v)", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Sprintf("(statistics: %v)", err)
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestKeysetPagesUseIndexes: on the same 100,000 tasks, a page deep in the
// list is one range scan of the sort's index, (key, id) > cursor, not a
// scan of every task before it. Skipped with -short.
func TestKeysetPagesUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 tasks: skipped with -short")
	}
	t.Parallel()
	ctx := context.Background()
	db := openPostgresDB(t)
	owner := newOwner()
	if _, err := db.ExecContext(ctx, `
		INSERT INTO tasks (user_id, title, title_key, completed, priority, due_at, created_at, updated_at)
		SELECT ?, 'task ' || i, 'task ' || i, i % 4 = 0, 1 + i % 3,
		       CASE WHEN i % 5 <> 0 THEN timestamptz '2026-01-01' + (i % 1000) * interval '1 hour' END,
		       timestamptz '2026-01-01' + i * interval '1 second', timestamptz '2026-01-01' + i * interval '1 second'
		FROM generate_series(1, 100000) AS i`, string(owner)); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE tasks"); err != nil {
		t.Fatal(err)
	}
	repo := sqlstore.NewTaskRepository(db)
	for _, tt := range []struct {
		sort  task.Sort
		order task.Order
		index string
	}{
		{task.SortCreated, task.OrderAsc, "tasks_user_created_idx"},
		{task.SortCreated, task.OrderDesc, "tasks_user_created_idx"},
		{task.SortUpdated, task.OrderDesc, "tasks_user_updated_idx"},
		{task.SortTitle, task.OrderAsc, "tasks_user_title_idx"},
		{task.SortPriority, task.OrderDesc, "tasks_user_priority_idx"},
		{task.SortDue, task.OrderAsc, "tasks_user_due_idx"},
		{task.SortDue, task.OrderDesc, "tasks_user_due_idx"},
	} {
		// The cursor at the middle of the list (offset gets there in one
		// query), then the page after it.
		q := task.Query{Sort: tt.sort, Order: tt.order, Limit: 200, Offset: 50000}
		page, err := repo.List(ctx, owner, q)
		if err != nil || page.Next == nil {
			t.Fatalf("List(offset 50000) = %v", err)
		}
		q.Offset, q.After = 0, page.Next
		next, err := repo.List(ctx, owner, q)
		if err != nil || len(next.Tasks) != 200 || next.Total != 100000 {
			t.Fatalf("List(after the cursor) = %d tasks of %d, %v; want 200 of 100000", len(next.Tasks), next.Total, err)
		}
		text, err := repo.ExplainList(ctx, owner, q)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %s, after 50,000 tasks:\n%s", tt.sort, tt.order, text)
		keyset := ") " + map[task.Order]string{task.OrderAsc: ">", task.OrderDesc: "<"}[tt.order] + " ("
		if !strings.Contains(text, keyset) {
			t.Errorf("%s %s: the statement has no keyset condition %q:\n%s", tt.sort, tt.order, keyset, text)
		}
		if !strings.Contains(text, "Index Scan") || !strings.Contains(text, tt.index) || strings.Contains(text, "Seq Scan") {
			t.Errorf("%s %s: the page is not a range scan of %s:\n%s", tt.sort, tt.order, tt.index, text)
		}
	}
}

// TestListInListUsesScopeIndex: a page of one list's top-level tasks in
// manual order (GET /tasks?list_id=L&parent_id=none&sort=position&limit=20,
// which reads 21 rows) is one range scan of tasks_scope_key, with no sort,
// on a user with 100,000 tasks in 50 lists and 2,000 in the inbox, a fifth
// of them with a subtask, a third moved (explicit keys) and some in the
// trash; and so is the page after its cursor, in both orders, for a list
// and for the inbox. Skipped with -short.
func TestListInListUsesScopeIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 tasks: skipped with -short")
	}
	t.Parallel()
	ctx := context.Background()
	db := openPostgresDB(t)
	owner := newOwner()
	for _, q := range []string{
		`INSERT INTO lists (user_id, name, name_key, created_at, updated_at)
		 SELECT ?0, 'list ' || i, 'list ' || i, now(), now() FROM generate_series(1, 50) AS i`,
		`INSERT INTO tasks (user_id, title, title_key, list_id, created_at, updated_at)
		 SELECT ?0, 'task ' || i, 'task ' || i, l.first + i % 50,
		        timestamptz '2026-01-01' + i * interval '1 second', timestamptz '2026-01-01' + i * interval '1 second'
		 FROM generate_series(1, 100000) AS i, (SELECT min(id) AS first FROM lists WHERE user_id = ?0) AS l`,
		`INSERT INTO tasks (user_id, title, title_key, created_at, updated_at)
		 SELECT ?0, 'inbox ' || i, 'inbox ' || i, now(), now() FROM generate_series(1, 2000) AS i`,
		`INSERT INTO tasks (user_id, title, title_key, list_id, parent_id, created_at, updated_at)
		 SELECT user_id, 'sub', 'sub', list_id, id, created_at, updated_at FROM tasks WHERE user_id = ?0 AND id % 5 = 0`,
		`UPDATE tasks SET position = 'm' || lpad(id::text, 10, '0') || 'V' WHERE user_id = ?0 AND id % 3 = 0`,
		`UPDATE tasks SET deleted_at = now() WHERE user_id = ?0 AND id % 7 = 0 AND parent_id IS NULL
		 AND NOT EXISTS (SELECT 1 FROM tasks AS c WHERE c.parent_id = tasks.id)`,
		`ANALYZE tasks`,
	} {
		if _, err := db.NewRaw(q, string(owner)).Exec(ctx); err != nil {
			t.Fatalf("seed: %.60s: %v", q, err)
		}
	}
	var listID list.ID
	if err := db.NewRaw("SELECT min(id) + 7 FROM lists WHERE user_id = ?", string(owner)).Scan(ctx, &listID); err != nil {
		t.Fatal(err)
	}
	// A member (issue 19) reads the list by the same plan: the list's
	// owner from the list, in the same statement.
	member := newOwner()
	if _, err := db.NewRaw(`INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'viewer', ?, now())`,
		int64(listID), string(member), string(owner)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	repo := sqlstore.NewTaskRepository(db)
	// As served (bootstrap wires sqlstore.Sharers): a caller known to be
	// nobody's member reads their list with no subquery on lists.
	hinted := sqlstore.NewTaskRepository(db)
	hinted.UseShareHint(memberHint{member})
	top, inbox := task.TopLevel, list.Inbox
	for _, tc := range []struct {
		caller auth.UserID
		l      *list.ID
		repo   *sqlstore.TaskRepository
	}{{owner, &listID, repo}, {owner, &inbox, repo}, {member, &listID, repo}, {owner, &listID, hinted}, {member, &listID, hinted}} {
		l, repo := tc.l, tc.repo
		for _, order := range []task.Order{task.OrderAsc, task.OrderDesc} {
			q := task.Query{List: l, Parent: &top, Sort: task.SortPosition, Order: order, Limit: 20}
			for page := 1; page <= 2; page++ {
				what := fmt.Sprintf("list %d as %s, %s, page %d", *l, tc.caller, order, page)
				if repo == hinted {
					what += ", hinted"
				}
				got, err := repo.List(ctx, tc.caller, q)
				if err != nil || len(got.Tasks) != 20 || got.Next == nil {
					t.Fatalf("%s: List = %d tasks, next %v, %v; want 20 and a next page", what, len(got.Tasks), got.Next, err)
				}
				for i, tk := range got.Tasks {
					inOrder := i == 0 || (order == task.OrderAsc) == (tk.Position() > got.Tasks[i-1].Position())
					if tk.Scope() != (task.Scope{List: *l}) || !inOrder || tk.Owner() != owner {
						t.Fatalf("%s: task %d (%v, key %q) out of the scope or out of order", what, tk.ID(), tk.Scope(), tk.Position())
					}
				}
				text, err := repo.ExplainList(ctx, tc.caller, q)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s:\n%s", what, text)
				// The list's owner is a subquery (lists_pkey, and the
				// caller's memberships, never run for the owner): the
				// tasks are one range of tasks_scope_key.
				if !strings.Contains(text, "Index Scan") || !strings.Contains(text, "using tasks_scope_key") ||
					strings.Contains(text, "Sort") || strings.Contains(text, "Seq Scan") ||
					strings.Contains(text, "Bitmap Heap Scan on tasks") {
					t.Errorf("%s is not one range scan of tasks_scope_key:\n%s", what, text)
				}
				if !strings.Contains(text, "LIMIT $") {
					t.Errorf("%s: no LIMIT in the statement:\n%s", what, text)
				}
				if lookup := strings.Contains(text, "on lists"); repo == hinted && lookup != (tc.caller == member) {
					t.Errorf("%s (hinted): reads lists = %v, want %v:\n%s", what, lookup, tc.caller == member, text)
				}
				q.After = got.Next
			}
		}
	}

	// One task (GET /tasks/{id}): one statement for the owner and the
	// member alike, a primary-key lookup; the owner's row satisfies the
	// predicate's first arm, and their memberships are never read.
	var id task.ID
	if err := db.NewRaw("SELECT min(id) FROM tasks WHERE list_id = ? AND deleted_at IS NULL", int64(listID)).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	for _, caller := range []auth.UserID{owner, member} {
		got, err := repo.Get(ctx, caller, id)
		if err != nil || got.Owner() != owner {
			t.Fatalf("Get(%s, %d) = %v, %v; want the owner's task", caller, id, got, err)
		}
		text, err := repo.ExplainGet(ctx, caller, id)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Get as %s:\n%s", caller, text)
		if !strings.Contains(text, "Index Scan using tasks_pkey") || strings.Contains(text, "Seq Scan") {
			t.Errorf("Get as %s is not a primary-key lookup:\n%s", caller, text)
		}
		if never := strings.Contains(text, "on list_members m (never executed)"); never != (caller == owner) {
			t.Errorf("Get as %s: memberships never read = %v, want %v:\n%s", caller, never, caller == owner, text)
		}
		// As served: the owner, known to be nobody's member, reads their
		// own task with no membership subquery; the member as above.
		got, err = hinted.Get(ctx, caller, id)
		if err != nil || got.Owner() != owner {
			t.Fatalf("Get(%s, %d), hinted = %v, %v; want the owner's task", caller, id, got, err)
		}
		if text, err = hinted.ExplainGet(ctx, caller, id); err != nil {
			t.Fatal(err)
		}
		t.Logf("Get as %s, hinted:\n%s", caller, text)
		if !strings.Contains(text, "Index Scan using tasks_pkey") || strings.Contains(text, "list_members") != (caller == member) {
			t.Errorf("Get as %s, hinted: want a primary-key lookup, with the memberships for the member only:\n%s", caller, text)
		}
	}
	if _, err := hinted.Get(ctx, newOwner(), id); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Get by a stranger, hinted = %v, want task.ErrNotFound", err)
	}

	// Every list (GET /tasks): the member's page holds the shared list's
	// tasks, by the owner's index and tasks_list_idx, counted by COUNT.
	var inList int
	if err := db.NewRaw("SELECT count(*) FROM tasks WHERE list_id = ? AND deleted_at IS NULL", int64(listID)).Scan(ctx, &inList); err != nil {
		t.Fatal(err)
	}
	q := task.Query{Limit: 20, Offset: 40}
	page, err := repo.List(ctx, member, q)
	if err != nil || len(page.Tasks) != 20 || page.Total != inList {
		t.Fatalf("List(member, every list) = %d tasks of %d, %v; want 20 of %d", len(page.Tasks), page.Total, err, inList)
	}
	for _, tk := range page.Tasks {
		if tk.Owner() != owner || tk.ListID() == nil || *tk.ListID() != listID {
			t.Fatalf("List(member, every list): task %d of %s in %v, want the shared list's", tk.ID(), tk.Owner(), tk.ListID())
		}
	}
	text, err := repo.ExplainList(ctx, member, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("every list as the member:\n%s", text)
	if strings.Contains(text, "Seq Scan on tasks") || !strings.Contains(text, "tasks_list_idx") {
		t.Errorf("the member's page of every list does not read the shared list by tasks_list_idx:\n%s", text)
	}
}

// memberHint is a sqlstore.ShareHint that knows the one member there is.
type memberHint struct{ member auth.UserID }

func (h memberHint) MayRead(_ context.Context, user auth.UserID) (bool, error) {
	return user == h.member, nil
}
