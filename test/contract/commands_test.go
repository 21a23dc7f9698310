package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// Issue 17: offline commands (POST .../commands) on every store, through
// the router as the service wires it: command ids are kept by the store,
// in the transaction of the command's write.

var commandsSecret = []byte("commands-contract-secret-of-32-bytes!!")

// commandAPIs are routers over one store: one, or (PostgreSQL) two
// instances sharing the database.
var commandAPIs = map[string]func(*testing.T) []http.Handler{
	"memory": func(t *testing.T) []http.Handler {
		s := memory.NewStore()
		s.SetFeedCheck(true) // every commit also compared with the whole store
		svc := application.New(s.Tasks(), s.Users(), nil, application.WithTransactor(s), application.WithLists(s.Lists()),
			application.WithOccurrences(s.Occurrences()), application.WithChanges(s.Changes()))
		return []http.Handler{commandRouter(t, svc, s.Keys())}
	},
	"sqlite": func(t *testing.T) []http.Handler {
		db := openSQLiteDB(t)
		return []http.Handler{sqlRouter(t, db)}
	},
	"postgres": func(t *testing.T) []http.Handler {
		db := openPostgresDB(t)
		return []http.Handler{sqlRouter(t, db), sqlRouter(t, db)}
	},
}

func sqlRouter(t *testing.T, db *bun.DB) http.Handler {
	svc := application.New(sqlstore.NewTaskRepository(db), sqlstore.NewUserRepository(db), nil,
		application.WithLists(sqlstore.NewListRepository(db)), application.WithTransactor(sqlstore.NewTransactor(db)),
		application.WithOccurrences(sqlstore.NewOccurrenceLog(db)), application.WithChanges(sqlstore.NewChangeLog(db)))
	return commandRouter(t, svc, sqlstore.NewIdempotencyStore(db))
}

func commandRouter(t *testing.T, svc *application.Service, keys application.IdempotencyStore) http.Handler {
	v, err := jwks.New(t.Context(), jwks.Config{Secret: commandsSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return httpapi.NewRouter(httpapi.Deps{Service: svc, Verifier: v, Log: zap.NewNop(), Idempotency: keys})
}

type commandClient struct {
	t     *testing.T
	owner auth.UserID
	token string
}

func newCommandClient(t *testing.T) commandClient {
	owner := newOwner()
	tok, err := jwks.SignHS256(commandsSecret, auth.Identity{UserID: owner, Email: string(owner) + "@example.test"}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return commandClient{t: t, owner: owner, token: tok}
}

func (c commandClient) do(h http.Handler, method, path string, body any) (int, []byte) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, "/api/"+string(c.owner)+path, r)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

type cmdResult struct {
	Status    int             `json:"status"`
	Entity    json.RawMessage `json:"entity"`
	Detail    json.RawMessage `json:"detail"`
	Replayed  bool            `json:"replayed"`
	Conflicts []string        `json:"conflicts"`
}

type cmdResponse struct {
	Results       map[string]cmdResult `json:"results"`
	TempIDMapping map[string]int64     `json:"temp_id_mapping"`
	Cursor        string               `json:"cursor"`
}

func (c commandClient) send(h http.Handler, body any) (cmdResponse, error) {
	code, raw := c.do(h, http.MethodPost, "/commands", body)
	var out cmdResponse
	if code != http.StatusOK {
		return out, fmt.Errorf("POST commands: %d %s", code, raw)
	}
	return out, json.Unmarshal(raw, &out)
}

type cmdTask struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	Description *string  `json:"description"`
	Priority    string   `json:"priority"`
	Tags        []string `json:"tags"`
	ListID      *int64   `json:"list_id"`
	Version     int64    `json:"version"`
}

func (c commandClient) tasks(h http.Handler) []cmdTask {
	code, raw := c.do(h, http.MethodGet, "/tasks?limit=200", nil)
	var ts []cmdTask
	if code != http.StatusOK || json.Unmarshal(raw, &ts) != nil {
		c.t.Fatalf("GET tasks: %d %s", code, raw)
	}
	return ts
}

// TestCommands: a queue with temp ids applies in order; sent again it
// replays every first result and writes nothing; an atomic batch that
// fails leaves nothing; and a 100-command batch sent 3 times at once (on
// PostgreSQL to two instances) creates each task once.
func TestCommands(t *testing.T) {
	t.Parallel()
	for name, open := range commandAPIs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hs := open(t)
			c := newCommandClient(t)
			queue := map[string]any{"commands": []map[string]any{
				{"id": "c1", "type": "list.create", "temp_id": "L", "args": map[string]any{"name": "Groceries"}},
				{"id": "c2", "type": "task.create", "temp_id": "A", "args": map[string]any{"title": "milk", "list_id": "L"}},
				{"id": "c3", "type": "task.move", "entity_id": "A", "args": map[string]any{"list_id": nil}},
				// Made on version 1, before the move: merges (the move changed no title).
				{"id": "c4", "type": "task.update", "entity_id": "A", "base_version": 1, "args": map[string]any{"title": "stale"}},
				// Also on version 1: the title is a conflict, the priority applies.
				{"id": "c4b", "type": "task.update", "entity_id": "A", "base_version": 1, "args": map[string]any{"title": "staler", "priority": "high"}},
				{"id": "c5", "type": "task.complete", "entity_id": "A", "args": map[string]any{"completed": true}},
				{"id": "c6", "type": "list.update", "entity_id": "L", "args": map[string]any{"name": "Food"}},
				{"id": "c7", "type": "list.delete", "entity_id": "L"},
				{"id": "c8", "type": "task.delete", "entity_id": "A"},
				{"id": "c9", "type": "task.restore", "entity_id": "A"},
				{"id": "c10", "type": "task.create", "args": map[string]any{"title": ""}},
			}}
			want := map[string]int{"c1": 201, "c2": 201, "c3": 200, "c4": 200, "c4b": 409, "c5": 200, "c6": 200, "c7": 200, "c8": 200, "c9": 200, "c10": 422}
			for round := range 2 {
				out, err := c.send(hs[round%len(hs)], queue)
				if err != nil {
					t.Fatal(err)
				}
				for id, st := range want {
					if r := out.Results[id]; r.Status != st || r.Replayed != (round == 1) {
						t.Errorf("round %d %s: %d replayed %v (%s), want %d", round, id, r.Status, r.Replayed, r.Detail, st)
					}
				}
				if len(out.TempIDMapping) != 2 || out.Cursor == "" {
					t.Errorf("round %d: mapping %v cursor %q", round, out.TempIDMapping, out.Cursor)
				}
				if r := out.Results["c4b"]; fmt.Sprint(r.Conflicts) != "[title]" || !strings.Contains(string(r.Entity), `"title":"stale"`) {
					t.Errorf("round %d c4b: conflicts %v entity %s, want [title] and the task titled stale", round, r.Conflicts, r.Entity)
				}
				if ts := c.tasks(hs[0]); len(ts) != 1 || ts[0].Title != "stale" || ts[0].Priority != "high" || ts[0].ListID != nil {
					t.Errorf("round %d: tasks %+v, want the one task, titled stale, priority high, in no list", round, ts)
				}
			}

			// on_conflict reject: a command with a conflict (title and priority
			// changed since version 1) applies nothing; one without applies.
			id := c.tasks(hs[0])[0].ID
			out, err := c.send(hs[0], map[string]any{"on_conflict": "reject", "commands": []map[string]any{
				{"id": "r1", "type": "task.update", "entity_id": id, "base_version": 1, "args": map[string]any{"title": "rejected", "priority": "low"}},
				{"id": "r2", "type": "task.update", "entity_id": id, "base_version": 1, "args": map[string]any{"tags_add": []string{"kept"}}},
			}})
			if err != nil || out.Results["r1"].Status != 409 || fmt.Sprint(out.Results["r1"].Conflicts) != "[priority title]" || out.Results["r2"].Status != 200 {
				t.Errorf("reject: %+v %v", out, err)
			}
			if ts := c.tasks(hs[0]); ts[0].Title != "stale" || ts[0].Priority != "high" || !slices.Equal(ts[0].Tags, []string{"kept"}) {
				t.Errorf("after a rejected command: %+v, want title stale, priority high, tags [kept]", ts[0])
			}

			// Atomic: a failure leaves nothing.
			out, err = c.send(hs[0], map[string]any{"atomic": true, "commands": []map[string]any{
				{"id": "a1", "type": "task.create", "temp_id": "X", "args": map[string]any{"title": "x"}},
				{"id": "a2", "type": "task.move", "entity_id": "X", "args": map[string]any{"list_id": 8888888888}},
			}})
			if err != nil || out.Results["a1"].Status != 424 || out.Results["a2"].Status != 404 {
				t.Errorf("atomic: %+v %v", out, err)
			}
			if ts := c.tasks(hs[0]); len(ts) != 1 {
				t.Errorf("after a failed atomic batch: %d tasks, want 1", len(ts))
			}

			// 100 creates sent 3 times at once.
			d := newCommandClient(t)
			cmds := make([]map[string]any, 100)
			for i := range cmds {
				cmds[i] = map[string]any{"id": fmt.Sprintf("k%d", i), "type": "task.create", "temp_id": fmt.Sprintf("t%d", i), "args": map[string]any{"title": fmt.Sprint("task ", i)}}
			}
			outs := make([]cmdResponse, 3)
			errs := make([]error, 3)
			var wg sync.WaitGroup
			for i := range outs {
				wg.Go(func() { outs[i], errs[i] = d.send(hs[i%len(hs)], map[string]any{"commands": cmds}) })
			}
			wg.Wait()
			for i := range outs {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if len(outs[i].TempIDMapping) != 100 || fmt.Sprint(outs[i].TempIDMapping) != fmt.Sprint(outs[0].TempIDMapping) {
					t.Errorf("send %d: %d temp ids mapped, not as send 0", i, len(outs[i].TempIDMapping))
				}
			}
			if ts := d.tasks(hs[0]); len(ts) != 100 {
				t.Errorf("100 creates sent 3 times at once: %d tasks, want 100", len(ts))
			}
		})
	}
}
