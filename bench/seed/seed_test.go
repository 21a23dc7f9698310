package seed_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/bench/seed"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

func TestUserIDIsStable(t *testing.T) {
	a, b := seed.UserID(7), seed.UserID(7)
	if a != b || len(a) != 32 || a == seed.UserID(8) {
		t.Errorf("UserID(7) = %q then %q (UserID(8) = %q), want one stable 32-character id per n", a, b, seed.UserID(8))
	}
}

func TestOptionsRefused(t *testing.T) {
	for name, o := range map[string]seed.Options{
		"no users":        {Users: 0, TasksPerUser: 1},
		"negative tasks":  {Users: 1, TasksPerUser: -1},
		"growth too big":  {Users: 5, Growth: &seed.Growth{Total: 10, BigUser: 9, SmallUser: 2}},
		"growth 2 users":  {Users: 2, Growth: &seed.Growth{Total: 10, BigUser: 5, SmallUser: 1}},
		"growth negative": {Users: 5, Growth: &seed.Growth{Total: 10, BigUser: -1, SmallUser: 1}},
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := o.Counts(); err == nil {
				t.Errorf("Counts(%+v) = %v, nil; want an error", o, c)
			}
		})
	}
}

// TestRun seeds both layouts in fresh schemas and checks what the load
// scripts rely on: the lookup table, and task ids computed by TaskID.
func TestRun(t *testing.T) {
	ctx := t.Context()
	t.Run("default", func(t *testing.T) {
		url := testenv.FreshSchema(t, "bench_seed")
		const users, per = 3, 4
		res, err := seed.Run(ctx, url, seed.Options{Users: users, TasksPerUser: per})
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		if res.Users != users || res.Tasks != users*per {
			t.Errorf("Run = %+v, want %d users and %d tasks", res, users, users*per)
		}
		conn := connect(t, url)
		for n := range users {
			var got []int64
			rows, err := conn.Query(ctx, "SELECT id FROM tasks WHERE user_id = $1 ORDER BY created_at, id", seed.UserID(n))
			if err != nil {
				t.Fatal(err)
			}
			if got, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
				t.Fatal(err)
			}
			var want []int64
			for j := range per {
				want = append(want, seed.TaskID(n, j, users))
			}
			if !slices.Equal(got, want) {
				t.Errorf("tasks of user %d oldest first = %v, want %v", n, got, want)
			}
			var id string
			if err := conn.QueryRow(ctx, "SELECT id FROM "+seed.LookupTable+" WHERE n = $1", n).Scan(&id); err != nil || id != seed.UserID(n) {
				t.Errorf("lookup of user %d = %q, %v; want %q", n, id, err, seed.UserID(n))
			}
		}
		// The repository reads seeded rows (Restore re-checks the rules)
		// and the id sequence continues after them.
		db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		repo := sqlstore.NewTaskRepository(db)
		page, err := repo.List(ctx, auth.UserID(seed.UserID(1)), task.Query{})
		ts := page.Tasks
		if err != nil || len(ts) != per {
			t.Errorf("List(user 1) = %d tasks, %v; want %d", len(ts), err, per)
		}
		nt, err := task.New(auth.UserID(seed.UserID(0)), "after the seed", nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		added, err := repo.Add(ctx, nt)
		if err != nil || added.ID() != task.ID(users*per+1) {
			t.Errorf("Add after seeding = id %v, %v; want id %d", added, err, users*per+1)
		}
	})
	t.Run("lists", func(t *testing.T) {
		url := testenv.FreshSchema(t, "bench_seed")
		const users, per = 3, 5
		if _, err := seed.Run(ctx, url, seed.Options{Users: users, TasksPerUser: per, InLists: true}); err != nil {
			t.Fatalf("Run = %v", err)
		}
		db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		repo, lists := sqlstore.NewTaskRepository(db), sqlstore.NewListRepository(db)
		owner := auth.UserID(seed.UserID(1))
		lid, top := list.ID(seed.ListID(1)), task.TopLevel
		page, err := repo.List(ctx, owner, task.Query{List: &lid, Parent: &top, Sort: task.SortPosition})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []task.ID
		for _, tk := range page.Tasks {
			got = append(got, tk.ID())
		}
		for j := per - 1; j >= 0; j-- {
			want = append(want, task.ID(seed.TaskID(1, j, users)))
		}
		if !slices.Equal(got, want) {
			t.Errorf("user 1's list by position = %v, want %v (the reverse of creation)", got, want)
		}
		s, err := lists.Get(ctx, owner, lid)
		if err != nil || s.List.Name() != seed.ListName || s.Open+s.Completed != per || s.Completed != 2 {
			t.Errorf("user 1's list = %+v, %v; want %q with %d tasks, 2 completed (tasks 0 and 3)", s, err, seed.ListName, per)
		}
		// The service moves seeded tasks, and makes lists after them.
		after := want[0]
		if _, err := repo.Move(ctx, owner, task.Move{IDs: []task.ID{want[4]}, To: task.Placement{After: &after}, At: time.Now()}); err != nil {
			t.Errorf("Move a seeded task = %v", err)
		}
		l, _ := list.New(owner, "another", nil, time.Now())
		if added, err := lists.Add(ctx, l); err != nil || added.List.ID() != list.ID(users+1) {
			t.Errorf("Add a list after seeding = %v, %v; want id %d", added.List, err, users+1)
		}
	})
	t.Run("growth", func(t *testing.T) {
		url := testenv.FreshSchema(t, "bench_seed")
		g := seed.Growth{Total: 40, BigUser: 20, SmallUser: 3}
		res, err := seed.Run(ctx, url, seed.Options{Users: 6, Growth: &g})
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		if res.Tasks != g.Total {
			t.Errorf("Run = %+v, want %d tasks", res, g.Total)
		}
		conn := connect(t, url)
		rows, err := conn.Query(ctx, "SELECT u.tasks, (SELECT count(*) FROM tasks t WHERE t.user_id = u.id) FROM "+
			seed.LookupTable+" u ORDER BY u.n")
		if err != nil {
			t.Fatal(err)
		}
		type pair struct{ Want, Got int64 }
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pair])
		if err != nil {
			t.Fatal(err)
		}
		want := []pair{{20, 20}, {3, 3}, {5, 5}, {4, 4}, {4, 4}, {4, 4}}
		if !slices.Equal(got, want) {
			t.Errorf("tasks per user (lookup, counted) = %v, want %v", got, want)
		}
	})
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	cfg, err := sqlstore.ParsePostgresURL(url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
