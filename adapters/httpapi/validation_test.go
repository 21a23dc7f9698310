package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTitleAndDescriptionRules holds POST and PUT to the task rules:
// lengths in code points after trimming, no NUL.
func TestTitleAndDescriptionRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	target := e.create(t, u, "to replace")

	tests := []struct {
		name      string
		title     string
		desc      *string
		wantTitle string // when accepted; "" means refused
		wantLoc   string // field of the 422
	}{
		{"empty title", "", nil, "", "title"},
		{"white space title", " \t\n ", nil, "", "title"},
		{"1 character", "a", nil, "a", ""},
		{"199 characters", strings.Repeat("a", 199), nil, strings.Repeat("a", 199), ""},
		{"200 characters", strings.Repeat("a", 200), nil, strings.Repeat("a", 200), ""},
		{"201 characters", strings.Repeat("a", 201), nil, "", "title"},
		{"200 characters in spaces", "   " + strings.Repeat("b", 200) + "\t ", nil, strings.Repeat("b", 200), ""},
		{"200 é", strings.Repeat("é", 200), nil, strings.Repeat("é", 200), ""},
		{"201 é", strings.Repeat("é", 201), nil, "", "title"},
		{"200 😀", strings.Repeat("😀", 200), nil, strings.Repeat("😀", 200), ""},
		{"201 😀", strings.Repeat("😀", 201), nil, "", "title"},
		{"NUL in title", "a\x00b", nil, "", "title"},
		{"only NUL", "\x00", nil, "", "title"},
		{"description 1000", "d", ptr(strings.Repeat("x", 1000)), "d", ""},
		{"description 1000 é", "d", ptr(strings.Repeat("é", 1000)), "d", ""},
		{"description 1001", "d", ptr(strings.Repeat("x", 1001)), "", "description"},
		{"description empty", "d", ptr(""), "d", ""},
		{"NUL in description", "d", ptr("a\x00b"), "", "description"},
	}
	for _, tt := range tests {
		body := map[string]any{"title": tt.title}
		if tt.desc != nil {
			body["description"] = *tt.desc
		}
		for _, r := range []request{
			{method: http.MethodPost, path: u.tasks()},
			{method: http.MethodPut, path: u.task(target.ID)},
		} {
			r.token, r.body = u.token, jsonBody(t, body)
			res := e.do(t, r)
			what := r.method + " " + tt.name
			if tt.wantTitle == "" {
				wantProblems(t, what, res, []any{"body", tt.wantLoc})
				continue
			}
			want := http.StatusCreated
			if r.method == http.MethodPut {
				want = http.StatusOK
			}
			wantStatus(t, what, res, want)
			got := decodeTask(t, res.body)
			if got.Title != tt.wantTitle || !equalPtr(got.Description, tt.desc) {
				t.Errorf("%s: got title of %d characters and description %.20s, want %d characters and %.20s",
					what, utf8.RuneCountInString(got.Title), show(got.Description), utf8.RuneCountInString(tt.wantTitle), show(tt.desc))
			}
		}
	}
	// A refused PUT changed nothing.
	res := e.call(t, http.MethodGet, u.task(target.ID), u.token, "")
	if got := decodeTask(t, res.body); got.Title != "d" || got.Description == nil || *got.Description != "" {
		t.Errorf("after the refused PUTs the task is %v, want the last accepted one (title \"d\", description \"\")", got)
	}
}

// TestMalformedBodies: FastAPI's 422 list for bodies that are not JSON, have
// the wrong types or miss the title.
func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "target")

	post, put, patch := u.tasks(), u.task(tk.ID), u.complete(tk.ID)
	tests := []struct {
		method, path, body string
		loc                []any
	}{
		{http.MethodPost, post, `{"title": "unterminated`, []any{"body"}},
		{http.MethodPost, post, `not json`, []any{"body"}},
		{http.MethodPost, post, `{"title": "x",}`, []any{"body"}},
		{http.MethodPost, post, `{"title": "x"} {"title": "y"}`, []any{"body"}},
		{http.MethodPost, post, `[]`, []any{"body"}},
		{http.MethodPost, post, `"title"`, []any{"body"}},
		{http.MethodPost, post, `null`, []any{"body"}},
		{http.MethodPost, post, `{}`, []any{"body", "title"}},
		{http.MethodPost, post, `{"description": "no title"}`, []any{"body", "title"}},
		{http.MethodPost, post, `{"title": null}`, []any{"body", "title"}},
		{http.MethodPost, post, `{"title": 5}`, []any{"body", "title"}},
		{http.MethodPost, post, `{"title": true}`, []any{"body", "title"}},
		{http.MethodPost, post, `{"title": ["x"]}`, []any{"body", "title"}},
		{http.MethodPost, post, `{"title": "x", "description": 5}`, []any{"body", "description"}},
		{http.MethodPut, put, `{"title": "unterminated`, []any{"body"}},
		{http.MethodPut, put, `{}`, []any{"body", "title"}},
		{http.MethodPut, put, `{"description": "d", "completed": true}`, []any{"body", "title"}},
		{http.MethodPut, put, `{"title": 5}`, []any{"body", "title"}},
		{http.MethodPut, put, `{"title": "x", "completed": "yes"}`, []any{"body", "completed"}},
		{http.MethodPut, put, `{"title": "x", "completed": 1}`, []any{"body", "completed"}},
		{http.MethodPatch, patch, `{"completed": "yes"}`, []any{"body", "completed"}},
		{http.MethodPatch, patch, `{"completed": `, []any{"body"}},
		{http.MethodPatch, patch, `[true]`, []any{"body"}},
	}
	for _, tt := range tests {
		res := e.do(t, request{method: tt.method, path: tt.path, token: u.token, body: tt.body, outsideDoc: true})
		wantProblems(t, tt.method+" "+tt.body, res, tt.loc)
	}
	// None of it reached the store.
	res := e.call(t, http.MethodGet, u.tasks(), u.token, "")
	if got := decodeTasks(t, res); len(got) != 1 || !got[0].equal(tk) {
		t.Errorf("after refused requests the list is %v, want [%v]", got, tk)
	}
}

// TestEveryProblemReported: one 422 entry per broken rule.
func TestEveryProblemReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	body := jsonBody(t, map[string]string{"title": "  ", "description": strings.Repeat("x", 1001)})
	res := e.call(t, http.MethodPost, u.tasks(), u.token, body)
	ps := wantProblems(t, "POST blank title and long description", res, []any{"body", "title"}, []any{"body", "description"})
	if len(ps) != 2 {
		t.Errorf("POST blank title and long description: %d problems, want 2: %+v", len(ps), ps)
	}
}

// TestBadTaskIDs: an id that is not a positive 64-bit integer is 422 at
// ["path", "id"] on every operation, never 500 or 404.
func TestBadTaskIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	e.create(t, u, "exists")
	for _, id := range []string{"0", "-1", "abc", "9223372036854775808", "99999999999999999999999", "1.5", "1e3", "%20", "0x1"} {
		for _, r := range []request{
			{method: http.MethodGet, path: u.taskPath(id)},
			{method: http.MethodPut, path: u.taskPath(id), body: `{"title": "x"}`},
			{method: http.MethodPatch, path: u.completePath(id)},
			{method: http.MethodPatch, path: u.completePath(id), body: `{"completed": true}`},
			{method: http.MethodDelete, path: u.taskPath(id)},
		} {
			r.token, r.outsideDoc = u.token, true
			wantProblems(t, r.method+" "+r.path, e.do(t, r), []any{"path", "id"})
		}
	}
}

// TestAuthenticationComesFirst: as in FastAPI, a request without a good
// token is 401 even when it is malformed too.
func TestAuthenticationComesFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for _, r := range []request{
		{method: http.MethodGet, path: u.taskPath("abc")},
		{method: http.MethodPost, path: u.tasks(), body: `not json`},
		{method: http.MethodPost, path: u.tasks(), body: strings.Repeat("x", 2<<20)},
		{method: http.MethodGet, path: u.tasks() + "?status=done"},
		{method: http.MethodPut, path: u.taskPath("0"), body: `{}`},
	} {
		r.outsideDoc = true
		res := e.do(t, r)
		if res.status == http.StatusRequestEntityTooLarge {
			continue // refusing an oversized body unread is fine too
		}
		wantDetail(t, r.method+" "+r.path+" without a token", res, http.StatusUnauthorized, "")
	}
}
