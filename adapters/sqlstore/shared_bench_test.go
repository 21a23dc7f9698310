package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// statementCounter counts the statements pgx sends (every query, exec,
// BEGIN and COMMIT: each one round trip).
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// openCounted opens url as Open does a PostgreSQL URL, with c counting the
// statements.
func openCounted(tb testing.TB, url string, c *statementCounter) *bun.DB {
	cfg, hot, auto, err := parsePostgresURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Tracer = c
	sqldb := sql.OpenDB(&guardConnector{Connector: stdlib.GetConnector(*cfg), hot: newExecMode(hot, auto, nil)})
	sqldb.SetMaxOpenConns(4)
	sqldb.SetMaxIdleConns(4)
	db := bun.NewDB(sqldb, pgdialect.New())
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// BenchmarkSharedReads measures a shared list's reads through the use
// cases (application.Service with members, as the server runs them) on
// PostgreSQL, as the list's owner and as a member (an editor who owns
// nothing), on the same tasks: one task, its history, the list's 20 tasks
// by position, every list's tasks and the stats. stmts/op counts the
// statements sent (pgx's tracer), tasks/op what a page held. The owners
// have no membership of their own: their queries of every list take the
// owner-only plans.
//
//	go test ./adapters/sqlstore -run '^$' -bench SharedReads -benchtime 2000x -count 3
func BenchmarkSharedReads(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL (-short)")
	}
	ctx := context.Background()
	url := testenv.FreshSchema(b, "sharebench")
	var counter statementCounter
	db := openCounted(b, url, &counter)
	if err := Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	const users, perList = 200, 20
	for _, q := range []string{
		`INSERT INTO lists (user_id, name, name_key, created_at, updated_at)
		 SELECT 'u_' || i, 'groceries', 'groceries', now(), now() FROM generate_series(0, ?0 - 1) AS i`,
		`INSERT INTO tasks (user_id, title, title_key, list_id, priority, created_at, updated_at)
		 SELECT l.user_id, 'task ' || j, 'task ' || j, l.id, 1 + j % 3,
		        timestamptz '2026-01-01' + j * interval '1 second', timestamptz '2026-01-01' + j * interval '1 second'
		 FROM lists AS l, generate_series(1, ?1) AS j`,
		`INSERT INTO list_members (list_id, user_id, role, invited_by, created_at)
		 SELECT l.id, 'm_' || substr(l.user_id, 3), 'editor', l.user_id, now() FROM lists AS l`,
		`ANALYZE`,
	} {
		if _, err := db.NewRaw(q, users, perList).Exec(ctx); err != nil {
			b.Fatalf("seed: %.50s: %v", q, err)
		}
	}
	svc := application.New(NewTaskRepository(db), NewUserRepository(db), nil, application.WithLists(NewListRepository(db)),
		application.WithMembers(NewMemberRepository(db)), application.WithTransactor(NewTransactor(db)))
	type user struct {
		owner, member application.Actor
		list          list.ID
		task          task.ID
	}
	us := make([]user, users)
	for n := range us {
		u := &us[n]
		for _, who := range []struct {
			a  *application.Actor
			id string
		}{{&u.owner, fmt.Sprint("u_", n)}, {&u.member, fmt.Sprint("m_", n)}} {
			a, err := svc.Authorize(ctx, auth.Identity{UserID: auth.UserID(who.id), Email: who.id + "@example.com"}, who.id)
			if err != nil {
				b.Fatal(err)
			}
			*who.a = a
		}
		if err := db.NewRaw("SELECT l.id, min(t.id) FROM lists AS l JOIN tasks AS t ON t.list_id = l.id WHERE l.user_id = ? GROUP BY l.id",
			fmt.Sprint("u_", n)).Scan(ctx, &u.list, &u.task); err != nil {
			b.Fatal(err)
		}
	}
	top := task.TopLevel
	reads := []struct {
		name string
		run  func(a application.Actor, u user) (int, error)
	}{
		{"Get", func(a application.Actor, u user) (int, error) {
			_, err := svc.GetTask(ctx, a, u.task)
			return 1, err
		}},
		{"History", func(a application.Actor, u user) (int, error) {
			revs, err := svc.TaskHistory(ctx, a, u.task)
			return len(revs), err
		}},
		{"ListInList20", func(a application.Actor, u user) (int, error) {
			page, err := svc.ListTasks(ctx, a, task.Query{List: &u.list, Parent: &top, Sort: task.SortPosition})
			return len(page.Tasks), err
		}},
		{"ListAll", func(a application.Actor, u user) (int, error) {
			page, err := svc.ListTasks(ctx, a, task.Query{})
			return len(page.Tasks), err
		}},
		{"ListAllPage5", func(a application.Actor, u user) (int, error) {
			page, err := svc.ListTasks(ctx, a, task.Query{Limit: 5})
			return len(page.Tasks), err
		}},
		{"StatsAll", func(a application.Actor, u user) (int, error) {
			st, err := svc.TaskStats(ctx, a, nil)
			return st.Total, err
		}},
		{"StatsInList", func(a application.Actor, u user) (int, error) {
			st, err := svc.TaskStatsIn(ctx, a, u.list, nil)
			return st.Total, err
		}},
	}
	for _, r := range reads {
		for _, as := range []string{"owner", "member"} {
			b.Run(r.name+"/"+as, func(b *testing.B) {
				i, tasks := 0, 0
				b.ReportAllocs()
				before := counter.n.Load()
				for b.Loop() {
					u := us[i%users]
					a := u.owner
					if as == "member" {
						a = u.member
					}
					n, err := r.run(a, u)
					if err != nil {
						b.Fatalf("%s as %s: %v", r.name, as, err)
					}
					tasks += n
					i++
				}
				b.ReportMetric(float64(counter.n.Load()-before)/float64(i), "stmts/op")
				b.ReportMetric(float64(tasks)/float64(i), "tasks/op")
			})
		}
	}
}
