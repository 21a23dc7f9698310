package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

type revisionJSON struct {
	Version int64 `json:"version"`
	Changed map[string]struct {
		From json.RawMessage `json:"from"`
		To   json.RawMessage `json:"to"`
	} `json:"changed"`
	At string `json:"at"`
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

// GET .../tasks/{id}/history: what each write changed, newest first; []
// for a new task; 404 for a task the caller does not have.
func TestTaskHistoryOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "first")
	if revs := wantHistory(t, e, u, tk.ID); len(revs) != 0 {
		t.Errorf("a new task's history = %+v, want []", revs)
	}
	wantTask(t, "PATCH title", e.call(t, http.MethodPatch, u.task(tk.ID), u.token, `{"title":"second","priority":"high"}`), http.StatusOK)
	wantTask(t, "PATCH completed", e.call(t, http.MethodPatch, u.task(tk.ID), u.token, `{"completed":true}`), http.StatusOK)
	revs := wantHistory(t, e, u, tk.ID)
	if len(revs) != 2 || revs[0].Version != 3 || revs[1].Version != 2 {
		t.Fatalf("history = %+v, want versions 3 and 2", revs)
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
