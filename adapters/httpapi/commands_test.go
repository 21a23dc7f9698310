package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Issue 17: POST /api/{user_id}/commands.

type commandResultJSON struct {
	Status    int             `json:"status"`
	Entity    json.RawMessage `json:"entity"`
	Detail    json.RawMessage `json:"detail"`
	Replayed  bool            `json:"replayed"`
	Conflicts []string        `json:"conflicts"`
}

type commandsJSON struct {
	Results       map[string]commandResultJSON `json:"results"`
	TempIDMapping map[string]int64             `json:"temp_id_mapping"`
	Cursor        string                       `json:"cursor"`
}

func (u user) commands() string { return "/api/" + u.id + "/commands" }

func (e *env) commands(t *testing.T, u user, body string) commandsJSON {
	t.Helper()
	res := e.call(t, http.MethodPost, u.commands(), u.token, body)
	wantStatus(t, "POST commands", res, http.StatusOK)
	var out commandsJSON
	if err := json.Unmarshal(res.body, &out); err != nil {
		t.Fatalf("commands body: %v: %s", err, res.body)
	}
	return out
}

func (e *env) count(t *testing.T, u user) int {
	t.Helper()
	res := e.call(t, http.MethodGet, u.tasks(), u.token, "")
	wantStatus(t, "list", res, http.StatusOK)
	return len(decodeTasks(t, res))
}

// offlineQueue makes a list and tasks in it offline, moves, completes,
// updates and deletes through temp ids.
const offlineQueue = `{"commands": [
 {"id": "c1", "type": "list.create", "temp_id": "L", "args": {"name": "Groceries"}},
 {"id": "c2", "type": "task.create", "temp_id": "A", "args": {"title": "milk", "list_id": "L"}},
 {"id": "c3", "type": "task.create", "temp_id": "B", "args": {"title": "eggs", "list_id": "L", "parent_id": "A"}},
 {"id": "c4", "type": "task.update", "entity_id": "A", "base_version": 1, "args": {"title": "oat milk"}},
 {"id": "c5", "type": "task.complete", "entity_id": "B", "args": {"completed": true}},
 {"id": "c6", "type": "task.create", "temp_id": "C", "args": {"title": "bread"}},
 {"id": "c7", "type": "task.delete", "entity_id": "C"},
 {"id": "c8", "type": "task.update", "entity_id": "A", "args": {"title": ""}},
 {"id": "c9", "type": "task.update", "entity_id": "nope", "args": {"title": "x"}},
 {"id": "c10", "type": "task.update", "entity_id": "A", "base_version": 1, "args": {"title": "stale"}}
]}`

func TestCommandsApplyInOrderWithTempIDs(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	out := e.commands(t, u, offlineQueue)
	want := map[string]int{"c1": 201, "c2": 201, "c3": 201, "c4": 200, "c5": 200, "c6": 201, "c7": 200, "c8": 422, "c9": 404, "c10": 409}
	for id, st := range want {
		if got := out.Results[id]; got.Status != st {
			t.Errorf("%s: status %d, want %d (%s)", id, got.Status, st, got.Detail)
		}
	}
	if len(out.TempIDMapping) != 4 || out.Cursor == "" {
		t.Fatalf("mapping %v cursor %q", out.TempIDMapping, out.Cursor)
	}
	b := decodeTask(t, out.Results["c3"].Entity)
	if b.ListID == nil || *b.ListID != out.TempIDMapping["L"] || b.ParentID == nil || *b.ParentID != out.TempIDMapping["A"] {
		t.Errorf("B = %v, want list %d parent %d", b, out.TempIDMapping["L"], out.TempIDMapping["A"])
	}
	a := decodeTask(t, e.call(t, http.MethodGet, u.task(out.TempIDMapping["A"]), u.token, "").body)
	if a.Title != "oat milk" {
		t.Errorf("A's title = %q, want oat milk", a.Title)
	}
	// c10 was made on version 1: c4 changed the title since, a conflict.
	if cur := decodeTask(t, out.Results["c10"].Entity); cur.Title != "oat milk" || fmt.Sprint(out.Results["c10"].Conflicts) != "[title]" {
		t.Errorf("409's entity = %v conflicts %v, want the current task and [title]", cur, out.Results["c10"].Conflicts)
	}
	if n := e.count(t, u); n != 2 {
		t.Errorf("%d tasks, want 2", n)
	}

	// Sent again (the response was lost): every result is the first one,
	// replayed, and nothing changes.
	again := e.commands(t, u, offlineQueue)
	for id, st := range want {
		if got := again.Results[id]; got.Status != st || !got.Replayed {
			t.Errorf("resent %s: %+v, want %d replayed", id, got, st)
		}
	}
	if fmt.Sprint(again.TempIDMapping) != fmt.Sprint(out.TempIDMapping) {
		t.Errorf("resent mapping %v, want %v", again.TempIDMapping, out.TempIDMapping)
	}
	if n := e.count(t, u); n != 2 {
		t.Errorf("after resend: %d tasks, want 2", n)
	}
	// The same id with another command is refused, not applied.
	res := e.commands(t, u, `{"commands": [{"id": "c6", "type": "task.create", "args": {"title": "other"}}]}`)
	if r := res.Results["c6"]; r.Status != 422 {
		t.Errorf("reused id: %+v, want 422", r)
	}
	// Another user's command ids are their own.
	v := e.newUser(t)
	if r := e.commands(t, v, `{"commands": [{"id": "c6", "type": "task.create", "args": {"title": "mine"}}]}`).Results["c6"]; r.Status != 201 || r.Replayed {
		t.Errorf("other user's c6: %+v, want 201", r)
	}
}

func TestCommandsAtomic(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	body := `{"atomic": true, "commands": [
	 {"id": "a1", "type": "task.create", "temp_id": "A", "args": {"title": "one"}},
	 {"id": "a2", "type": "task.update", "entity_id": "A", "args": {"priority": "urgent-ish"}}]}`
	out := e.commands(t, u, body)
	if out.Results["a1"].Status != 424 || out.Results["a2"].Status != 422 || len(out.TempIDMapping) != 0 {
		t.Fatalf("atomic batch with a bad command: %+v", out)
	}
	if n := e.count(t, u); n != 0 {
		t.Fatalf("%d tasks after a failed atomic batch, want 0", n)
	}
	// Nothing was recorded: fixed and sent again with the same ids, it applies.
	body = `{"atomic": true, "commands": [
	 {"id": "a1", "type": "task.create", "temp_id": "A", "args": {"title": "one"}},
	 {"id": "a3", "type": "task.update", "entity_id": "A", "args": {"priority": "high"}}]}`
	out = e.commands(t, u, body)
	if out.Results["a1"].Status != 201 || out.Results["a3"].Status != 200 {
		t.Fatalf("atomic batch: %+v", out)
	}
	if n := e.count(t, u); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
}

func TestCommandsBodyRules(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	cmds := make([]map[string]any, 101)
	for i := range cmds {
		cmds[i] = map[string]any{"id": fmt.Sprint(i), "type": "task.create", "args": map[string]any{"title": "t"}}
	}
	bad := func(body string) request {
		return request{method: http.MethodPost, path: u.commands(), token: u.token, body: body, outsideDoc: true}
	}
	res := e.do(t, bad(jsonBody(t, map[string]any{"commands": cmds})))
	wantProblems(t, "101 commands", res, []any{"body", "commands"})
	res = e.do(t, bad(`{"commands": [{"id": "x", "type": "task.explode"}]}`))
	wantProblems(t, "unknown type", res, []any{"body", "commands", 0, "type"})
	v := e.newUser(t)
	res = e.do(t, request{method: http.MethodPost, path: v.commands(), token: u.token, body: `{"commands": []}`, outsideDoc: true})
	wantStatus(t, "another user's", res, http.StatusForbidden)
}

// A 100-command batch sent 3 times at once creates each task once.
func TestCommandsConcurrentResend(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	cmds := make([]map[string]any, 100)
	for i := range cmds {
		cmds[i] = map[string]any{"id": fmt.Sprintf("k%d", i), "type": "task.create", "temp_id": fmt.Sprintf("t%d", i), "args": map[string]any{"title": fmt.Sprint("task ", i)}}
	}
	body := jsonBody(t, map[string]any{"commands": cmds})
	var wg sync.WaitGroup
	outs := make([]commandsJSON, 3)
	for i := range outs {
		wg.Go(func() { outs[i] = e.commands(t, u, body) })
	}
	wg.Wait()
	for i, o := range outs {
		if len(o.TempIDMapping) != 100 || fmt.Sprint(o.TempIDMapping) != fmt.Sprint(outs[0].TempIDMapping) {
			t.Errorf("send %d mapped %d temp ids, differently from send 0", i, len(o.TempIDMapping))
		}
	}
	if n := e.count(t, u); n != 100 {
		t.Fatalf("%d tasks, want 100", n)
	}
}
