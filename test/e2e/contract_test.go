package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/internal/testenv"
)

// testOrigin is the browser origin the binaries allow through CORS_ORIGINS.
const testOrigin = "http://app.e2e.test:3000"

// storageKind is one DATABASE_URL kind; url prepares a fresh store.
type storageKind struct {
	name string
	url  func(t *testing.T) string
}

var storageKinds = []storageKind{
	{"memory", func(*testing.T) string { return "memory:" }},
	{"sqlite", func(t *testing.T) string { return "sqlite:" + t.TempDir() + "/todo.db" }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresDatabase(t) }},
}

// TestContract runs the black-box contract suite against the binary in HS256
// mode, once per storage kind.
func TestContract(t *testing.T) {
	skipShort(t)
	t.Parallel()
	for _, kind := range storageKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			a := startAPI(t,
				"DATABASE_URL="+kind.url(t),
				"BETTER_AUTH_SECRET="+testSecret,
				"CORS_ORIGINS="+testOrigin,
				"LOG_LEVEL=debug",
			)
			testenv.WaitHTTP(t, a.Process, a.URL+"/readyz", http.StatusOK, startTimeout)
			// The suite's cases run in parallel; this t.Run returns when all are done.
			t.Run("suite", func(t *testing.T) { runContractSuite(t, newClient(a.URL)) })
			checkNoTokensLogged(t, a.Process)
		})
	}
}

// checkNoTokensLogged fails if the process wrote anything that looks like a
// JWT: every JWT starts with "eyJ", the base64 of `{"`.
func checkNoTokensLogged(t *testing.T, p *testenv.Process) {
	t.Helper()
	for line := range strings.Lines(p.Output()) {
		if strings.Contains(line, "eyJ") {
			t.Errorf("a token reached the logs: %s", line)
			return
		}
	}
}

// runContractSuite checks every endpoint and status code of the contract.
// Every case uses users of its own, so the cases run in parallel on one
// server.
func runContractSuite(t *testing.T, c *client) {
	t.Run("health", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/healthz", "/readyz"} {
			expect(t, c.do(t, http.MethodGet, path, "", nil), http.StatusOK)
		}
	})

	t.Run("empty list is []", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		r := c.do(t, http.MethodGet, tasksPath(u.ID), u.Token, nil)
		if expect(t, r, http.StatusOK) && string(bytes.TrimSpace(r.Body)) != "[]" {
			t.Errorf("%s, want body []", r)
		}
	})

	t.Run("create and get", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		r := c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, map[string]any{"title": "Buy milk", "description": "2 litres"})
		got := task(t, r, http.StatusCreated)
		if got.UserID != u.ID || got.Title != "Buy milk" || got.Description != str("2 litres") || got.Completed {
			t.Errorf("%s, want user_id %s, title Buy milk, description 2 litres, completed false", r, u.ID)
		}
		if again := c.get(t, u, got.ID); again != got {
			t.Errorf("GET = %+v, want %+v as created", again, got)
		}
	})

	t.Run("JSON body without Content-Type", func(t *testing.T) {
		t.Parallel()
		// FastAPI reads a body without Content-Type as JSON; scripts rely on it.
		u := newHS256User(t)
		req, err := http.NewRequest(http.MethodPost, c.base+tasksPath(u.ID), strings.NewReader(`{"title":"no type"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+u.Token)
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("POST without Content-Type = %d, want 201", resp.StatusCode)
		}
	})

	t.Run("description absent or null", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		for _, body := range []raw{`{"title":"a"}`, `{"title":"a","description":null}`} {
			r := c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, body)
			if got := task(t, r, http.StatusCreated); got.Description != null {
				t.Errorf("POST %s: description = %v, want null", body, got.Description)
			}
		}
	})

	t.Run("title and description boundaries", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		for _, tc := range []struct{ name, title, desc string }{
			{"200 ascii", strings.Repeat("a", 200), ""},
			{"200 two-byte", strings.Repeat("é", 200), ""},
			{"200 four-byte", strings.Repeat("😀", 200), ""},
			{"1 char", "x", ""},
			{"1000 description", "d", strings.Repeat("é", 1000)},
		} {
			body := map[string]any{"title": tc.title}
			if tc.desc != "" {
				body["description"] = tc.desc
			}
			got := task(t, c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, body), http.StatusCreated)
			if got.Title != tc.title {
				t.Errorf("%s: title = %q, want %q", tc.name, got.Title, tc.title)
			}
			if tc.desc != "" && got.Description != str(tc.desc) {
				t.Errorf("%s: description changed", tc.name)
			}
		}
	})

	t.Run("list oldest first, own tasks only", func(t *testing.T) {
		t.Parallel()
		u, other := newHS256User(t), newHS256User(t)
		var want []int64
		for _, title := range []string{"first", "second", "third"} {
			want = append(want, c.create(t, u, title).ID)
			c.create(t, other, "other "+title)
		}
		got := c.list(t, u, "")
		if !slices.Equal(ids(got), want) {
			t.Errorf("list ids = %v, want %v", ids(got), want)
		}
		for _, a := range got {
			if a.UserID != u.ID {
				t.Errorf("list of %s holds %+v", u.ID, a)
			}
		}
	})

	t.Run("status filter", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		a, b, d := c.create(t, u, "a"), c.create(t, u, "b"), c.create(t, u, "c")
		task(t, c.do(t, http.MethodPatch, completePath(u.ID, b.ID), u.Token, nil), http.StatusOK)
		for _, tc := range []struct {
			query string
			want  []int64
		}{
			{"", []int64{a.ID, b.ID, d.ID}},
			{"?status=all", []int64{a.ID, b.ID, d.ID}},
			{"?status=pending", []int64{a.ID, d.ID}},
			{"?status=completed", []int64{b.ID}},
		} {
			if got := ids(c.list(t, u, tc.query)); !slices.Equal(got, tc.want) {
				t.Errorf("GET tasks%s ids = %v, want %v", tc.query, got, tc.want)
			}
		}
		for _, bad := range []string{"done", "ALL", ""} {
			r := c.do(t, http.MethodGet, tasksPath(u.ID)+"?status="+bad, u.Token, nil)
			if bad == "" {
				// An empty value is either the default or refused; never a 500.
				if r.Status != http.StatusOK && r.Status != http.StatusUnprocessableEntity {
					t.Errorf("%s, want 200 or 422", r)
				}
				continue
			}
			validationOn(t, r, "status")
		}
	})

	t.Run("put", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		orig := c.create(t, u, "old")
		r := c.do(t, http.MethodPut, taskPath(u.ID, orig.ID), u.Token, map[string]any{"title": "new", "description": "d", "completed": true})
		got := task(t, r, http.StatusOK)
		if got.ID != orig.ID || got.Title != "new" || got.Description != str("d") || !got.Completed {
			t.Errorf("%s, want id %d, title new, description d, completed true", r, orig.ID)
		}
		if got.CreatedAt != orig.CreatedAt {
			t.Errorf("PUT changed created_at %s -> %s", orig.CreatedAt, got.CreatedAt)
		}
		if !got.updated(t).After(orig.updated(t)) {
			t.Errorf("PUT: updated_at %s, want after %s", got.UpdatedAt, orig.UpdatedAt)
		}
		if again := c.get(t, u, orig.ID); again != got {
			t.Errorf("GET after PUT = %+v, want %+v", again, got)
		}
		for _, body := range []raw{`{}`, `{"description":"x"}`, `{"title":null}`, `{"title":""}`, `{"completed":true}`} {
			validationOn(t, c.do(t, http.MethodPut, taskPath(u.ID, orig.ID), u.Token, body), "title")
		}
		if after := c.get(t, u, orig.ID); after != got {
			t.Errorf("refused PUTs changed the task: %+v, want %+v", after, got)
		}
	})

	t.Run("change feed", func(t *testing.T) {
		// Issue 16: every store numbers the changes; a device that read the
		// feed catches up with one call: an edit, a trash (deleted_at), a
		// purge (a tombstone); another user's cursor is 400.
		t.Parallel()
		u, other := newHS256User(t), newHS256User(t)
		type feed struct {
			Changes []struct {
				Seq    uint64          `json:"seq"`
				Entity string          `json:"entity"`
				Op     string          `json:"op"`
				ID     int64           `json:"id"`
				Data   json.RawMessage `json:"data"`
			} `json:"changes"`
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"has_more"`
		}
		read := func(who user, since string) feed {
			t.Helper()
			path := "/api/" + who.ID + "/changes"
			if since != "" {
				path += "?since=" + since
			}
			r := c.do(t, http.MethodGet, path, who.Token, nil)
			var f feed
			if !expect(t, r, http.StatusOK) || json.Unmarshal(r.Body, &f) != nil || f.Cursor == "" {
				t.Fatalf("%s, want a page of the feed", r)
			}
			return f
		}
		a, b := c.create(t, u, "a"), c.create(t, u, "b")
		snap := read(u, "")
		if len(snap.Changes) != 2 || snap.HasMore {
			t.Fatalf("snapshot %+v, want the 2 tasks", snap)
		}
		expect(t, c.do(t, http.MethodPatch, taskPath(u.ID, a.ID), u.Token, map[string]any{"title": "a2"}), http.StatusOK)
		expect(t, c.do(t, http.MethodDelete, taskPath(u.ID, b.ID), u.Token, nil), http.StatusNoContent)
		f := read(u, snap.Cursor)
		if len(f.Changes) != 2 || f.Changes[0].ID != a.ID || f.Changes[1].ID != b.ID || !bytes.Contains(f.Changes[1].Data, []byte(`"deleted_at"`)) {
			t.Fatalf("after an edit and a trash: %+v", f)
		}
		expect(t, c.do(t, http.MethodDelete, taskPath(u.ID, b.ID)+"?permanent=true", u.Token, nil), http.StatusNoContent)
		f = read(u, f.Cursor)
		if len(f.Changes) != 1 || f.Changes[0].Op != "delete" || f.Changes[0].ID != b.ID {
			t.Fatalf("after a purge: %+v, want a tombstone of %d", f, b.ID)
		}
		expect(t, c.do(t, http.MethodGet, "/api/"+u.ID+"/changes?since="+read(other, "now").Cursor, u.Token, nil), http.StatusBadRequest)
	})

	t.Run("a write that changes nothing keeps the version", func(t *testing.T) {
		// Issue 14 item 11: the same values are no change, so updated_at,
		// the version and the ETag stay, and nothing is written.
		t.Parallel()
		u := newHS256User(t)
		orig := c.create(t, u, "same")
		before := c.do(t, http.MethodGet, taskPath(u.ID, orig.ID), u.Token, nil)
		expect(t, before, http.StatusOK)
		etag := before.Header.Get("ETag")
		for _, w := range []struct {
			method, path string
			body         raw
		}{
			{http.MethodPut, taskPath(u.ID, orig.ID), `{"title": " same ", "completed": false}`},
			{http.MethodPatch, taskPath(u.ID, orig.ID), `{"title": "same", "description": null}`},
			{http.MethodPatch, completePath(u.ID, orig.ID), `{"completed": false}`},
			{http.MethodPatch, tasksPath(u.ID) + "/bulk", raw(fmt.Sprintf(`{"ids": [%d], "set": {"completed": false, "priority": "medium"}}`, orig.ID))},
		} {
			r := c.do(t, w.method, w.path, u.Token, w.body, "If-Match", etag)
			if !expect(t, r, http.StatusOK) {
				continue
			}
			got := bytes.TrimSpace(r.Body)
			if w.method == http.MethodPatch && strings.HasSuffix(w.path, "/bulk") {
				got = bytes.TrimSuffix(bytes.TrimPrefix(got, []byte("[")), []byte("]"))
			} else if r.Header.Get("ETag") != etag {
				t.Errorf("%s: ETag %s, want %s as before", r, r.Header.Get("ETag"), etag)
			}
			if !bytes.Equal(got, bytes.TrimSpace(before.Body)) {
				t.Errorf("%s, want the task as it was: %s", r, before.Body)
			}
		}
		if after := c.do(t, http.MethodGet, taskPath(u.ID, orig.ID), u.Token, nil); !bytes.Equal(after.Body, before.Body) {
			t.Errorf("GET after writes that changed nothing = %s, want %s", after.Body, before.Body)
		}
		toggled := c.do(t, http.MethodPatch, completePath(u.ID, orig.ID), u.Token, nil, "If-Match", etag)
		if got := task(t, toggled, http.StatusOK); !got.Completed || toggled.Header.Get("ETag") == etag {
			t.Errorf("%s, want completed with a new ETag", toggled)
		}
	})

	t.Run("complete toggles, body sets", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		prev := c.create(t, u, "t")
		path := completePath(u.ID, prev.ID)
		for i, tc := range []struct {
			body any
			want bool
		}{
			{nil, true},
			{nil, false},
			{raw(`{"completed": true}`), true},
			{raw(`{"completed": true}`), true},
			{raw(`{"completed": false}`), false},
			{nil, true},
		} {
			got := task(t, c.do(t, http.MethodPatch, path, u.Token, tc.body), http.StatusOK)
			if got.Completed != tc.want {
				t.Errorf("PATCH #%d (body %v): completed = %v, want %v", i, tc.body, got.Completed, tc.want)
			}
			if got.CreatedAt != prev.CreatedAt {
				t.Errorf("PATCH #%d changed created_at %s -> %s", i, prev.CreatedAt, got.CreatedAt)
			}
			if got.Completed != prev.Completed && !got.updated(t).After(prev.updated(t)) {
				t.Errorf("PATCH #%d: updated_at %s, want after %s", i, got.UpdatedAt, prev.UpdatedAt)
			}
			prev = got
		}
		validation(t, c.do(t, http.MethodPatch, path, u.Token, raw(`{"completed": "yes"}`)))
	})

	t.Run("delete", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		keep, gone := c.create(t, u, "keep"), c.create(t, u, "gone")
		expect(t, c.do(t, http.MethodDelete, taskPath(u.ID, gone.ID), u.Token, nil), http.StatusNoContent)
		if d := detail(t, c.do(t, http.MethodGet, taskPath(u.ID, gone.ID), u.Token, nil), http.StatusNotFound); d != "" && d != "Task not found" {
			t.Errorf("GET deleted task: detail = %q, want %q", d, "Task not found")
		}
		detail(t, c.do(t, http.MethodDelete, taskPath(u.ID, gone.ID), u.Token, nil), http.StatusNotFound)
		if got := ids(c.list(t, u, "")); !slices.Equal(got, []int64{keep.ID}) {
			t.Errorf("list after delete = %v, want [%d]", got, keep.ID)
		}
	})

	t.Run("missing task is 404", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		const id = "9223372036854775807"
		for _, r := range []*response{
			c.do(t, http.MethodGet, taskPath(u.ID, id), u.Token, nil),
			c.do(t, http.MethodPut, taskPath(u.ID, id), u.Token, map[string]any{"title": "x"}),
			c.do(t, http.MethodPatch, completePath(u.ID, id), u.Token, nil),
			c.do(t, http.MethodDelete, taskPath(u.ID, id), u.Token, nil),
		} {
			if d := detail(t, r, http.StatusNotFound); d != "" && d != "Task not found" {
				t.Errorf("%s: detail = %q, want %q", r, d, "Task not found")
			}
		}
	})

	t.Run("other user's task is 404 on own URL", func(t *testing.T) {
		t.Parallel()
		a, b := newHS256User(t), newHS256User(t)
		theirs := c.create(t, b, "secret")
		for _, r := range []*response{
			c.do(t, http.MethodGet, taskPath(a.ID, theirs.ID), a.Token, nil),
			c.do(t, http.MethodPut, taskPath(a.ID, theirs.ID), a.Token, map[string]any{"title": "mine now"}),
			c.do(t, http.MethodPatch, completePath(a.ID, theirs.ID), a.Token, nil),
			c.do(t, http.MethodDelete, taskPath(a.ID, theirs.ID), a.Token, nil),
		} {
			detail(t, r, http.StatusNotFound)
		}
		if got := c.list(t, a, ""); len(got) != 0 {
			t.Errorf("A's list = %v, want []", ids(got))
		}
		if got := c.get(t, b, theirs.ID); got != theirs {
			t.Errorf("B's task = %+v, want unchanged %+v", got, theirs)
		}
	})

	t.Run("other user's URL is 403", func(t *testing.T) {
		t.Parallel()
		a, b := newHS256User(t), newHS256User(t)
		theirs := c.create(t, b, "secret")
		for _, r := range []*response{
			c.do(t, http.MethodGet, tasksPath(b.ID), a.Token, nil),
			c.do(t, http.MethodPost, tasksPath(b.ID), a.Token, map[string]any{"title": "planted"}),
			c.do(t, http.MethodGet, taskPath(b.ID, theirs.ID), a.Token, nil),
			c.do(t, http.MethodPut, taskPath(b.ID, theirs.ID), a.Token, map[string]any{"title": "mine now"}),
			c.do(t, http.MethodPatch, completePath(b.ID, theirs.ID), a.Token, nil),
			c.do(t, http.MethodDelete, taskPath(b.ID, theirs.ID), a.Token, nil),
			// Malformed too (issue 14 item 3): whose URL it is comes first,
			// on every route (the HTTP suite's matrix covers them all).
			c.do(t, http.MethodGet, taskPath(b.ID, "abc"), a.Token, nil),
			c.do(t, http.MethodPost, tasksPath(b.ID), a.Token, raw(`{"title": 5}`)),
			c.do(t, http.MethodPut, taskPath(b.ID, 0), a.Token, raw(`not json`)),
			c.do(t, http.MethodGet, "/api/"+b.ID+"/trash?limit=0", a.Token, nil),
			c.do(t, http.MethodGet, tasksPath(b.ID)+"?status=done", a.Token, nil),
			c.do(t, http.MethodPost, tasksPath(b.ID)+"/bulk-delete", a.Token, raw(`{"ids": [9223372036854775808]}`)),
		} {
			if got := detail(t, r, http.StatusForbidden); got != "" && got != "Not authorized to access this user's tasks" {
				t.Errorf("%s: detail %q, want the contract's", r, got)
			}
		}
		if got := c.list(t, b, ""); len(got) != 1 || got[0] != theirs {
			t.Errorf("B's tasks = %+v, want only %+v unchanged", got, theirs)
		}
	})

	t.Run("401", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		now := time.Now()
		with := func(edit func(jwt.MapClaims)) jwt.MapClaims {
			cl := userClaims(u.ID)
			edit(cl)
			return cl
		}
		for _, tc := range []struct {
			name, authorization string
		}{
			{"missing", ""},
			{"empty bearer", "Bearer "},
			{"not a JWT", "Bearer not-a-token"},
			{"basic scheme", "Basic YWxpY2U6c2VjcmV0"},
			{"token without scheme", u.Token},
			{"expired", "Bearer " + signHS256(t, testSecret, with(func(c jwt.MapClaims) {
				c["iat"], c["exp"] = now.Add(-20*time.Minute).Unix(), now.Add(-2*time.Minute).Unix()
			}))},
			{"no exp", "Bearer " + signHS256(t, testSecret, with(func(c jwt.MapClaims) { delete(c, "exp") }))},
			{"iat in the future", "Bearer " + signHS256(t, testSecret, with(func(c jwt.MapClaims) { c["iat"] = now.Add(10 * time.Minute).Unix() }))},
			{"nbf in the future", "Bearer " + signHS256(t, testSecret, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() }))},
			{"no sub nor id", "Bearer " + signHS256(t, testSecret, with(func(c jwt.MapClaims) { delete(c, "sub"); delete(c, "id") }))},
			{"wrong secret", "Bearer " + signHS256(t, testSecret+"x", userClaims(u.ID))},
			{"alg none", "Bearer " + signNone(t, userClaims(u.ID))},
			{"alg none, signature kept", "Bearer " + withHeader(t, u.Token, `{"alg":"none","typ":"JWT"}`)},
			{"tampered payload", "Bearer " + tamperSub(t, u.Token, newUserID(t))},
		} {
			for _, req := range []struct{ method, path string }{
				{http.MethodGet, tasksPath(u.ID)},
				{http.MethodPost, tasksPath(u.ID)}, // a bad body too: auth comes first
			} {
				var body any
				if req.method == http.MethodPost {
					body = raw(`{"title": ""}`)
				}
				var extra []string
				if tc.authorization != "" {
					extra = []string{"Authorization", tc.authorization}
				}
				r := c.do(t, req.method, req.path, "", body, extra...)
				detail(t, r, http.StatusUnauthorized)
				if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s (%s): WWW-Authenticate = %q, want Bearer", r, tc.name, got)
				}
			}
		}
	})

	t.Run("hostile claims", func(t *testing.T) { runHostileClaims(t, c) })

	t.Run("id claim stands in for sub", func(t *testing.T) {
		t.Parallel()
		id := newUserID(t)
		cl := userClaims(id)
		delete(cl, "sub")
		u := user{ID: id, Token: signHS256(t, testSecret, cl)}
		if got := c.create(t, u, "via id"); got.UserID != id {
			t.Errorf("user_id = %q, want %q", got.UserID, id)
		}
	})

	t.Run("405", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		own := c.create(t, u, "t")
		for _, req := range []struct{ method, path string }{
			{http.MethodDelete, tasksPath(u.ID)},
			{http.MethodPut, tasksPath(u.ID)},
			{http.MethodPatch, tasksPath(u.ID)},
			{http.MethodPost, taskPath(u.ID, own.ID)},
			{http.MethodPut, taskPath(u.ID, own.ID) + "/restore"}, // PATCH on a task is issue 6's merge patch
			{http.MethodGet, completePath(u.ID, own.ID)},
			{http.MethodPost, completePath(u.ID, own.ID)},
		} {
			detail(t, c.do(t, req.method, req.path, u.Token, nil), http.StatusMethodNotAllowed)
		}
	})

	t.Run("unknown route is 404 JSON", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		for _, path := range []string{"/nope", "/api", "/api/" + u.ID, "/api/" + u.ID + "/things", taskPath(u.ID, 1) + "/extra"} {
			detail(t, c.do(t, http.MethodGet, path, u.Token, nil), http.StatusNotFound)
		}
	})

	t.Run("413 over 1 MiB", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		// Just over the limit: bigger bodies would make the server close the
		// connection while the client still writes, and the client would
		// see a reset instead of the 413 (the httptest tests send 5 MB).
		big := `{"title":"big","description":"` + strings.Repeat("a", 1<<20+1024) + `"}`
		detail(t, c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, raw(big)), http.StatusRequestEntityTooLarge)
		detail(t, c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, chunked(big)), http.StatusRequestEntityTooLarge)
		own := c.create(t, u, "small")
		detail(t, c.do(t, http.MethodPut, taskPath(u.ID, own.ID), u.Token, raw(big)), http.StatusRequestEntityTooLarge)
		if got := c.get(t, u, own.ID); got != own {
			t.Errorf("task after a refused PUT = %+v, want %+v", got, own)
		}
		expect(t, c.do(t, http.MethodDelete, taskPath(u.ID, own.ID), u.Token, nil), http.StatusNoContent)
		if got := c.list(t, u, ""); len(got) != 0 {
			t.Errorf("tasks after refused bodies = %v, want none", ids(got))
		}
	})

	t.Run("422 body", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		for _, tc := range []struct {
			body  raw
			field string // the loc the problem must name; "" to check the shape only
		}{
			{`{"title":""}`, "title"},
			{`{"title":"   "}`, "title"},
			{raw(`{"title":"` + strings.Repeat("a", 201) + `"}`), "title"},
			{raw(`{"title":"` + strings.Repeat("é", 201) + `"}`), "title"},
			{`{"title":"a\u0000b"}`, "title"},
			{`{}`, "title"},
			{`{"title":null}`, "title"},
			{`{"title":123}`, "title"},
			{`{"description":"no title"}`, "title"},
			{raw(`{"title":"ok","description":"` + strings.Repeat("é", 1001) + `"}`), "description"},
			{`{"title":"ok","description":"a\u0000b"}`, "description"},
			{`{"title":"ok","description":5}`, "description"},
			{`{"title":`, ""},
			{`not json`, ""},
			{`[]`, ""},
			{`"title"`, ""},
			{``, ""},
		} {
			r := c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, tc.body)
			if tc.field == "" {
				validation(t, r)
			} else {
				validationOn(t, r, tc.field)
			}
		}
		if got := c.list(t, u, ""); len(got) != 0 {
			t.Errorf("tasks after refused bodies = %v, want none", ids(got))
		}
	})

	t.Run("422 lists every bad item, in FastAPI's words", func(t *testing.T) {
		// Issue 14 items 6 and 11: a bulk create names the item the domain
		// refuses as well as the one the schema refuses; an id that is no
		// int64 is a problem at its place, not a decoder's message.
		t.Parallel()
		u := newHS256User(t)
		items := make([]map[string]any, 100)
		for i := range items {
			items[i] = map[string]any{"title": fmt.Sprintf("item %d", i)}
		}
		items[37]["title"], items[80]["title"] = "   ", 5
		ps := validation(t, c.do(t, http.MethodPost, tasksPath(u.ID)+"/bulk", u.Token, items))
		var at []string
		for _, p := range ps {
			at = append(at, fmt.Sprint(p.Loc))
		}
		if fmt.Sprint(at) != "[[body 37 title] [body 80 title]]" {
			t.Errorf("bulk create with items 37 and 80 bad: problems at %v, want [body 37 title] then [body 80 title]", at)
		}
		r := c.do(t, http.MethodPost, tasksPath(u.ID)+"/bulk-delete", u.Token, raw(`{"ids": [9223372036854775808]}`))
		ps = validation(t, r)
		if len(ps) != 1 || fmt.Sprint(ps[0].Loc) != "[body ids 0]" || ps[0].Type != "int_parsing" {
			t.Errorf("%s, want one int_parsing problem at [body ids 0]", r)
		}
		for _, word := range []string{"json:", "Go struct", "unmarshal", "int64"} {
			if strings.Contains(string(r.Body), word) {
				t.Errorf("%s shows %q", r, word)
			}
		}
		if got := c.list(t, u, ""); len(got) != 0 {
			t.Errorf("tasks after refused bodies = %v, want none", ids(got))
		}
	})

	t.Run("422 id", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		for _, id := range []string{"abc", "0", "-1", "9223372036854775808", "1.5", "1e3", "%20"} {
			for _, r := range []*response{
				c.do(t, http.MethodGet, taskPath(u.ID, id), u.Token, nil),
				c.do(t, http.MethodPut, taskPath(u.ID, id), u.Token, map[string]any{"title": "x"}),
				c.do(t, http.MethodPatch, completePath(u.ID, id), u.Token, nil),
				c.do(t, http.MethodDelete, taskPath(u.ID, id), u.Token, nil),
			} {
				validation(t, r)
			}
		}
	})

	t.Run("409 email held by another user", func(t *testing.T) {
		t.Parallel()
		first, second := newUserID(t), newUserID(t)
		email := first + "@shared.test"
		firstClaims := userClaims(first)
		firstClaims["email"] = email
		a := user{ID: first, Token: signHS256(t, testSecret, firstClaims)}
		c.create(t, a, "mine")
		for _, e := range []string{email, strings.ToUpper(email)} {
			cl := userClaims(second)
			cl["email"] = e
			b := user{ID: second, Token: signHS256(t, testSecret, cl)}
			detail(t, c.do(t, http.MethodGet, tasksPath(b.ID), b.Token, nil), http.StatusConflict)
			detail(t, c.do(t, http.MethodPost, tasksPath(b.ID), b.Token, map[string]any{"title": "x"}), http.StatusConflict)
		}
		if got := c.list(t, a, ""); len(got) != 1 {
			t.Errorf("first user's tasks = %v, want one", ids(got))
		}
	})

	t.Run("request id", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		r := c.do(t, http.MethodGet, tasksPath(u.ID), u.Token, nil)
		if r.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID header", r)
		}
	})

	t.Run("CORS", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		pre := func(origin string) *response {
			return c.do(t, http.MethodOptions, tasksPath(u.ID), "", nil,
				"Origin", origin,
				"Access-Control-Request-Method", http.MethodPost,
				"Access-Control-Request-Headers", "authorization,content-type")
		}
		r := pre(testOrigin)
		if r.Status >= 300 || r.Header.Get("Access-Control-Allow-Origin") != testOrigin {
			t.Errorf("preflight from %s: %s, Access-Control-Allow-Origin %q; want 2xx and the origin",
				testOrigin, r, r.Header.Get("Access-Control-Allow-Origin"))
		}
		if r := pre("http://evil.e2e.test"); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from another origin: Access-Control-Allow-Origin = %q, want none", r.Header.Get("Access-Control-Allow-Origin"))
		}
		r = c.do(t, http.MethodGet, tasksPath(u.ID), u.Token, nil, "Origin", testOrigin)
		if expect(t, r, http.StatusOK) && r.Header.Get("Access-Control-Allow-Origin") != testOrigin {
			t.Errorf("GET from %s: Access-Control-Allow-Origin = %q", testOrigin, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("token subcommand", func(t *testing.T) {
		t.Parallel()
		id := newUserID(t)
		out, errOut, code := runAPI(t, []string{"BETTER_AUTH_SECRET=" + testSecret},
			"token", "--user", id, "--email", id+"@cli.test", "--name", "CLI User", "--ttl", "1h")
		tok := strings.TrimSpace(out)
		if code != 0 || strings.Count(tok, ".") != 2 {
			t.Fatalf("todo-api token: exit %d, stdout %q, stderr %q; want 0 and a JWT", code, out, errOut)
		}
		if got := c.create(t, user{ID: id, Token: tok}, "from cli"); got.UserID != id {
			t.Errorf("user_id = %q, want %q", got.UserID, id)
		}
	})

	t.Run("repeating task across the clock change (issue 18)", func(t *testing.T) {
		t.Parallel()
		u := newHS256User(t)
		type recurring struct {
			ID         int64           `json:"id"`
			DueDate    string          `json:"due_date"`
			DueTZ      *string         `json:"due_tz"`
			Version    int64           `json:"version"`
			Completed  bool            `json:"completed"`
			Recurrence json.RawMessage `json:"recurrence"`
		}
		read := func(r *response, status int) recurring {
			t.Helper()
			var x recurring
			if !expect(t, r, status) || json.Unmarshal(r.Body, &x) != nil {
				t.Fatalf("%s", r)
			}
			return x
		}
		tk := read(c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, map[string]any{
			"title": "review", "due_date": "2026-10-16T17:00:00", "due_tz": "Europe/Paris",
			"recurrence": map[string]string{"rule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"},
		}), http.StatusCreated)
		if tk.DueDate != "2026-10-16T15:00:00Z" || tk.DueTZ == nil || *tk.DueTZ != "Europe/Paris" ||
			!strings.Contains(string(tk.Recurrence), `"description":"every 2 weeks on Friday"`) {
			t.Fatalf("created %+v %s", tk, tk.Recurrence)
		}
		path := fmt.Sprintf("%s/%d", tasksPath(u.ID), tk.ID)
		paris, _ := time.LoadLocation("Europe/Paris")
		occ := tk.DueDate
		for i, want := range []string{"2026-10-30T16:00:00Z", "2026-11-13T16:00:00Z"} {
			body := map[string]string{"occurrence": occ}
			next := read(c.do(t, http.MethodPatch, path+"/complete", u.Token, body), http.StatusOK)
			again := read(c.do(t, http.MethodPatch, path+"/complete", u.Token, body), http.StatusOK)
			if next.DueDate != want || next.Completed || next.Version != int64(i+2) ||
				again.Version != next.Version || again.DueDate != next.DueDate {
				t.Errorf("completion %d: %+v, replayed %+v; want due %s, version %d, the replay the same", i+1, next, again, want, i+2)
			}
			at, _ := time.Parse(time.RFC3339, next.DueDate)
			if h := at.In(paris).Hour(); h != 17 {
				t.Errorf("completion %d: due %s is %d:00 in Paris", i+1, next.DueDate, h)
			}
			occ = next.DueDate
		}
		r := c.do(t, http.MethodGet, path+"/occurrences?from=2027-03-01&to=2027-04-15", u.Token, nil)
		var occs []struct {
			DueDate string `json:"due_date"`
			Local   string `json:"local"`
		}
		if !expect(t, r, http.StatusOK) || json.Unmarshal(r.Body, &occs) != nil {
			t.Fatalf("%s", r)
		}
		want := []string{"2027-03-05T16:00:00Z", "2027-03-19T16:00:00Z", "2027-04-02T15:00:00Z"}
		var got []string
		for _, o := range occs {
			got = append(got, o.DueDate)
			if !strings.HasSuffix(o.Local, "T17:00:00") {
				t.Errorf("occurrence %+v is not 17:00 local", o)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("occurrences around the March change = %v, want %v", got, want)
		}
		skipped := read(c.do(t, http.MethodPost, path+"/skip", u.Token, nil), http.StatusOK)
		if skipped.DueDate != "2026-11-27T16:00:00Z" {
			t.Errorf("skip: %+v", skipped)
		}
		expect(t, c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, map[string]any{
			"title": "x", "due_date": "2026-03-01", "recurrence": map[string]string{"rule": "FREQ=HOURLY"}}), http.StatusUnprocessableEntity)
	})
}
