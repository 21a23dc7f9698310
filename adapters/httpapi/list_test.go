package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
)

// withClock runs the service on its own memory stores with a clock that
// starts at start and moves one millisecond at each reading, so that
// "overdue" and "today" do not depend on when the test runs.
func withClock(start time.Time) func(*httpapi.Deps) {
	var mu sync.Mutex
	now := start
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
	return func(d *httpapi.Deps) {
		d.Service = application.New(memory.NewTaskRepository(), memory.NewUserRepository(), clock)
	}
}

func withListMax(n int) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) { d.Config.ListMax = n }
}

// post creates a task from a JSON body and returns it.
func (e *env) post(t *testing.T, u user, body string) taskJSON {
	t.Helper()
	res := e.call(t, http.MethodPost, u.tasks(), u.token, body)
	wantStatus(t, "POST "+body, res, http.StatusCreated)
	return decodeTask(t, res.body)
}

// list runs GET tasks?query and returns the tasks and the response.
func (e *env) list(t *testing.T, u user, query string) ([]taskJSON, *response) {
	t.Helper()
	res := e.call(t, http.MethodGet, u.tasks()+query, u.token, "")
	wantStatus(t, "GET ?"+query, res, http.StatusOK)
	return decodeTasks(t, res), res
}

func taskIDs(ts []taskJSON) []int64 {
	out := make([]int64, len(ts))
	for i, tk := range ts {
		out[i] = tk.ID
	}
	return out
}

// fixture is four tasks with every attribute the list filters on; the
// clock stands at 2026-06-01.
type fixture struct {
	e                      *env
	u                      user
	milk, mum, report, pay int64
}

// newFixture creates, oldest first:
//   - milk: completed, low, due 2099-03-01 (all day), tags [home];
//   - mum: "about Milk", HIGH, due 2099-03-05T10:00:00Z, tags [family, Home];
//   - report: medium, no due date, tags [work];
//   - pay: high, due 2000-01-01 (all day: overdue), no tags.
func newFixture(t *testing.T) fixture {
	t.Helper()
	e := newEnv(t, withClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)))
	u := e.newUser(t)
	f := fixture{e: e, u: u}
	f.milk = e.post(t, u, `{"title": "Buy milk", "priority": "low", "due_date": "2099-03-01", "tags": ["home"]}`).ID
	wantStatus(t, "complete milk", e.call(t, http.MethodPatch, u.complete(f.milk), u.token, ""), http.StatusOK)
	f.mum = e.post(t, u, `{"title": "Call mum", "description": "about Milk", "priority": "HIGH", "due_date": "2099-03-05T10:00:00Z", "tags": ["family", "Home"]}`).ID
	f.report = e.post(t, u, `{"title": "Write report", "tags": ["work"]}`).ID
	f.pay = e.post(t, u, `{"title": "Pay bills", "priority": "high", "due_date": "2000-01-01"}`).ID
	// Another user's tasks never show.
	other := e.newUser(t)
	e.post(t, other, `{"title": "Buy milk", "priority": "high", "tags": ["home"]}`)
	return f
}

// TestListParameters: each parameter alone gives exactly the tasks and the
// order it promises.
func TestListParameters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	milk, mum, report, pay := f.milk, f.mum, f.report, f.pay
	all := []int64{milk, mum, report, pay}
	tests := []struct {
		query string
		want  []int64
	}{
		{"", all},
		{"?status=all", all},
		{"?status=pending", []int64{mum, report, pay}},
		{"?status=completed", []int64{milk}},
		{"?priority=high", []int64{mum, pay}},
		{"?priority=low,medium", []int64{milk, report}},
		{"?tags=home", []int64{milk, mum}},
		{"?tags=home,work", []int64{milk, mum, report}},
		{"?tags=home&tags=family&tags_match=all", []int64{mum}},
		{"?tags=home&tags_match=any", []int64{milk, mum}},
		{"?tags=nothing", nil},
		{"?search=milk", []int64{milk, mum}},
		{"?search=MILK", []int64{milk, mum}},
		{"?search=" + url.QueryEscape("bills"), []int64{pay}},
		{"?search=%25", nil}, // a literal %, not a wildcard
		{"?due_from=2099-03-02", []int64{mum}},
		{"?due_from=2099-03-01", []int64{milk, mum}},
		{"?due_to=2099-03-01", []int64{milk, pay}},
		{"?due_to=2099-03-05", []int64{milk, mum, pay}},
		{"?due_to=2099-03-05T09:59:59Z", []int64{milk, pay}},
		{"?due_from=2099-03-05T10:00:00Z&due_to=2099-03-05T10:00:00Z", []int64{mum}},
		{"?due_from=2099-01-01&due_to=2099-12-31", []int64{milk, mum}},
		{"?overdue=true", []int64{pay}},
		{"?overdue=false", []int64{milk, mum, report}},
		{"?sort=created", all},
		{"?sort=created&order=desc", []int64{pay, report, mum, milk}},
		{"?sort=updated", []int64{pay, report, mum, milk}},
		{"?sort=updated&order=asc", all},
		{"?sort=title", []int64{milk, mum, pay, report}},
		{"?sort=title&order=desc", []int64{report, pay, mum, milk}},
		{"?sort=due_date", []int64{pay, milk, mum, report}},
		{"?sort=due_date&order=desc", []int64{mum, milk, pay, report}},
		{"?sort=priority", []int64{pay, mum, report, milk}},
		{"?sort=priority&order=asc", []int64{milk, report, mum, pay}},
		{"?limit=2", []int64{milk, mum}},
		{"?offset=1&limit=2", []int64{mum, report}},
		{"?offset=10", nil},
		{"?tz=Pacific/Kiritimati", all},
		{"?status=pending&priority=high&sort=title", []int64{mum, pay}},
		{"?search=milk&tags=home&status=pending", []int64{mum}},
	}
	for _, tt := range tests {
		got, res := f.e.list(t, f.u, tt.query)
		if ids := taskIDs(got); !slices.Equal(ids, tt.want) && (len(ids) != 0 || len(tt.want) != 0) {
			t.Errorf("GET %s = ids %v, want %v", tt.query, ids, tt.want)
		}
		for _, tk := range got {
			if tk.UserID != f.u.id {
				t.Errorf("GET %s lists %v of another user", tt.query, tk)
			}
		}
		if tt.query == "" && res.header.Get("X-Total-Count") != "4" {
			t.Errorf("GET (no query) X-Total-Count = %q, want 4", res.header.Get("X-Total-Count"))
		}
	}
}

// TestListAliases: every peer spelling gives what the parameter's own name
// gives.
func TestListAliases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		query   string
		aliases []string
	}{
		{"?status=pending", []string{"?status_filter=pending", "?status_param=pending", "?status=incomplete", "?completed=false", "?status_filter=incomplete"}},
		{"?status=completed", []string{"?status_filter=completed", "?status_param=completed", "?completed=true"}},
		{"?priority=high,low", []string{"?priority=high&priority=low", "?priority=HIGH,LOW", "?priority=LOW&priority=HIGH"}},
		{"?tags=home,work", []string{"?tags=home&tags=work", "?tags=HOME,Work", "?tags=work&tags=Home"}},
		{"?search=milk", []string{"?q=milk", "?q=Milk"}},
		{"?due_from=2099-03-02", []string{"?due_date_from=2099-03-02", "?due_start=2099-03-02"}},
		{"?due_to=2099-03-02", []string{"?due_date_to=2099-03-02", "?due_end=2099-03-02"}},
		{"?overdue=true", []string{"?is_overdue=true"}},
		{"?overdue=false", []string{"?is_overdue=false"}},
		{"?sort=title", []string{"?sort_by=title", "?sortBy=title"}},
		{"?sort=created", []string{"?sort=created_at", "?sort_by=created_at", "?sortBy=created"}},
		{"?sort=updated", []string{"?sort=updated_at", "?sortBy=updated_at"}},
		{"?sort=title&order=desc", []string{"?sort=title&sort_order=desc", "?sortBy=title&sortOrder=desc", "?sort_by=title&order=DESC"}},
		{"?order=desc", []string{"?sort_order=desc", "?sortOrder=DESC"}},
		{"?status=pending&order=desc&sort=due_date", []string{"?sortOrder=desc&sortBy=due_date&status_filter=incomplete"}},
	}
	for _, tt := range tests {
		want, _ := f.e.list(t, f.u, tt.query)
		if len(want) == 0 {
			t.Fatalf("GET %s = [], want tasks (the fixture should make the comparison mean something)", tt.query)
		}
		for _, alias := range tt.aliases {
			// status=incomplete is accepted, but status's enum in the
			// document stays the base contract's.
			res := f.e.do(t, request{method: http.MethodGet, path: f.u.tasks() + alias, token: f.u.token,
				outsideDoc: strings.Contains(alias, "status=incomplete")})
			wantStatus(t, "GET "+alias, res, http.StatusOK)
			got := decodeTasks(t, res)
			if !slices.Equal(taskIDs(got), taskIDs(want)) {
				t.Errorf("GET %s = ids %v, want those of %s: %v", alias, taskIDs(got), tt.query, taskIDs(want))
			}
		}
	}
}

// TestListLenientInput: FastAPI's booleans, empty values as absent, and the
// same value under two spellings.
func TestListLenientInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		query string
		want  []int64
	}{
		{"?completed=1", []int64{f.milk}},
		{"?completed=yes", []int64{f.milk}},
		{"?completed=0", []int64{f.mum, f.report, f.pay}},
		{"?overdue=on", []int64{f.pay}},
		{"?is_overdue=TRUE", []int64{f.pay}},
		{"?priority=&tags=&search=&q=&limit=&sort=&order=&cursor=&offset=&tz=&due_from=&completed=",
			[]int64{f.milk, f.mum, f.report, f.pay}},
		{"?priority=high,,&tags=,home", []int64{f.mum}},
		{"?priority=%20high%20", []int64{f.mum, f.pay}},
		{"?sort=title&sort_by=title", []int64{f.milk, f.mum, f.pay, f.report}},
		{"?search=milk&q=milk", []int64{f.milk, f.mum}},
	} {
		res := f.e.do(t, request{method: http.MethodGet, path: f.u.tasks() + tt.query, token: f.u.token, outsideDoc: true})
		wantStatus(t, "GET "+tt.query, res, http.StatusOK)
		if got := taskIDs(decodeTasks(t, res)); !slices.Equal(got, tt.want) {
			t.Errorf("GET %s = ids %v, want %v", tt.query, got, tt.want)
		}
	}
}

// TestListContradictions: filters that cannot all hold give [], not an error.
func TestListContradictions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, q := range []string{
		"?status=completed&overdue=true",
		"?status=pending&completed=true",
		"?status=completed&status_filter=pending",
		"?completed=true&completed=false",
		"?due_from=2099-03-10&due_to=2099-03-01",
		"?overdue=true&due_from=2099-01-01",
		"?priority=low&status=pending&tags=home",
	} {
		res := f.e.do(t, request{method: http.MethodGet, path: f.u.tasks() + q, token: f.u.token, outsideDoc: true})
		wantStatus(t, "GET "+q, res, http.StatusOK)
		if got := strings.TrimSpace(string(res.body)); got != "[]" {
			t.Errorf("GET %s = %s, want []", q, got)
		}
		if got := res.header.Get("X-Total-Count"); got != "0" {
			t.Errorf("GET %s X-Total-Count = %q, want 0", q, got)
		}
		if got := res.header.Get("Link"); got != "" {
			t.Errorf("GET %s Link = %q, want none", q, got)
		}
	}
}

// TestListInvalid: every refused value is a 422 in the list shape naming
// the parameter as the client spelled it.
func TestListInvalid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, res := f.e.list(t, f.u, "?sort=title&limit=1")
	cursor := linkQuery(t, res).Get("cursor")
	long := strings.Repeat("x", 1001)
	tests := []struct {
		query string
		locs  []string
	}{
		{"?status=done", []string{"status"}},
		{"?status=", []string{"status"}},
		{"?status=Pending", []string{"status"}},
		{"?status_filter=done", []string{"status_filter"}},
		{"?status_param=", []string{"status_param"}},
		{"?completed=maybe", []string{"completed"}},
		{"?priority=urgent", []string{"priority"}},
		{"?priority=High", []string{"priority"}},
		{"?priority=high,urgent", []string{"priority"}},
		{"?tags=" + strings.Repeat("t", 51), []string{"tags"}},
		{"?tags=a%00b", []string{"tags"}},
		{"?tags_match=some", []string{"tags_match"}},
		{"?search=" + long, []string{"search"}},
		{"?q=" + long, []string{"q"}},
		{"?search=a%00b", []string{"search"}},
		{"?q=%FF", []string{"q"}},
		{"?due_from=2026-02-30", []string{"due_from"}},
		{"?due_from=yesterday", []string{"due_from"}},
		{"?due_date_from=2026-13-01", []string{"due_date_from"}},
		{"?due_start=2026-03-01T25:00:00Z", []string{"due_start"}},
		{"?due_to=2026-03-01T10:00:00", []string{"due_to"}},
		{"?due_date_to=0000-01-01", []string{"due_date_to"}},
		{"?due_end=01/03/2026", []string{"due_end"}},
		{"?overdue=maybe", []string{"overdue"}},
		{"?is_overdue=2", []string{"is_overdue"}},
		{"?sort=name", []string{"sort"}},
		{"?sort_by=Title", []string{"sort_by"}},
		{"?sortBy=due", []string{"sortBy"}},
		{"?order=up", []string{"order"}},
		{"?sort_order=Asc", []string{"sort_order"}},
		{"?sortOrder=descending", []string{"sortOrder"}},
		{"?limit=0", []string{"limit"}},
		{"?limit=201", []string{"limit"}},
		{"?limit=-1", []string{"limit"}},
		{"?limit=ten", []string{"limit"}},
		{"?limit=1.5", []string{"limit"}},
		{"?cursor=abc", []string{"cursor"}},
		{"?cursor=" + tamper(cursor), []string{"cursor"}},
		{"?cursor=" + cursor, []string{"cursor"}},                           // made for sort=title
		{"?sort=title&order=desc&cursor=" + cursor, []string{"cursor"}},     // another order
		{"?sort=title&status=pending&cursor=" + cursor, []string{"cursor"}}, // other filters
		{"?sort=title&cursor=" + cursor + "&offset=1", []string{"offset"}},
		{"?offset=-1", []string{"offset"}},
		{"?offset=x", []string{"offset"}},
		{"?tz=Mars/Olympus", []string{"tz"}},
		{"?tz=Local", []string{"tz"}},
		{"?tz=../../etc/passwd", []string{"tz"}},
		{"?sort=title&sort_by=priority", []string{"sort_by"}},
		{"?search=a&q=b", []string{"q"}},
		{"?limit=1&limit=2", []string{"limit"}},
		{"?limit=0&sort=name&status=done&priority=urgent&tz=Nowhere", []string{"limit", "sort", "status", "priority", "tz"}},
	}
	for _, tt := range tests {
		res := f.e.do(t, request{method: http.MethodGet, path: f.u.tasks() + tt.query, token: f.u.token, outsideDoc: true})
		var locs [][]any
		for _, l := range tt.locs {
			locs = append(locs, []any{"query", l})
		}
		ps := wantProblems(t, "GET "+truncate(tt.query, 60), res, locs...)
		if len(ps) != len(tt.locs) {
			t.Errorf("GET %s: %d problems %v, want %d", truncate(tt.query, 60), len(ps), ps, len(tt.locs))
		}
	}
}

// tamper changes one character in the middle of a cursor.
func tamper(c string) string {
	b := []byte(c)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// linkQuery returns the query of the next page's URL.
func linkQuery(t *testing.T, res *response) url.Values {
	t.Helper()
	next := nextURL(t, res)
	if next == "" {
		t.Fatalf("no Link header: %v", res.header)
	}
	u, err := url.Parse(next)
	if err != nil {
		t.Fatalf("Link URL %q: %v", next, err)
	}
	return u.Query()
}

// nextURL returns the path and query of the next page, "" when there is none.
func nextURL(t *testing.T, res *response) string {
	t.Helper()
	link := res.header.Get("Link")
	if link == "" {
		return ""
	}
	m := linkRE.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("Link = %q, want <url>; rel=\"next\"", link)
	}
	u, err := url.Parse(m[1])
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/api/") {
		t.Fatalf("Link URL %q: want a reference relative to the request's host, to the list's path (%v)", m[1], err)
	}
	return u.RequestURI()
}

// TestListCursorIsCanonical: a cursor decodes to JSON, and one that is
// re-encoded in any other way is refused.
func TestListCursorIsCanonical(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, res := f.e.list(t, f.u, "?limit=1")
	cursor := linkQuery(t, res).Get("cursor")
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatalf("cursor %q is not base64url: %v", cursor, err)
	}
	for name, forged := range map[string]string{
		"padded":          base64.URLEncoding.EncodeToString(raw),
		"spaced JSON":     base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), ",", ", ", 1))),
		"unknown field":   base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "{", `{"x":1,`, 1))),
		"other version":   base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"v":1`, `"v":2`, 1))),
		"no id":           base64.RawURLEncoding.EncodeToString([]byte(regexp.MustCompile(`"i":\d+,`).ReplaceAllString(string(raw), ""))),
		"negative id":     base64.RawURLEncoding.EncodeToString([]byte(regexp.MustCompile(`"i":\d+`).ReplaceAllString(string(raw), `"i":-1`))),
		"time not in UTC": base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "Z\"", "+00:00\"", 1))),
		"standard base64": base64.StdEncoding.EncodeToString(raw),
		"trailing data":   base64.RawURLEncoding.EncodeToString(append(raw, []byte(" {}")...)),
	} {
		if forged == cursor {
			continue // this encoding happens to be the same for this cursor
		}
		res := f.e.do(t, request{method: http.MethodGet, path: f.u.tasks() + "?limit=1&cursor=" + url.QueryEscape(forged), token: f.u.token, outsideDoc: true})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("cursor %s (%s) = %s, want 422", name, forged, res)
			continue
		}
		wantProblems(t, "cursor "+name, res, []any{"query", "cursor"})
	}
}

// TestListPaging: X-Total-Count counts the filters, Link leads through
// every page, the last page has none; without limit the server's ceiling
// applies; offset works for old clients and its Link carries a cursor.
func TestListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withListMax(5))
	u := e.newUser(t)
	var want []int64
	for i := range 12 {
		tk := e.create(t, u, fmt.Sprintf("task %02d", i))
		want = append(want, tk.ID)
		if i%3 == 0 {
			wantStatus(t, "complete", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, ""), http.StatusOK)
		}
	}
	for _, tt := range []struct {
		first     string
		wantSizes []int
		wantIDs   []int64
	}{
		{"?limit=5", []int{5, 5, 2}, want},
		{"", []int{5, 5, 2}, want},         // the ceiling, with Link
		{"?limit=4", []int{4, 4, 4}, want}, // the last page is full: no Link after it
		{"?limit=200", []int{12}, want},    // one page
		{"?offset=3&limit=5", []int{5, 4}, want[3:]},
		{"?sort=created&order=desc&limit=7", []int{7, 5}, reversed(want)},
		{"?status=completed&limit=3", []int{3, 1}, []int64{want[0], want[3], want[6], want[9]}},
		{"?sort=title&order=desc&limit=5&status_filter=incomplete", []int{5, 3},
			reversed([]int64{want[1], want[2], want[4], want[5], want[7], want[8], want[10], want[11]})},
	} {
		var sizes []int
		var got []int64
		path := u.tasks() + tt.first
		wantTotal := strconv.Itoa(len(tt.wantIDs))
		if strings.Contains(tt.first, "offset") {
			wantTotal = "12"
		}
		for path != "" && len(sizes) < 10 {
			res := e.call(t, http.MethodGet, path, u.token, "")
			wantStatus(t, "GET "+path, res, http.StatusOK)
			page := decodeTasks(t, res)
			sizes = append(sizes, len(page))
			got = append(got, taskIDs(page)...)
			if total := res.header.Get("X-Total-Count"); total != wantTotal {
				t.Errorf("GET %s X-Total-Count = %q, want %s", path, total, wantTotal)
			}
			path = nextURL(t, res)
			if path != "" {
				q, _ := url.ParseQuery(strings.SplitN(path, "?", 2)[1])
				if q.Has("offset") || !q.Has("cursor") {
					t.Errorf("Link of GET %s = %s, want a cursor and no offset", tt.first, path)
				}
			}
		}
		if !slices.Equal(sizes, tt.wantSizes) || !slices.Equal(got, tt.wantIDs) {
			t.Errorf("paging from %q: pages of %v with ids %v, want pages of %v with ids %v", tt.first, sizes, got, tt.wantSizes, tt.wantIDs)
		}
	}
}

func reversed(s []int64) []int64 {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// TestListBaseContract: a request the base contract allows gets exactly
// what it promises: every task, oldest first, status semantics, and no
// Link below the ceiling.
func TestListBaseContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	var ids []int64
	for i := range 30 {
		ids = append(ids, e.create(t, u, fmt.Sprintf("task %d", 30-i)).ID)
	}
	got, res := e.list(t, u, "")
	if !slices.Equal(taskIDs(got), ids) {
		t.Errorf("GET = ids %v, want %v (oldest first)", taskIDs(got), ids)
	}
	if link := res.header.Get("Link"); link != "" {
		t.Errorf("GET Link = %q, want none (30 tasks is below the ceiling)", link)
	}
	if n := res.header.Get("X-Total-Count"); n != "30" {
		t.Errorf("GET X-Total-Count = %q, want 30", n)
	}
}

// TestCreateWithDetails: POST accepts priority, due_date and tags, and the
// task shows them as the rules keep them.
func TestCreateWithDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tests := []struct {
		body     string
		priority string
		due      *string
		tags     []string
	}{
		{`{"title": "plain"}`, "medium", nil, []string{}},
		{`{"title": "t", "priority": "low"}`, "low", nil, []string{}},
		{`{"title": "t", "priority": "HIGH"}`, "high", nil, []string{}},
		{`{"title": "t", "priority": "MEDIUM"}`, "medium", nil, []string{}},
		{`{"title": "t", "due_date": "2026-03-01"}`, "medium", ptr("2026-03-01"), []string{}},
		{`{"title": "t", "due_date": "2026-03-01T12:30:00+02:00"}`, "medium", ptr("2026-03-01T10:30:00Z"), []string{}},
		{`{"title": "t", "due_date": "2026-03-01T10:30:00.123456789Z"}`, "medium", ptr("2026-03-01T10:30:00.123456Z"), []string{}},
		{`{"title": "t", "due_date": "2026-02-28T23:00:00-05:00"}`, "medium", ptr("2026-03-01T04:00:00Z"), []string{}},
		{`{"title": "t", "due_date": null}`, "medium", nil, []string{}},
		{`{"title": "t", "tags": []}`, "medium", nil, []string{}},
		{`{"title": "t", "tags": [" Home ", "home", "Work", "HOME", "work "]}`, "medium", nil, []string{"Home", "Work"}},
		{`{"title": "t", "tags": ["é", "É", "日本"]}`, "medium", nil, []string{"é", "日本"}},
		{jsonBody(t, map[string]any{"title": "t", "tags": append(manyTags(20), "tag 0", "TAG 1")}), "medium", nil, manyTags(20)},
		{jsonBody(t, map[string]any{"title": "t", "tags": []string{strings.Repeat("é", 50)}}), "medium", nil, []string{strings.Repeat("é", 50)}},
	}
	for _, tt := range tests {
		got := e.post(t, u, tt.body)
		if got.Priority != tt.priority || !equalPtr(got.DueDate, tt.due) || !slices.Equal(got.Tags, tt.tags) || got.CompletedAt != nil {
			t.Errorf("POST %.80s = %v, want priority %s, due_date %s, tags %q, completed_at null", tt.body, got, tt.priority, show(tt.due), tt.tags)
		}
		res := e.call(t, http.MethodGet, u.task(got.ID), u.token, "")
		if stored := decodeTask(t, res.body); !stored.equal(got) {
			t.Errorf("GET after POST %.80s = %v, want %v", tt.body, stored, got)
		}
	}
}

func manyTags(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("tag %d", i)
	}
	return out
}

// TestDetailsInvalid: bad priorities, due dates and tags are 422 at their
// field, on POST and PUT, together with the other problems of the body.
func TestDetailsInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	target := e.post(t, u, `{"title": "target", "priority": "high", "due_date": "2026-03-01", "tags": ["keep"]}`)
	tests := []struct {
		fields map[string]any
		locs   []string
	}{
		{map[string]any{"priority": "urgent"}, []string{"priority"}},
		{map[string]any{"priority": "High"}, []string{"priority"}},
		{map[string]any{"priority": ""}, []string{"priority"}},
		{map[string]any{"priority": 3}, []string{"priority"}},
		{map[string]any{"due_date": "2026-02-30"}, []string{"due_date"}},
		{map[string]any{"due_date": "2026-02-29"}, []string{"due_date"}},
		{map[string]any{"due_date": "tomorrow"}, []string{"due_date"}},
		{map[string]any{"due_date": ""}, []string{"due_date"}},
		{map[string]any{"due_date": "2026-03-01T10:00:00"}, []string{"due_date"}},
		{map[string]any{"due_date": "2026-03-01 10:00:00Z"}, []string{"due_date"}},
		{map[string]any{"due_date": "0000-12-31"}, []string{"due_date"}},
		{map[string]any{"due_date": "0001-01-01T00:00:00+01:00"}, []string{"due_date"}},
		{map[string]any{"due_date": 20260301}, []string{"due_date"}},
		{map[string]any{"tags": manyTags(21)}, []string{"tags"}},
		{map[string]any{"tags": []string{"ok", ""}}, []string{"tags"}},
		{map[string]any{"tags": []string{"   "}}, []string{"tags"}},
		{map[string]any{"tags": []string{strings.Repeat("x", 51)}}, []string{"tags"}},
		{map[string]any{"tags": []string{"a,b"}}, []string{"tags"}},
		{map[string]any{"tags": []string{"a\x00b"}}, []string{"tags"}},
		{map[string]any{"tags": "home"}, []string{"tags"}},
		{map[string]any{"tags": []any{1}}, []string{"tags"}}, // ["body", "tags", 0], as FastAPI names an item
		{map[string]any{"title": " ", "due_date": "2026-02-30", "tags": []string{""}}, []string{"title", "due_date", "tags"}},
	}
	for _, tt := range tests {
		body := map[string]any{"title": "ok"}
		for k, v := range tt.fields {
			body[k] = v
		}
		for _, r := range []request{
			{method: http.MethodPost, path: u.tasks()},
			{method: http.MethodPut, path: u.task(target.ID)},
		} {
			r.token, r.body, r.outsideDoc = u.token, jsonBody(t, body), true
			var locs [][]any
			for _, l := range tt.locs {
				locs = append(locs, []any{"body", l})
			}
			wantProblems(t, r.method+" "+r.body, e.do(t, r), locs...)
		}
	}
	res := e.call(t, http.MethodGet, u.task(target.ID), u.token, "")
	if got := decodeTask(t, res.body); !got.equal(target) {
		t.Errorf("after refused PUTs the task is %v, want %v", got, target)
	}
	if got := decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, "")); len(got) != 1 {
		t.Errorf("after refused POSTs the list has %d tasks, want 1", len(got))
	}
}

// TestReplaceDetails: PUT leaves priority, due_date and tags as they are
// when absent (a frontend that does not know them keeps them), sets them
// when given, and clears due_date with null and tags with [].
func TestReplaceDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.post(t, u, `{"title": "t", "description": "d", "priority": "high", "due_date": "2026-03-01", "tags": ["a", "b"]}`)
	steps := []struct {
		body     string
		priority string
		due      *string
		tags     []string
		desc     *string
	}{
		{`{"title": "t"}`, "high", ptr("2026-03-01"), []string{"a", "b"}, nil},
		{`{"title": "t", "description": "d", "completed": true}`, "high", ptr("2026-03-01"), []string{"a", "b"}, ptr("d")},
		{`{"title": "t", "priority": "LOW"}`, "low", ptr("2026-03-01"), []string{"a", "b"}, nil},
		{`{"title": "t", "due_date": "2026-04-01T09:00:00+01:00"}`, "low", ptr("2026-04-01T08:00:00Z"), []string{"a", "b"}, nil},
		{`{"title": "t", "tags": ["B", "c"]}`, "low", ptr("2026-04-01T08:00:00Z"), []string{"B", "c"}, nil},
		{`{"title": "t", "due_date": null}`, "low", nil, []string{"B", "c"}, nil},
		{`{"title": "t", "tags": []}`, "low", nil, []string{}, nil},
		{`{"title": "t", "due_date": "2026-05-01", "tags": ["x"], "priority": "medium"}`, "medium", ptr("2026-05-01"), []string{"x"}, nil},
		// A frontend that sends back the whole task it read.
		{`{"title": "t", "description": null, "completed": true, "priority": "medium", "due_date": "2026-05-01", "tags": ["x"], "id": 99, "completed_at": "2000-01-01T00:00:00Z"}`,
			"medium", ptr("2026-05-01"), []string{"x"}, nil},
	}
	for i, s := range steps {
		if i == 5 {
			// Outside the document, but what huma does with null on a
			// field that is not nullable: as if absent.
			body := `{"title": "t", "priority": null, "tags": null}`
			res := e.do(t, request{method: http.MethodPut, path: u.task(tk.ID), token: u.token, body: body, outsideDoc: true})
			wantStatus(t, "PUT "+body, res, http.StatusOK)
			if got := decodeTask(t, res.body); got.Priority != "low" || !slices.Equal(got.Tags, []string{"B", "c"}) {
				t.Errorf("PUT %s = %v, want priority and tags unchanged", body, got)
			}
		}
		res := e.call(t, http.MethodPut, u.task(tk.ID), u.token, s.body)
		wantStatus(t, "PUT "+s.body, res, http.StatusOK)
		got := decodeTask(t, res.body)
		if got.Priority != s.priority || !equalPtr(got.DueDate, s.due) || !slices.Equal(got.Tags, s.tags) || !equalPtr(got.Description, s.desc) {
			t.Errorf("PUT %s = %v, want priority %s, due_date %s, tags %q, description %s", s.body, got, s.priority, show(s.due), s.tags, show(s.desc))
		}
		if got.ID != tk.ID || (got.CompletedAt != nil && strings.HasPrefix(*got.CompletedAt, "2000")) {
			t.Errorf("PUT %s = %v: id or completed_at taken from the body", s.body, got)
		}
	}
}

// TestCompletedAt: set by the server when a task becomes completed (equal to
// updated_at then), kept while it stays completed, cleared when reopened.
func TestCompletedAt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "t")
	if tk.CompletedAt != nil {
		t.Fatalf("new task completed_at = %s, want null", *tk.CompletedAt)
	}
	var done string
	steps := []struct {
		r    request
		want string // "set": becomes updated_at; "kept": unchanged; "null"
	}{
		{request{method: http.MethodPatch, path: u.complete(tk.ID)}, "set"},
		{request{method: http.MethodPatch, path: u.complete(tk.ID), body: `{"completed": true}`}, "kept"},
		{request{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "t", "completed": true}`}, "kept"},
		{request{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "renamed"}`}, "kept"},
		{request{method: http.MethodPatch, path: u.complete(tk.ID)}, "null"},
		{request{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "t", "completed": true}`}, "set"},
		{request{method: http.MethodPut, path: u.task(tk.ID), body: `{"title": "t", "completed": false}`}, "null"},
		{request{method: http.MethodPatch, path: u.complete(tk.ID), body: `{"completed": false}`}, "null"},
	}
	for i, s := range steps {
		s.r.token = u.token
		res := e.do(t, s.r)
		wantStatus(t, s.r.method+" "+s.r.body, res, http.StatusOK)
		got := decodeTask(t, res.body)
		switch s.want {
		case "set":
			if got.CompletedAt == nil || *got.CompletedAt != got.UpdatedAt {
				t.Errorf("step %d: %s %s: completed_at = %s, want updated_at %s", i+1, s.r.method, s.r.body, show(got.CompletedAt), got.UpdatedAt)
			} else {
				done = *got.CompletedAt
			}
		case "kept":
			if got.CompletedAt == nil || *got.CompletedAt != done {
				t.Errorf("step %d: %s %s: completed_at = %s, want %s (unchanged)", i+1, s.r.method, s.r.body, show(got.CompletedAt), done)
			}
		case "null":
			if got.CompletedAt != nil {
				t.Errorf("step %d: %s %s: completed_at = %s, want null", i+1, s.r.method, s.r.body, *got.CompletedAt)
			}
		}
	}
}

// TestTagsEndpoint: each tag once, ignoring case, with its count; only the
// caller's; counts follow deletes.
func TestTagsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	path := "/api/" + u.id + "/tags"
	tags := func() string {
		t.Helper()
		res := e.call(t, http.MethodGet, path, u.token, "")
		wantStatus(t, "GET "+path, res, http.StatusOK)
		return strings.TrimSpace(string(res.body))
	}
	if got := tags(); got != "[]" {
		t.Errorf("GET tags of a new user = %s, want []", got)
	}
	e.post(t, u, `{"title": "a", "tags": ["home", "Work"]}`)
	b := e.post(t, u, `{"title": "b", "tags": ["Home"]}`)
	e.post(t, u, `{"title": "c", "tags": ["work", "x"]}`)
	e.post(t, u, `{"title": "d"}`)
	other := e.newUser(t)
	e.post(t, other, `{"title": "e", "tags": ["home", "secret"]}`)

	want := `[{"name":"Home","count":2},{"name":"Work","count":2},{"name":"x","count":1}]`
	if got := tags(); got != want {
		t.Errorf("GET tags = %s, want %s", got, want)
	}
	wantStatus(t, "DELETE b", e.call(t, http.MethodDelete, u.task(b.ID), u.token, ""), http.StatusNoContent)
	want = `[{"name":"home","count":1},{"name":"Work","count":2},{"name":"x","count":1}]`
	if got := tags(); got != want {
		t.Errorf("GET tags after a delete = %s, want %s", got, want)
	}
	wantDetail(t, "GET another user's tags", e.call(t, http.MethodGet, "/api/"+other.id+"/tags", u.token, ""), http.StatusForbidden, "")
}

// TestStatsEndpoint: the counts, in the user's time zone. The clock stands
// at 2026-03-01 23:30 UTC, already 2 March in Paris.
func TestStatsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withClock(time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)))
	u := e.newUser(t)
	e.post(t, u, `{"title": "all day 1 March", "due_date": "2026-03-01"}`)
	e.post(t, u, `{"title": "all day 2 March", "due_date": "2026-03-02", "priority": "low"}`)
	e.post(t, u, `{"title": "22:00 UTC", "due_date": "2026-03-01T22:00:00Z"}`)
	done := e.post(t, u, `{"title": "done, long ago", "due_date": "2000-01-01", "priority": "high"}`)
	wantStatus(t, "complete", e.call(t, http.MethodPatch, u.complete(done.ID), u.token, ""), http.StatusOK)
	e.post(t, u, `{"title": "no due date", "priority": "HIGH"}`)
	e.post(t, e.newUser(t), `{"title": "someone else's", "due_date": "2000-01-01"}`)

	for _, tt := range []struct {
		query, want string
	}{
		{"", `{"total":5,"completed":1,"pending":4,"overdue":1,"due_today":2,"by_priority":{"low":1,"medium":2,"high":1},"tz":"UTC"}`},
		{"?tz=UTC", `{"total":5,"completed":1,"pending":4,"overdue":1,"due_today":2,"by_priority":{"low":1,"medium":2,"high":1},"tz":"UTC"}`},
		{"?tz=Europe/Paris", `{"total":5,"completed":1,"pending":4,"overdue":2,"due_today":1,"by_priority":{"low":1,"medium":2,"high":1},"tz":"Europe/Paris"}`},
		{"?tz=America/New_York", `{"total":5,"completed":1,"pending":4,"overdue":1,"due_today":2,"by_priority":{"low":1,"medium":2,"high":1},"tz":"America/New_York"}`},
	} {
		res := e.call(t, http.MethodGet, u.tasks()+"/stats"+tt.query, u.token, "")
		wantStatus(t, "GET stats"+tt.query, res, http.StatusOK)
		if got := strings.TrimSpace(string(res.body)); got != tt.want {
			t.Errorf("GET stats%s = %s, want %s", tt.query, got, tt.want)
		}
	}
	for _, tz := range []string{"Mars/Olympus", "Local", "+02:00"} {
		res := e.do(t, request{method: http.MethodGet, path: u.tasks() + "/stats?tz=" + url.QueryEscape(tz), token: u.token, outsideDoc: true})
		wantProblems(t, "GET stats?tz="+tz, res, []any{"query", "tz"})
	}
	// The list's overdue filter uses the same rule and the same zone.
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"?overdue=true", 1},
		{"?overdue=true&tz=Europe/Paris", 2},
	} {
		if got, _ := e.list(t, u, tt.query); len(got) != tt.want {
			t.Errorf("GET %s = %d tasks, want %d", tt.query, len(got), tt.want)
		}
	}
}

// TestTaskRoutes: /tasks/stats is the stats, /tasks/{id} still takes ids,
// and a word that is not an id is still 422, not 404.
func TestTaskRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := e.create(t, u, "t")
	wantStatus(t, "GET stats", e.call(t, http.MethodGet, u.tasks()+"/stats", u.token, ""), http.StatusOK)
	wantStatus(t, "GET task", e.call(t, http.MethodGet, u.task(tk.ID), u.token, ""), http.StatusOK)
	for _, id := range []string{"abc", "stat", "statsx", "tags"} {
		res := e.do(t, request{method: http.MethodGet, path: u.taskPath(id), token: u.token, outsideDoc: true})
		wantProblems(t, "GET tasks/"+id, res, []any{"path", "id"})
	}
	// The other methods on /tasks/stats reach /tasks/{id}: "stats" is no id.
	for _, m := range []string{http.MethodPut, http.MethodDelete} {
		req := request{method: m, path: u.tasks() + "/stats", token: u.token, body: `{"title": "x"}`}.build(t.Context())
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s tasks/stats = %d %s, want 422", m, rec.Code, rec.Body)
		}
	}
	wantDetail(t, "GET stats of another user", e.call(t, http.MethodGet, "/api/"+e.newUser(t).id+"/tasks/stats", u.token, ""), http.StatusForbidden, "")
	wantDetail(t, "GET stats without a token", e.do(t, request{method: http.MethodGet, path: u.tasks() + "/stats", outsideDoc: true}), http.StatusUnauthorized, "")
}
