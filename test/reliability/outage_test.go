package reliability

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// outagePhase drives workers, each with its own user, for d: creates and
// lists, as a frontend would. It returns every outcome and the creates that
// were acknowledged (201), per user.
func outagePhase(c *client, users []user, d time.Duration) (all []outcome, acked map[string][]apiTask) {
	stop := make(chan struct{})
	t := time.AfterFunc(d, func() { close(stop) })
	defer t.Stop()
	return drive(c, users, stop)
}

// drive is outagePhase until stop is closed: each worker sends no request
// after that, and drive returns when their last answers are in.
func drive(c *client, users []user, stop <-chan struct{}) (all []outcome, acked map[string][]apiTask) {
	var mu sync.Mutex
	acked = map[string][]apiTask{}
	var wg sync.WaitGroup
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for _, u := range users {
		wg.Go(func() {
			for i := 0; !stopped(); i++ {
				var o outcome
				if i%2 == 0 {
					o = c.do(context.Background(), http.MethodPost, u.tasks(), u.token, map[string]string{"title": "outage " + strconv.Itoa(i)})
				} else {
					o = c.do(context.Background(), http.MethodGet, u.tasks(), u.token, nil)
				}
				mu.Lock()
				all = append(all, o)
				if o.status == http.StatusCreated {
					if tk, err := o.task(); err == nil {
						acked[u.id] = append(acked[u.id], tk)
					}
				}
				mu.Unlock()
				if o.status == http.StatusServiceUnavailable {
					time.Sleep(20 * time.Millisecond) // a polite client; Retry-After says 5 s
				}
			}
		})
	}
	wg.Wait()
	return all, acked
}

// check503s holds the answers given while the database was out: 503 with
// Retry-After and {"detail": ...}, or (before the cut took effect) a success;
// never 500, never a hang (the client gives up after 15 s, which fails).
func check503s(t *testing.T, phase string, all []outcome) (latencies []time.Duration) {
	t.Helper()
	bad := 0
	for _, o := range all {
		switch {
		case o.status == http.StatusServiceUnavailable:
			latencies = append(latencies, o.took)
			if s, err := strconv.Atoi(o.header.Get("Retry-After")); err != nil || s < 1 || !o.isDetail() {
				t.Errorf("%s: 503 without Retry-After seconds or {\"detail\"}: %v (Retry-After %q)", phase, o, o.header.Get("Retry-After"))
			}
		case o.status == http.StatusOK || o.status == http.StatusCreated:
		default:
			if bad++; bad <= 5 {
				t.Errorf("%s: %v, want 503", phase, o)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d answers in all were not 503 (first 5 shown)", phase, bad)
	}
	if len(latencies) == 0 {
		t.Errorf("%s: no 503 in %d requests; the outage did not show", phase, len(all))
	}
	return latencies
}

// checkServed holds a phase with the database up: every user's creates
// were acknowledged, and nothing failed but, on a starved machine, a 503 of
// a statement that outran its 2 s bound (a client retries those).
func checkServed(t *testing.T, phase string, users []user, all []outcome, acked map[string][]apiTask) {
	t.Helper()
	for _, o := range all {
		if o.status != http.StatusCreated && o.status != http.StatusOK && o.status != http.StatusServiceUnavailable {
			t.Errorf("%s: %v, want success", phase, o)
		}
	}
	for _, u := range users {
		if len(acked[u.id]) == 0 {
			t.Errorf("%s: no create of %s was acknowledged in %d requests", phase, u.id, len(all))
		}
	}
}

func mergeAcked(into, from map[string][]apiTask) {
	for k, v := range from {
		into[k] = append(into[k], v...)
	}
}

// TestDatabaseOutage cuts the binary off PostgreSQL with a TCP proxy, twice:
// refused (PostgreSQL down) and blackholed (packets dropped, nothing says
// so). During each, every request gets 503 with Retry-After quickly, /readyz
// says 503, and nothing is 500. Healed, the same process is ready again and
// serves, and every create it acknowledged, before, during or after, is in
// the database.
func TestDatabaseOutage(t *testing.T) {
	heavy(t)
	t.Parallel()
	dbURL := testenv.PostgresDatabase(t)
	u, _ := url.Parse(dbURL)
	p := testenv.NewProxy(t, u.Host)
	q := u.Query()
	q.Set("connect_timeout", "2")
	proxied := *u
	proxied.Host = p.Addr
	proxied.RawQuery = q.Encode()

	a := startReady(t, "todo-api", "DATABASE_URL="+proxied.String(), "DB_TIMEOUT=2s", "REQUEST_TIMEOUT=5s", "DB_MAX_CONNS=4")
	c := newClient(a.URL, 15*time.Second)
	defer c.close()
	users := make([]user, 8)
	for i := range users {
		users[i] = newUser(t)
	}
	acked := map[string][]apiTask{}
	const phase = 1500 * time.Millisecond

	all, got := outagePhase(c, users, 500*time.Millisecond)
	mergeAcked(acked, got)
	checkServed(t, "before the outage", users, all, got)
	before := len(all)

	p.Stop()
	refusedAll, got := outagePhase(c, users, phase)
	mergeAcked(acked, got)
	refused := check503s(t, "PostgreSQL refusing", refusedAll)
	a.waitStatus(t, "/readyz", http.StatusServiceUnavailable, 10*time.Second)

	p.Heal(t)
	healStart := time.Now()
	a.waitStatus(t, "/readyz", http.StatusOK, 15*time.Second)
	recoveredRefused := time.Since(healStart)

	p.Blackhole()
	holeAll, got := outagePhase(c, users, phase+2*time.Second)
	mergeAcked(acked, got)
	holed := check503s(t, "network blackholed", holeAll)
	a.waitStatus(t, "/readyz", http.StatusServiceUnavailable, 10*time.Second)

	p.Heal(t)
	healStart = time.Now()
	a.waitStatus(t, "/readyz", http.StatusOK, 15*time.Second)
	recoveredHole := time.Since(healStart)

	// Recovered: every user's creates are acknowledged again. On a starved
	// machine the first statements may still outrun their 2 s bound (503),
	// so keep going until each user had one, for up to 15 s.
	var after []outcome
	afterAcked := map[string][]apiTask{}
	for deadline := time.Now().Add(15 * time.Second); ; {
		all, got := outagePhase(c, users, 500*time.Millisecond)
		after = append(after, all...)
		mergeAcked(afterAcked, got)
		if len(afterAcked) == len(users) || time.Now().After(deadline) {
			break
		}
	}
	mergeAcked(acked, afterAcked)
	checkServed(t, "after healing", users, after, afterAcked)
	if a.Exited() {
		t.Fatal("the service exited during the outage; it must ride it out")
	}

	// Every acknowledged create is stored (read around the proxy).
	conn := connect(t, dbURL)
	nAcked, lost := 0, 0
	for _, usr := range users {
		stored := storedTasks(t, conn, usr.id)
		for _, tk := range acked[usr.id] {
			nAcked++
			if s, ok := stored[tk.ID]; !ok || s.Title != tk.Title {
				lost++
				t.Errorf("acknowledged task %d %q of %s is not in the database", tk.ID, tk.Title, usr.id)
			}
		}
	}
	for _, l := range a.logs(t) {
		if l.Msg == "request failed" || l.Msg == "panic" || (l.Msg == "request" && l.Status >= 500 && l.Status != 503) {
			t.Errorf("log: %+v; want no 500 during an outage", l)
		}
	}
	t.Logf("figures: outage drill: %d requests before; refused: %d requests, %d answered 503, p50 %v, p99 %v, max %v; ready again %v after healing",
		before, len(refusedAll), len(refused), percentile(refused, 50), percentile(refused, 99), percentile(refused, 100), recoveredRefused.Round(time.Millisecond))
	t.Logf("figures: outage drill: blackholed: %d requests, %d answered 503, p50 %v, p99 %v, max %v; ready again %v after healing; %d requests after",
		len(holeAll), len(holed), percentile(holed, 50), percentile(holed, 99), percentile(holed, 100), recoveredHole.Round(time.Millisecond), len(after))
	t.Logf("figures: outage drill: %d creates acknowledged, %d found in the database, %d lost", nAcked, nAcked-lost, lost)
}

// TestStartWithDatabaseDown: the service fails fast when it cannot reach the
// database at start: it exits non-zero within the connect timeout with one
// line on stderr that says so and does not show the password.
func TestStartWithDatabaseDown(t *testing.T) {
	heavy(t)
	t.Parallel()
	port := testenv.FreePort(t) // nothing listens there
	a := start(t, "todo-api", "DATABASE_URL=postgres://app:hunter2@127.0.0.1:"+strconv.Itoa(port)+"/todo?sslmode=disable&connect_timeout=2")
	code := a.Wait(t, 30*time.Second)
	if code == 0 {
		t.Errorf("exit code with the database down = 0, want non-zero")
	}
	stderr := strings.TrimSpace(a.Stderr())
	if n := strings.Count(stderr, "\n") + 1; stderr == "" || n != 1 {
		t.Errorf("stderr has %d lines, want exactly one:\n%s", n, stderr)
	}
	if strings.Contains(stderr, ".go:") {
		t.Errorf("stderr shows source locations, not a sentence for people: %s", stderr)
	}
	if !strings.Contains(stderr, "database") {
		t.Errorf("stderr %q does not say the database is the problem", stderr)
	}
	if strings.Contains(stderr+a.Stdout(), "hunter2") {
		t.Errorf("the output shows the database password")
	}
	t.Logf("figures: start with the database down: exit code %d, stderr: %s", code, stderr)
}
