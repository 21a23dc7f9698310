package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
)

// listJSON is a list as the API shows it.
type listJSON struct {
	ID             int64   `json:"id"`
	UserID         string  `json:"user_id"`
	Name           string  `json:"name"`
	Color          *string `json:"color"`
	Position       string  `json:"position"`
	OpenCount      int     `json:"open_count"`
	CompletedCount int     `json:"completed_count"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	Version        int64   `json:"version"`
}

func (a listJSON) equal(b listJSON) bool {
	ac, bc := a, b
	ac.Color, bc.Color = nil, nil
	return ac == bc && equalPtr(a.Color, b.Color)
}

// listKeys are every key of a list body.
var listKeys = []string{"id", "user_id", "name", "color", "position", "open_count", "completed_count", "created_at", "updated_at", "version"}

func (u user) lists() string            { return "/api/" + u.id + "/lists" }
func (u user) list(id int64) string     { return fmt.Sprintf("/api/%s/lists/%d", u.id, id) }
func (u user) trashedLists() string     { return "/api/" + u.id + "/trash/lists" }
func (u user) moveTask(id int64) string { return u.task(id) + "/move" }

// decodeList reads a list body and checks its shape: exactly listKeys,
// RFC 3339 UTC times, a version and a position.
func decodeList(t *testing.T, raw []byte) listJSON {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatalf("list body %s: %v", truncate(string(raw), 300), err)
	}
	for _, k := range listKeys {
		if _, ok := keys[k]; !ok {
			t.Errorf("list body %s has no %q", truncate(string(raw), 300), k)
		}
	}
	if len(keys) != len(listKeys) {
		t.Errorf("list body %s has keys beyond %v", truncate(string(raw), 300), listKeys)
	}
	var l listJSON
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatalf("list body %s: %v", truncate(string(raw), 300), err)
	}
	checkTime(t, "created_at", l.CreatedAt)
	checkTime(t, "updated_at", l.UpdatedAt)
	if l.Version < 1 || l.ID < 1 || l.Position == "" {
		t.Errorf("list body %s: want an id, a version and a position", truncate(string(raw), 300))
	}
	return l
}

// wantList checks a response carrying one list: status, shape, ETag.
func wantList(t *testing.T, what string, res *response, status int) listJSON {
	t.Helper()
	wantStatus(t, what, res, status)
	l := decodeList(t, res.body)
	if got, want := res.header.Get("ETag"), fmt.Sprintf(`"%d-%d"`, l.ID, l.Version); got != want {
		t.Errorf("%s: ETag %q, want %q", what, got, want)
	}
	return l
}

func decodeLists(t *testing.T, res *response) []listJSON {
	t.Helper()
	wantStatus(t, "GET lists", res, http.StatusOK)
	var raws []json.RawMessage
	if err := json.Unmarshal(res.body, &raws); err != nil || raws == nil {
		t.Fatalf("lists body %s: want a JSON array (%v)", res, err)
	}
	out := make([]listJSON, len(raws))
	for i, raw := range raws {
		// A sidebar entry is a list body with the caller's role and the
		// list's owner (issue 19).
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			t.Fatalf("list body %s: %v", truncate(string(raw), 300), err)
		}
		var role, owner, userID string
		_ = json.Unmarshal(keys["role"], &role)
		_ = json.Unmarshal(keys["owner"], &owner)
		_ = json.Unmarshal(keys["user_id"], &userID)
		if role == "" || owner == "" || owner != userID {
			t.Errorf("sidebar entry %s: want a role and the owner (user_id)", truncate(string(raw), 300))
		}
		delete(keys, "role")
		delete(keys, "owner")
		rest, err := json.Marshal(keys)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = decodeList(t, rest)
	}
	return out
}

// newList makes a list through the API.
func (e *env) newList(t *testing.T, u user, name string) listJSON {
	t.Helper()
	return wantList(t, "POST "+u.lists(), e.call(t, http.MethodPost, u.lists(), u.token, jsonBody(t, map[string]string{"name": name})), http.StatusCreated)
}

// createIn makes a task in list (0: none named) under parent (0: none
// named) and returns it.
func (e *env) createIn(t *testing.T, u user, title string, list, parent int64) taskJSON {
	t.Helper()
	body := map[string]any{"title": title}
	if list != 0 {
		body["list_id"] = list
	}
	if parent != 0 {
		body["parent_id"] = parent
	}
	return wantTask(t, "POST "+title, e.call(t, http.MethodPost, u.tasks(), u.token, jsonBody(t, body)), http.StatusCreated)
}

func listNames(ls []listJSON) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

func TestListsCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, other := e.newUser(t), e.newUser(t)

	if ls := decodeLists(t, e.call(t, http.MethodGet, u.lists(), u.token, "")); len(ls) != 0 {
		t.Fatalf("lists of a new user = %v, want []", ls)
	}
	work := wantList(t, "POST", e.call(t, http.MethodPost, u.lists(), u.token, `{"name": "  Work ", "color": "#FF8800"}`), http.StatusCreated)
	if work.Name != "Work" || work.Color == nil || *work.Color != "#ff8800" || work.UserID != u.id || work.Version != 1 ||
		work.OpenCount != 0 || work.CompletedCount != 0 {
		t.Errorf("created list = %+v, want Work, #ff8800, version 1, no tasks", work)
	}
	home := e.newList(t, u, "Home")
	if home.Color != nil || home.Position <= work.Position {
		t.Errorf("second list = %+v, want no color and a position after %q", home, work.Position)
	}

	// Names are unique per user, ignoring case; another user may have it.
	wantDetail(t, "POST a taken name", e.call(t, http.MethodPost, u.lists(), u.token, `{"name": "WORK"}`), http.StatusConflict, "List name already exists")
	e.newList(t, other, "Work")
	wantProblems(t, "POST a blank name", e.call(t, http.MethodPost, u.lists(), u.token, `{"name": "   "}`), []any{"body", "name"})
	wantProblems(t, "POST a bad color", e.call(t, http.MethodPost, u.lists(), u.token, `{"name": "x", "color": "red"}`), []any{"body", "color"})
	wantProblems(t, "POST no name", e.do(t, request{method: http.MethodPost, path: u.lists(), token: u.token, body: `{}`, outsideDoc: true}), []any{"body", "name"})

	// Counts follow the tasks, subtasks included, the trash left out.
	a := e.createIn(t, u, "a", work.ID, 0)
	e.createIn(t, u, "a.1", 0, a.ID)
	done := e.createIn(t, u, "done", work.ID, 0)
	wantTask(t, "complete", e.call(t, http.MethodPatch, u.complete(done.ID), u.token, ""), http.StatusOK)
	gone := e.createIn(t, u, "gone", work.ID, 0)
	wantStatus(t, "DELETE", e.call(t, http.MethodDelete, u.task(gone.ID), u.token, ""), http.StatusNoContent)
	e.create(t, u, "in the inbox")
	got := wantList(t, "GET", e.call(t, http.MethodGet, u.list(work.ID), u.token, ""), http.StatusOK)
	if got.OpenCount != 2 || got.CompletedCount != 1 {
		t.Errorf("GET list counts open %d completed %d, want 2 and 1", got.OpenCount, got.CompletedCount)
	}
	if ls := decodeLists(t, e.call(t, http.MethodGet, u.lists(), u.token, "")); !slices.Equal(listNames(ls), []string{"Work", "Home"}) ||
		ls[0].OpenCount != 2 || ls[1].OpenCount != 0 {
		t.Errorf("GET lists = %+v, want Work (2 open) then Home", ls)
	}

	// Conditional reads and writes, as tasks have them.
	res := e.do(t, request{method: http.MethodGet, path: u.list(work.ID), token: u.token, header: http.Header{"If-None-Match": {listTag(work)}}})
	wantStatus(t, "GET If-None-Match", res, http.StatusNotModified)
	renamed := wantList(t, "PATCH name", e.do(t, request{method: http.MethodPatch, path: u.list(work.ID), token: u.token,
		body: `{"name": "Office"}`, header: http.Header{"If-Match": {listTag(work)}}}), http.StatusOK)
	if renamed.Name != "Office" || renamed.Version != 2 || *renamed.Color != "#ff8800" {
		t.Errorf("PATCH name = %+v, want Office at version 2, color kept", renamed)
	}
	res = e.do(t, request{method: http.MethodPatch, path: u.list(work.ID), token: u.token,
		body: `{"color": null}`, header: http.Header{"If-Match": {listTag(work)}}})
	wantListPrecondition(t, "PATCH with a stale If-Match", res, renamed)
	uncolored := wantList(t, "PATCH color null", e.call(t, http.MethodPatch, u.list(work.ID), u.token, `{"color": null}`), http.StatusOK)
	if uncolored.Color != nil || uncolored.Version != 3 {
		t.Errorf("PATCH color null = %+v, want no color, version 3", uncolored)
	}
	wantProblems(t, "PATCH name null", e.do(t, request{method: http.MethodPatch, path: u.list(work.ID), token: u.token, body: `{"name": null}`, outsideDoc: true}), []any{"body", "name"})
	wantDetail(t, "PATCH a taken name", e.call(t, http.MethodPatch, u.list(work.ID), u.token, `{"name": "home"}`), http.StatusConflict, "List name already exists")
	same := wantList(t, "PATCH {}", e.call(t, http.MethodPatch, u.list(work.ID), u.token, `{}`), http.StatusOK)
	if same.Version != 3 {
		t.Errorf("PATCH {} = version %d, want 3 (nothing changed)", same.Version)
	}

	// Another user's list, a list that does not exist: 404, as for tasks.
	for _, path := range []string{other.list(work.ID), u.list(work.ID + 1000)} {
		tok := u.token
		if path == other.list(work.ID) {
			tok = other.token
		}
		wantDetail(t, "GET "+path, e.call(t, http.MethodGet, path, tok, ""), http.StatusNotFound, "List not found")
		wantDetail(t, "PATCH "+path, e.call(t, http.MethodPatch, path, tok, `{"name": "x"}`), http.StatusNotFound, "List not found")
		wantDetail(t, "DELETE "+path, e.call(t, http.MethodDelete, path, tok, ""), http.StatusNotFound, "List not found")
	}
	wantDetail(t, "GET another user's URL", e.call(t, http.MethodGet, other.lists(), u.token, ""), http.StatusForbidden, "")
	wantDetail(t, "POST a task into another user's list", e.call(t, http.MethodPost, u.tasks(), u.token,
		jsonBody(t, map[string]any{"title": "x", "list_id": e.newList(t, other, "theirs").ID})), http.StatusNotFound, "List not found")
	res = e.do(t, request{method: http.MethodGet, path: "/api/" + u.id + "/lists/0", token: u.token, outsideDoc: true})
	wantProblems(t, "GET list 0", res, []any{"path", "list_id"})
}

// listTag is the ETag of l as a response carrying it names it.
func listTag(l listJSON) string { return fmt.Sprintf(`"%d-%d"`, l.ID, l.Version) }

// wantListPrecondition checks a list's 412: the detail, the list as it is
// now and its ETag.
func wantListPrecondition(t *testing.T, what string, res *response, current listJSON) {
	t.Helper()
	wantStatus(t, what, res, http.StatusPreconditionFailed)
	var body map[string]json.RawMessage
	if err := json.Unmarshal(res.body, &body); err != nil || len(body) != 2 || body["detail"] == nil || body["current"] == nil {
		t.Fatalf("%s: 412 body %s, want exactly detail and current", what, res)
	}
	got := decodeList(t, body["current"])
	if !got.equal(current) {
		t.Errorf("%s: current = %+v, want %+v", what, got, current)
	}
	if tag := res.header.Get("ETag"); tag != listTag(current) {
		t.Errorf("%s: ETag %q, want %q", what, tag, listTag(current))
	}
}

func TestListsOrderAndTrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	a, b, c := e.newList(t, u, "a"), e.newList(t, u, "b"), e.newList(t, u, "c")
	order := func() []string { return listNames(decodeLists(t, e.call(t, http.MethodGet, u.lists(), u.token, ""))) }

	moved := wantList(t, "move c after a", e.call(t, http.MethodPost, u.list(c.ID)+"/move", u.token, fmt.Sprintf(`{"after_id": %d}`, a.ID)), http.StatusOK)
	if got := order(); !slices.Equal(got, []string{"a", "c", "b"}) || moved.Version != 2 {
		t.Errorf("after moving c after a: %v (version %d), want a c b (version 2)", got, moved.Version)
	}
	wantList(t, "move a before b", e.call(t, http.MethodPost, u.list(a.ID)+"/move", u.token, fmt.Sprintf(`{"before_id": %d}`, b.ID)), http.StatusOK)
	if got := order(); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("after moving a before b: %v, want c a b", got)
	}
	wantList(t, "move b to the top (no body)", e.do(t, request{method: http.MethodPost, path: u.list(b.ID) + "/move", token: u.token}), http.StatusOK)
	if got := order(); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Errorf("after moving b to the top: %v, want b c a", got)
	}
	wantProblems(t, "move with both anchors", e.call(t, http.MethodPost, u.list(b.ID)+"/move", u.token,
		fmt.Sprintf(`{"after_id": %d, "before_id": %d}`, a.ID, c.ID)), []any{"body", "before_id"})
	wantDetail(t, "move after a list that does not exist", e.call(t, http.MethodPost, u.list(b.ID)+"/move", u.token,
		`{"after_id": 999999}`), http.StatusNotFound, "List not found")
	cur := wantList(t, "GET b", e.call(t, http.MethodGet, u.list(b.ID), u.token, ""), http.StatusOK)
	wantListPrecondition(t, "move with a stale If-Match", e.do(t, request{method: http.MethodPost, path: u.list(b.ID) + "/move",
		token: u.token, body: `{}`, header: http.Header{"If-Match": {listTag(b)}}}), cur)

	// Deleting a list takes its tasks to the trash with it; restoring it
	// brings back those, not the one trashed on its own before.
	t1 := e.createIn(t, u, "t1", a.ID, 0)
	t1a := e.createIn(t, u, "t1a", 0, t1.ID)
	alone := e.createIn(t, u, "alone", a.ID, 0)
	wantStatus(t, "DELETE alone", e.call(t, http.MethodDelete, u.task(alone.ID), u.token, ""), http.StatusNoContent)
	wantStatus(t, "DELETE list a", e.call(t, http.MethodDelete, u.list(a.ID), u.token, ""), http.StatusNoContent)
	wantDetail(t, "GET a trashed list", e.call(t, http.MethodGet, u.list(a.ID), u.token, ""), http.StatusNotFound, "List not found")
	if got := order(); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("lists after deleting a: %v, want b c", got)
	}
	if n := countTasks(t, e, u); n != 0 {
		t.Errorf("%d live tasks after deleting their list, want 0", n)
	}
	res := e.call(t, http.MethodGet, u.trashedLists(), u.token, "")
	wantStatus(t, "GET trash/lists", res, http.StatusOK)
	var trashed []map[string]json.RawMessage
	if err := json.Unmarshal(res.body, &trashed); err != nil || len(trashed) != 1 {
		t.Fatalf("GET trash/lists = %s, want one list", res)
	}
	var at string
	_ = json.Unmarshal(trashed[0]["deleted_at"], &at)
	checkTime(t, "deleted_at", at)
	delete(trashed[0], "deleted_at")
	raw, _ := json.Marshal(trashed[0])
	if l := decodeList(t, raw); l.ID != a.ID {
		t.Errorf("trashed list = %+v, want a", l)
	}

	// Its name is free again until it comes back.
	taken := e.newList(t, u, "A")
	wantDetail(t, "restore a taken name", e.call(t, http.MethodPost, u.list(a.ID)+"/restore", u.token, ""), http.StatusConflict, "List name already exists")
	wantStatus(t, "DELETE A for good", e.call(t, http.MethodDelete, u.list(taken.ID)+"?permanent=true", u.token, ""), http.StatusNoContent)
	back := wantList(t, "restore a", e.call(t, http.MethodPost, u.list(a.ID)+"/restore", u.token, ""), http.StatusOK)
	if back.OpenCount != 2 {
		t.Errorf("restored list counts %d open, want 2 (t1 and t1a; alone stays in the trash)", back.OpenCount)
	}
	var ids []int64
	for _, tk := range decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, "")) {
		ids = append(ids, tk.ID)
	}
	if !slices.Equal(ids, []int64{t1.ID, t1a.ID}) {
		t.Errorf("live tasks after the restore = %v, want %v", ids, []int64{t1.ID, t1a.ID})
	}
	wantStatus(t, "DELETE a for good", e.call(t, http.MethodDelete, u.list(a.ID)+"?permanent=true", u.token, ""), http.StatusNoContent)
	wantDetail(t, "restore a list deleted for good", e.call(t, http.MethodPost, u.list(a.ID)+"/restore", u.token, ""), http.StatusNotFound, "List not found")
	if n := countTasks(t, e, u); n != 0 {
		t.Errorf("%d live tasks after deleting their list for good, want 0", n)
	}
}

func TestListsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	first := e.do(t, post(u, u.lists(), "list-1", `{"name": "once"}`))
	l := wantList(t, "POST list with a key", first, http.StatusCreated)
	wantReplay(t, "POST list again", first, e.do(t, post(u, u.lists(), "list-1", `{"name": "once"}`)))
	other := e.newList(t, u, "other")
	move := e.do(t, post(u, u.list(l.ID)+"/move", "move-1", `{"after_id": `+strconv.FormatInt(other.ID, 10)+`}`))
	wantList(t, "move with a key", move, http.StatusOK)
	wantReplay(t, "move again", move, e.do(t, post(u, u.list(l.ID)+"/move", "move-1", `{"after_id": `+strconv.FormatInt(other.ID, 10)+`}`)))
	if ls := decodeLists(t, e.call(t, http.MethodGet, u.lists(), u.token, "")); len(ls) != 2 {
		t.Errorf("%d lists after replays, want 2", len(ls))
	}
}
