package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

type revisionJSON struct {
	Version int64 `json:"version"`
	Changed map[string]struct {
		From json.RawMessage `json:"from"`
		To   json.RawMessage `json:"to"`
	} `json:"changed"`
	At      string `json:"at"`
	By      string `json:"by"`
	Created bool   `json:"created"`
}

func (u user) history(id int64) string { return u.task(id) + "/history" }

func wantHistory(t *testing.T, e *env, u user, id int64) []revisionJSON {
	t.Helper()
	res := e.call(t, http.MethodGet, u.history(id), u.token, "")
	wantStatus(t, "history", res, http.StatusOK)
	var revs []revisionJSON
	if err := json.Unmarshal(res.body, &revs); err != nil {
		t.Fatalf("history %s: %v", res.body, err)
	}
	for _, r := range revs {
		checkTime(t, "revision at", r.At)
	}
	return revs
}

// GET .../tasks/{id}/history: what each write changed, newest first, by
// whom; a new task's is its creation; 404 for a task the caller does not
// have.
func TestTaskHistoryOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "first")
	if revs := wantHistory(t, e, u, tk.ID); len(revs) != 1 || !revs[0].Created || revs[0].Version != 1 || revs[0].By != u.id ||
		string(revs[0].Changed["title"].To) != `"first"` || string(revs[0].Changed["title"].From) != `null` {
		t.Errorf("a new task's history = %+v, want its creation by %s", revs, u.id)
	}
	wantTask(t, "PATCH title", e.call(t, http.MethodPatch, u.task(tk.ID), u.token, `{"title":"second","priority":"high"}`), http.StatusOK)
	wantTask(t, "PATCH completed", e.call(t, http.MethodPatch, u.task(tk.ID), u.token, `{"completed":true}`), http.StatusOK)
	revs := wantHistory(t, e, u, tk.ID)
	if len(revs) != 3 || revs[0].Version != 3 || revs[1].Version != 2 || revs[2].Version != 1 {
		t.Fatalf("history = %+v, want versions 3, 2 and 1", revs)
	}
	for _, r := range revs {
		if r.By != u.id || r.Created != (r.Version == 1) {
			t.Errorf("revision %d: by %q created %v, want by %s", r.Version, r.By, r.Created, u.id)
		}
	}
	if c := revs[1].Changed["title"]; string(c.From) != `"first"` || string(c.To) != `"second"` {
		t.Errorf("version 2 title %s → %s, want first → second", c.From, c.To)
	}
	if c := revs[1].Changed["priority"]; string(c.To) != `"high"` {
		t.Errorf("version 2 priority → %s, want high", c.To)
	}
	if c := revs[0].Changed["completed"]; len(revs[0].Changed) != 1 || string(c.To) != `true` {
		t.Errorf("version 3 changed %+v, want completed only", revs[0].Changed)
	}
	other := e.newUser(t)
	wantStatus(t, "another user's task", e.call(t, http.MethodGet, other.history(tk.ID), other.token, ""), http.StatusNotFound)
	wantStatus(t, "no such task", e.call(t, http.MethodGet, u.history(tk.ID+1000), u.token, ""), http.StatusNotFound)
}

func (e *env) mergePatch(t *testing.T, u user, id, base int64, body string, merge bool) *response {
	t.Helper()
	h := http.Header{"If-Match": {fmt.Sprintf(`"%d-%d"`, id, base)}}
	if merge {
		h.Set("Prefer", "merge")
	}
	return e.do(t, request{method: http.MethodPatch, path: u.task(id), token: u.token, header: h, body: body})
}

// PATCH with If-Match and Prefer: merge (issue 17): fields nobody changed
// since the base version apply though the version moved; a field somebody
// changed is a 409 naming it, the others apply; tags_add and tags_remove
// merge as sets; plain If-Match keeps its 412.
func TestMergePatchOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token, `{"title":"one","tags":["a"]}`), http.StatusCreated)
	// Device A and device B both edit from version 1.
	wantTask(t, "A: title", e.mergePatch(t, u, tk.ID, 1, `{"title":"A's"}`, true), http.StatusOK)
	wantStatus(t, "plain If-Match, stale", e.mergePatch(t, u, tk.ID, 1, `{"priority":"high"}`, false), http.StatusPreconditionFailed)
	got := wantTask(t, "B: priority", e.mergePatch(t, u, tk.ID, 1, `{"priority":"high"}`, true), http.StatusOK)
	if got.Title != "A's" || got.Priority != "high" || got.Version != 3 {
		t.Errorf("after two merged edits: %+v, want title A's, priority high, version 3", got)
	}
	// Same field: 409 naming it; the other field applies.
	res := e.mergePatch(t, u, tk.ID, 1, `{"title":"B's","completed":true}`, true)
	wantStatus(t, "B: title again", res, http.StatusConflict)
	var c struct {
		Detail    string   `json:"detail"`
		Conflicts []string `json:"conflicts"`
		Task      taskJSON `json:"task"`
	}
	if err := json.Unmarshal(res.body, &c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Conflicts, []string{"title"}) || c.Task.Title != "A's" || !c.Task.Completed || c.Detail == "" {
		t.Errorf("409 = %s, want conflicts [title], task titled A's and completed", res.body)
	}
	// Tags as sets, from version 1 on both devices.
	wantTask(t, "A: tags_add", e.mergePatch(t, u, tk.ID, 1, `{"tags_add":["b"]}`, true), http.StatusOK)
	got = wantTask(t, "B: tags_add, tags_remove", e.mergePatch(t, u, tk.ID, 1, `{"tags_add":["c"],"tags_remove":["a"]}`, true), http.StatusOK)
	if !slices.Equal(got.Tags, []string{"b", "c"}) {
		t.Errorf("tags = %v, want [b c]", got.Tags)
	}
}

// assignee_id is a field of history and merges like the others (issue
// 19): an offline change of it over a version where somebody else changed
// it is a 409 naming it, the change's other fields apply, and history
// records each assignment.
func TestMergeAssigneeOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token, `{"title":"one","assignee_id":"`+u.id+`"}`), http.StatusCreated)
	// Device A unassigns; device B, from version 1, assigns again and
	// renames; device C, from version 1, only renames.
	wantTask(t, "A: unassign", e.mergePatch(t, u, tk.ID, 1, `{"assignee_id":null}`, true), http.StatusOK)
	res := e.mergePatch(t, u, tk.ID, 1, `{"assignee_id":"`+u.id+`","description":"B's"}`, true)
	wantStatus(t, "B: assignee again", res, http.StatusConflict)
	var c struct {
		Conflicts []string `json:"conflicts"`
		Task      taskJSON `json:"task"`
	}
	if err := json.Unmarshal(res.body, &c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Conflicts, []string{"assignee_id"}) || c.Task.AssigneeID != nil || c.Task.Description == nil || *c.Task.Description != "B's" {
		t.Errorf("409 = %s, want conflicts [assignee_id], the task unassigned with B's description", res.body)
	}
	got := wantTask(t, "C: title", e.mergePatch(t, u, tk.ID, 1, `{"title":"C's"}`, true), http.StatusOK)
	if got.Title != "C's" || got.AssigneeID != nil {
		t.Errorf("C's merge = %+v, want C's title, nobody assigned", got)
	}
	revs := wantHistory(t, e, u, tk.ID)
	last := revs[len(revs)-1]
	if c := last.Changed["assignee_id"]; !last.Created || string(c.From) != `null` || string(c.To) != `"`+u.id+`"` {
		t.Errorf("the creation's assignee_id = %s → %s, want null → %q", c.From, c.To, u.id)
	}
	if c := revs[len(revs)-2].Changed["assignee_id"]; string(c.From) != `"`+u.id+`"` || string(c.To) != `null` {
		t.Errorf("version 2's assignee_id = %s → %s, want %q → null", c.From, c.To, u.id)
	}
}
