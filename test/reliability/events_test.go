package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// sseClient reads one stream of live events.
type sseClient struct {
	events chan sseEvent
	cancel context.CancelFunc
}

type sseEvent struct {
	name, id string
	entity   string
	op       string
	taskID   int64
}

// openEvents opens GET /events on a (with a ticket from a, as a browser
// does) and reads it into events until the test ends.
func openEvents(t *testing.T, a *api, u user, query string) *sseClient {
	t.Helper()
	c := newClient(a.URL, 15*time.Second)
	o := c.do(context.Background(), http.MethodPost, "/api/"+u.id+"/events/ticket", u.token, nil)
	var tk struct {
		Ticket string `json:"ticket"`
	}
	if o.status != http.StatusCreated || json.Unmarshal(o.body, &tk) != nil || tk.Ticket == "" {
		t.Fatalf("POST events/ticket: %v", o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.URL+"/api/"+u.id+"/events?ticket="+tk.Ticket+query, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET events: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET events = %d", res.StatusCode)
	}
	s := &sseClient{events: make(chan sseEvent, 1000), cancel: cancel}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		br := bufio.NewReader(res.Body)
		var ev sseEvent
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				var d struct {
					Entity string `json:"entity"`
					Op     string `json:"op"`
					ID     int64  `json:"id"`
				}
				if json.Unmarshal([]byte(line[6:]), &d) == nil {
					ev.entity, ev.op, ev.taskID = d.Entity, d.Op, d.ID
				}
			}
		}
	}()
	return s
}

// waitFor reads events until want says yes; it fails after 20 s or at
// the stream's end.
func (s *sseClient) waitFor(t *testing.T, what string, want func(sseEvent) bool) sseEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("%s: the stream ended", what)
			}
			if want(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("%s: nothing in 20 s", what)
		}
	}
}

// TestEventsAcrossInstances (issue 16): two binaries on one PostgreSQL
// database. A task created on A is an event on a stream of B (and of A);
// when B's listening connection is killed, B's stream is told to resync,
// B reconnects by itself, and a write on A reaches B's stream again; a
// stream reopened on A with last_event_id replays what it missed.
func TestEventsAcrossInstances(t *testing.T) {
	heavy(t)
	t.Parallel()
	dbURL := testenv.PostgresDatabase(t)
	a := startReady(t, "todo-api", "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
	b := startReady(t, "todo-api", "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
	ctx := context.Background()
	u := newUser(t)
	onB := openEvents(t, b, u, "")
	onA := openEvents(t, a, u, "")

	// Changes are notified only for users someone listens for: both instances
	// registered u before their streams' headers came.
	conn := connect(t, dbURL)
	defer conn.Close(ctx)
	var watchers int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM change_watchers WHERE user_id = $1 AND expires_at > now()", u.id).Scan(&watchers); err != nil || watchers != 2 {
		t.Fatalf("change_watchers rows for the user with streams on A and B: %d (%v), want 2", watchers, err)
	}

	ca := newClient(a.URL, 15*time.Second)
	defer ca.close()
	create := func(title string) int64 {
		t.Helper()
		o := ca.do(ctx, http.MethodPost, u.tasks(), u.token, map[string]string{"title": title})
		tk, err := o.task()
		if o.status != http.StatusCreated || err != nil {
			t.Fatalf("create on A: %v", o)
		}
		return tk.ID
	}
	first := create("first")
	isTask := func(id int64) func(sseEvent) bool {
		return func(ev sseEvent) bool { return ev.name == "" && ev.entity == "task" && ev.taskID == id }
	}
	seen := onB.waitFor(t, "B's stream, the task created on A", isTask(first))
	onA.waitFor(t, "A's stream, its own write", isTask(first))

	// Kill the listening connections (both instances'; B's is the one
	// that matters).
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'todo-listen' AND datname = current_database()"); err != nil {
		t.Fatal(err)
	}
	onB.waitFor(t, "B's stream after its listener was killed", func(ev sseEvent) bool { return ev.name == "resync" })
	// B reconnects by itself: a task created on A after the kill reaches
	// B's stream (by a notification, or by the re-read B's stream makes
	// when B listens again; either needs B to listen again).
	created := map[int64]bool{create("after the kill"): true}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	var second int64
	for second == 0 {
		select {
		case ev, ok := <-onB.events:
			if !ok {
				t.Fatal("B's stream ended after its listener was killed")
			}
			if ev.name == "" && created[ev.taskID] {
				second = ev.taskID
			}
		case <-tick.C:
			created[create("after the kill")] = true
		case <-deadline:
			t.Fatal("no task created on A after B's listener was killed reached B's stream in 20 s")
		}
	}

	// Replay: a new stream on A from the first event's id gets the later
	// tasks without a write.
	replay := openEvents(t, a, u, "&last_event_id="+seen.id)
	replay.waitFor(t, "a stream reopened with last_event_id", isTask(second))
}

// TestEventsInProcess (issue 16): with memory and SQLite the stores tell
// the in-process hub after their commits: a write is an event on a stream
// of the same instance.
func TestEventsInProcess(t *testing.T) {
	heavy(t)
	t.Parallel()
	for name, dbURL := range map[string]string{"memory": "memory:", "sqlite": "sqlite:" + t.TempDir() + "/todo.db"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := startReady(t, "todo-api", "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
			u := newUser(t)
			s := openEvents(t, a, u, "")
			c := newClient(a.URL, 15*time.Second)
			defer c.close()
			o := c.do(context.Background(), http.MethodPost, u.tasks(), u.token, map[string]string{"title": "live"})
			tk, err := o.task()
			if o.status != http.StatusCreated || err != nil {
				t.Fatalf("create: %v", o)
			}
			s.waitFor(t, "the stream, after a create", func(ev sseEvent) bool { return ev.entity == "task" && ev.taskID == tk.ID })
		})
	}
}
