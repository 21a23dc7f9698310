package e2e

// A client that knows only /work/shared/CONTRACT.md: plain net/http and
// encoding/json, no code of the service.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// client talks to one running API.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string) *client {
	return &client{base: base, hc: &http.Client{Timeout: 10 * time.Second}}
}

// raw is a request body sent as is, byte for byte.
type raw string

// chunked is a raw body sent without Content-Length (chunked encoding).
type chunked string

// response is an HTTP answer read in full.
type response struct {
	req    string // "METHOD path", for messages
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%s -> %d %s", r.req, r.Status, r.Body)
}

// do sends method path with an optional bearer token and body: nil for none,
// raw for exact bytes, anything else is encoded as JSON. extra are header
// name/value pairs.
func (c *client) do(t *testing.T, method, path, token string, body any, extra ...string) *response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case raw:
		rd = strings.NewReader(string(b))
	case chunked:
		// MultiReader hides the length, so net/http streams the body.
		rd = io.MultiReader(strings.NewReader(string(b)))
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &response{req: method + " " + path, Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// expect fails the test unless r has status want and, when it has a body, a
// JSON content type. It reports whether both held.
func expect(t *testing.T, r *response, want int) bool {
	t.Helper()
	if r.Status != want {
		t.Errorf("%s, want status %d", r, want)
		return false
	}
	if r.Status == http.StatusNoContent {
		if len(r.Body) != 0 {
			t.Errorf("%s: 204 with a body", r)
		}
		return true
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		t.Errorf("%s: Content-Type = %q, want application/json", r, ct)
		return false
	}
	return true
}

// decode unmarshals r's body into v, refusing fields v does not have.
func decode(t *testing.T, r *response, v any) bool {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("%s: decode into %T: %v", r, v, err)
		return false
	}
	return true
}

// apiTask is a task as the contract shows it.
type apiTask struct {
	ID          int64  `json:"id"`
	UserID      string `json:"user_id"`
	Title       string `json:"title"`
	Description text   `json:"description"`
	Completed   bool   `json:"completed"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

// text is a JSON string that may be null, comparable with ==.
type text struct {
	Null bool
	S    string
}

// null is the JSON null; str(s) is the string s.
var null = text{Null: true}

func str(s string) text { return text{S: s} }

// UnmarshalJSON reads a string or null.
func (x *text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*x = null
		return nil
	}
	*x = text{}
	return json.Unmarshal(b, &x.S)
}

func (x text) String() string {
	if x.Null {
		return "null"
	}
	return strconv.Quote(x.S)
}

func (a apiTask) created(t *testing.T) time.Time { return parseTime(t, "created_at", a.CreatedAt) }
func (a apiTask) updated(t *testing.T) time.Time { return parseTime(t, "updated_at", a.UpdatedAt) }

// taskKeys are the contract's keys of a task; a task may carry more (the
// richer task of issue 5 adds priority, due_date, tags and completed_at).
var taskKeys = []string{"completed", "created_at", "description", "id", "title", "updated_at", "user_id"}

// checkTaskJSON checks that a task object has every key of the contract
// (description present even when null) with the contract's types, and sane
// values. Keys beyond the contract's are allowed.
func checkTaskJSON(t *testing.T, r *response, obj json.RawMessage) (apiTask, bool) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Errorf("%s: task is not an object: %v", r, err)
		return apiTask{}, false
	}
	var missing []string
	for _, k := range taskKeys {
		if _, ok := m[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s: task has no %v", r, missing)
		return apiTask{}, false
	}
	kinds := map[string]string{"id": "number", "user_id": "string", "title": "string", "description": "string or null",
		"completed": "boolean", "created_at": "string", "updated_at": "string"}
	for k, want := range kinds {
		if got := jsonKind(m[k]); got != want && !(want == "string or null" && (got == "string" || got == "null")) {
			t.Errorf("%s: task %q is %s, want %s", r, k, got, want)
			return apiTask{}, false
		}
	}
	var a apiTask
	if err := json.Unmarshal(obj, &a); err != nil {
		t.Errorf("%s: decode task: %v", r, err)
		return apiTask{}, false
	}
	if a.ID <= 0 {
		t.Errorf("%s: id = %d, want > 0", r, a.ID)
	}
	c, u := a.created(t), a.updated(t)
	if u.Before(c) {
		t.Errorf("%s: updated_at %s before created_at %s", r, a.UpdatedAt, a.CreatedAt)
	}
	return a, true
}

// jsonKind names the JSON type of a value.
func jsonKind(v json.RawMessage) string {
	switch b := bytes.TrimSpace(v); {
	case len(b) == 0:
		return "nothing"
	case b[0] == '"':
		return "string"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case string(b) == "null":
		return "null"
	case string(b) == "true" || string(b) == "false":
		return "boolean"
	}
	return "number"
}

// task expects status want and a task body.
func task(t *testing.T, r *response, want int) apiTask {
	t.Helper()
	if !expect(t, r, want) {
		t.FailNow()
	}
	a, ok := checkTaskJSON(t, r, r.Body)
	if !ok {
		t.FailNow()
	}
	return a
}

// tasks expects 200 and a JSON array of tasks.
func tasks(t *testing.T, r *response) []apiTask {
	t.Helper()
	if !expect(t, r, http.StatusOK) {
		t.FailNow()
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r.Body, &items); err != nil || items == nil {
		t.Fatalf("%s: want a JSON array (err %v)", r, err)
	}
	out := make([]apiTask, 0, len(items))
	for _, it := range items {
		a, ok := checkTaskJSON(t, r, it)
		if !ok {
			t.FailNow()
		}
		out = append(out, a)
	}
	return out
}

// detail expects status want and a {"detail": "<string>"} body; it returns the string.
func detail(t *testing.T, r *response, want int) string {
	t.Helper()
	if !expect(t, r, want) {
		return ""
	}
	var body struct {
		Detail string `json:"detail"`
	}
	if !decode(t, r, &body) {
		return ""
	}
	if body.Detail == "" {
		t.Errorf("%s: empty detail", r)
	}
	return body.Detail
}

// problem is one entry of a 422 body.
type problem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// field is the last element of loc, as a string.
func (p problem) field() string {
	if len(p.Loc) == 0 {
		return ""
	}
	return fmt.Sprint(p.Loc[len(p.Loc)-1])
}

// validation expects 422 with FastAPI's list body and returns its entries.
func validation(t *testing.T, r *response) []problem {
	t.Helper()
	if !expect(t, r, http.StatusUnprocessableEntity) {
		return nil
	}
	var body struct {
		Detail []problem `json:"detail"`
	}
	// Entries may carry more keys (FastAPI adds "input", "ctx"); only these
	// three are the contract, so unknown keys are allowed here.
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Errorf("%s: want {\"detail\": [{\"loc\",\"msg\",\"type\"}...]}: %v", r, err)
		return nil
	}
	if len(body.Detail) == 0 {
		t.Errorf("%s: empty detail list", r)
	}
	for _, p := range body.Detail {
		if len(p.Loc) == 0 || p.Msg == "" || p.Type == "" {
			t.Errorf("%s: entry %+v lacks loc, msg or type", r, p)
		}
	}
	return body.Detail
}

// validationOn expects a 422 with an entry whose loc ends in field.
func validationOn(t *testing.T, r *response, field string) {
	t.Helper()
	ps := validation(t, r)
	for _, p := range ps {
		if p.field() == field {
			return
		}
	}
	if ps != nil {
		t.Errorf("%s: no 422 entry with loc ending in %q", r, field)
	}
}

// parseTime checks an RFC 3339 time in UTC.
func parseTime(t *testing.T, name, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Errorf("%s = %q: not RFC 3339: %v", name, s, err)
		return time.Time{}
	}
	if _, off := tm.Zone(); off != 0 {
		t.Errorf("%s = %q: not UTC", name, s)
	}
	return tm
}

// Path helpers.

func tasksPath(userID string) string { return "/api/" + userID + "/tasks" }

func taskPath(userID string, id any) string { return fmt.Sprintf("/api/%s/tasks/%v", userID, id) }

func completePath(userID string, id any) string { return taskPath(userID, id) + "/complete" }

// Use-case helpers that expect success.

func (c *client) create(t *testing.T, u user, title string) apiTask {
	t.Helper()
	return task(t, c.do(t, http.MethodPost, tasksPath(u.ID), u.Token, map[string]any{"title": title}), http.StatusCreated)
}

func (c *client) get(t *testing.T, u user, id int64) apiTask {
	t.Helper()
	return task(t, c.do(t, http.MethodGet, taskPath(u.ID, id), u.Token, nil), http.StatusOK)
}

func (c *client) list(t *testing.T, u user, query string) []apiTask {
	t.Helper()
	return tasks(t, c.do(t, http.MethodGet, tasksPath(u.ID)+query, u.Token, nil))
}

func ids(ts []apiTask) []int64 {
	out := make([]int64, len(ts))
	for i, a := range ts {
		out[i] = a.ID
	}
	return out
}
