package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// keyLease is how long the service lets an unfinished request hold its
// Idempotency-Key with the default REQUEST_TIMEOUT (10 s): the larger of a
// minute and twice the request timeout.
const keyLease = time.Minute

// TestIdempotencyKeyKill is issue 14's report as a drill: kill -9 the
// binary on PostgreSQL during a burst of creates, each with its own
// Idempotency-Key, restart it, and retry every key, with the same body,
// until it is answered (past the lease of the keys the killed process
// held); then count each key's tasks in the database. Exactly one per key:
// a create that committed is replayed, one that did not runs once. Before
// the key was finished in the create's transaction, a create whose INSERT
// had committed when the process died left its key unfinished, and the
// retry past the lease created it again.
func TestIdempotencyKeyKill(t *testing.T) {
	heavy(t)
	t.Parallel()
	dbURL := testenv.PostgresDatabase(t)
	a := startReady(t, "todo-api", "DATABASE_URL="+dbURL)
	c := newClient(a.URL, 15*time.Second)
	defer c.close()

	const (
		workers = 16
		users   = 4
		// killAfter is how many creates have begun when the process is
		// killed: well into the burst.
		killAfter = 400
	)
	us := make([]user, users)
	for i := range us {
		us[i] = newUser(t)
	}
	type sent struct {
		user  user
		key   string
		first outcome
	}
	var (
		mu    sync.Mutex
		all   []*sent
		begun atomic.Int64
		wg    sync.WaitGroup
	)
	killed := make(chan struct{})
	ctx := context.Background()
	for w := range workers {
		wg.Go(func() {
			u := us[w%users]
			for n := 0; ; n++ {
				select {
				case <-killed:
					return
				default:
				}
				s := &sent{user: u, key: fmt.Sprintf("kill-%d-%d", w, n)}
				mu.Lock()
				all = append(all, s)
				mu.Unlock()
				begun.Add(1)
				s.first = postKeyed(ctx, c, u, s.key)
				if s.first.status == 0 {
					return // the process is gone
				}
			}
		})
	}
	waitFor(t, 60*time.Second, func() bool { return begun.Load() >= killAfter })
	if _, err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	close(killed)
	wg.Wait()

	answered, unanswered := 0, 0
	for _, s := range all {
		switch {
		case s.first.status == http.StatusCreated:
			answered++
		case s.first.status == 0:
			unanswered++
		default:
			t.Errorf("before the kill: %v", s.first)
		}
	}

	// Restart on the same database; retry every key until it is answered.
	b := startReady(t, "todo-api-restarted", "DATABASE_URL="+dbURL)
	rc := newClient(b.URL, 15*time.Second)
	defer rc.close()
	var replayed, ranAgain, inFlight int
	var firstRunAfter time.Duration
	pending := all
	deadline := killedAt.Add(keyLease + 60*time.Second)
	for round := 0; len(pending) > 0; round++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d keys still in progress %v after the kill, past their lease of %v", len(pending), time.Since(killedAt).Round(time.Second), keyLease)
		}
		if round > 0 {
			time.Sleep(time.Second)
		}
		var next []*sent
		for _, s := range pending {
			o := postKeyed(ctx, rc, s.user, s.key)
			switch {
			case o.status == http.StatusConflict:
				if round == 0 {
					inFlight++
				}
				next = append(next, s)
			case o.status == http.StatusCreated && o.header.Get("Idempotent-Replayed") == "true":
				replayed++
			case o.status == http.StatusCreated:
				ranAgain++
				if firstRunAfter == 0 && round > 0 {
					firstRunAfter = time.Since(killedAt)
				}
			default:
				t.Fatalf("retry of %s: %v", s.key, o)
			}
		}
		pending = next
	}

	// Count each key's tasks in the database.
	conn := connect(t, dbURL)
	perKey := map[string]int{}
	for _, u := range us {
		for _, st := range storedTasks(t, conn, u.id) {
			perKey[st.Title]++
		}
	}
	var dupKeys []string
	duplicates := 0
	for _, s := range all {
		switch n := perKey[titleOf(s.key)]; {
		case n == 0:
			t.Errorf("key %s: no task after its retry was answered", s.key)
		case n > 1:
			dupKeys = append(dupKeys, s.key)
			duplicates += n - 1
		}
	}
	sort.Strings(dupKeys)
	t.Logf("figures: %d keyed creates begun by %d clients, killed after %d; %d answered 201 before the kill, %d unanswered; "+
		"after the restart %d keys were in progress (409), %d retries replayed the first response, %d ran again "+
		"(the first %v after the kill); %d duplicated tasks (%d keys)",
		len(all), workers, killAfter, answered, unanswered, inFlight, replayed, ranAgain, firstRunAfter.Round(time.Second),
		duplicates, len(dupKeys))
	if duplicates > 0 {
		t.Errorf("%d keys have more than one task (a retry wrote again): %v", len(dupKeys), dupKeys)
	}
}

// titleOf is the title of the task a key creates: the key itself, so that
// the database says which key wrote each row.
func titleOf(key string) string { return "drill " + key }

// postKeyed creates u's task for key, with the key as Idempotency-Key.
func postKeyed(ctx context.Context, c *client, u user, key string) outcome {
	body, _ := json.Marshal(map[string]string{"title": titleOf(key)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+u.tasks(), bytes.NewReader(body))
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.token)
	req.Header.Set("Idempotency-Key", key)
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return outcome{requestID: key, err: err, at: start, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	o := outcome{requestID: key, status: resp.StatusCode, body: b, header: resp.Header, at: start, took: time.Since(start)}
	if err != nil {
		o.status, o.err = 0, fmt.Errorf("read body of a %d: %w", resp.StatusCode, err)
	}
	return o
}
