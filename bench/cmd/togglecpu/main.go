// Command togglecpu measures PostgreSQL's CPU per toggle (PATCH
// /api/{user}/tasks/{id}/complete) and per create (POST .../tasks) through
// the service, for one or more service binaries run side by side, each on
// its own fresh database, round by round alternately: the CPU time
// (/proc/PID/stat) of the backends connected to the binary's database,
// divided by the ops sent in the round. It also reports the WAL bytes per
// op (pg_current_wal_lsn around the round; other databases' writes on the
// server count too, so it is an upper bound on a busy server).
//
//	go build -o /tmp/api-main ./cmd/api  (on main)
//	togglecpu -bin /tmp/api-main,/tmp/api-mine -rounds 6 -n 400
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/domain/auth"
)

const secret = "togglecpu-secret-togglecpu-secret-0123456789"

type instance struct {
	bin, db, url string
	cmd          *exec.Cmd
	conn         *pgx.Conn
	tasks        [][]int64
	analyze      bool
}

type user struct{ id, token string }

var useDB string

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func main() {
	admin := flag.String("db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "")
	bins := flag.String("bin", "", "comma-separated service binaries")
	rounds := flag.Int("rounds", 6, "")
	n := flag.Int("n", 400, "ops per writer per round")
	writers := flag.Int("writers", 2, "")
	per := flag.Int("tasks", 20, "tasks each writer toggles round-robin")
	ops := flag.String("ops", "toggle,create", "")
	keep := flag.Bool("keep", false, "keep the databases")
	analyze := flag.String("analyze", "", "comma-separated 0/1/2 per binary: ANALYZE its database never (this server runs autovacuum off: a fresh database is never analyzed), once after the seed tasks (1), or before every round too (2, as autovacuum would keep the statistics)")
	flag.StringVar(&useDB, "use", "", "an existing database to run the (one) binary on, instead of a fresh one (kept); e.g. one with log_min_duration_statement = 0")
	flag.Parse()
	ctx := context.Background()
	users := make([]user, *writers)
	for i := range users {
		id := fmt.Sprintf("tc_%s_%d", randHex(3), i)
		tok, err := jwks.SignHS256([]byte(secret), auth.Identity{UserID: auth.UserID(id), Email: id + "@bench.test", Name: id}, 3*time.Hour, time.Now(), "", "")
		must(err)
		users[i] = user{id, tok}
	}
	var ins []*instance
	an := strings.Split(*analyze, ",")
	for bi, b := range strings.Split(*bins, ",") {
		in := start(ctx, *admin, b, *keep)
		defer in.stop(*admin, *keep)
		for i, u := range users {
			in.tasks = append(in.tasks, nil)
			for k := 0; k < *per; k++ {
				var t struct {
					ID int64 `json:"id"`
				}
				must(in.do(u, http.MethodPost, "/api/"+u.id+"/tasks", `{"title":"seed `+strconv.Itoa(k)+`"}`, 201, &t))
				in.tasks[i] = append(in.tasks[i], t.ID)
			}
		}
		if bi < len(an) && an[bi] != "0" && an[bi] != "" {
			in.analyze = an[bi] == "2"
			_, err := in.conn.Exec(ctx, "ANALYZE")
			must(err)
			in.bin += "+analyze" + an[bi]
		}
		ins = append(ins, in)
	}
	type key struct{ bin, op string }
	cpu := map[key][]float64{}
	wal := map[key][]float64{}
	for r := 0; r < *rounds; r++ {
		order := append([]*instance(nil), ins...)
		if r%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, in := range order {
			if in.analyze {
				_, err := in.conn.Exec(ctx, "ANALYZE")
				must(err)
			}
			for _, op := range strings.Split(*ops, ",") {
				before, lsn0 := in.pgCPU(ctx), in.lsn(ctx)
				var wg sync.WaitGroup
				for i, u := range users {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for k := 0; k < *n; k++ {
							if op == "toggle" {
								id := in.tasks[i][k%len(in.tasks[i])]
								must(in.do(u, http.MethodPatch, "/api/"+u.id+"/tasks/"+strconv.FormatInt(id, 10)+"/complete", "", 200, nil))
							} else {
								must(in.do(u, http.MethodPost, "/api/"+u.id+"/tasks", `{"title":"c `+strconv.Itoa(k)+`"}`, 201, nil))
							}
						}
					}()
				}
				wg.Wait()
				after, lsn1 := in.pgCPU(ctx), in.lsn(ctx)
				var d time.Duration
				for p, t := range after {
					d += t - before[p]
				}
				total := float64(*n * len(users))
				cpu[key{in.bin, op}] = append(cpu[key{in.bin, op}], float64(d.Microseconds())/total)
				wal[key{in.bin, op}] = append(wal[key{in.bin, op}], float64(lsn1-lsn0)/total)
			}
		}
	}
	for _, op := range strings.Split(*ops, ",") {
		for _, in := range ins {
			c := cpu[key{in.bin, op}]
			fmt.Printf("%-7s %-28s PG CPU µs/op median %6.0f  rounds %s  WAL B/op median %6.0f\n", op, in.bin, median(c), fmtAll(c), median(wal[key{in.bin, op}]))
		}
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func fmtAll(v []float64) string {
	var p []string
	for _, x := range v {
		p = append(p, strconv.FormatFloat(x, 'f', 0, 64))
	}
	return strings.Join(p, ",")
}

func (in *instance) do(u user, method, path, body string, want int, out any) error {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, in.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+u.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d", method, path, res.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

func (in *instance) lsn(ctx context.Context) int64 {
	var v int64
	must(in.conn.QueryRow(ctx, "SELECT pg_current_wal_lsn() - '0/0'").Scan(&v))
	return v
}

func (in *instance) pgCPU(ctx context.Context) map[int]time.Duration {
	rows, err := in.conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	must(err)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	must(err)
	out := map[int]time.Duration{}
	for _, p := range pids {
		out[int(p)] = procCPU(int(p))
	}
	return out
}

// procCPU is a process's CPU time so far from /proc/PID/schedstat (ns,
// finer than /proc/PID/stat's ticks); 0 when it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
	return time.Duration(v)
}

func start(ctx context.Context, admin, bin string, keep bool) *instance {
	c, err := pgx.Connect(ctx, admin)
	must(err)
	defer c.Close(ctx)
	name := useDB
	if name == "" {
		name = "togglecpu_" + randHex(4)
		_, err = c.Exec(ctx, "CREATE DATABASE "+name)
		must(err)
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+u.String(), "BETTER_AUTH_SECRET="+secret, "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	must(cmd.Start())
	in := &instance{bin: bin, db: name, url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	for k := 0; ; k++ {
		res, err := http.Get(in.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if k > 300 {
			panic("not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	in.conn, err = pgx.Connect(ctx, u.String())
	must(err)
	fmt.Fprintf(os.Stderr, "%s on database %s at %s\n", bin, name, in.url)
	return in
}

func (in *instance) stop(admin string, keep bool) {
	_ = in.cmd.Process.Signal(os.Interrupt)
	_ = in.cmd.Wait()
	in.conn.Close(context.Background())
	if keep || useDB != "" {
		return
	}
	c, err := pgx.Connect(context.Background(), admin)
	if err == nil {
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+in.db+" WITH (FORCE)")
		c.Close(context.Background())
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
