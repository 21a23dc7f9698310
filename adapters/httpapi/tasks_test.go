package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestListEmptyIsEmptyArray(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for _, status := range []string{"", "?status=all", "?status=pending", "?status=completed"} {
		res := e.call(t, http.MethodGet, u.tasks()+status, u.token, "")
		wantStatus(t, "GET "+u.tasks()+status, res, http.StatusOK)
		if got := string(bytes.TrimRight(res.body, "\n")); got != "[]" {
			t.Errorf("GET %s%s body = %q, want []", u.tasks(), status, got)
		}
	}
}

func TestCreateGetList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)

	res := e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "  Buy milk  "}`)
	wantStatus(t, "POST without description", res, http.StatusCreated)
	a := decodeTask(t, res.body)
	if a.ID < 1 || a.UserID != u.id || a.Title != "Buy milk" || a.Description != nil || a.Completed {
		t.Errorf("POST {title: \"  Buy milk  \"} = %+v, want id >= 1, user %q, trimmed title, null description, not completed", a, u.id)
	}
	if a.CreatedAt != a.UpdatedAt {
		t.Errorf("new task: created_at %s != updated_at %s", a.CreatedAt, a.UpdatedAt)
	}

	res = e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "Call mum", "description": "Sunday"}`)
	wantStatus(t, "POST with description", res, http.StatusCreated)
	b := decodeTask(t, res.body)
	if b.Description == nil || *b.Description != "Sunday" || b.ID == a.ID {
		t.Errorf("POST with description = %+v, want description \"Sunday\" and a new id", b)
	}

	res = e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "Null description", "description": null}`)
	wantStatus(t, "POST with null description", res, http.StatusCreated)
	if c := decodeTask(t, res.body); c.Description != nil {
		t.Errorf("POST with null description = %+v, want null", c)
	}

	res = e.call(t, http.MethodGet, u.task(b.ID), u.token, "")
	wantStatus(t, "GET "+u.task(b.ID), res, http.StatusOK)
	if got := decodeTask(t, res.body); !got.equal(b) {
		t.Errorf("GET %s = %+v, want %+v", u.task(b.ID), got, b)
	}

	res = e.call(t, http.MethodGet, u.tasks(), u.token, "")
	wantStatus(t, "GET "+u.tasks(), res, http.StatusOK)
	if got := decodeTasks(t, res); len(got) != 3 || !got[0].equal(a) || !got[1].equal(b) {
		t.Errorf("GET %s = %+v, want [%+v %+v ...]", u.tasks(), got, a, b)
	}
}

func TestCreateIgnoresUnknownFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	body := `{"title": "x", "id": 999, "user_id": "someone_else", "completed": true, "created_at": "2000-01-01T00:00:00Z", "colour": "red"}`
	res := e.call(t, http.MethodPost, u.tasks(), u.token, body)
	wantStatus(t, "POST with unknown fields", res, http.StatusCreated)
	got := decodeTask(t, res.body)
	if got.ID == 999 || got.UserID != u.id || got.Completed || strings.HasPrefix(got.CreatedAt, "2000") {
		t.Errorf("POST %s = %+v, want the server's id, owner, completion and time", body, got)
	}
}

func TestListFilterAndOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	var ids []int64
	for _, title := range []string{"first", "second", "third", "fourth"} {
		ids = append(ids, e.create(t, u, title).ID)
	}
	for _, id := range []int64{ids[1], ids[3]} {
		wantStatus(t, "PATCH complete", e.call(t, http.MethodPatch, u.complete(id), u.token, ""), http.StatusOK)
	}
	// Another user's tasks never show.
	other := e.newUser(t)
	e.create(t, other, "not mine")

	tests := []struct {
		query string
		want  []int64
	}{
		{"", ids},
		{"?status=all", ids},
		{"?status=pending", []int64{ids[0], ids[2]}},
		{"?status=completed", []int64{ids[1], ids[3]}},
	}
	for _, tt := range tests {
		res := e.call(t, http.MethodGet, u.tasks()+tt.query, u.token, "")
		wantStatus(t, "GET "+u.tasks()+tt.query, res, http.StatusOK)
		var got []int64
		for _, tk := range decodeTasks(t, res) {
			got = append(got, tk.ID)
			if tk.UserID != u.id {
				t.Errorf("GET %s%s lists %+v of another user", u.tasks(), tt.query, tk)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("GET %s%s ids = %v, want %v (oldest first)", u.tasks(), tt.query, got, tt.want)
		}
	}
}

func TestListBadStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for _, status := range []string{"done", "ALL", "Completed", "pending,completed"} {
		res := e.do(t, request{method: http.MethodGet, path: u.tasks() + "?status=" + status, token: u.token, outsideDoc: true})
		wantProblems(t, "GET ?status="+status, res, []any{"query", "status"})
	}
}

func TestReplace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	res := e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "old", "description": "old text"}`)
	wantStatus(t, "POST", res, http.StatusCreated)
	orig := decodeTask(t, res.body)

	steps := []struct {
		body string
		want taskJSON // id, owner and times are checked apart
	}{
		{`{"title": " new ", "description": "new text"}`, taskJSON{Title: "new", Description: ptr("new text")}},
		{`{"title": "no description"}`, taskJSON{Title: "no description"}},
		{`{"title": "done", "completed": true}`, taskJSON{Title: "done", Completed: true}},
		{`{"title": "still done", "description": null}`, taskJSON{Title: "still done", Completed: true}},
		{`{"title": "undone", "description": "d", "completed": false}`, taskJSON{Title: "undone", Description: ptr("d")}},
	}
	prev := orig
	for _, s := range steps {
		res := e.call(t, http.MethodPut, u.task(orig.ID), u.token, s.body)
		wantStatus(t, "PUT "+s.body, res, http.StatusOK)
		got := decodeTask(t, res.body)
		if got.Title != s.want.Title || !equalPtr(got.Description, s.want.Description) || got.Completed != s.want.Completed {
			t.Errorf("PUT %s = %+v, want title %q, description %v, completed %v", s.body, got, s.want.Title, show(s.want.Description), s.want.Completed)
		}
		if got.ID != orig.ID || got.UserID != u.id || got.CreatedAt != orig.CreatedAt {
			t.Errorf("PUT %s = %+v, want id %d, owner %q and created_at %s unchanged", s.body, got, orig.ID, u.id, orig.CreatedAt)
		}
		if !later(t, got.UpdatedAt, prev.UpdatedAt) {
			t.Errorf("PUT %s: updated_at %s, want later than %s", s.body, got.UpdatedAt, prev.UpdatedAt)
		}
		res = e.call(t, http.MethodGet, u.task(orig.ID), u.token, "")
		wantStatus(t, "GET after PUT", res, http.StatusOK)
		if stored := decodeTask(t, res.body); !stored.equal(got) {
			t.Errorf("GET after PUT %s = %+v, want %+v", s.body, stored, got)
		}
		prev = got
	}
}

func TestComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "toggle me")
	steps := []struct {
		body string // "" sends no body
		want bool
	}{
		{"", true},
		{"", false},
		{`{}`, true},
		{`{}`, false},
		{`{"completed": true}`, true},
		{`{"completed": true}`, true},
		{`{"completed": false}`, false},
		{`{"completed": false}`, false},
	}
	prev := tk
	for i, s := range steps {
		res := e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, s.body)
		wantStatus(t, fmt.Sprintf("step %d: PATCH complete %s", i+1, s.body), res, http.StatusOK)
		got := decodeTask(t, res.body)
		if got.Completed != s.want {
			t.Errorf("step %d: PATCH complete %q: completed = %v, want %v", i+1, s.body, got.Completed, s.want)
		}
		if got.Title != tk.Title || got.CreatedAt != tk.CreatedAt || got.ID != tk.ID {
			t.Errorf("step %d: PATCH complete %q = %+v, want only completed and updated_at changed from %+v", i+1, s.body, got, tk)
		}
		switch {
		case got.Completed == prev.Completed:
			// Setting the value it has changes nothing (issue 14 item 11).
			if !got.equal(prev) {
				t.Errorf("step %d: PATCH complete %q = %+v, want it as it was: %+v", i+1, s.body, got, prev)
			}
		case !later(t, got.UpdatedAt, prev.UpdatedAt):
			t.Errorf("step %d: PATCH complete %q: updated_at %s, want later than %s", i+1, s.body, got.UpdatedAt, prev.UpdatedAt)
		}
		prev = got
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	keep := e.create(t, u, "keep")
	gone := e.create(t, u, "delete me")

	res := e.call(t, http.MethodDelete, u.task(gone.ID), u.token, "")
	wantStatus(t, "DELETE "+u.task(gone.ID), res, http.StatusNoContent)
	if len(res.body) != 0 {
		t.Errorf("DELETE %s body = %q, want none", u.task(gone.ID), res.body)
	}
	for _, r := range []request{
		{method: http.MethodGet, path: u.task(gone.ID)},
		{method: http.MethodDelete, path: u.task(gone.ID)},
		{method: http.MethodPut, path: u.task(gone.ID), body: `{"title": "x"}`},
		{method: http.MethodPatch, path: u.complete(gone.ID)},
	} {
		r.token = u.token
		wantDetail(t, r.method+" deleted task", e.do(t, r), http.StatusNotFound, "Task not found")
	}
	res = e.call(t, http.MethodGet, u.tasks(), u.token, "")
	if got := decodeTasks(t, res); len(got) != 1 || !got[0].equal(keep) {
		t.Errorf("GET %s after DELETE = %+v, want [%+v]", u.tasks(), got, keep)
	}
}

func TestMissingTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	e.create(t, u, "exists")
	for _, id := range []string{"999", "9223372036854775807"} {
		for _, r := range []request{
			{method: http.MethodGet, path: u.taskPath(id)},
			{method: http.MethodPut, path: u.taskPath(id), body: `{"title": "x"}`},
			{method: http.MethodPatch, path: u.completePath(id)},
			{method: http.MethodDelete, path: u.taskPath(id)},
		} {
			r.token = u.token
			wantDetail(t, r.method+" "+r.path, e.do(t, r), http.StatusNotFound, "Task not found")
		}
	}
}

// TestOtherUsersTask: another user's task is 404 on the caller's own URL,
// exactly like a task that does not exist, and stays as it was; the other
// user's URL is 403.
func TestOtherUsersTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.newUser(t), e.newUser(t)
	theirs := e.create(t, bob, "bob's")
	before := e.call(t, http.MethodGet, bob.task(theirs.ID), bob.token, "")
	wantStatus(t, "GET own task", before, http.StatusOK)

	for _, r := range []request{
		{method: http.MethodGet, path: alice.task(theirs.ID)},
		{method: http.MethodPut, path: alice.task(theirs.ID), body: `{"title": "hijacked", "completed": true}`},
		{method: http.MethodPatch, path: alice.complete(theirs.ID)},
		{method: http.MethodPatch, path: alice.complete(theirs.ID), body: `{"completed": true}`},
		{method: http.MethodDelete, path: alice.task(theirs.ID)},
	} {
		r.token = alice.token
		wantDetail(t, r.method+" another user's task on own URL", e.do(t, r), http.StatusNotFound, "Task not found")
	}

	for _, r := range []request{
		{method: http.MethodGet, path: bob.tasks()},
		{method: http.MethodGet, path: bob.tasks() + "?status=pending"},
		{method: http.MethodPost, path: bob.tasks(), body: `{"title": "planted"}`},
		{method: http.MethodGet, path: bob.task(theirs.ID)},
		{method: http.MethodPut, path: bob.task(theirs.ID), body: `{"title": "hijacked"}`},
		{method: http.MethodPatch, path: bob.complete(theirs.ID)},
		{method: http.MethodDelete, path: bob.task(theirs.ID)},
		{method: http.MethodGet, path: bob.task(999)},
	} {
		r.token = alice.token
		wantDetail(t, r.method+" "+r.path+" with another user's token", e.do(t, r), http.StatusForbidden, "")
	}

	after := e.call(t, http.MethodGet, bob.task(theirs.ID), bob.token, "")
	wantStatus(t, "GET own task afterwards", after, http.StatusOK)
	if !bytes.Equal(before.body, after.body) {
		t.Errorf("bob's task changed: before %s, after %s", before.body, after.body)
	}
	if got := decodeTasks(t, e.call(t, http.MethodGet, bob.tasks(), bob.token, "")); len(got) != 1 {
		t.Errorf("bob's list = %+v, want only his task", got)
	}
	if got := decodeTasks(t, e.call(t, http.MethodGet, alice.tasks(), alice.token, "")); len(got) != 0 {
		t.Errorf("alice's list = %+v, want []", got)
	}
}

func TestEmailTakenByAnotherUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.newUser(t) // holds first.id@example.com
	e.create(t, first, "mine")

	id := newUserID(t)
	thief := user{id: id, token: e.sign(t, identity(id, first.id+"@example.com"))}
	for _, r := range []request{
		{method: http.MethodGet, path: thief.tasks()},
		{method: http.MethodPost, path: thief.tasks(), body: `{"title": "x"}`},
		{method: http.MethodGet, path: thief.task(1)},
	} {
		r.token = thief.token
		wantDetail(t, r.method+" "+r.path+" with a taken email", e.do(t, r), http.StatusConflict, "")
	}
	// Case does not make an email another one.
	upper := user{id: id, token: e.sign(t, identity(id, strings.ToUpper(first.id)+"@EXAMPLE.COM"))}
	wantDetail(t, "GET with the taken email in upper case", e.call(t, http.MethodGet, upper.tasks(), upper.token, ""), http.StatusConflict, "")

	// The holder still gets in; the refused user does with their own email.
	wantStatus(t, "GET by the holder", e.call(t, http.MethodGet, first.tasks(), first.token, ""), http.StatusOK)
	own := user{id: id, token: e.sign(t, identity(id, id+"@example.com"))}
	wantStatus(t, "GET with an own email", e.call(t, http.MethodGet, own.tasks(), own.token, ""), http.StatusOK)
}

func TestTimestamps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "t")
	prev := tk
	for _, step := range []struct {
		r       request
		changes bool
	}{
		// The same values are no change: updated_at stays (issue 14 item
		// 11; CONTRACT.md: it moves on every change).
		{request{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "t"}`}, false},
		{request{method: http.MethodPatch, path: u.complete(tk.ID)}, true},
		{request{method: http.MethodPatch, path: u.complete(tk.ID), body: `{"completed": true}`}, false},
		{request{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "u", "completed": false}`}, true},
		{request{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "u", "completed": true}`}, true},
		{request{method: http.MethodPatch, path: u.complete(tk.ID), body: `{"completed": false}`}, true},
	} {
		r := step.r
		r.token = u.token
		res := e.do(t, r)
		wantStatus(t, r.method+" "+r.body, res, http.StatusOK)
		got := decodeTask(t, res.body)
		if got.CreatedAt != tk.CreatedAt {
			t.Errorf("%s %s: created_at = %s, want %s", r.method, r.body, got.CreatedAt, tk.CreatedAt)
		}
		if !step.changes && got.UpdatedAt != prev.UpdatedAt {
			t.Errorf("%s %s changed nothing: updated_at = %s, want %s as it was", r.method, r.body, got.UpdatedAt, prev.UpdatedAt)
		}
		if step.changes && !later(t, got.UpdatedAt, prev.UpdatedAt) {
			t.Errorf("%s %s: updated_at = %s, want later than %s", r.method, r.body, got.UpdatedAt, prev.UpdatedAt)
		}
		prev = got
	}
	// Reading changes nothing.
	res := e.call(t, http.MethodGet, u.task(tk.ID), u.token, "")
	if got := decodeTask(t, res.body); !got.equal(prev) {
		t.Errorf("GET = %+v, want %+v", got, prev)
	}
}

func later(t *testing.T, a, b string) bool {
	t.Helper()
	return checkTime(t, "updated_at", a).After(checkTime(t, "updated_at", b))
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%q", fmt.Sprint(*p))
}
