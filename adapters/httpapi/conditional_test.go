package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// etagOf is the ETag the API gives a task.
func etagOf(tk taskJSON) string { return fmt.Sprintf(`"%d-%d"`, tk.ID, tk.Version) }

// withHeader returns r with extra headers.
func withHeader(r request, kv ...string) request {
	r.header = r.header.Clone()
	if r.header == nil {
		r.header = http.Header{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r.header.Add(kv[i], kv[i+1])
	}
	return r
}

// wantTask checks status, a task body and an ETag that names it.
func wantTask(t *testing.T, what string, res *response, status int) taskJSON {
	t.Helper()
	wantStatus(t, what, res, status)
	tk := decodeTask(t, res.body)
	if got := res.header.Get("ETag"); got != etagOf(tk) {
		t.Errorf("%s: ETag %q, want %q", what, got, etagOf(tk))
	}
	return tk
}

// wantPrecondition checks a 412: the detail, the task as it is now and its ETag.
func wantPrecondition(t *testing.T, what string, res *response, current taskJSON) {
	t.Helper()
	wantStatus(t, what, res, http.StatusPreconditionFailed)
	var body map[string]json.RawMessage
	if err := json.Unmarshal(res.body, &body); err != nil || len(body) != 2 {
		t.Fatalf("%s: 412 body %s, want {\"detail\", \"current\"}", what, res)
	}
	var detail string
	if err := json.Unmarshal(body["detail"], &detail); err != nil || detail == "" {
		t.Errorf("%s: 412 detail %s, want a text", what, body["detail"])
	}
	if got := decodeTask(t, body["current"]); !got.equal(current) {
		t.Errorf("%s: 412 current = %v, want %v", what, got, current)
	}
	if got := res.header.Get("ETag"); got != etagOf(current) {
		t.Errorf("%s: 412 ETag %q, want the current %q", what, got, etagOf(current))
	}
}

func TestETagAndIfNoneMatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	res := e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "cached"}`)
	tk := wantTask(t, "POST", res, http.StatusCreated)
	if tk.Version != 1 {
		t.Errorf("new task version = %d, want 1", tk.Version)
	}
	get := request{method: http.MethodGet, path: u.task(tk.ID), token: u.token}
	wantTask(t, "GET", e.do(t, get), http.StatusOK)

	for _, tt := range []struct {
		ifNoneMatch string
		want        int
	}{
		{etagOf(tk), http.StatusNotModified},
		{"W/" + etagOf(tk), http.StatusNotModified},
		{`"other", ` + etagOf(tk), http.StatusNotModified},
		{"*", http.StatusNotModified},
		{fmt.Sprintf(`"%d-%d"`, tk.ID, tk.Version+1), http.StatusOK},
		{fmt.Sprintf(`"%d-%d"`, tk.ID+1, tk.Version), http.StatusOK},
		{`garbage`, http.StatusOK},
	} {
		res := e.do(t, withHeader(get, "If-None-Match", tt.ifNoneMatch))
		if res.status != tt.want {
			t.Errorf("GET with If-None-Match: %s = %s, want %d", tt.ifNoneMatch, res, tt.want)
			continue
		}
		if res.header.Get("ETag") != etagOf(tk) {
			t.Errorf("GET with If-None-Match: %s: ETag %q, want %q", tt.ifNoneMatch, res.header.Get("ETag"), etagOf(tk))
		}
		if tt.want == http.StatusNotModified && len(res.body) != 0 {
			t.Errorf("GET with If-None-Match: %s: 304 with a body %q", tt.ifNoneMatch, res.body)
		}
	}

	// Every change makes a new version, so the old tag no longer matches.
	res = e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, "")
	done := wantTask(t, "PATCH complete", res, http.StatusOK)
	if done.Version != tk.Version+1 {
		t.Errorf("after a change version = %d, want %d", done.Version, tk.Version+1)
	}
	wantTask(t, "GET with the old tag", e.do(t, withHeader(get, "If-None-Match", etagOf(tk))), http.StatusOK)
	// A task that does not exist is 404 whatever the header says.
	other := request{method: http.MethodGet, path: u.task(tk.ID + 1000), token: u.token}
	wantDetail(t, "GET unknown with If-None-Match: *", e.do(t, withHeader(other, "If-None-Match", "*")), http.StatusNotFound, "Task not found")
}

// TestIfMatch: each conditional write with the current tag succeeds, with
// an old or foreign tag answers 412 with the task as it is and changes
// nothing, and without the header behaves as the base contract says.
func TestIfMatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	// Each request changes the task, differently for each n (a write that
	// changes nothing keeps the version: TestNoChangeKeepsVersion).
	writes := []struct {
		name   string
		req    func(id int64, n int) request
		status int
	}{
		{"PUT", func(id int64, n int) request {
			return request{method: http.MethodPut, path: u.task(id), body: fmt.Sprintf(`{"title": "put %d", "completed": true}`, n)}
		}, http.StatusOK},
		{"PATCH", func(id int64, n int) request {
			return request{method: http.MethodPatch, path: u.task(id), body: fmt.Sprintf(`{"title": "patched %d"}`, n)}
		}, http.StatusOK},
		{"PATCH complete", func(id int64, _ int) request {
			return request{method: http.MethodPatch, path: u.complete(id)}
		}, http.StatusOK},
		{"PATCH complete with a body", func(id int64, n int) request {
			return request{method: http.MethodPatch, path: u.complete(id), body: fmt.Sprintf(`{"completed": %v}`, n%2 == 0)}
		}, http.StatusOK},
		{"DELETE", func(id int64, _ int) request {
			return request{method: http.MethodDelete, path: u.task(id)}
		}, http.StatusNoContent},
		{"DELETE permanent", func(id int64, _ int) request {
			return request{method: http.MethodDelete, path: u.task(id) + "?permanent=true"}
		}, http.StatusNoContent},
	}
	for _, w := range writes {
		tk := e.create(t, u, "v1 of "+w.name)
		tk = wantTask(t, "PUT", e.call(t, http.MethodPut, u.task(tk.ID), u.token, `{"title": "v2 of `+w.name+`"}`), http.StatusOK)
		stale := fmt.Sprintf(`"%d-%d"`, tk.ID, tk.Version-1)
		for _, bad := range []string{stale, fmt.Sprintf(`"%d-%d"`, tk.ID+1, tk.Version), `"garbage"`, `"1-01"`, "no quotes", stale + ", " + stale} {
			r := w.req(tk.ID, 0)
			r.token = u.token
			wantPrecondition(t, w.name+" If-Match: "+bad, e.do(t, withHeader(r, "If-Match", bad)), tk)
			res := e.call(t, http.MethodGet, u.task(tk.ID), u.token, "")
			if got := decodeTask(t, res.body); !got.equal(tk) {
				t.Errorf("after %s with If-Match %s the task is %v, want it unchanged %v", w.name, bad, got, tk)
			}
		}
		for n, form := range []func(string) string{
			func(tag string) string { return tag },
			func(tag string) string { return "W/" + tag }, // as a compressing proxy passes it on
			func(tag string) string { return `"x", ` + tag },
		} {
			good := form(etagOf(tk))
			r := w.req(tk.ID, n)
			r.token = u.token
			res := e.do(t, withHeader(r, "If-Match", good))
			wantStatus(t, w.name+" If-Match: "+good, res, w.status)
			if w.status == http.StatusNoContent {
				break // gone
			}
			got := wantTask(t, w.name+" If-Match: "+good, res, w.status)
			if got.Version != tk.Version+1 {
				t.Errorf("%s: version %d, want %d", w.name, got.Version, tk.Version+1)
			}
			tk = got
		}
	}
	// * matches any version of a task that exists; a missing task is 404,
	// not 412, with or without a tag.
	tk := e.create(t, u, "star")
	res := e.do(t, request{method: http.MethodPut, path: u.task(tk.ID), token: u.token, body: `{"title": "any"}`,
		header: http.Header{"If-Match": {"*"}}})
	wantTask(t, "PUT If-Match: *", res, http.StatusOK)
	for _, h := range []string{"*", etagOf(tk)} {
		res := e.do(t, request{method: http.MethodPut, path: u.task(tk.ID + 1000), token: u.token, body: `{"title": "x"}`,
			header: http.Header{"If-Match": {h}}})
		wantDetail(t, "PUT unknown If-Match: "+h, res, http.StatusNotFound, "Task not found")
	}
}

// TestLostUpdate is the two-tab story: both read the task, the first
// saves, the second saves over the version it read and is refused with the
// first one's change, which stays intact.
func TestLostUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "shopping")
	get := request{method: http.MethodGet, path: u.task(tk.ID), token: u.token}
	tab1 := wantTask(t, "tab 1 GET", e.do(t, get), http.StatusOK)
	tab2 := wantTask(t, "tab 2 GET", e.do(t, get), http.StatusOK)

	res := e.do(t, withHeader(request{method: http.MethodPut, path: u.task(tk.ID), token: u.token,
		body: `{"title": "shopping: milk, eggs", "description": "from tab 1"}`}, "If-Match", etagOf(tab1)))
	first := wantTask(t, "tab 1 PUT", res, http.StatusOK)

	res = e.do(t, withHeader(request{method: http.MethodPatch, path: u.task(tk.ID), token: u.token,
		body: `{"title": "shopping: bread"}`}, "If-Match", etagOf(tab2)))
	wantPrecondition(t, "tab 2 PATCH", res, first)

	now := wantTask(t, "GET after both", e.do(t, get), http.StatusOK)
	if !now.equal(first) || now.Title != "shopping: milk, eggs" {
		t.Errorf("after the refused write the task is %v, want tab 1's %v", now, first)
	}
	// Tab 2 reloads (the 412 carried the current tag) and tries again.
	res = e.do(t, withHeader(request{method: http.MethodPatch, path: u.task(tk.ID), token: u.token,
		body: `{"title": "shopping: milk, eggs, bread"}`}, "If-Match", etagOf(first)))
	if got := wantTask(t, "tab 2 PATCH again", res, http.StatusOK); got.Description == nil || *got.Description != "from tab 1" {
		t.Errorf("tab 2's merge kept description %s, want tab 1's", show(got.Description))
	}
}

// TestConcurrentIfMatch: 50 clients write the same version at once;
// exactly one succeeds, the others get 412 with its change.
func TestConcurrentIfMatch(t *testing.T) {
	t.Parallel()
	const n = 50
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "contended")
	var wg sync.WaitGroup
	results := make([]*response, n)
	for i := range n {
		wg.Go(func() {
			results[i] = e.do(t, withHeader(request{method: http.MethodPatch, path: u.task(tk.ID), token: u.token,
				body: fmt.Sprintf(`{"title": "writer %d"}`, i)}, "If-Match", etagOf(tk)))
		})
	}
	wg.Wait()
	var ok []int
	for i, res := range results {
		switch res.status {
		case http.StatusOK:
			ok = append(ok, i)
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("writer %d: %s, want 200 or 412", i, res)
		}
	}
	if len(ok) != 1 {
		t.Fatalf("%d writers succeeded (%v), want exactly 1", len(ok), ok)
	}
	winner := decodeTask(t, results[ok[0]].body)
	if winner.Title != fmt.Sprintf("writer %d", ok[0]) || winner.Version != tk.Version+1 {
		t.Errorf("winner = %v, want writer %d at version %d", winner, ok[0], tk.Version+1)
	}
	for i, res := range results {
		if res.status == http.StatusPreconditionFailed {
			wantPrecondition(t, fmt.Sprintf("writer %d", i), res, winner)
		}
	}
}

func TestPatchTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	res := e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title": "full", "description": "desc", "priority": "high", "due_date": "2026-03-01", "tags": ["a", "b"]}`)
	full := wantTask(t, "POST", res, http.StatusCreated)
	patch := func(body, contentType string) *response {
		r := request{method: http.MethodPatch, path: u.task(full.ID), token: u.token, body: body}
		if contentType != "" {
			r = withHeader(r, "Content-Type", contentType)
		}
		return e.do(t, r)
	}

	tests := []struct {
		body        string
		contentType string
		want        func(taskJSON) taskJSON // from the task before
	}{
		{`{"title": "  renamed  "}`, "application/merge-patch+json", func(tk taskJSON) taskJSON { tk.Title = "renamed"; return tk }},
		{`{"description": "new"}`, "", func(tk taskJSON) taskJSON { tk.Description = ptr("new"); return tk }},
		{`{"description": null}`, "application/merge-patch+json", func(tk taskJSON) taskJSON { tk.Description = nil; return tk }},
		{`{"priority": "LOW"}`, "", func(tk taskJSON) taskJSON { tk.Priority = "low"; return tk }},
		{`{"priority": null}`, "", func(tk taskJSON) taskJSON { tk.Priority = "medium"; return tk }},
		{`{"due_date": "2026-04-01T10:00:00+02:00"}`, "", func(tk taskJSON) taskJSON { tk.DueDate = ptr("2026-04-01T08:00:00Z"); return tk }},
		{`{"due_date": null}`, "", func(tk taskJSON) taskJSON { tk.DueDate = nil; return tk }},
		{`{"tags": ["x", "X", "y"]}`, "", func(tk taskJSON) taskJSON { tk.Tags = []string{"x", "y"}; return tk }},
		{`{"tags": null}`, "", func(tk taskJSON) taskJSON { tk.Tags = []string{}; return tk }},
		{`{"completed": true, "colour": "red", "id": 999}`, "", func(tk taskJSON) taskJSON { tk.Completed = true; return tk }},
		{`{"completed": false, "title": "both", "tags": ["z"]}`, "application/json; charset=utf-8", func(tk taskJSON) taskJSON {
			tk.Completed, tk.Title, tk.Tags = false, "both", []string{"z"}
			return tk
		}},
	}
	prev := full
	for _, tt := range tests {
		got := wantTask(t, "PATCH "+tt.body, patch(tt.body, tt.contentType), http.StatusOK)
		want := tt.want(prev)
		want.UpdatedAt, want.CompletedAt, want.Version = got.UpdatedAt, got.CompletedAt, prev.Version+1
		if !got.equal(want) {
			t.Errorf("PATCH %s = %v, want %v", tt.body, got, want)
		}
		if !later(t, got.UpdatedAt, prev.UpdatedAt) {
			t.Errorf("PATCH %s: updated_at %s, want later than %s", tt.body, got.UpdatedAt, prev.UpdatedAt)
		}
		prev = got
	}

	// An empty patch changes nothing at all.
	if got := wantTask(t, "PATCH {}", patch(`{}`, mergePatch), http.StatusOK); !got.equal(prev) {
		t.Errorf("PATCH {} = %v, want the task unchanged %v", got, prev)
	}
	// Broken rules change nothing, and name the member.
	for _, tt := range []struct {
		body string
		loc  []any
	}{
		{`{"title": null}`, []any{"body", "title"}},
		{`{"title": "   "}`, []any{"body", "title"}},
		{`{"completed": null}`, []any{"body", "completed"}},
		{`{"priority": "urgent"}`, []any{"body", "priority"}},
		{`{"tags": ["ok", "a,b"], "title": "fine"}`, []any{"body", "tags"}},
		{`{"due_date": "2026-02-30"}`, []any{"body", "due_date"}},
		{`{"description": 5}`, []any{"body", "description"}},
		{`["title", "x"]`, []any{"body"}},
	} {
		wantProblems(t, "PATCH "+tt.body, e.do(t, request{method: http.MethodPatch, path: u.task(full.ID), token: u.token,
			body: tt.body, outsideDoc: true}), tt.loc)
	}
	res = e.call(t, http.MethodGet, u.task(full.ID), u.token, "")
	if got := decodeTask(t, res.body); !got.equal(prev) {
		t.Errorf("after refused patches the task is %v, want %v", got, prev)
	}
	// Another user's task, and a body that is not JSON.
	other := e.newUser(t)
	wantDetail(t, "PATCH another user's task", e.call(t, http.MethodPatch, other.task(full.ID), other.token, `{"title": "x"}`),
		http.StatusNotFound, "Task not found")
	res = e.do(t, request{method: http.MethodPatch, path: u.task(full.ID), token: u.token, body: `{"title": "x"}`,
		header: http.Header{"Content-Type": {"text/plain"}}, outsideDoc: true})
	wantProblems(t, "PATCH as text/plain", res, []any{"body"})
}

const mergePatch = "application/merge-patch+json"

// TestBulkRoutes: the fixed paths under /tasks are not task ids (chi
// prefers a fixed segment to {id}).
func TestBulkRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "x")
	res := e.call(t, http.MethodPatch, u.tasks()+"/bulk", u.token, fmt.Sprintf(`{"ids": [%d], "set": {"completed": true}}`, tk.ID))
	if got := decodeTasks(t, res); len(got) != 1 || !got[0].Completed {
		t.Errorf("PATCH /tasks/bulk = %v, want the task completed", got)
	}
	res = e.call(t, http.MethodPost, u.tasks()+"/clear-completed", u.token, "")
	wantStatus(t, "POST /tasks/clear-completed", res, http.StatusOK)
	res = e.call(t, http.MethodPost, u.tasks()+"/bulk-delete", u.token, fmt.Sprintf(`{"ids": [%d]}`, tk.ID))
	wantDetail(t, "POST /tasks/bulk-delete of a trashed task", res, http.StatusNotFound, "Task not found")
	res = e.call(t, http.MethodPost, u.tasks()+"/bulk", u.token, `[{"title": "y"}]`)
	wantStatus(t, "POST /tasks/bulk", res, http.StatusCreated)
}

// TestCORSForWrites: a browser may send the headers of conditional and
// idempotent requests, and read the ones they answer with.
func TestCORSForWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	res := e.do(t, request{method: http.MethodOptions, path: u.task(1), header: http.Header{
		"Origin":                         {frontend},
		"Access-Control-Request-Method":  {http.MethodPatch},
		"Access-Control-Request-Headers": {"authorization,content-type,if-match,if-none-match,idempotency-key"},
	}})
	allowed := listHeader(res.header, "Access-Control-Allow-Headers")
	for _, h := range []string{"if-match", "if-none-match", "idempotency-key"} {
		if !slices.Contains(allowed, h) {
			t.Errorf("preflight: Access-Control-Allow-Headers = %v, want %s in it", allowed, h)
		}
	}
	res = e.do(t, request{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{"title": "x"}`,
		header: http.Header{"Origin": {frontend}, "Idempotency-Key": {"cors"}}})
	exposed := listHeader(res.header, "Access-Control-Expose-Headers")
	for _, h := range []string{"etag", "idempotent-replayed", "retry-after"} {
		if !slices.Contains(exposed, h) {
			t.Errorf("Access-Control-Expose-Headers = %v, want %s in it", exposed, h)
		}
	}
}

// TestNoChangeKeepsVersion: a write that gives a task what it has (PUT,
// merge patch, complete with a body, bulk change) answers the task as it is:
// same version, same updated_at, same ETag, so that another client holding
// that ETag is not sent a needless 412 (issue 14 item 11). A toggle always
// changes the task.
func TestNoChangeKeepsVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "same")
	tk = wantTask(t, "PATCH", e.call(t, http.MethodPatch, u.task(tk.ID), u.token,
		`{"description": "d", "priority": "high", "due_date": "2026-03-01", "tags": ["a", "B"]}`), http.StatusOK)
	held := etagOf(tk) // another client's copy
	for _, r := range []request{
		{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": " same ", "description": "d", "completed": false, "priority": "HIGH", "due_date": "2026-03-01", "tags": ["a", "B", "b"]}`},
		{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "same", "description": "d"}`},
		{method: http.MethodPatch, path: u.task(tk.ID), body: `{"title": "same", "description": "d", "completed": false, "priority": "high", "tags": ["a", "B"]}`},
		{method: http.MethodPatch, path: u.task(tk.ID), body: `{"due_date": "2026-03-01"}`},
		{method: http.MethodPatch, path: u.task(tk.ID), body: `{}`},
		{method: http.MethodPatch, path: u.complete(tk.ID), body: `{"completed": false}`},
	} {
		for _, ifMatch := range []string{"", held} {
			r := r
			r.token = u.token
			if ifMatch != "" {
				r = withHeader(r, "If-Match", ifMatch)
			}
			what := fmt.Sprintf("%s %s %s (If-Match %q)", r.method, r.path, r.body, ifMatch)
			if got := wantTask(t, what, e.do(t, r), http.StatusOK); !got.equal(tk) {
				t.Errorf("%s = %v, want the task as it was: %v", what, got, tk)
			}
		}
	}
	bulk := fmt.Sprintf(`{"ids": [%d], "set": {"completed": false, "priority": "high", "tags": ["a", "B"], "due_date": "2026-03-01"}}`, tk.ID)
	res := e.call(t, http.MethodPatch, u.tasks()+"/bulk", u.token, bulk)
	wantStatus(t, "PATCH bulk with the same values", res, http.StatusOK)
	if got := decodeTasks(t, res); len(got) != 1 || !got[0].equal(tk) {
		t.Errorf("PATCH bulk with the same values = %v, want [%v]", got, tk)
	}
	if got := wantTask(t, "GET", e.call(t, http.MethodGet, u.task(tk.ID), u.token, ""), http.StatusOK); !got.equal(tk) {
		t.Errorf("GET after writes that changed nothing = %v, want %v", got, tk)
	}

	// The other client's tag still holds; its change is one version up.
	r := withHeader(request{method: http.MethodPatch, path: u.task(tk.ID), token: u.token, body: `{"title": "theirs"}`}, "If-Match", held)
	got := wantTask(t, "PATCH with the held tag", e.do(t, r), http.StatusOK)
	if got.Version != tk.Version+1 || got.Title != "theirs" {
		t.Errorf("PATCH with the held tag = %v, want title theirs at version %d", got, tk.Version+1)
	}
	// A toggle always changes the task.
	toggled := wantTask(t, "PATCH complete", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, ""), http.StatusOK)
	if toggled.Version != got.Version+1 || !toggled.Completed || !later(t, toggled.UpdatedAt, got.UpdatedAt) {
		t.Errorf("toggle = %v, want completed at version %d with a later updated_at", toggled, got.Version+1)
	}
}
