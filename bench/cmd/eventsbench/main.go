// Command eventsbench measures live events (issue 16) on two instances of
// the built binary behind one fresh PostgreSQL database:
//
//   - latency: W writers create tasks on instance A, each user has a stream
//     open on instance B; for every write, the time from A's 201 to the
//     event naming that task on B's stream (p50, p99, max, missing); the
//     writers' creates without the streams (before and after) and with them,
//     each followed by a run of toggles (PATCH .../complete) of tasks they
//     created, reported apart: throughput and CPU per op with ÷ without;
//   - idle: list throughput on B (C connections, GET 20 tasks) without
//     streams, then with N idle streams open on B, and B's resident memory
//     (VmRSS) before and with them.
//
// It prints one line per figure, for bench.sh's report and
// docs/PERFORMANCE.md. Everything it starts is stopped and the database
// dropped on exit.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/domain/auth"
)

const secret = "eventsbench-hs256-secret-0123456789-abcdefghij"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eventsbench:", err)
		os.Exit(1)
	}
}

type config struct {
	bin, db          string
	writers          int
	duration         time.Duration
	toggleDuration   time.Duration // each toggle run; 0: none
	warmup           time.Duration // creates and toggles before the first measured run
	streams, perUser int
	listConns        int
	listDuration     time.Duration
	scenarios        string
	idleRounds       int
	benchDB          string // the fresh database's URL
	profile          string // a directory: B's CPU profiles of the list runs (-bin must be profserve)
}

func run() error {
	var c config
	flag.StringVar(&c.bin, "bin", "bin/todo-api", "the service binary")
	flag.StringVar(&c.db, "db", envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "a PostgreSQL server URL (a fresh database is made on it)")
	flag.IntVar(&c.writers, "writers", 32, "concurrent writers on instance A (one user each)")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long the writers write")
	flag.DurationVar(&c.warmup, "warmup", 3*time.Second, "before the first measured run, the writers create, then toggle, for this long each, unmeasured (new PostgreSQL backends, caches, plans); 0: none")
	flag.DurationVar(&c.toggleDuration, "toggle-duration", 10*time.Second, "after each create run, how long the writers toggle (PATCH .../complete) tasks they created before the streams opened; 0: no toggles")
	flag.IntVar(&c.streams, "streams", 10000, "idle streams opened on instance B")
	flag.IntVar(&c.perUser, "per-user", 8, "streams per user (EVENTS_MAX_PER_USER)")
	flag.IntVar(&c.listConns, "list-conns", 32, "connections of the list throughput runs")
	flag.DurationVar(&c.listDuration, "list-duration", 5*time.Second, "each list throughput run")
	flag.IntVar(&c.idleRounds, "idle-rounds", 3, "rounds of the idle scenario (without, then with the streams); the median ratio is reported")
	flag.StringVar(&c.scenarios, "scenarios", "latency,idle", "latency, idle or both")
	flag.StringVar(&c.profile, "profile", "", "a directory for B's CPU profiles of the list runs without and with the streams (-bin must be a profserve build: go build ./bench/cmd/profserve)")
	flag.Parse()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dbURL, drop, err := freshDatabase(ctx, c.db)
	if err != nil {
		return err
	}
	defer drop()

	a, err := startInstance(ctx, c, "A", dbURL)
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := startInstance(ctx, c, "B", dbURL)
	if err != nil {
		return err
	}
	defer b.stop()

	c.benchDB = dbURL
	if strings.Contains(c.scenarios, "latency") {
		if err := latency(ctx, c, a, b); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	if strings.Contains(c.scenarios, "idle") {
		if err := idle(ctx, c, b); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// freshDatabase creates a database on the server and returns its URL and
// a function that drops it.
func freshDatabase(ctx context.Context, admin string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", admin, err)
	}
	defer conn.Close(ctx)
	name := "eventsbench_" + randHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// instance is one running service.
type instance struct {
	name  string
	url   string
	pprof string // profserve's address, with -profile
	cmd   *exec.Cmd
	log   *bytes.Buffer
}

func startInstance(ctx context.Context, c config, name, dbURL string) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.CommandContext(ctx, c.bin)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "BETTER_AUTH_SECRET="+secret, "PORT="+strconv.Itoa(port),
		"LOG_LEVEL=warn", "EVENTS_MAX_PER_USER="+strconv.Itoa(c.perUser))
	in := &instance{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, log: &bytes.Buffer{}}
	if c.profile != "" {
		pl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		in.pprof = "http://" + pl.Addr().String()
		cmd.Env = append(cmd.Env, "PPROF_ADDR="+pl.Addr().String())
		pl.Close()
	}
	cmd.Stdout, cmd.Stderr = in.log, in.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for range 300 {
		res, err := http.Get(in.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return in, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	in.stop()
	return nil, fmt.Errorf("instance %s not ready in 30 s: %s", name, in.log.String())
}

func (in *instance) stop() {
	if in.cmd.Process != nil {
		_ = in.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = in.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = in.cmd.Process.Kill()
		}
	}
}

// cpu is the instance's CPU time so far (user and system).
func (in *instance) cpu() time.Duration { return procCPU(in.cmd.Process.Pid) }

// pgCPU is the CPU time so far of each PostgreSQL backend connected to the
// bench's database (both instances' pools, listeners and publishers), by
// pid; nil when they cannot be read (PostgreSQL on another host).
func pgCPU(ctx context.Context, conn *pgx.Conn) map[int]time.Duration {
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	if err != nil {
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil
	}
	out := map[int]time.Duration{}
	for _, p := range pids {
		out[int(p)] = procCPU(int(p))
	}
	return out
}

// pgSpent is the backends' CPU between two pgCPU readings (a backend that
// came after the first counts from zero); -1 when either is missing.
func pgSpent(from, to map[int]time.Duration) time.Duration {
	if from == nil || to == nil {
		return -1
	}
	var d time.Duration
	for p, t := range to {
		d += t - from[p]
	}
	return d
}

// procCPU is a process's CPU time so far (user and system); 0 when it
// cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / 100 // USER_HZ
}

// rss is the instance's VmRSS in MiB.
func (in *instance) rss() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

type benchUser struct{ id, token string }

func newUser(prefix string, i int) benchUser {
	id := fmt.Sprintf("%s_%s_%d", prefix, randHex(3), i)
	tok, err := jwks.SignHS256([]byte(secret), auth.Identity{UserID: auth.UserID(id), Email: id + "@bench.test", Name: id},
		3*time.Hour, time.Now(), "", "")
	if err != nil {
		panic(err)
	}
	return benchUser{id: id, token: tok}
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}}

// stream opens GET /events for u on in and returns its body, after the
// headers and the retry field.
func stream(ctx context.Context, in *instance, u benchUser) (io.ReadCloser, *bufio.Reader, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.url+"/api/"+u.id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+u.token)
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return nil, nil, fmt.Errorf("GET events = %d %s", res.StatusCode, b)
	}
	return res.Body, bufio.NewReader(res.Body), nil
}

// latency: writers on A, streams on B.
func latency(ctx context.Context, c config, a, b *instance) error {
	type seen struct {
		mu sync.Mutex
		at map[int64]time.Time
	}
	users := make([]benchUser, c.writers)
	events := make([]*seen, c.writers)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	for i := range users {
		users[i] = newUser("lat", i)
	}
	// The same writers without streams, before and after (their users have
	// no change_watchers row then: no notifications), for the cost of the
	// notifications on A's writes.
	// A's CPU per write of each run: a figure the other load on the
	// machine moves less than the throughput.
	pc, err := pgx.Connect(ctx, c.benchDB)
	if err != nil {
		return err
	}
	defer pc.Close(context.Background())
	// A warm-up, unmeasured: the first measured run ("before") met new
	// backends and cold caches, and its creates and toggles ran at 0.4-0.8
	// of the same run "after" on a quiet machine (PostgreSQL's CPU per
	// toggle 920-1,120 µs before, 440-500 after).
	if c.warmup > 0 {
		wc := c
		wc.duration, wc.toggleDuration = c.warmup, c.warmup
		ws, _ := writeRun(ctx, wc, a, users, "warm-up", nil)
		wt := make([][]int64, len(users))
		for i, w := range ws {
			for _, x := range w[:min(len(w), 20)] {
				wt[i] = append(wt[i], x.id)
			}
		}
		toggleRun(ctx, wc, a, b, pc, users, wt)
	}
	cpu0, pg0, own0 := a.cpu(), pgCPU(ctx, pc), procCPU(os.Getpid())
	before, _ := writeRun(ctx, c, a, users, "before", nil)
	cpuBefore, pgBefore, ownBefore := a.cpu()-cpu0, pgSpent(pg0, pgCPU(ctx, pc)), procCPU(os.Getpid())-own0
	// Toggles, after each create run: each writer completes and reopens,
	// in turn, up to 20 of the tasks it created before the streams opened
	// (PATCH .../complete, 200): the same runs without, with and without
	// the streams, measured apart from the creates.
	targets := make([][]int64, len(users))
	for i, ws := range before {
		for _, w := range ws[:min(len(ws), 20)] {
			targets[i] = append(targets[i], w.id)
		}
	}
	var tog [3]opRun
	tog[0] = toggleRun(ctx, c, a, b, pc, users, targets)
	var readers sync.WaitGroup
	for i := range users {
		events[i] = &seen{at: map[int64]time.Time{}}
		body, br, err := stream(sctx, b, users[i])
		if err != nil {
			return err
		}
		readers.Add(1)
		go func(s *seen) {
			defer readers.Done()
			defer body.Close()
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if !strings.HasPrefix(line, "data: ") {
					continue
				}
				now := time.Now()
				var d struct {
					Entity string `json:"entity"`
					ID     int64  `json:"id"`
				}
				if json.Unmarshal([]byte(line[6:]), &d) == nil && d.Entity == "task" {
					s.mu.Lock()
					if _, ok := s.at[d.ID]; !ok {
						s.at[d.ID] = now
					}
					s.mu.Unlock()
				}
			}
		}(events[i])
	}

	cpu0, cpuB0, pg0, own0 := a.cpu(), b.cpu(), pgCPU(ctx, pc), procCPU(os.Getpid())
	writes, failed := writeRun(ctx, c, a, users, "bench event", nil)
	cpuWith, cpuWithB, pgWith, ownWith := a.cpu()-cpu0, b.cpu()-cpuB0, pgSpent(pg0, pgCPU(ctx, pc)), procCPU(os.Getpid())-own0
	tog[1] = toggleRun(ctx, c, a, b, pc, users, targets)
	time.Sleep(2 * time.Second) // the last events
	stop()
	readers.Wait()

	var lat, took []time.Duration
	missing, total, early := 0, 0, 0
	for i, ws := range writes {
		for _, w := range ws {
			total++
			took = append(took, w.took)
			at, ok := events[i].at[w.id]
			if !ok {
				missing++
				continue
			}
			d := at.Sub(w.at)
			if d < 0 {
				early++ // the event came before the 201 was read
				d = 0
			}
			lat = append(lat, d)
		}
	}
	slices.Sort(lat)
	slices.Sort(took)
	pctOf := func(d []time.Duration, p float64) string {
		if len(d) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds())/1000)
	}
	pct := func(p float64) string { return pctOf(lat, p) }
	fmt.Printf("events latency: %d writers on A for %s, one stream per writer's user on B: %d writes (%.0f/s), %d failed; "+
		"201 on A -> event on B: p50 %s ms, p99 %s ms, max %s ms; %d events before their 201 was read (counted 0); %d missing; "+
		"the POSTs themselves: p50 %s ms, p99 %s ms\n",
		c.writers, c.duration, total, float64(total)/c.duration.Seconds(), failed, pct(0.5), pct(0.99), pct(1), early, missing,
		pctOf(took, 0.5), pctOf(took, 0.99))
	time.Sleep(2 * time.Second) // the streams' rows go with the last stream
	cpu0, pg0, own0 = a.cpu(), pgCPU(ctx, pc), procCPU(os.Getpid())
	after, _ := writeRun(ctx, c, a, users, "after", nil)
	cpuAfter, pgAfter, ownAfter := a.cpu()-cpu0, pgSpent(pg0, pgCPU(ctx, pc)), procCPU(os.Getpid())-own0
	tog[2] = toggleRun(ctx, c, a, b, pc, users, targets)
	base := (float64(count(before)) + float64(count(after))) / 2
	fmt.Printf("writes on A (%d writers, %s each): %d without streams before, %d with every writer's stream open on B (notifications), %d without after: "+
		"with ÷ without %.3f\n", c.writers, c.duration, count(before), total, count(after), float64(total)/max(1, base))
	per := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(max(1, n)) }
	withoutPer := (per(cpuBefore, count(before)) + per(cpuAfter, count(after))) / 2
	fmt.Printf("A's CPU per write: %.0f µs without streams before, %.0f with, %.0f without after: with ÷ without %.3f; B's CPU per write with the streams %.0f µs\n",
		per(cpuBefore, count(before)), per(cpuWith, total), per(cpuAfter, count(after)), per(cpuWith, total)/max(1, withoutPer), per(cpuWithB, total))
	if pgBefore >= 0 && pgWith >= 0 && pgAfter >= 0 {
		pgWithout := (per(pgBefore, count(before)) + per(pgAfter, count(after))) / 2
		fmt.Printf("PostgreSQL's CPU per write (the bench database's backends): %.0f µs without streams before, %.0f with, %.0f without after: with ÷ without %.3f\n",
			per(pgBefore, count(before)), per(pgWith, total), per(pgAfter, count(after)), per(pgWith, total)/max(1, pgWithout))
	}
	// The bench's own CPU (its writers, and with the streams its readers
	// of every event): it shares the two cores with A, B and PostgreSQL,
	// so what it spends reading events is throughput the with-run loses
	// that no client of a real deployment would take from the servers.
	fmt.Printf("this bench's own CPU per write (its writers; with the streams its readers too): %.0f µs without streams before, %.0f with, %.0f without after\n",
		per(ownBefore, count(before)), per(ownWith, total), per(ownAfter, count(after)))
	if c.toggleDuration > 0 {
		// The same three lines for the toggles (the lines above are the
		// creates'), then both ops' ratios side by side.
		tBase := float64(tog[0].n+tog[2].n) / 2
		fmt.Printf("toggles on A (%d writers, %s each): %d without streams before, %d with every writer's stream open on B (notifications), %d without after: "+
			"with ÷ without %.3f; %d failed\n", c.writers, c.toggleDuration, tog[0].n, tog[1].n, tog[2].n, float64(tog[1].n)/max(1, tBase),
			tog[0].failed+tog[1].failed+tog[2].failed)
		tWithout := (per(tog[0].cpuA, tog[0].n) + per(tog[2].cpuA, tog[2].n)) / 2
		fmt.Printf("A's CPU per toggle: %.0f µs without streams before, %.0f with, %.0f without after: with ÷ without %.3f; B's CPU per toggle with the streams %.0f µs\n",
			per(tog[0].cpuA, tog[0].n), per(tog[1].cpuA, tog[1].n), per(tog[2].cpuA, tog[2].n), per(tog[1].cpuA, tog[1].n)/max(1, tWithout), per(tog[1].cpuB, tog[1].n))
		pgOK := tog[0].pg >= 0 && tog[1].pg >= 0 && tog[2].pg >= 0
		pgTog := 0.0
		if pgOK {
			pgTWithout := (per(tog[0].pg, tog[0].n) + per(tog[2].pg, tog[2].n)) / 2
			pgTog = per(tog[1].pg, tog[1].n) / max(1, pgTWithout)
			fmt.Printf("PostgreSQL's CPU per toggle (the bench database's backends): %.0f µs without streams before, %.0f with, %.0f without after: with ÷ without %.3f\n",
				per(tog[0].pg, tog[0].n), per(tog[1].pg, tog[1].n), per(tog[2].pg, tog[2].n), pgTog)
		}
		pgCreate := 0.0
		if pgBefore >= 0 && pgWith >= 0 && pgAfter >= 0 {
			pgCreate = per(pgWith, total) / max(1, (per(pgBefore, count(before))+per(pgAfter, count(after)))/2)
		}
		fmt.Printf("with ÷ without by op: creates %.3f, toggles %.3f (throughput); PostgreSQL's CPU per op creates %.3f, toggles %.3f\n",
			float64(total)/max(1, base), float64(tog[1].n)/max(1, tBase), pgCreate, pgTog)
	}
	if missing > 0 {
		return errors.New("events missing")
	}
	return nil
}

// idle: list throughput and memory on B, without and with idle streams.
// write is one POST of writeRun: the task's id, when its 201 was read and
// how long the POST took.
type write struct {
	id   int64
	at   time.Time
	took time.Duration
}

// opRun is what one toggle run did: the toggles that got 200, those that
// failed, and the CPU A, B and the bench database's backends spent (pg < 0:
// not known).
type opRun struct {
	n, failed      int
	cpuA, cpuB, pg time.Duration
}

// toggleRun runs writeRun's toggles for c.toggleDuration (none when it is
// 0) and measures them.
func toggleRun(ctx context.Context, c config, a, b *instance, pc *pgx.Conn, users []benchUser, targets [][]int64) opRun {
	if c.toggleDuration <= 0 {
		return opRun{}
	}
	// The bench database is fresh and the test server runs autovacuum off:
	// without statistics the instances' cached plans find a toggle's task
	// (its read and its UPDATE, by id and owner) through tasks_scope_key by
	// owner, reading every task the writer created so far (400 rows a
	// toggle after 500 creates; togglecpu), so a toggle cost more each run.
	// ANALYZE (outside the measure) gives them the plans autoanalyze would:
	// tasks_pkey, one row. Creates find nothing by id and are not affected.
	if _, err := pc.Exec(ctx, "ANALYZE tasks, task_revisions"); err != nil {
		fmt.Fprintln(os.Stderr, "analyze before the toggles:", err)
	}
	cpuA, cpuB, pg0 := a.cpu(), b.cpu(), pgCPU(ctx, pc)
	c.duration = c.toggleDuration
	ws, failed := writeRun(ctx, c, a, users, "", targets)
	return opRun{n: count(ws), failed: int(failed), cpuA: a.cpu() - cpuA, cpuB: b.cpu() - cpuB, pg: pgSpent(pg0, pgCPU(ctx, pc))}
}

// writeRun has each of users create tasks on a for c.duration, one at a
// time: the writes that got 201, per user, and how many failed. With
// toggle, user i instead toggles toggle[i]'s tasks in turn (PATCH
// .../complete, 200).
func writeRun(ctx context.Context, c config, a *instance, users []benchUser, title string, toggle [][]int64) ([][]write, int64) {
	writes := make([][]write, len(users))
	var failed atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(c.duration)
	for i := range users {
		if toggle != nil && len(toggle[i]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(end); n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/api/"+users[i].id+"/tasks",
					strings.NewReader(`{"title":"`+title+` `+strconv.Itoa(n)+`"}`))
				want := http.StatusCreated
				if toggle != nil {
					id := toggle[i][n%len(toggle[i])]
					req, _ = http.NewRequestWithContext(ctx, http.MethodPatch, a.url+"/api/"+users[i].id+"/tasks/"+strconv.FormatInt(id, 10)+"/complete", nil)
					want = http.StatusOK
				}
				req.Header.Set("Authorization", "Bearer "+users[i].token)
				req.Header.Set("Content-Type", "application/json")
				sent := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				var t struct {
					ID int64 `json:"id"`
				}
				err = json.NewDecoder(res.Body).Decode(&t)
				res.Body.Close()
				at := time.Now()
				if res.StatusCode != want || err != nil {
					failed.Add(1)
					continue
				}
				writes[i] = append(writes[i], write{id: t.ID, at: at, took: at.Sub(sent)})
			}
		}()
	}
	wg.Wait()
	return writes, failed.Load()
}

// count is how many writes ws holds.
func count(ws [][]write) int {
	n := 0
	for _, w := range ws {
		n += len(w)
	}
	return n
}

func idle(ctx context.Context, c config, b *instance) error {
	lister := newUser("list", 0)
	for i := range 20 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.url+"/api/"+lister.id+"/tasks", strings.NewReader(`{"title":"task `+strconv.Itoa(i)+`"}`))
		req.Header.Set("Authorization", "Bearer "+lister.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	listRun(ctx, c, b, lister) // warm-up

	// Rounds alternate: list without the streams, open them, list with
	// them, close them. Each round's ratio compares two runs a few seconds
	// apart, so that a change of the machine's other load between the
	// start and the end of the run moves both sides; the median of the
	// rounds is the figure.
	var tputRatios, cpuRatios []float64
	for round := 1; round <= max(1, c.idleRounds); round++ {
		rss0 := b.rss()
		cpu0 := b.cpu()
		stopProfile := b.profileCPU(c, fmt.Sprintf("without-%d", round))
		without, nWithout := listRun(ctx, c, b, lister)
		stopProfile()
		cpuWithout := b.cpu() - cpu0

		conns, failed, opened := openStreams(c, b)
		// Past the opening's after-effects: each new user's streams re-read
		// the feed once DB_TIMEOUT + 1 s after registering (the race window
		// of change_watchers, sqlstore.ListenOptions.RaceWindow).
		time.Sleep(8 * time.Second)
		idle0 := b.cpu()
		time.Sleep(5 * time.Second)
		idleCPU := b.cpu() - idle0
		rss1 := b.rss()
		cpu1 := b.cpu()
		stopProfile = b.profileCPU(c, fmt.Sprintf("with-%d", round))
		with, nWith := listRun(ctx, c, b, lister)
		stopProfile()
		cpuWith := b.cpu() - cpu1
		for _, conn := range conns {
			if conn != nil {
				conn.Close()
			}
		}
		open := c.streams - failed
		perWithout := float64(cpuWithout.Microseconds()) / float64(max(1, nWithout))
		perWith := float64(cpuWith.Microseconds()) / float64(max(1, nWith))
		tputRatios = append(tputRatios, with/without)
		cpuRatios = append(cpuRatios, perWith/perWithout)
		fmt.Printf("round %d: idle streams: %d open on B (%d failed) in %s; B's VmRSS %.0f MiB without them, %.0f MiB with them (%.1f KiB per stream)\n",
			round, open, failed, opened.Round(time.Millisecond), rss0, rss1, (rss1-rss0)*1024/float64(max(1, c.streams)))
		fmt.Printf("round %d: B's CPU with the idle streams and no requests: %.1f%% of one core (keepalives every EVENTS_KEEPALIVE)\n",
			round, float64(idleCPU)/float64(5*time.Second)*100)
		fmt.Printf("round %d: list throughput on B (%d connections, %s, 20 tasks): %.0f req/s without streams, %.0f req/s with %d idle streams: ratio %.3f; "+
			"B's CPU per list request %.0f µs without, %.0f µs with: ratio %.3f\n",
			round, c.listConns, c.listDuration, without, with, open, with/without, perWithout, perWith, perWith/perWithout)
		// Let the closed streams' goroutines and sockets go before the next
		// round's run without them.
		time.Sleep(2 * time.Second)
	}
	fmt.Printf("idle streams, median of %d rounds: list throughput with ÷ without %.3f (rounds %s); B's CPU per list request with ÷ without %.3f (rounds %s)\n",
		len(tputRatios), median(tputRatios), fmtRatios(tputRatios), median(cpuRatios), fmtRatios(cpuRatios))
	return nil
}

// openStreams opens c.streams idle streams on b: raw connections that read
// the headers and then nothing (an idle client), the per-user cap
// respected. A failed one is nil in conns and counted in failed.
func openStreams(c config, b *instance) (conns []net.Conn, failed int, opened time.Duration) {
	users := make([]benchUser, (c.streams+c.perUser-1)/c.perUser)
	for i := range users {
		users[i] = newUser("idle", i)
	}
	conns = make([]net.Conn, c.streams)
	var nFailed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	host := strings.TrimPrefix(b.url, "http://")
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			u := users[i/c.perUser]
			conn, err := net.Dial("tcp", host)
			if err != nil {
				nFailed.Add(1)
				return
			}
			fmt.Fprintf(conn, "GET /api/%s/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", u.id, host, u.token)
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			br := bufio.NewReader(conn)
			status, err := br.ReadString('\n')
			if err != nil || !strings.Contains(status, " 200 ") {
				nFailed.Add(1)
				conn.Close()
				return
			}
			_ = conn.SetReadDeadline(time.Time{})
			conns[i] = conn
		}()
	}
	wg.Wait()
	return conns, int(nFailed.Load()), time.Since(start)
}

// median is the middle of xs (the mean of the two middle ones for an even
// count); xs is sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

func fmtRatios(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 3, 64)
	}
	return strings.Join(parts, ", ")
}

// profileCPU takes a CPU profile of the instance over the list run that
// follows (with -profile), written to <dir>/list-<name>.pprof when the
// returned function is called after it.
func (in *instance) profileCPU(c config, name string) func() {
	if c.profile == "" || in.pprof == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		secs := max(1, int(c.listDuration.Seconds()))
		res, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", in.pprof, secs))
		if err != nil {
			fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
			return
		}
		defer res.Body.Close()
		f, err := os.Create(filepath.Join(c.profile, "list-"+name+".pprof"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, res.Body)
	}()
	return func() { <-done }
}

// listRun runs c.listConns clients listing for c.listDuration: req/s and
// requests.
func listRun(ctx context.Context, c config, b *instance, u benchUser) (float64, int64) {
	var n atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(c.listDuration)
	for range c.listConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/api/"+u.id+"/tasks", nil)
				req.Header.Set("Authorization", "Bearer "+u.token)
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / c.listDuration.Seconds(), n.Load()
}
