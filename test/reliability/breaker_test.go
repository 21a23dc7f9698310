package reliability

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// The service's log messages for the breaker (bootstrap.dbEvents).
const (
	msgBreakerOpened = "database not answering: requests get 503 at once until a probe gets an answer"
	msgBreakerClosed = "database answering again"
)

// waitLog polls the service's log until a line with msg shows up and
// returns the time the service wrote it; timeout is a hang guard.
func (a *api) waitLog(t *testing.T, msg string, timeout time.Duration) time.Time {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out := a.Stdout()
		out = out[:strings.LastIndexByte(out, '\n')+1] // the line being written is not whole yet
		for _, l := range parseLogs(t, a.Name(), out) {
			if l.Msg == msg {
				at, err := time.Parse("2006-01-02T15:04:05.000Z0700", l.TS)
				if err != nil {
					t.Fatalf("log line %q: time %q: %v", msg, l.TS, err)
				}
				return at
			}
		}
		if a.Exited() {
			t.Fatalf("the service exited before logging %q", msg)
		}
	}
	t.Fatalf("no %q in the service's log within %v", msg, timeout)
	return time.Time{}
}

// metric returns the line of GET /metrics that starts with name.
func (a *api) metric(t *testing.T, c *client, name string) string {
	t.Helper()
	o := c.do(t.Context(), http.MethodGet, "/metrics", "", nil)
	if o.status != http.StatusOK {
		t.Fatalf("GET /metrics: %v", o)
	}
	for line := range strings.Lines(string(o.body)) {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("GET /metrics has no %s", name)
	return ""
}

// TestDatabaseBlackholeBreaker black-holes PostgreSQL under the running
// binary (the proxy accepts connections and passes no byte) with
// DB_TIMEOUT set large (8 s), so that any request the database itself would
// have to answer takes at least that long. The first statements time out,
// the breaker's probe is silent too, and the breaker opens: from then on
// every request is answered 503 with Retry-After far under DB_TIMEOUT, and
// the requests waiting when it opened are answered then. When the black
// hole ends, the probe closes the breaker by itself and the same process
// serves again; every create it acknowledged is in the database.
func TestDatabaseBlackholeBreaker(t *testing.T) {
	heavy(t)
	t.Parallel()
	const dbTimeout = 8 * time.Second
	dbURL := testenv.PostgresDatabase(t)
	u, _ := url.Parse(dbURL)
	p := testenv.NewProxy(t, u.Host)
	q := u.Query()
	q.Set("connect_timeout", "20") // longer than DB_TIMEOUT: no connection attempt gives up first
	proxied := *u
	proxied.Host = p.Addr
	proxied.RawQuery = q.Encode()

	a := startReady(t, "todo-api", "DATABASE_URL="+proxied.String(), "DB_TIMEOUT="+dbTimeout.String(),
		"REQUEST_TIMEOUT=20s", "DB_MAX_CONNS=4")
	c := newClient(a.URL, 30*time.Second)
	defer c.close()
	users := make([]user, 8)
	for i := range users {
		users[i] = newUser(t)
	}
	acked := map[string][]apiTask{}

	all, got := outagePhase(c, users, 500*time.Millisecond)
	mergeAcked(acked, got)
	checkServed(t, "before the black hole", users, all, got)
	if m := a.metric(t, c, "todo_db_breaker_open"); m != "todo_db_breaker_open 0" {
		t.Errorf("before the black hole: %s, want 0", m)
	}

	p.Blackhole()
	holeStart := time.Now()
	stop := make(chan struct{})
	type result struct {
		all   []outcome
		acked map[string][]apiTask
	}
	done := make(chan result)
	go func() {
		all, acked := drive(c, users, stop)
		done <- result{all, acked}
	}()
	opened := a.waitLog(t, msgBreakerOpened, 60*time.Second)
	time.Sleep(3 * time.Second) // the breaker open: requests keep coming
	readyz := c.do(t.Context(), http.MethodGet, "/readyz", "", nil)
	openMetric := a.metric(t, c, "todo_db_breaker_open")
	close(stop)
	r := <-done
	mergeAcked(acked, r.acked)
	holed := check503s(t, "black hole", r.all)

	// The answers to requests sent once the breaker was open, to those
	// that were waiting when it opened, and to those that ran out of time
	// before (which made the breaker probe).
	var after, waiting, before []time.Duration
	for _, o := range r.all {
		switch {
		case !o.at.Add(o.took).After(opened):
			before = append(before, o.took)
		case o.at.After(opened):
			after = append(after, o.took)
			if o.took >= dbTimeout {
				t.Errorf("%v: sent after the breaker opened, answered after %v, not under DB_TIMEOUT (%v)", o, o.took, dbTimeout)
			}
		case o.at.Add(o.took).After(opened):
			waiting = append(waiting, o.took)
		}
	}
	if len(after) == 0 {
		t.Errorf("no request was sent after the breaker opened")
	}
	if readyz.status != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the breaker open: %v, want 503", readyz)
	}
	if openMetric != "todo_db_breaker_open 1" {
		t.Errorf("with the breaker open: %s, want 1", openMetric)
	}

	p.Heal(t)
	healStart := time.Now()
	a.waitStatus(t, "/readyz", http.StatusOK, 15*time.Second)
	recovered := time.Since(healStart)
	a.waitLog(t, msgBreakerClosed, 15*time.Second)

	var afterHeal []outcome
	afterAcked := map[string][]apiTask{}
	for deadline := time.Now().Add(15 * time.Second); ; {
		all, got := outagePhase(c, users, 500*time.Millisecond)
		afterHeal = append(afterHeal, all...)
		mergeAcked(afterAcked, got)
		if len(afterAcked) == len(users) || time.Now().After(deadline) {
			break
		}
	}
	mergeAcked(acked, afterAcked)
	checkServed(t, "after healing", users, afterHeal, afterAcked)
	if m := a.metric(t, c, "todo_db_breaker_open"); m != "todo_db_breaker_open 0" {
		t.Errorf("after healing: %s, want 0", m)
	}

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
			t.Errorf("log: %+v; want no 500 during a black hole", l)
		}
	}
	t.Logf("figures: black hole breaker: opened %v after the black hole began (DB_TIMEOUT %v); %d requests in the hole, %d answered 503",
		opened.Sub(holeStart).Round(time.Millisecond), dbTimeout, len(r.all), len(holed))
	t.Logf("figures: black hole breaker: sent while open: %d, p50 %v, p99 %v, max %v; waiting when it opened: %d, max %v; answered before: %d, max %v; /readyz 503 in %v",
		len(after), percentile(after, 50), percentile(after, 99), percentile(after, 100),
		len(waiting), percentile(waiting, 100), len(before), percentile(before, 100), readyz.took.Round(time.Microsecond))
	t.Logf("figures: black hole breaker: ready again %v after healing; %d creates acknowledged, %d in the database, %d lost",
		recovered.Round(time.Millisecond), nAcked, nAcked-lost, lost)
}
