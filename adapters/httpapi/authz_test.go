package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi"
)

// badQuery breaks every query parameter of the API.
const badQuery = "?limit=0&offset=-1&status=done&priority=urgent&sort=nope&tz=Mars%2FBase&permanent=maybe&cursor=%25%25&last_event_id=x&format=exe&trash=maybe&dry_run=perhaps"

// malformed are requests that break an operation's parameters or body in
// every way one can: ids that are not positive 64-bit integers, bodies that
// are not JSON or have the wrong types, queries out of range, bad headers.
var malformed = []struct {
	name, id, query, body string
	header                http.Header
}{
	{name: "id abc", id: "abc"},
	{name: "id 0", id: "0"},
	{name: "id -1", id: "-1"},
	{name: "id past int64", id: "9223372036854775808"},
	{name: "not json", id: "1", body: `not json`},
	{name: "wrong types", id: "1", body: `{"title": 5, "description": [], "completed": "yes", "ids": ["x"], "set": 1}`},
	{name: "array of wrong types", id: "1", body: `[{"title": 5}]`},
	{name: "ids past int64", id: "1", body: `{"ids": [9223372036854775808]}`},
	{name: "bad query", id: "1", query: badQuery},
	{name: "bad headers", id: "1", body: `{"title": "x"}`, header: http.Header{
		"Idempotency-Key": {strings.Repeat("k", 300)}, "If-Match": {"garbage"}, "If-None-Match": {"\x01"}}},
	{name: "everything bad", id: "abc", query: badQuery, body: `{"title": 5}`,
		header: http.Header{"Idempotency-Key": {""}}},
}

// TestOtherUsersURLIsForbiddenFirst: with bob's token on alice's URL every
// route of the route table answers 403 with the contract's body, however
// malformed the request: whose tasks these are is decided before the
// request is parsed, as FastAPI's dependencies run before its validation
// (a 422 would tell bob which requests alice's URL would take). The same
// requests with alice's own token are 422 wherever the document gives them
// something to break, so the matrix does reach the parsing.
func TestOtherUsersURLIsForbiddenFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.create(t, alice, "alice's")
	doc := contracts(t)[0].doc
	secured := 0
	for _, rt := range httpapi.Routes() {
		if rt.Public {
			continue
		}
		secured++
		op := doc.Paths.Find(rt.Path).GetOperation(rt.Method)
		breakable := op.RequestBody != nil || len(op.Parameters) > 1 // beyond user_id
		for _, m := range malformed {
			path := strings.NewReplacer("{user_id}", alice.id, "{id}", m.id).Replace(rt.Path) + m.query
			r := request{method: rt.Method, path: path, body: m.body, header: m.header, outsideDoc: true}
			what := rt.ID + " " + m.name + " (" + rt.Method + " " + path + ")"

			r.token = bob.token
			wantDetail(t, what+" with another user's token", e.do(t, r), http.StatusForbidden, "Not authorized to access this user's tasks")

			r.token = alice.token
			res := e.do(t, r)
			if res.status == http.StatusForbidden {
				t.Errorf("%s with the owner's token = %s, want anything but 403", what, res)
			}
			if breakable && m.name == "everything bad" {
				wantProblems(t, what+" with the owner's token", res)
			}
		}
	}
	if secured < 16 {
		t.Errorf("the route table has %d operations that need a token, want at least the 16 there are", secured)
	}
}
