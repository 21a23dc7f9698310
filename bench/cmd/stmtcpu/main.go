// Command stmtcpu measures what PostgreSQL's backends spend (their CPU
// time from /proc/PID/schedstat, so the server must run on this machine)
// per execution of prepared statements, run alternately round by round,
// on -conns connections: a figure other load moves far less than a rate.
// The statements are copies of what the service sent when this was
// written (svc_*, get_owner/get_member: the list, list-in-list and get
// statements as pg_stat_statements showed them) beside variants and the
// pgbench twins (twin_*), on a database seeded as bench.sh seeds it:
//
//	seed -db URL -users 2000 -tasks 20 -lists
//	stmtcpu -db URL -n 4000 -rounds 8 -only svc_list,svc_lil,own_lil
//
// The get_* statements need memberships (user n an editor of user n+1's
// list, as bench.sh's shared scenario makes them).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/bench/seed"
)

const cols = "t.id, t.user_id, t.title, t.description, t.completed, t.priority, t.due_at, t.due_all_day, t.due_tz, t.due_floating, t.recurrence_rule, t.recurrence_from, t.recurrence_passed, t.reminders, t.completed_at, t.created_at, t.updated_at, t.version, t.tags, t.list_id, t.parent_id, t.created_by, t.assignee_id, t.sort_key"

// uid is seed.UserID of the parameter $1 (n), in SQL.
const uid = "encode(substr(sha256(convert_to('bench user ' || $1::int, 'UTF8')), 1, 16), 'hex')"
const more = ", priority, due_at, due_all_day, completed_at, version, tags, list_id, parent_id, sort_key"

type st struct {
	name string
	sql  string
	args func(n int) []any
}

func cpu(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		panic(err)
	}
	v, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
	return v
}

func main() {
	db := flag.String("db", "postgres://postgres@127.0.0.1:5432/perfseed?sslmode=disable", "")
	n := flag.Int("n", 4000, "executions per statement per round")
	rounds := flag.Int("rounds", 5, "")
	users := flag.Int("users", 2000, "")
	only := flag.String("only", "", "comma-separated names")
	conns := flag.Int("conns", 1, "concurrent connections")
	text := flag.Bool("text", false, "ask for every result column in text format, as pgbench does (pgx asks for binary where it can)")
	watchers := flag.Bool("watchers", false, "before the rounds, give users 0 .. conns-1 (the w_* statements' users) a change_watchers row good for a day, and remove it at the end")
	flag.Parse()
	textResults = *text
	ctx := context.Background()
	var cs []*pgx.Conn
	var pids []int
	for i := 0; i < *conns; i++ {
		c, err := pgx.Connect(ctx, *db)
		if err != nil {
			panic(err)
		}
		var pid int
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			panic(err)
		}
		cs = append(cs, c)
		pids = append(pids, pid)
	}
	c := cs[0]
	cpuAll := func() int64 {
		var t int64
		for _, p := range pids {
			t += cpu(p)
		}
		return t
	}
	roles := "m.role IN ('admin', 'editor', 'completer', 'viewer')"
	all := []st{
		{"svc_list", "SELECT " + cols + " FROM tasks AS t WHERE t.user_id = $1 AND t.deleted_at IS NULL ORDER BY t.created_at ASC, t.id ASC LIMIT $2",
			func(n int) []any { return []any{seed.UserID(n), int64(1001)} }},
		{"svc_lil", "SELECT " + cols + " FROM tasks AS t WHERE t.user_id = (SELECT l.user_id FROM lists AS l WHERE l.id = $1 AND (l.user_id = $2 OR l.id IN (SELECT m.list_id FROM list_members AS m WHERE m.user_id = $3 AND " + roles + " AND (SELECT ml.deleted_at FROM lists AS ml WHERE ml.id = m.list_id) IS NULL))) AND t.deleted_at IS NULL AND t.list_id = $4 AND t.parent_id IS NULL ORDER BY t.list_id ASC, t.parent_id ASC, t.sort_key ASC LIMIT $5",
			func(n int) []any { u := seed.UserID(n); return []any{int64(n + 1), u, u, int64(n + 1), int64(1001)} }},
		{"own_lil", "SELECT " + cols + " FROM tasks AS t WHERE t.user_id = $1 AND t.deleted_at IS NULL AND t.list_id = $2 AND t.parent_id IS NULL ORDER BY t.list_id ASC, t.parent_id ASC, t.sort_key ASC LIMIT $3",
			func(n int) []any { return []any{seed.UserID(n), int64(n + 1), int64(1001)} }},
		{"own_lil_sk", "SELECT " + cols + " FROM tasks AS t WHERE t.user_id = $1 AND t.deleted_at IS NULL AND t.list_id = $2 AND t.parent_id IS NULL ORDER BY t.sort_key ASC LIMIT $3",
			func(n int) []any { return []any{seed.UserID(n), int64(n + 1), int64(1001)} }},
		{"twin_list", "SELECT id, title, description, completed, created_at, updated_at" + more + " FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = $1) AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1001",
			func(n int) []any { return []any{int64(n)} }},
		{"twin_lil", "SELECT id, title, description, completed, created_at, updated_at" + more + " FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = $1) AND deleted_at IS NULL AND list_id = $1 + 1 AND parent_id IS NULL ORDER BY list_id, parent_id, sort_key LIMIT 1001",
			func(n int) []any { return []any{int64(n)} }},
		// The twins as bench/pgbench now sends them (the user's id computed
		// as seed.UserID computes it, LIMIT a parameter as the service's), with
		// the twins' 15 columns (tw2_*) and the service's 24 (tw3_*).
		{"tw2_list", "SELECT id, title, description, completed, created_at, updated_at" + more + " FROM tasks WHERE user_id = " + uid + " AND deleted_at IS NULL ORDER BY created_at, id LIMIT $2",
			func(n int) []any { return []any{int64(n), int64(1001)} }},
		{"tw2_lil", "SELECT id, title, description, completed, created_at, updated_at" + more + " FROM tasks WHERE user_id = " + uid + " AND deleted_at IS NULL AND list_id = $1 + 1 AND parent_id IS NULL ORDER BY list_id, parent_id, sort_key LIMIT $2",
			func(n int) []any { return []any{int64(n), int64(1001)} }},
		{"tw3_list", "SELECT " + cols + " FROM tasks AS t WHERE t.user_id = " + uid + " AND t.deleted_at IS NULL ORDER BY t.created_at, t.id LIMIT $2",
			func(n int) []any { return []any{int64(n), int64(1001)} }},
		{"tw3_lil", "SELECT " + cols + " FROM tasks AS t WHERE t.user_id = " + uid + " AND t.deleted_at IS NULL AND t.list_id = $1 + 1 AND t.parent_id IS NULL ORDER BY t.list_id, t.parent_id, t.sort_key LIMIT $2",
			func(n int) []any { return []any{int64(n), int64(1001)} }},
		// The old twins with LIMIT a parameter only (twl_*), and the service's
		// statements with a constant LIMIT (svcc_*): which plan each gets.
		{"twl_list", "SELECT id, title, description, completed, created_at, updated_at" + more + " FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = $1) AND deleted_at IS NULL ORDER BY created_at, id LIMIT $2",
			func(n int) []any { return []any{int64(n), int64(1001)} }},
		{"svcc_list", "SELECT " + cols + " FROM tasks AS t WHERE t.user_id = $1 AND t.deleted_at IS NULL ORDER BY t.created_at ASC, t.id ASC LIMIT 1001",
			func(n int) []any { return []any{seed.UserID(n)} }},
		{"get_owner", "SELECT " + cols + " FROM tasks AS t WHERE t.id = $1 AND (t.user_id = $2 OR t.list_id = ANY(ARRAY(SELECT m.list_id FROM list_members AS m WHERE m.user_id = $3 AND " + roles + " AND (SELECT ml.deleted_at FROM lists AS ml WHERE ml.id = m.list_id) IS NULL))) AND t.deleted_at IS NULL",
			func(n int) []any {
				o := (n + 1) % *users
				u := seed.UserID(o)
				return []any{int64((n%20)*(*users) + o + 1), u, u}
			}},
		{"get_member", "SELECT " + cols + " FROM tasks AS t WHERE t.id = $1 AND (t.user_id = $2 OR t.list_id = ANY(ARRAY(SELECT m.list_id FROM list_members AS m WHERE m.user_id = $3 AND " + roles + " AND (SELECT ml.deleted_at FROM lists AS ml WHERE ml.id = m.list_id) IS NULL))) AND t.deleted_at IS NULL",
			func(n int) []any {
				o := (n + 1) % *users
				u := seed.UserID(n)
				return []any{int64((n%20)*(*users) + o + 1), u, u}
			}},
		{"get_plain", "SELECT " + cols + " FROM tasks AS t WHERE t.id = $1 AND t.user_id = $2 AND t.deleted_at IS NULL",
			func(n int) []any {
				o := (n + 1) % *users
				u := seed.UserID(o)
				return []any{int64((n%20)*(*users) + o + 1), u}
			}},
		{"get_mem_nolive", "SELECT " + cols + " FROM tasks AS t WHERE t.id = $1 AND (t.user_id = $2 OR t.list_id = ANY(ARRAY(SELECT m.list_id FROM list_members AS m WHERE m.user_id = $3))) AND t.deleted_at IS NULL",
			func(n int) []any {
				o := (n + 1) % *users
				u := seed.UserID(n)
				return []any{int64((n%20)*(*users) + o + 1), u, u}
			}},
		{"get_mem_exists", "SELECT " + cols + " FROM tasks AS t WHERE t.id = $1 AND (t.user_id = $2 OR EXISTS (SELECT 1 FROM list_members AS m WHERE m.list_id = t.list_id AND m.user_id = $3 AND " + roles + " AND (SELECT ml.deleted_at FROM lists AS ml WHERE ml.id = m.list_id) IS NULL)) AND t.deleted_at IS NULL",
			func(n int) []any {
				o := (n + 1) % *users
				u := seed.UserID(n)
				return []any{int64((n%20)*(*users) + o + 1), u, u}
			}},
		{"get_own_exists", "SELECT " + cols + " FROM tasks AS t WHERE t.id = $1 AND (t.user_id = $2 OR EXISTS (SELECT 1 FROM list_members AS m WHERE m.list_id = t.list_id AND m.user_id = $3 AND " + roles + " AND (SELECT ml.deleted_at FROM lists AS ml WHERE ml.id = m.list_id) IS NULL)) AND t.deleted_at IS NULL",
			func(n int) []any {
				o := (n + 1) % *users
				u := seed.UserID(o)
				return []any{int64((n%20)*(*users) + o + 1), u, u}
			}},
		{"get_mem_exists_norole", "SELECT " + cols + " FROM tasks AS t WHERE t.id = $1 AND (t.user_id = $2 OR EXISTS (SELECT 1 FROM list_members AS m WHERE m.list_id = t.list_id AND m.user_id = $3 AND (SELECT ml.deleted_at FROM lists AS ml WHERE ml.id = m.list_id) IS NULL)) AND t.deleted_at IS NULL",
			func(n int) []any {
				o := (n + 1) % *users
				u := seed.UserID(n)
				return []any{int64((n%20)*(*users) + o + 1), u, u}
			}},
	}
	// The feed's writes (issue 16): each connection writes its own user,
	// w_*: users 0 .. conns-1 (watched with -watchers), u_*: the next
	// conns users (unwatched). A create as the service inserts (pgbench's
	// create.sql), a toggle of one of the user's 20 seeded tasks (toggle.sql).
	create := "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at, title_key, priority, due_all_day, version, tags) VALUES ($1, 'bench task', NULL, false, now(), now(), 'bench task', 2, false, 1, '[]') RETURNING id"
	toggle := "UPDATE tasks SET completed = NOT completed, updated_at = now(), version = version + 1, completed_at = CASE WHEN completed THEN NULL ELSE now() END WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING id, title, description, completed, created_at, updated_at"
	createArgs := func(n int) []any { return []any{seed.UserID(n)} }
	toggleArgs := func(n int) []any { return []any{int64(rand.Intn(20)*(*users) + n + 1), seed.UserID(n)} }
	all = append(all, st{"w_create", create, createArgs}, st{"u_create", create, createArgs},
		st{"w_toggle", toggle, toggleArgs}, st{"u_toggle", toggle, toggleArgs})
	// The writes' users: each connection writes its own (base plus the
	// connection's index), not a random one: writes of one user queue on
	// the user's head.
	base := map[string]int{"w_create": 0, "u_create": *conns, "w_toggle": 0, "u_toggle": *conns}
	if *watchers {
		ids := make([]string, *conns)
		for i := range ids {
			ids[i] = seed.UserID(i)
		}
		if _, err := c.Exec(ctx, "INSERT INTO change_watchers (user_id, instance, expires_at) SELECT u, 'stmtcpu', now() + interval '1 day' FROM unnest($1::text[]) AS u ON CONFLICT DO NOTHING", ids); err != nil {
			panic(err)
		}
		defer c.Exec(ctx, "DELETE FROM change_watchers WHERE instance = 'stmtcpu'")
	}
	var sts []st
	for _, s := range all {
		if *only == "" || strings.Contains(","+*only+",", ","+s.name+",") {
			sts = append(sts, s)
		}
	}
	res := map[string][]float64{}
	rng := rand.New(rand.NewSource(1))
	for r := 0; r < *rounds; r++ {
		order := make([]st, len(sts))
		copy(order, sts)
		if r%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, s := range order {
			// warm: prepare and reach the generic plan
			for k, c := range cs {
				for i := 0; i < 10; i++ {
					if b, ok := base[s.name]; ok {
						run(ctx, c, s, b+k)
					} else {
						run(ctx, c, s, rng.Intn(*users))
					}
				}
			}
			t0, w0 := cpuAll(), time.Now()
			var wg sync.WaitGroup
			var total atomic.Int64
			for k, c := range cs {
				wg.Add(1)
				go func(c *pgx.Conn, k int, seedv int64) {
					defer wg.Done()
					r := rand.New(rand.NewSource(seedv))
					for i := 0; i < *n/len(cs); i++ {
						u := r.Intn(*users)
						if b, ok := base[s.name]; ok {
							u = b + k
						}
						total.Add(int64(run(ctx, c, s, u)))
					}
				}(c, k, int64(k+r*100))
			}
			wg.Wait()
			rows := int(total.Load())
			d := float64(cpuAll()-t0) / float64(*n) / 1000
			res[s.name] = append(res[s.name], d)
			fmt.Printf("round %d %-10s backend %.1f µs/exec, wall %.1f µs/exec, rows/exec %.1f\n", r+1, s.name, d, float64(time.Since(w0).Microseconds())/float64(*n), float64(rows)/float64(*n))
		}
	}
	fmt.Println("median backend µs/exec:")
	for _, s := range sts {
		v := res[s.name]
		for i := range v {
			for j := i + 1; j < len(v); j++ {
				if v[j] < v[i] {
					v[i], v[j] = v[j], v[i]
				}
			}
		}
		fmt.Printf("  %-10s %.1f  (%v)\n", s.name, v[len(v)/2], v)
	}
	var gp, cp int64
	rs, _ := c.Query(ctx, "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
	for rs.Next() {
		var name string
		rs.Scan(&name, &gp, &cp)
		fmt.Println("prepared", name, "generic", gp, "custom", cp)
	}
}

// textResults: -text.
var textResults bool

func run(ctx context.Context, c *pgx.Conn, s st, n int) int {
	args := s.args(n)
	if textResults {
		args = append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)
	}
	rows, err := c.Query(ctx, s.sql, args...)
	if err != nil {
		panic(err)
	}
	k := 0
	for rows.Next() {
		_ = rows.RawValues()
		k++
	}
	if err := rows.Err(); err != nil {
		panic(fmt.Sprint(s.name, err))
	}
	return k
}
