package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/bench/seed"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/internal/testenv"
)

// pgEnv is the service as `make bench` runs it (the router on PostgreSQL,
// every port the service wires), on users seeded as bench.sh seeds them
// (seed -lists: user n's 20 tasks in their list, seed.ListID(n)), with an
// HS256 token per user.
type pgEnv struct {
	router http.Handler
	users  int
	tokens []string
	app    string // the application_name of the service's connections
	admin  *pgx.Conn
}

func newPGEnv(b *testing.B, users int) *pgEnv {
	b.Helper()
	ctx := context.Background()
	url := testenv.FreshSchema(b, "bench_handler")
	if _, err := seed.Run(ctx, url, seed.Options{Users: users, TasksPerUser: tasksPerUser, InLists: true}); err != nil {
		b.Fatal(err)
	}
	app := fmt.Sprintf("bench_handler_%d", os.Getpid())
	dbURL := url + "&application_name=" + app
	if os.Getenv("PGENV_LOG") != "" {
		dbURL += "&log_statement=all"
	}
	cfg, err := sqlstore.ParsePostgresURL(url)
	if err != nil {
		b.Fatal(err)
	}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = admin.Close(ctx) })
	db, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	v, err := jwks.New(ctx, jwks.Config{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	// As bootstrap wires them: the task repository asks the Sharers (read
	// once here: nobody is a member in this seed) whether a caller may be
	// a member, not the database.
	sharers := sqlstore.NewSharers(db, sqlstore.SharersOptions{Local: true})
	if err := sharers.Load(ctx); err != nil {
		b.Fatal(err)
	}
	tasks := sqlstore.NewTaskRepository(db)
	tasks.UseShareHint(sharers)
	svc := application.New(tasks, sqlstore.NewUserRepository(db), nil,
		application.WithLists(sqlstore.NewListRepository(db)), application.WithMembers(sqlstore.NewMemberRepository(db, sqlstore.RecordSharers(sharers))),
		application.WithTransactor(sqlstore.NewTransactor(db)), application.WithOccurrences(sqlstore.NewOccurrenceLog(db)),
		application.WithChanges(sqlstore.NewChangeLog(db)), application.WithCalendarFeeds(sqlstore.NewCalendarFeedStore(db)))
	e := &pgEnv{users: users, app: app, admin: admin, router: httpapi.NewRouter(httpapi.Deps{
		Service: svc, Verifier: v, Log: zap.NewNop(), Idempotency: sqlstore.NewIdempotencyStore(db),
		Config: httpapi.Config{CORSOrigins: []string{"http://localhost:3000"}},
	})}
	for n := range users {
		id := auth.Identity{UserID: auth.UserID(seed.UserID(n)), Email: seed.Email(n), Name: seed.Name(n)}
		tok, err := jwks.SignHS256(secret, id, time.Hour, time.Now(), "", "")
		if err != nil {
			b.Fatal(err)
		}
		e.tokens = append(e.tokens, tok)
	}
	return e
}

// requests are user n's request for each n, made once (as the wrk script
// does) by path.
func (e *pgEnv) requests(path func(n int) string) []*http.Request {
	out := make([]*http.Request, e.users)
	for n := range out {
		r, err := http.NewRequest(http.MethodGet, "http://localhost"+path(n), nil)
		if err != nil {
			panic(err)
		}
		r.Header.Set("Authorization", "Bearer "+e.tokens[n])
		out[n] = r
	}
	return out
}

// pgCPU is the CPU time so far (ns) of the PostgreSQL backends serving
// the service's connections, read from /proc (the server runs on this
// machine): PostgreSQL's side of a request.
func (e *pgEnv) pgCPU(b *testing.B) int64 {
	rows, err := e.admin.Query(context.Background(), "SELECT pid FROM pg_stat_activity WHERE application_name = $1", e.app)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	var ticks int64
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// utime and stime are fields 14 and 15, after the ")" that ends
		// the command's name.
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return ticks * int64(time.Second) / 100 // CLK_TCK
}

// cpuTime is the process's CPU time so far (user and system), in ns: a
// benchmark's own CPU per request, which other processes' load disturbs
// far less than its wall-clock time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkHandlerPG serves make bench's list and list-in-list requests
// (bench/wrk/api.lua modes list and listin) through the whole router on
// PostgreSQL, one at a time, round robin over 200 seeded users: the same
// 20 tasks each way. Besides time and allocations it reports the process's
// CPU time per request (cpu-ns/op).
func BenchmarkHandlerPG(b *testing.B) {
	const users = 200
	e := newPGEnv(b, users)
	for _, tc := range []struct {
		name string
		path func(n int) string
	}{
		{"list20", func(n int) string { return "/api/" + seed.UserID(n) + "/tasks" }},
		{"list-in-list20", func(n int) string {
			return fmt.Sprintf("/api/%s/tasks?list_id=%d&parent_id=none&sort=position", seed.UserID(n), seed.ListID(n))
		}},
	} {
		reqs := e.requests(tc.path)
		w := &discard{h: http.Header{}}
		for range 10 { // every user seen, every statement prepared on every connection
			for _, r := range reqs {
				w.reset()
				e.router.ServeHTTP(w, r)
				if w.status != http.StatusOK {
					b.Fatalf("GET %s = %d", r.URL, w.status)
				}
			}
		}
		b.Run(tc.name, func(b *testing.B) {
			cpu0, pg0 := cpuTime(), e.pgCPU(b)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				e.router.ServeHTTP(w, reqs[i%users])
				if w.status != http.StatusOK {
					b.Fatalf("GET = %d", w.status)
				}
				i++
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(i), "cpu-ns/op")
			b.ReportMetric(float64(e.pgCPU(b)-pg0)/float64(i), "pg-cpu-ns/op")
			b.SetBytes(int64(w.n))
		})
		// As wrk drives it: 32 requests at a time (make bench's
		// connections) on the pool's connections.
		b.Run(tc.name+"/c=32", func(b *testing.B) {
			b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			var next atomic.Int64
			cpu0, pg0 := cpuTime(), e.pgCPU(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discard{h: http.Header{}}
				for pb.Next() {
					r := reqs[int(next.Add(1))%users]
					w.reset()
					e.router.ServeHTTP(w, r.Clone(r.Context()))
					if w.status != http.StatusOK {
						b.Errorf("GET = %d", w.status)
						return
					}
				}
			})
			b.StopTimer()
			n := float64(next.Load())
			b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/op")
			b.ReportMetric(float64(e.pgCPU(b)-pg0)/n, "pg-cpu-ns/op")
		})
	}
}
