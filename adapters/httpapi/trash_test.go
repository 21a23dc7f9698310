package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// trashedJSON is an item of GET /trash: a task and deleted_at.
type trashedJSON struct {
	taskJSON
	DeletedAt string `json:"deleted_at"`
}

func decodeTrash(t *testing.T, res *response) []trashedJSON {
	t.Helper()
	wantStatus(t, "GET trash", res, http.StatusOK)
	var raws []json.RawMessage
	if err := json.Unmarshal(res.body, &raws); err != nil || raws == nil {
		t.Fatalf("trash body %s: want a JSON array (%v)", res, err)
	}
	out := make([]trashedJSON, len(raws))
	for i, raw := range raws {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		at, ok := m["deleted_at"]
		if !ok {
			t.Fatalf("trash item %s has no deleted_at", raw)
		}
		delete(m, "deleted_at")
		rest, _ := json.Marshal(m)
		out[i].taskJSON = decodeTask(t, rest)
		if err := json.Unmarshal(at, &out[i].DeletedAt); err != nil {
			t.Fatal(err)
		}
		checkTime(t, "deleted_at", out[i].DeletedAt)
	}
	return out
}

func (u user) trash() string { return "/api/" + u.id + "/trash" }

func TestTrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	res := e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "gone", "tags": ["only-here"], "priority": "high"}`)
	gone := wantTask(t, "POST", res, http.StatusCreated)
	gone = wantTask(t, "complete", e.call(t, http.MethodPatch, u.complete(gone.ID), u.token, ""), http.StatusOK)
	kept := e.create(t, u, "kept")

	res = e.call(t, http.MethodDelete, u.task(gone.ID), u.token, "")
	wantStatus(t, "DELETE", res, http.StatusNoContent)

	// Gone from every base-contract endpoint.
	wantDetail(t, "GET trashed", e.call(t, http.MethodGet, u.task(gone.ID), u.token, ""), http.StatusNotFound, "Task not found")
	for _, r := range []request{
		{method: http.MethodPut, path: u.task(gone.ID), body: `{"title": "x"}`},
		{method: http.MethodPatch, path: u.task(gone.ID), body: `{"title": "x"}`},
		{method: http.MethodPatch, path: u.complete(gone.ID)},
		{method: http.MethodDelete, path: u.task(gone.ID)},
	} {
		r.token = u.token
		wantDetail(t, r.method+" "+r.path+" of a trashed task", e.do(t, r), http.StatusNotFound, "Task not found")
	}
	res = e.call(t, http.MethodGet, u.tasks()+"?limit=10", u.token, "")
	if got := decodeTasks(t, res); len(got) != 1 || got[0].ID != kept.ID || res.header.Get("X-Total-Count") != "1" {
		t.Errorf("list = %v (X-Total-Count %q), want only the kept task", got, res.header.Get("X-Total-Count"))
	}
	res = e.call(t, http.MethodGet, u.tasks()+"/stats", u.token, "")
	var stats struct{ Total, Completed int }
	if err := json.Unmarshal(res.body, &stats); err != nil || stats.Total != 1 || stats.Completed != 0 {
		t.Errorf("stats = %s, want the trashed task not counted", res)
	}
	if res := e.call(t, http.MethodGet, "/api/"+u.id+"/tags", u.token, ""); strings.Contains(string(res.body), "only-here") {
		t.Errorf("tags = %s, want no tag of the trashed task", res)
	}

	// In the trash, then back exactly as it was.
	trash := decodeTrash(t, e.call(t, http.MethodGet, u.trash(), u.token, ""))
	if len(trash) != 1 || !trash[0].taskJSON.equal(gone) {
		t.Fatalf("trash = %v, want the deleted task as it was, %v", trash, gone)
	}
	res = e.do(t, post(u, u.task(gone.ID)+"/restore", "", ""))
	back := wantTask(t, "restore", res, http.StatusOK)
	if !back.equal(gone) || etagOf(back) != etagOf(gone) {
		t.Errorf("restored = %v, want exactly %v (same version and ETag)", back, gone)
	}
	if got := decodeTrash(t, e.call(t, http.MethodGet, u.trash(), u.token, "")); len(got) != 0 {
		t.Errorf("trash after restore = %v, want empty", got)
	}
	// Restoring a live task returns it; an unknown or foreign one is 404.
	wantTask(t, "restore live", e.do(t, post(u, u.task(kept.ID)+"/restore", "", "")), http.StatusOK)
	wantDetail(t, "restore unknown", e.do(t, post(u, u.task(kept.ID+100)+"/restore", "", "")), http.StatusNotFound, "Task not found")
	other := e.newUser(t)
	wantDetail(t, "restore another user's", e.do(t, post(other, other.task(kept.ID)+"/restore", "", "")), http.StatusNotFound, "Task not found")
	if got := decodeTrash(t, e.call(t, http.MethodGet, other.trash(), other.token, "")); len(got) != 0 {
		t.Errorf("another user's trash = %v, want empty", got)
	}
}

func TestTrashDeleteForGood(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	var ids []int64
	for i := range 4 {
		ids = append(ids, e.create(t, u, fmt.Sprint("t", i)).ID)
	}
	for _, id := range ids[:3] {
		wantStatus(t, "DELETE", e.call(t, http.MethodDelete, u.task(id), u.token, ""), http.StatusNoContent)
	}
	res := e.call(t, http.MethodGet, u.trash()+"?limit=2", u.token, "")
	page := decodeTrash(t, res)
	if res.header.Get("X-Total-Count") != "3" || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[1] {
		t.Errorf("GET trash?limit=2 = %v (X-Total-Count %q), want the latest two of 3", page, res.header.Get("X-Total-Count"))
	}
	if page := decodeTrash(t, e.call(t, http.MethodGet, u.trash()+"?limit=2&offset=2", u.token, "")); len(page) != 1 || page[0].ID != ids[0] {
		t.Errorf("GET trash?offset=2 = %v, want the oldest", page)
	}
	// permanent=true: from the trash, and from the list.
	for _, id := range []int64{ids[0], ids[3]} {
		wantStatus(t, "DELETE permanent", e.call(t, http.MethodDelete, u.task(id)+"?permanent=true", u.token, ""), http.StatusNoContent)
		wantDetail(t, "restore deleted for good", e.do(t, post(u, u.task(id)+"/restore", "", "")), http.StatusNotFound, "Task not found")
	}
	res = e.call(t, http.MethodDelete, u.trash(), u.token, "")
	wantStatus(t, "DELETE trash", res, http.StatusOK)
	if string(res.body) != "{\"deleted\":2}\n" {
		t.Errorf("DELETE trash = %s, want {\"deleted\":2}", res.body)
	}
	if got := decodeTrash(t, e.call(t, http.MethodGet, u.trash(), u.token, "")); len(got) != 0 {
		t.Errorf("trash after emptying = %v", got)
	}
	if got := decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, "")); len(got) != 0 {
		t.Errorf("tasks = %v, want none", got)
	}
}

func TestBulk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)

	res := e.call(t, http.MethodPost, u.tasks()+"/bulk", u.token,
		`[{"title": "a"}, {"title": "b", "priority": "high", "tags": ["x"]}, {"title": "c", "due_date": "2026-03-01"}]`)
	wantStatus(t, "POST bulk", res, http.StatusCreated)
	created := decodeTasks(t, res)
	if len(created) != 3 || created[0].Title != "a" || created[1].Priority != "high" || created[2].DueDate == nil {
		t.Fatalf("POST bulk = %v, want a, b (high), c (due) in order", created)
	}

	// Bad items: every one named by index, nothing created.
	res = e.do(t, request{method: http.MethodPost, path: u.tasks() + "/bulk", token: u.token, outsideDoc: true,
		body: `[{"title": "fine"}, {"title": "  "}, {"title": "ok"}, {"title": "t", "tags": ["a,b"], "due_date": "2026-02-30"}]`})
	wantProblems(t, "POST bulk with bad items", res, []any{"body", 1, "title"}, []any{"body", 3, "tags"}, []any{"body", 3, "due_date"})
	res = e.do(t, request{method: http.MethodPost, path: u.tasks() + "/bulk", token: u.token, outsideDoc: true,
		body: `[{"title": "fine"}, {"title": "t", "priority": "urgent"}]`}) // the document's enum, checked first
	wantProblems(t, "POST bulk with a bad priority", res, []any{"body", 1, "priority"})
	for _, body := range []string{`[]`, "[" + strings.Repeat(`{"title": "x"},`, 100) + `{"title": "x"}]`, `{"title": "x"}`, `[{"title": 5}]`} {
		wantProblems(t, "POST bulk "+body[:min(len(body), 20)], e.do(t, request{method: http.MethodPost, path: u.tasks() + "/bulk",
			token: u.token, outsideDoc: true, body: body}), []any{"body"})
	}
	if n := countTasks(t, e, u); n != 3 {
		t.Errorf("%d tasks after refused bulk creates, want 3", n)
	}

	// Bulk change: in the order of ids, each one version up.
	ids := fmt.Sprintf("[%d, %d]", created[2].ID, created[0].ID)
	res = e.call(t, http.MethodPatch, u.tasks()+"/bulk", u.token,
		`{"ids": `+ids+`, "set": {"completed": true, "priority": "LOW", "tags": ["done"], "due_date": null}}`)
	wantStatus(t, "PATCH bulk", res, http.StatusOK)
	changed := decodeTasks(t, res)
	if len(changed) != 2 || changed[0].ID != created[2].ID || changed[1].ID != created[0].ID {
		t.Fatalf("PATCH bulk = %v, want c then a", changed)
	}
	for _, tk := range changed {
		if !tk.Completed || tk.Priority != "low" || !slices.Equal(tk.Tags, []string{"done"}) || tk.DueDate != nil || tk.Version != 2 {
			t.Errorf("PATCH bulk changed %v, want completed, low, [done], no due date, version 2", tk)
		}
	}
	// Someone else's id, or one in the trash: 404 and nothing changes.
	other := e.newUser(t)
	theirs := e.create(t, other, "theirs")
	wantStatus(t, "DELETE b", e.call(t, http.MethodDelete, u.task(created[1].ID), u.token, ""), http.StatusNoContent)
	before := decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, ""))
	for _, bad := range []int64{theirs.ID, created[1].ID, 999999} {
		body := fmt.Sprintf(`{"ids": [%d, %d], "set": {"completed": false}}`, created[0].ID, bad)
		wantDetail(t, "PATCH bulk with "+fmt.Sprint(bad), e.call(t, http.MethodPatch, u.tasks()+"/bulk", u.token, body), http.StatusNotFound, "Task not found")
		body = fmt.Sprintf(`{"ids": [%d, %d]}`, created[0].ID, bad)
		wantDetail(t, "bulk-delete with "+fmt.Sprint(bad), e.call(t, http.MethodPost, u.tasks()+"/bulk-delete", u.token, body), http.StatusNotFound, "Task not found")
	}
	after := decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, ""))
	if !slices.EqualFunc(before, after, taskJSON.equal) {
		t.Errorf("after refused bulk calls tasks = %v, want %v", after, before)
	}
	if got := decodeTasks(t, e.call(t, http.MethodGet, other.tasks(), other.token, "")); len(got) != 1 || !got[0].equal(theirs) {
		t.Errorf("the other user's tasks = %v, want theirs untouched", got)
	}
	for _, body := range []string{`{"ids": [1], "set": {}}`, `{"ids": [], "set": {"completed": true}}`, `{"ids": [1], "set": {"priority": "urgent"}}`} {
		wantProblems(t, "PATCH bulk "+body, e.do(t, request{method: http.MethodPatch, path: u.tasks() + "/bulk", token: u.token,
			body: body, outsideDoc: true}), []any{"body"})
	}
	res = e.do(t, request{method: http.MethodPatch, path: u.tasks() + "/bulk", token: u.token, outsideDoc: true,
		body: fmt.Sprintf(`{"ids": [%d], "set": {"tags": ["a,b"]}}`, created[0].ID)})
	wantProblems(t, "PATCH bulk with a bad tag", res, []any{"body", "set", "tags"})

	// Bulk delete and clear completed, to the trash.
	res = e.call(t, http.MethodPost, u.tasks()+"/bulk-delete", u.token, fmt.Sprintf(`{"ids": [%d, %d]}`, created[0].ID, created[0].ID))
	if wantStatus(t, "bulk-delete", res, http.StatusOK); string(res.body) != "{\"trashed\":1}\n" {
		t.Errorf("bulk-delete = %s, want {\"trashed\":1}", res.body)
	}
	res = e.call(t, http.MethodPost, u.tasks()+"/clear-completed", u.token, "")
	if wantStatus(t, "clear-completed", res, http.StatusOK); string(res.body) != "{\"trashed\":1}\n" {
		t.Errorf("clear-completed = %s, want {\"trashed\":1} (c)", res.body)
	}
	if got := decodeTrash(t, e.call(t, http.MethodGet, u.trash(), u.token, "")); len(got) != 3 {
		t.Errorf("trash = %v, want a, b and c", got)
	}
}
