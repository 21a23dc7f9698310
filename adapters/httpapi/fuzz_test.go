package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// fuzzUser is the caller of every fuzzed request. The static seeds in
// testdata/fuzz hold tokens for it, signed with secret, valid until 2099.
const fuzzUser = "u_fuzz"

// fuzzEnv is one router for a whole fuzz run (building one per input would
// make the fuzzer measure huma's start-up), on memory storage with the real
// HS256 verifier, and a task of fuzzUser to replace.
func fuzzEnv(f *testing.F) (*env, user, int64) {
	f.Helper()
	v, err := jwks.New(f.Context(), jwks.Config{Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(v.Close)
	svc := application.New(memory.NewTaskRepository(), memory.NewUserRepository(), nil)
	core, logs := observer.New(zap.WarnLevel)
	e := &env{logs: logs, handler: httpapi.NewRouter(httpapi.Deps{Service: svc, Verifier: v, Log: zap.New(core)})}
	id := auth.Identity{UserID: fuzzUser, Email: fuzzUser + "@example.com"}
	tok, err := jwks.SignHS256(secret, id, 24*time.Hour, time.Now(), "", "")
	if err != nil {
		f.Fatal(err)
	}
	u := user{id: fuzzUser, token: e.remember(tok)}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, request{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{"title": "fuzz target"}`}.build(f.Context()))
	var tk taskJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &tk); rec.Code != http.StatusCreated || err != nil {
		f.Fatalf("create the task to replace = %d %s", rec.Code, rec.Body)
	}
	return e, u, tk.ID
}

// checkFuzzed holds one fuzzed exchange to what no input may break: a
// status from allowed (so never a 5xx), the document's shapes (e.do checks
// every answer against the OpenAPI document), and no panic or failure in
// the logs.
func checkFuzzed(t *testing.T, e *env, what string, res *response, allowed ...int) {
	t.Helper()
	if !slices.Contains(allowed, res.status) {
		t.Fatalf("%s = %s, want one of %v", what, res, allowed)
	}
	switch res.status {
	case http.StatusOK, http.StatusCreated:
		if strings.HasPrefix(strings.TrimSpace(string(res.body)), "{") {
			decodeTask(t, res.body)
		}
	case http.StatusUnprocessableEntity:
		wantProblems(t, what, res)
	default:
		wantDetail(t, what, res, res.status, "")
	}
	if n := e.logs.Len(); n > 0 {
		for _, l := range e.logs.TakeAll() {
			t.Errorf("%s: logged %s %q %v", what, l.Level, l.Message, l.ContextMap())
		}
	}
}

// FuzzCreateTask sends any body to POST /api/{user_id}/tasks: the JSON
// decoder, huma's validation and the domain's rules together. 201, 413 or
// 422, never 500.
func FuzzCreateTask(f *testing.F) {
	for _, s := range []string{
		`{"title": "Buy milk"}`, `{"title": "x", "description": null}`, `{"title": "  ", "description": "d"}`,
		`{"title": "a\u0000b"}`, `{"title": "` + strings.Repeat("é", 201) + `"}`, `{}`, `[]`, `null`, ``,
		`{"title": ["x"]}`, `{"title": "x", "title": 5}`, `{"TITLE": "x"}`, `{"title": "\ud800"}`,
	} {
		f.Add(s)
	}
	e, u, _ := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		res := e.do(t, request{method: http.MethodPost, path: u.tasks(), token: u.token, body: body, outsideDoc: true})
		checkFuzzed(t, e, "POST "+truncate(body, 80), res, http.StatusCreated, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
		if res.status == http.StatusCreated {
			var in struct{ Title string }
			if err := json.Unmarshal([]byte(body), &in); err == nil {
				if got := decodeTask(t, res.body); got.Title != strings.TrimSpace(got.Title) || got.Title == "" {
					t.Errorf("POST %.80q created title %q, want it trimmed and not empty", body, got.Title)
				}
			}
		}
	})
}

// FuzzReplaceTask sends any body to PUT /api/{user_id}/tasks/{id}: 200, 413
// or 422, never 500.
func FuzzReplaceTask(f *testing.F) {
	for _, s := range []string{
		`{"title": "Buy oat milk", "completed": true}`, `{"title": "x", "description": "d", "completed": null}`,
		`{"title": "x", "completed": "yes"}`, `{"description": "no title"}`, `{"title": "x", "id": 99, "user_id": "someone"}`,
	} {
		f.Add(s)
	}
	e, u, id := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		res := e.do(t, request{method: http.MethodPut, path: u.task(id), token: u.token, body: body, outsideDoc: true})
		checkFuzzed(t, e, "PUT "+truncate(body, 80), res, http.StatusOK, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
		if res.status == http.StatusOK {
			if got := decodeTask(t, res.body); got.ID != id || got.UserID != fuzzUser {
				t.Errorf("PUT %.80q answered task %d of %q, want task %d of %q", body, got.ID, got.UserID, id, fuzzUser)
			}
		}
	})
}

// FuzzAuthorizationHeader sends any Authorization header through the
// router's auth middleware and the HS256 verifier: 200 for fuzzUser's own
// valid token, 403 for another user's (a static seed), 401 otherwise, never
// 500.
func FuzzAuthorizationHeader(f *testing.F) {
	e, u, _ := fuzzEnv(f)
	for _, s := range []string{
		"Bearer " + u.token, "bearer " + u.token, "Bearer  " + u.token + " ", "Basic dTpw", "Bearer", "Bearer ",
		"Bearer a.b.c", "Bearer " + u.token + "x", "Bearer " + strings.Replace(u.token, ".", "..", 1), "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := request{method: http.MethodGet, path: u.tasks(), header: http.Header{"Authorization": {header}}, outsideDoc: true}
		res := e.do(t, r)
		checkFuzzed(t, e, "Authorization: "+truncate(header, 80), res, http.StatusOK, http.StatusUnauthorized, http.StatusForbidden)
		if res.status == http.StatusUnauthorized && res.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("Authorization %.80q: 401 without WWW-Authenticate: Bearer", header)
		}
	})
}

// FuzzBulkBodies sends any body to the three bulk operations (create,
// change, trash), whose bodies hold arrays, integers and nested objects:
// 200, 201, 404, 413 or 422, never 500, and no decoder's words in any
// answer (e.do's checks).
func FuzzBulkBodies(f *testing.F) {
	for _, s := range []string{
		`[{"title": "a"}, {"title": "b", "tags": ["x"]}]`, `[{"title": 5}, {"title": "  "}]`, `{"ids": [1, 2], "set": {"completed": true}}`,
		`{"ids": [9223372036854775808]}`, `{"ids": [1.0, 1e3, -0, 1.5, "1"]}`, `{"ids": [1], "set": {"priority": "HIGH", "PRIORITY": 5}}`,
		`{"IDS": [1], "ids": [2], "Set": {}, "set": {"tags": [[], {}]}}`, `[` + strings.Repeat(`{"title":"t"},`, 100) + `{"title":"t"}]`,
	} {
		f.Add(s)
	}
	e, u, _ := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, r := range []request{
			{method: http.MethodPost, path: u.tasks() + "/bulk"},
			{method: http.MethodPatch, path: u.tasks() + "/bulk"},
			{method: http.MethodPost, path: u.tasks() + "/bulk-delete"},
		} {
			r.token, r.body, r.outsideDoc = u.token, body, true
			res := e.do(t, r)
			what := r.method + " " + r.path + " " + truncate(body, 80)
			if strings.HasSuffix(r.path, "/bulk-delete") && res.status == http.StatusOK {
				var n struct{ Trashed *int }
				if err := json.Unmarshal(res.body, &n); err != nil || n.Trashed == nil {
					t.Errorf("%s = %s, want {\"trashed\": n}", what, res)
				}
				continue
			}
			checkFuzzed(t, e, what, res, http.StatusOK, http.StatusCreated,
				http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
		}
	})
}
