package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// order lists the titles of GET path (a list request).
func (e *env) order(t *testing.T, u user, query string) []string {
	t.Helper()
	var out []string
	for _, tk := range decodeTasks(t, e.call(t, http.MethodGet, u.tasks()+query, u.token, "")) {
		out = append(out, tk.Title)
	}
	return out
}

func TestTaskHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, other := e.newUser(t), e.newUser(t)
	l := e.newList(t, u, "work")

	inbox := e.create(t, u, "inbox")
	if inbox.ListID != nil || inbox.ParentID != nil || inbox.Position == "" {
		t.Errorf("a task created without a place = %v, want the inbox at the top level, with a position", inbox)
	}
	top := e.createIn(t, u, "top", l.ID, 0)
	sub := e.createIn(t, u, "sub", 0, top.ID) // the parent's list
	if top.ListID == nil || *top.ListID != l.ID || sub.ListID == nil || *sub.ListID != l.ID || sub.ParentID == nil || *sub.ParentID != top.ID {
		t.Errorf("created in a list and under its task: %v, %v; want both in list %d, sub under %d", top, sub, l.ID, top.ID)
	}
	explicit := wantTask(t, "POST list_id null", e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "x", "list_id": null, "parent_id": null}`), http.StatusCreated)
	if explicit.ListID != nil || explicit.ParentID != nil {
		t.Errorf("list_id and parent_id null = %v, want the inbox at the top level", explicit)
	}
	wantProblems(t, "POST under a parent in another list", e.call(t, http.MethodPost, u.tasks(), u.token,
		fmt.Sprintf(`{"title": "x", "list_id": null, "parent_id": %d}`, top.ID)), []any{"body", "list_id"})
	wantDetail(t, "POST under another user's task", e.call(t, http.MethodPost, u.tasks(), u.token,
		fmt.Sprintf(`{"title": "x", "parent_id": %d}`, e.create(t, other, "theirs").ID)), http.StatusNotFound, "Task not found")
	wantDetail(t, "POST into a list that does not exist", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title": "x", "list_id": 999999}`), http.StatusNotFound, "List not found")
	wantProblems(t, "POST list_id 0", e.do(t, request{method: http.MethodPost, path: u.tasks(), token: u.token,
		body: `{"title": "x", "list_id": 0}`, outsideDoc: true}), []any{"body", "list_id"})
	// Level 4 takes no subtasks.
	parent := sub.ID
	for _, title := range []string{"level 3", "level 4"} {
		parent = e.createIn(t, u, title, 0, parent).ID
	}
	wantProblems(t, "POST at level 5", e.call(t, http.MethodPost, u.tasks(), u.token,
		fmt.Sprintf(`{"title": "x", "parent_id": %d}`, parent)), []any{"body", "parent_id"})

	// The list filters: one list, the inbox, one level.
	if got := e.order(t, u, fmt.Sprintf("?list_id=%d&parent_id=none", l.ID)); !slices.Equal(got, []string{"top"}) {
		t.Errorf("list_id=L&parent_id=none = %v, want [top]", got)
	}
	if got := e.order(t, u, "?list_id=inbox"); !slices.Equal(got, []string{"inbox", "x"}) {
		t.Errorf("list_id=inbox = %v, want [inbox x]", got)
	}
	if got := e.order(t, u, fmt.Sprintf("?parent_id=%d", top.ID)); !slices.Equal(got, []string{"sub"}) {
		t.Errorf("parent_id=top = %v, want [sub]", got)
	}
	if got := e.order(t, u, fmt.Sprintf("?list_id=%d", l.ID)); len(got) != 4 {
		t.Errorf("list_id=L = %v, want its 4 tasks, subtasks included", got)
	}
	for _, q := range []string{"?list_id=x", "?list_id=0", "?parent_id=-1", "?list_id=inbox&list_id=3"} {
		res := e.do(t, request{method: http.MethodGet, path: u.tasks() + q, token: u.token, outsideDoc: true})
		name := "list_id"
		if q == "?parent_id=-1" {
			name = "parent_id"
		}
		wantProblems(t, "GET "+q, res, []any{"query", name})
	}

	// Counts of one list, of the inbox.
	for q, want := range map[string]int{"": 6, "?list_id=inbox": 2, fmt.Sprintf("?list_id=%d", l.ID): 4, "?list_id=999999": 0} {
		res := e.call(t, http.MethodGet, u.tasks()+"/stats"+q, u.token, "")
		wantStatus(t, "stats"+q, res, http.StatusOK)
		var s struct{ Total int }
		if err := json.Unmarshal(res.body, &s); err != nil || s.Total != want {
			t.Errorf("stats%s total = %d (%v), want %d", q, s.Total, err, want)
		}
	}
	wantProblems(t, "stats?list_id=x", e.call(t, http.MethodGet, u.tasks()+"/stats?list_id=x", u.token, ""), []any{"query", "list_id"})

	// PUT ignores where a task is: a frontend sends back the whole task.
	whole := top
	whole.Title = "top, renamed"
	body := map[string]any{}
	raw, _ := json.Marshal(whole)
	_ = json.Unmarshal(raw, &body)
	body["list_id"], body["parent_id"], body["position"] = nil, inbox.ID, "0V"
	put := wantTask(t, "PUT a whole task", e.call(t, http.MethodPut, u.task(top.ID), u.token, jsonBody(t, body)), http.StatusOK)
	if put.Title != "top, renamed" || !equalPtr(put.ListID, top.ListID) || put.ParentID != nil || put.Position != top.Position {
		t.Errorf("PUT with list_id, parent_id and position = %v, want them ignored", put)
	}

	// Bulk create takes a place per item.
	res := e.call(t, http.MethodPost, u.tasks()+"/bulk", u.token,
		fmt.Sprintf(`[{"title": "b1", "list_id": %d}, {"title": "b2", "parent_id": %d}, {"title": "b3"}]`, l.ID, top.ID))
	wantStatus(t, "bulk create", res, http.StatusCreated)
	var made []taskJSON
	_ = json.Unmarshal(res.body, &made)
	if len(made) != 3 || !equalPtr(made[0].ListID, &l.ID) || !equalPtr(made[1].ListID, &l.ID) || !equalPtr(made[1].ParentID, &top.ID) || made[2].ListID != nil {
		t.Errorf("bulk create = %v, want b1 in the list, b2 under top, b3 in the inbox", made)
	}
	res = e.call(t, http.MethodPost, u.tasks()+"/bulk", u.token, `[{"title": "ok"}, {"title": "bad", "list_id": 999999}]`)
	wantDetail(t, "bulk create into a missing list", res, http.StatusNotFound, "List not found")
}

func TestMoveTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	l := e.newList(t, u, "work")
	ids := map[string]int64{}
	for _, title := range []string{"a", "b", "c", "d"} {
		ids[title] = e.createIn(t, u, title, l.ID, 0).ID
	}
	level := fmt.Sprintf("?list_id=%d&parent_id=none&sort=position", l.ID)
	move := func(title, body string) taskJSON {
		t.Helper()
		return wantTask(t, "move "+title+" "+body, e.call(t, http.MethodPost, u.moveTask(ids[title]), u.token, body), http.StatusOK)
	}
	if got := e.order(t, u, level); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("new tasks = %v, want a b c d (new tasks go to the bottom)", got)
	}
	d := move("d", fmt.Sprintf(`{"after_id": %d}`, ids["a"]))
	if d.Version != 2 {
		t.Errorf("moved task version %d, want 2", d.Version)
	}
	move("a", fmt.Sprintf(`{"before_id": %d}`, ids["c"]))
	if got := e.order(t, u, level); !slices.Equal(got, []string{"d", "b", "a", "c"}) {
		t.Errorf("after two moves = %v, want d b a c", got)
	}
	move("b", `{"after_id": null, "before_id": null}`) // null is absent: the top
	wantTask(t, "move c to the top (no body)", e.do(t, request{method: http.MethodPost, path: u.moveTask(ids["c"]), token: u.token}), http.StatusOK)
	if got, alias := e.order(t, u, level), e.order(t, u, fmt.Sprintf("?list_id=%d&sort=manual", l.ID)); !slices.Equal(got, []string{"c", "b", "d", "a"}) || !slices.Equal(alias, got) {
		t.Errorf("after moving b then c to the top = %v (sort=manual: %v), want c b d a", got, alias)
	}

	// Under a parent, and back.
	sub := move("b", fmt.Sprintf(`{"parent_id": %d}`, ids["a"]))
	if !equalPtr(sub.ParentID, ptr(ids["a"])) || !equalPtr(sub.ListID, &l.ID) {
		t.Errorf("moved under a = %v", sub)
	}
	wantProblems(t, "move a under its own subtask", e.call(t, http.MethodPost, u.moveTask(ids["a"]), u.token,
		fmt.Sprintf(`{"parent_id": %d}`, ids["b"])), []any{"body", "parent_id"})
	wantProblems(t, "move after a task of another scope", e.call(t, http.MethodPost, u.moveTask(ids["c"]), u.token,
		fmt.Sprintf(`{"after_id": %d}`, ids["b"])), []any{"body", "after_id"})
	wantProblems(t, "move with both anchors", e.call(t, http.MethodPost, u.moveTask(ids["c"]), u.token,
		fmt.Sprintf(`{"after_id": %d, "before_id": %d}`, ids["a"], ids["d"])), []any{"body", "before_id"})
	wantDetail(t, "move after a task that does not exist", e.call(t, http.MethodPost, u.moveTask(ids["c"]), u.token,
		`{"after_id": 999999}`), http.StatusNotFound, "Task not found")
	wantDetail(t, "move into a list that does not exist", e.call(t, http.MethodPost, u.moveTask(ids["c"]), u.token,
		`{"list_id": 999999}`), http.StatusNotFound, "List not found")
	wantDetail(t, "move a task that does not exist", e.call(t, http.MethodPost, u.moveTask(999999), u.token, `{}`), http.StatusNotFound, "Task not found")

	// To the inbox with its subtask; If-Match as for any write.
	a := wantTask(t, "GET a", e.call(t, http.MethodGet, u.task(ids["a"]), u.token, ""), http.StatusOK)
	res := e.do(t, request{method: http.MethodPost, path: u.moveTask(ids["a"]), token: u.token, body: `{"list_id": null}`,
		header: http.Header{"If-Match": {fmt.Sprintf(`"%d-%d"`, a.ID, a.Version-1)}}})
	wantPrecondition(t, "move with a stale If-Match", res, a)
	res = e.do(t, request{method: http.MethodPost, path: u.moveTask(ids["a"]), token: u.token, body: `{"list_id": null}`,
		header: http.Header{"If-Match": {etagOf(a)}}})
	if got := wantTask(t, "move a to the inbox", res, http.StatusOK); got.ListID != nil {
		t.Errorf("moved to the inbox = %v", got)
	}
	if got := e.order(t, u, "?list_id=inbox"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("inbox after moving a = %v, want a and its subtask b", got)
	}
	wantProblems(t, "move a subtask to another list, keeping its parent", e.call(t, http.MethodPost, u.moveTask(ids["b"]), u.token,
		fmt.Sprintf(`{"list_id": %d}`, l.ID)), []any{"body", "parent_id"})

	// PATCH list_id moves the task with its subtasks to the bottom.
	res = e.call(t, http.MethodPatch, u.task(ids["a"]), u.token, fmt.Sprintf(`{"list_id": %d, "title": "A"}`, l.ID))
	if got := wantTask(t, "PATCH list_id", res, http.StatusOK); got.Title != "A" || !equalPtr(got.ListID, &l.ID) {
		t.Errorf("PATCH list_id and title = %v", got)
	}
	if got := e.order(t, u, level); !slices.Equal(got, []string{"c", "d", "A"}) {
		t.Errorf("after PATCH list_id = %v, want c d A (at the bottom)", got)
	}
	if got := e.order(t, u, fmt.Sprintf("?list_id=%d&parent_id=%d", l.ID, ids["a"])); !slices.Equal(got, []string{"b"}) {
		t.Errorf("a's subtasks after PATCH list_id = %v, want b (it followed)", got)
	}
	// A task already in the list stays where it is; with nothing else
	// changed, nothing is written.
	same := wantTask(t, "GET a", e.call(t, http.MethodGet, u.task(ids["a"]), u.token, ""), http.StatusOK)
	res = e.call(t, http.MethodPatch, u.task(ids["a"]), u.token, fmt.Sprintf(`{"list_id": %d, "title": "A"}`, l.ID))
	if got := wantTask(t, "PATCH the list it is in, the title it has", res, http.StatusOK); !got.equal(same) {
		t.Errorf("PATCH changing nothing = %v, want %v as it was", got, same)
	}
	res = e.call(t, http.MethodPatch, u.task(ids["c"]), u.token, `{"list_id": null}`)
	if got := wantTask(t, "PATCH list_id null", res, http.StatusOK); got.ListID != nil {
		t.Errorf("PATCH list_id null = %v, want the inbox", got)
	}

	// Many at once, in the order given; all or none.
	res = e.call(t, http.MethodPost, u.tasks()+"/move", u.token, fmt.Sprintf(`{"ids": [%d, %d], "list_id": %d, "parent_id": null}`, ids["c"], ids["b"], l.ID))
	wantStatus(t, "bulk move", res, http.StatusOK)
	moved := decodeTasks(t, res)
	if len(moved) != 2 || moved[0].ID != ids["c"] || moved[1].ID != ids["b"] {
		t.Errorf("bulk move = %v, want c then b", moved)
	}
	if got := e.order(t, u, level); !slices.Equal(got, []string{"c", "b", "d", "A"}) {
		t.Errorf("after the bulk move = %v, want c b d A", got)
	}
	res = e.call(t, http.MethodPost, u.tasks()+"/move", u.token, fmt.Sprintf(`{"ids": [%d, 999999], "after_id": %d}`, ids["d"], ids["a"]))
	wantDetail(t, "bulk move with a missing task", res, http.StatusNotFound, "Task not found")
	if got := e.order(t, u, level); !slices.Equal(got, []string{"c", "b", "d", "A"}) {
		t.Errorf("after a refused bulk move = %v, want c b d A (nothing moved)", got)
	}
	wantProblems(t, "bulk move without ids", e.do(t, request{method: http.MethodPost, path: u.tasks() + "/move", token: u.token,
		body: `{"ids": []}`, outsideDoc: true}), []any{"body", "ids"})

	// Idempotency-Key, as on every POST.
	body := fmt.Sprintf(`{"before_id": %d}`, ids["c"])
	first := e.do(t, post(u, u.moveTask(ids["d"]), "move-d", body))
	wantTask(t, "move with a key", first, http.StatusOK)
	wantReplay(t, "move again", first, e.do(t, post(u, u.moveTask(ids["d"]), "move-d", body)))
	if got := wantTask(t, "GET d", e.call(t, http.MethodGet, u.task(ids["d"]), u.token, ""), http.StatusOK); got.Version != decodeTask(t, first.body).Version {
		t.Errorf("d at version %d after a replayed move, want %d", got.Version, decodeTask(t, first.body).Version)
	}
}
