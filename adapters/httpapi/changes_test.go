package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
)

type changeJSON struct {
	Seq    uint64          `json:"seq"`
	Entity string          `json:"entity"`
	Op     string          `json:"op"`
	ID     int64           `json:"id"`
	Data   json.RawMessage `json:"data"`
}

type changesJSON struct {
	Changes []changeJSON `json:"changes"`
	Cursor  string       `json:"cursor"`
	HasMore bool         `json:"has_more"`
}

func (u user) changes(since string, limit int) string {
	q := url.Values{}
	if since != "" {
		q.Set("since", since)
	}
	if limit != 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	p := "/api/" + u.id + "/changes"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

func (e *env) changes(t *testing.T, u user, since string, limit int) changesJSON {
	t.Helper()
	res := e.call(t, http.MethodGet, u.changes(since, limit), u.token, "")
	wantStatus(t, "GET changes", res, http.StatusOK)
	var out changesJSON
	if err := json.Unmarshal(res.body, &out); err != nil || out.Changes == nil || out.Cursor == "" {
		t.Fatalf("GET changes = %s: want changes, a cursor and has_more (%v)", res, err)
	}
	return out
}

// TestChanges: the feed over HTTP: a snapshot, pages, data as GET returns
// it, a trashed task with deleted_at, a tombstone, since=now, and the
// statuses of a foreign or garbage cursor (400), an expired one (410) and
// a bad limit (422).
func TestChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, other := e.newUser(t), e.newUser(t)

	empty := e.changes(t, u, "", 0)
	if len(empty.Changes) != 0 || empty.HasMore {
		t.Fatalf("a new user's snapshot = %+v, want nothing", empty)
	}
	a := e.create(t, u, "a")
	b := e.create(t, u, "b")
	l := e.newList(t, u, "Home")

	// The snapshot in pages of 2: three entities, each once.
	first := e.changes(t, u, "", 2)
	if len(first.Changes) != 2 || !first.HasMore {
		t.Fatalf("snapshot page 1 = %+v, want 2 changes and has_more", first)
	}
	second := e.changes(t, u, first.Cursor, 2)
	if len(second.Changes) != 1 || second.HasMore {
		t.Fatalf("snapshot page 2 = %+v, want 1 change, no more", second)
	}
	seen := map[string]bool{}
	for _, c := range append(first.Changes, second.Changes...) {
		seen[fmt.Sprintf("%s %d", c.Entity, c.ID)] = true
		if c.Op != "upsert" || len(c.Data) == 0 {
			t.Errorf("snapshot change %+v: want an upsert with data", c)
		}
	}
	for _, k := range []string{fmt.Sprintf("task %d", a.ID), fmt.Sprintf("task %d", b.ID), fmt.Sprintf("list %d", l.ID)} {
		if !seen[k] {
			t.Errorf("the snapshot misses %s", k)
		}
	}

	// data is the task as GET returns it.
	cur := second.Cursor
	e.call(t, http.MethodPatch, u.task(a.ID), u.token, `{"title": "a2"}`)
	p := e.changes(t, u, cur, 0)
	if len(p.Changes) != 1 || p.Changes[0].Entity != "task" || p.Changes[0].ID != a.ID {
		t.Fatalf("after an edit = %+v, want task %d", p, a.ID)
	}
	got := e.call(t, http.MethodGet, u.task(a.ID), u.token, "")
	var gotTask, dataTask map[string]any
	_ = json.Unmarshal(got.body, &gotTask)
	_ = json.Unmarshal(p.Changes[0].Data, &dataTask)
	if fmt.Sprint(gotTask) != fmt.Sprint(dataTask) {
		t.Errorf("data %s, want GET's %s", p.Changes[0].Data, got.body)
	}

	// Trash b: an upsert with deleted_at; delete it for good: a tombstone.
	cur = p.Cursor
	wantStatus(t, "DELETE", e.call(t, http.MethodDelete, u.task(b.ID), u.token, ""), http.StatusNoContent)
	p = e.changes(t, u, cur, 0)
	if len(p.Changes) != 1 || p.Changes[0].Op != "upsert" {
		t.Fatalf("after a trash = %+v", p)
	}
	var trashed map[string]any
	_ = json.Unmarshal(p.Changes[0].Data, &trashed)
	if trashed["deleted_at"] == nil {
		t.Errorf("a trashed task's data %s has no deleted_at", p.Changes[0].Data)
	}
	cur = p.Cursor
	wantStatus(t, "DELETE trash", e.call(t, http.MethodDelete, "/api/"+u.id+"/trash", u.token, ""), http.StatusOK)
	p = e.changes(t, u, cur, 0)
	if len(p.Changes) != 1 || p.Changes[0].Op != "delete" || p.Changes[0].ID != b.ID || len(p.Changes[0].Data) != 0 {
		t.Fatalf("after emptying the trash = %+v, want a tombstone of task %d without data", p, b.ID)
	}
	var raw map[string]any
	res := e.call(t, http.MethodGet, u.changes(cur, 0), u.token, "")
	_ = json.Unmarshal(res.body, &raw)
	if ch := raw["changes"].([]any)[0].(map[string]any); ch["data"] != nil {
		t.Errorf("a tombstone carries data: %s", res.body)
	}

	// since=now: nothing, the current cursor, which reads nothing until a write.
	now := e.changes(t, u, "now", 0)
	if len(now.Changes) != 0 || now.Cursor != p.Cursor {
		t.Errorf("since=now = %+v, want no changes and cursor %q", now, p.Cursor)
	}
	if q := e.changes(t, u, now.Cursor, 0); len(q.Changes) != 0 {
		t.Errorf("from now without a write = %+v", q)
	}

	// Another user's cursor, garbage: 400 {"detail"}. A bad limit: 422.
	theirs := e.changes(t, other, "now", 0).Cursor
	for _, bad := range []string{theirs, "garbage", "AQEA", cur + "A", "%00"} {
		res := e.call(t, http.MethodGet, u.changes(bad, 0), u.token, "")
		wantStatus(t, "GET changes?since="+bad, res, http.StatusBadRequest)
		var body map[string]any
		if err := json.Unmarshal(res.body, &body); err != nil || body["detail"] == nil {
			t.Errorf("400 body %s: want {\"detail\"}", res.body)
		}
	}
	for _, lim := range []string{"0", "1001", "x"} {
		res := e.do(t, request{method: http.MethodGet, path: "/api/" + u.id + "/changes?limit=" + lim, token: u.token, outsideDoc: true})
		wantStatus(t, "GET changes?limit="+lim, res, http.StatusUnprocessableEntity)
	}
}

// TestChangesExpired: a cursor from before tombstones that retention
// pruned is 410 {"detail"}; a snapshot (no since) still answers, and its
// cursor reads on.
func TestChangesExpired(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	e := newEnv(t, func(d *httpapi.Deps) {
		d.Service = application.New(store.Tasks(), store.Users(), nil, application.WithTransactor(store),
			application.WithLists(store.Lists()), application.WithChanges(store.Changes()))
		d.Idempotency = store.Keys()
	})
	u := e.newUser(t)
	old := e.changes(t, u, "now", 0).Cursor
	gone := e.create(t, u, "gone")
	wantStatus(t, "DELETE permanent", e.call(t, http.MethodDelete, u.task(gone.ID)+"?permanent=true", u.token, ""), http.StatusNoContent)
	if _, err := store.Changes().Prune(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res := e.call(t, http.MethodGet, u.changes(old, 0), u.token, "")
	wantStatus(t, "GET changes from before the pruned tombstone", res, http.StatusGone)
	var body map[string]any
	if err := json.Unmarshal(res.body, &body); err != nil || body["detail"] == nil || len(body) != 1 {
		t.Errorf("410 body %s: want {\"detail\"}", res.body)
	}
	snap := e.changes(t, u, "", 0)
	if len(snap.Changes) != 0 {
		t.Errorf("snapshot after the purge = %+v, want nothing live", snap)
	}
	e.changes(t, u, snap.Cursor, 0)
}
