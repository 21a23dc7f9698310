package task_test

import (
	"encoding/base64"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/task"
)

func TestParseListValues(t *testing.T) {
	for _, tt := range []struct {
		parse func(string) (any, error)
		in    string
		want  any // nil means refused
	}{
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "created", task.SortCreated},
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "updated", task.SortUpdated},
		// created_at and updated_at are the HTTP API's peer spellings
		// (httpapi's listParams), not sorts.
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "created_at", nil},
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "due_date", task.SortDue},
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "priority", task.SortPriority},
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "title", task.SortTitle},
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "Title", nil},
		{func(s string) (any, error) { return task.ParseSort("sort", s) }, "due", nil},
		{func(s string) (any, error) { return task.ParseOrder("order", s) }, "asc", task.OrderAsc},
		{func(s string) (any, error) { return task.ParseOrder("order", s) }, "DESC", task.OrderDesc},
		{func(s string) (any, error) { return task.ParseOrder("order", s) }, "Desc", nil},
		{func(s string) (any, error) { return task.ParseTagsMatch("tags_match", s) }, "all", task.MatchAll},
		{func(s string) (any, error) { return task.ParseTagsMatch("tags_match", s) }, "ALL", nil},
		{func(s string) (any, error) { return task.ParseLimit("limit", s) }, "1", 1},
		{func(s string) (any, error) { return task.ParseLimit("limit", s) }, "200", 200},
		{func(s string) (any, error) { return task.ParseLimit("limit", s) }, "0", nil},
		{func(s string) (any, error) { return task.ParseLimit("limit", s) }, "201", nil},
		{func(s string) (any, error) { return task.ParseLimit("limit", s) }, "1e2", nil},
	} {
		got, err := tt.parse(tt.in)
		if tt.want == nil {
			if err == nil || len(problems(t, err)) != 1 {
				t.Errorf("parse(%q) = %v, %v, want one problem", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parse(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	if got := task.SortDue.DefaultOrder(); got != task.OrderAsc {
		t.Errorf("SortDue.DefaultOrder() = %q, want asc", got)
	}
	if got := task.SortPriority.DefaultOrder(); got != task.OrderDesc {
		t.Errorf("SortPriority.DefaultOrder() = %q, want desc", got)
	}
}

func TestQueryNormalized(t *testing.T) {
	q, err := task.Query{}.Normalized()
	if err != nil || q.Sort != task.SortCreated || q.Order != task.OrderAsc || q.TagsMatch != task.MatchAny || q.Zone != time.UTC || q.Now.IsZero() {
		t.Errorf("Query{}.Normalized() = %+v, %v, want the defaults", q, err)
	}
	q, err = task.Query{
		Statuses:   []task.Status{task.StatusAll, task.StatusPending, task.StatusPending},
		Priorities: []task.Priority{"HIGH", "low", "high"},
		Tags:       []string{" Home", "home", "Work"},
		Sort:       task.SortPriority,
	}.Normalized()
	if err != nil || !slices.Equal(q.Statuses, []task.Status{task.StatusPending}) ||
		!slices.Equal(q.Priorities, []task.Priority{task.PriorityLow, task.PriorityHigh}) ||
		!slices.Equal(q.Tags, []string{"home", "work"}) || q.Order != task.OrderDesc {
		t.Errorf("Normalized() = %+v, %v", q, err)
	}
	if again, err := q.Normalized(); err != nil || !reflect.DeepEqual(again, q) {
		t.Errorf("Normalized() of a normalized query = %+v, %v; want it as it was: %+v", again, err, q)
	}

	cur := task.Cursor{Sort: task.SortCreated, Order: task.OrderAsc, ID: 1, Time: t0}
	tests := []struct {
		name string
		q    task.Query
		want []string
	}{
		{"bad sort", task.Query{Sort: "name"}, []string{"sort"}},
		{"bad order", task.Query{Order: "up"}, []string{"order"}},
		{"bad status", task.Query{Statuses: []task.Status{"done"}}, []string{"status"}},
		{"bad priority", task.Query{Priorities: []task.Priority{"urgent"}}, []string{"priority"}},
		{"bad tag", task.Query{Tags: []string{strings.Repeat("x", 51)}}, []string{"tags"}},
		{"bad match", task.Query{TagsMatch: "some"}, []string{"tags_match"}},
		{"long search", task.Query{Search: strings.Repeat("é", task.MaxSearchLen+1)}, []string{"search"}},
		{"NUL in search", task.Query{Search: "a\x00"}, []string{"search"}},
		{"invalid UTF-8 in search", task.Query{Search: "\xff"}, []string{"search"}},
		{"negative limit", task.Query{Limit: -1}, []string{"limit"}},
		{"negative offset", task.Query{Offset: -1}, []string{"offset"}},
		{"offset and cursor", task.Query{Offset: 1, After: &cur}, []string{"offset"}},
		{"cursor of another sort", task.Query{Sort: task.SortTitle, After: &cur}, []string{"cursor"}},
		{"cursor of another order", task.Query{Order: task.OrderDesc, After: &cur}, []string{"cursor"}},
		{"cursor of other filters", task.Query{After: &cur}, []string{"cursor"}}, // cur.Query is empty
		{"everything", task.Query{Sort: "x", Order: "y", Limit: -1, Tags: []string{""}}, []string{"sort", "order", "tags", "limit"}},
	}
	for _, tt := range tests {
		_, err := tt.q.Normalized()
		var got []string
		if err != nil {
			for _, p := range problems(t, err) {
				got = append(got, p.Field)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Normalized(%s) problems = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// sample is a small list with every attribute varied, for the filter and
// order tests. Times: created one minute apart from t0, in id order.
func sample(t *testing.T) []*task.Task {
	t.Helper()
	type spec struct {
		title, desc string
		completed   bool
		priority    string
		due         string
		tags        []string
	}
	specs := []spec{
		{title: "Buy milk", priority: "low", due: "2026-01-05", tags: []string{"home"}},                                          // 1
		{title: "call Mum", desc: "about MILK", priority: "high", due: "2026-01-05T09:00:00Z", tags: []string{"family", "Home"}}, // 2
		{title: "Write report", completed: true, priority: "medium", tags: []string{"work"}},                                     // 3
		{title: "pay bills", priority: "high", due: "2026-01-06"},                                                                // 4
		{title: "Älpler", desc: "100% sure_", priority: "medium", due: "2026-01-05T11:00:00Z"},                                   // 5
		{title: "buy milk", completed: true, priority: "low", due: "2026-01-04", tags: []string{"HOME", "work"}},                 // 6
	}
	var out []*task.Task
	for i, s := range specs {
		var desc *string
		if s.desc != "" {
			desc = ptr(s.desc)
		}
		opts := []task.Option{task.WithPriority(s.priority), task.WithDue(s.due), task.WithTags(s.tags)}
		tk, err := task.New(owner, s.title, desc, t0.Add(time.Duration(i)*time.Minute), opts...)
		if err != nil {
			t.Fatalf("New(%q) = %v", s.title, err)
		}
		if s.completed {
			tk.SetCompleted(true, t0.Add(time.Hour+time.Duration(i)*time.Minute))
		}
		out = append(out, tk.WithID(task.ID(i+1)))
	}
	return out
}

func ids(ts []*task.Task) []task.ID {
	out := make([]task.ID, len(ts))
	for i, tk := range ts {
		out[i] = tk.ID()
	}
	return out
}

func TestQueryApply(t *testing.T) {
	all := sample(t)
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	yes, no := true, false
	due := func(s string) task.Due {
		d, err := task.ParseDue("due_from", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name string
		q    task.Query
		want []task.ID
	}{
		{"nothing", task.Query{}, []task.ID{1, 2, 3, 4, 5, 6}},
		{"pending", task.Query{Statuses: []task.Status{task.StatusPending}}, []task.ID{1, 2, 4, 5}},
		{"completed", task.Query{Statuses: []task.Status{task.StatusCompleted}}, []task.ID{3, 6}},
		{"pending and completed", task.Query{Statuses: []task.Status{task.StatusPending, task.StatusCompleted}}, nil},
		{"high or low", task.Query{Priorities: []task.Priority{"high", "LOW"}}, []task.ID{1, 2, 4, 6}},
		{"tag home any case", task.Query{Tags: []string{"HoMe"}}, []task.ID{1, 2, 6}},
		{"tags any", task.Query{Tags: []string{"family", "work"}}, []task.ID{2, 3, 6}},
		{"tags all", task.Query{Tags: []string{"home", "work"}, TagsMatch: task.MatchAll}, []task.ID{6}},
		{"tags all, one tag", task.Query{Tags: []string{"work"}, TagsMatch: task.MatchAll}, []task.ID{3, 6}},
		{"search title or description, any case", task.Query{Search: "MiLk"}, []task.ID{1, 2, 6}},
		{"search non-ASCII case", task.Query{Search: "äLP"}, []task.ID{5}},
		{"search is literal", task.Query{Search: "0% s"}, []task.ID{5}},
		{"search underscore", task.Query{Search: "_"}, []task.ID{5}},
		{"search nothing", task.Query{Search: "zzz"}, nil},
		{"search trimmed", task.Query{Search: " milk\t"}, []task.ID{1, 2, 6}},
		{"blank search is no filter", task.Query{Search: "   "}, []task.ID{1, 2, 3, 4, 5, 6}},
		{"inner space kept", task.Query{Search: "y m"}, []task.ID{1, 6}},
		{"due from a date", task.Query{DueFrom: due("2026-01-05")}, []task.ID{1, 2, 4, 5}},
		{"due to a date", task.Query{DueTo: due("2026-01-05")}, []task.ID{1, 2, 5, 6}},
		{"due on one day", task.Query{DueFrom: due("2026-01-05"), DueTo: due("2026-01-05")}, []task.ID{1, 2, 5}},
		{"due from an instant", task.Query{DueFrom: due("2026-01-05T10:00:00Z")}, []task.ID{1, 4, 5}},
		{"due to an instant", task.Query{DueTo: due("2026-01-05T09:00:00Z")}, []task.ID{1, 2, 6}},
		{"due between instants", task.Query{DueFrom: due("2026-01-05T09:00:00Z"), DueTo: due("2026-01-05T11:00:00Z")}, []task.ID{1, 2, 5}},
		{"due range inverted", task.Query{DueFrom: due("2026-01-06"), DueTo: due("2026-01-05")}, nil},
		{"due date bounds in a zone", task.Query{DueFrom: due("2026-01-05"), DueTo: due("2026-01-05"), Zone: time.FixedZone("UTC+10", 10*3600)}, []task.ID{1, 2, 5}},
		{"due date bounds in a zone far west", task.Query{DueTo: due("2026-01-04"), Zone: time.FixedZone("UTC-10", -10*3600)}, []task.ID{2, 6}},
		{"overdue", task.Query{Overdue: &yes, Now: now}, []task.ID{2}},
		{"overdue in a zone where 5 January is over", task.Query{Overdue: &yes, Now: now, Zone: time.FixedZone("UTC+14", 14*3600)}, []task.ID{1, 2}},
		{"not overdue", task.Query{Overdue: &no, Now: now}, []task.ID{1, 3, 4, 5, 6}},
		{"completed and overdue", task.Query{Overdue: &yes, Now: now, Statuses: []task.Status{task.StatusCompleted}}, nil},
		{"combined", task.Query{Statuses: []task.Status{task.StatusPending}, Tags: []string{"home"}, Search: "milk"}, []task.ID{1, 2}},

		{"created desc", task.Query{Order: task.OrderDesc}, []task.ID{6, 5, 4, 3, 2, 1}},
		{"updated (desc)", task.Query{Sort: task.SortUpdated}, []task.ID{6, 3, 5, 4, 2, 1}},
		{"title ignores case, ties by id", task.Query{Sort: task.SortTitle}, []task.ID{1, 6, 2, 4, 3, 5}},
		{"title desc, ties by id desc", task.Query{Sort: task.SortTitle, Order: task.OrderDesc}, []task.ID{5, 3, 4, 2, 6, 1}},
		{"due asc, none last", task.Query{Sort: task.SortDue}, []task.ID{6, 1, 2, 5, 4, 3}},
		{"due desc, none last", task.Query{Sort: task.SortDue, Order: task.OrderDesc}, []task.ID{4, 5, 2, 1, 6, 3}},
		{"priority (desc) by rank", task.Query{Sort: task.SortPriority}, []task.ID{4, 2, 5, 3, 6, 1}},
		{"priority asc", task.Query{Sort: task.SortPriority, Order: task.OrderAsc}, []task.ID{1, 6, 3, 5, 2, 4}},
		{"offset", task.Query{Offset: 4}, []task.ID{5, 6}},
		{"limit", task.Query{Limit: 2}, []task.ID{1, 2}},
		{"offset past the end", task.Query{Offset: 9}, nil},
	}
	for _, tt := range tests {
		q, err := tt.q.Normalized()
		if err != nil {
			t.Fatalf("%s: Normalized() = %v", tt.name, err)
		}
		page := q.Apply(all)
		if got := ids(page.Tasks); !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
			t.Errorf("%s: Apply() = %v, want %v", tt.name, got, tt.want)
		}
		if page.Tasks == nil {
			t.Errorf("%s: Apply().Tasks = nil, want non-nil", tt.name)
		}
		if tt.q.Limit == 0 && tt.q.Offset == 0 && page.Total != len(tt.want) {
			t.Errorf("%s: Apply().Total = %d, want %d", tt.name, page.Total, len(tt.want))
		}
	}
}

// TestQueryPages walks every sort in both orders page by page: each task
// comes exactly once, in the order of the whole list, and the cursor of
// each page survives String and ParseCursor.
func TestQueryPages(t *testing.T) {
	all := sample(t)
	for _, s := range task.Sorts() {
		for _, o := range []task.Order{task.OrderAsc, task.OrderDesc} {
			for _, size := range []int{1, 2, 4, 6} {
				q, err := task.Query{Sort: s, Order: o}.Normalized()
				if err != nil {
					t.Fatal(err)
				}
				want := ids(q.Apply(all).Tasks)
				var got []task.ID
				q.Limit = size
				for range 10 {
					page := q.Apply(all)
					if page.Total != len(all) {
						t.Errorf("%s %s by %d: Total = %d, want %d", s, o, size, page.Total, len(all))
					}
					got = append(got, ids(page.Tasks)...)
					if page.Next == nil {
						break
					}
					c, err := task.ParseCursor(page.Next.String())
					if err != nil {
						t.Fatalf("ParseCursor(%q) = %v", page.Next.String(), err)
					}
					if c != *page.Next {
						t.Errorf("ParseCursor(String()) = %+v, want %+v", c, *page.Next)
					}
					q.After = &c
					if q, err = q.Normalized(); err != nil {
						t.Fatalf("%s %s: Normalized() with its own cursor = %v", s, o, err)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s %s in pages of %d = %v, want %v", s, o, size, got, want)
				}
			}
		}
	}
}

func TestParseCursor(t *testing.T) {
	good := []task.Cursor{
		{Sort: task.SortCreated, Order: task.OrderAsc, ID: 1, Time: t0, Query: "abc"},
		{Sort: task.SortUpdated, Order: task.OrderDesc, ID: 1<<63 - 1, Time: t0.Add(123 * time.Microsecond), Query: "x"},
		{Sort: task.SortTitle, Order: task.OrderAsc, ID: 2, Text: "ünïcødé \"quoted\" <b>", Query: "x"},
		{Sort: task.SortTitle, Order: task.OrderAsc, ID: 2, Text: "", Query: "x"},
		{Sort: task.SortPriority, Order: task.OrderDesc, ID: 3, Rank: 3, Query: "x"},
		{Sort: task.SortDue, Order: task.OrderAsc, ID: 4, Time: t0, Query: "x"},
		{Sort: task.SortDue, Order: task.OrderDesc, ID: 5, NoDue: true, Query: "x"},
	}
	for _, c := range good {
		s := c.String()
		got, err := task.ParseCursor(s)
		if err != nil || got != c {
			t.Errorf("ParseCursor(%q) = %+v, %v, want %+v", s, got, err, c)
		}
		if strings.ContainsAny(s, "+/=") {
			t.Errorf("Cursor.String() = %q, want base64url without padding", s)
		}
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, s := range map[string]string{
		"empty":             "",
		"not base64":        "!!!",
		"not JSON":          enc("hello"),
		"array":             enc(`[1]`),
		"unknown field":     enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x","z":1}`),
		"version":           enc(`{"v":2,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"unknown sort":      enc(`{"v":1,"s":"name","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"sort alias":        enc(`{"v":1,"s":"created_at","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"order":             enc(`{"v":1,"s":"created","o":"ASC","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"zero id":           enc(`{"v":1,"s":"created","o":"asc","i":0,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"no key":            enc(`{"v":1,"s":"created","o":"asc","i":1,"q":"x"}`),
		"two keys":          enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","r":2,"q":"x"}`),
		"wrong key":         enc(`{"v":1,"s":"priority","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"rank out of range": enc(`{"v":1,"s":"priority","o":"asc","i":1,"r":4,"q":"x"}`),
		"bad time":          enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"yesterday","q":"x"}`),
		"time with offset":  enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T11:00:00+01:00","q":"x"}`),
		"nanoseconds":       enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456789Z","q":"x"}`),
		"no due false":      enc(`{"v":1,"s":"due_date","o":"asc","i":1,"n":false,"q":"x"}`),
		"no fingerprint":    enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":""}`),
		"reordered keys":    enc(`{"s":"created","v":1,"o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"spaces":            enc(`{"v":1, "s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`),
		"trailing value":    enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"} {}`),
		"padded":            enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`) + "==",
		"too long":          strings.Repeat("A", 5000),
	} {
		if c, err := task.ParseCursor(s); err == nil || problems(t, err)[0].Field != "cursor" {
			t.Errorf("ParseCursor(%s) = %+v, %v, want a cursor problem", name, c, err)
		}
	}
	// The well-formed one of the list above is accepted, so that the
	// refusals are about what each changes.
	if _, err := task.ParseCursor(enc(`{"v":1,"s":"created","o":"asc","i":1,"t":"2026-01-05T10:00:00.123456Z","q":"x"}`)); err != nil {
		t.Errorf("ParseCursor(well-formed) = %v, want it accepted", err)
	}
}

func TestStatsOf(t *testing.T) {
	all := sample(t)
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		zone *time.Location
		want task.Stats
	}{
		{nil, task.Stats{Total: 6, Completed: 2, Pending: 4, Overdue: 1, DueToday: 3,
			ByPriority: map[task.Priority]int{task.PriorityLow: 1, task.PriorityMedium: 1, task.PriorityHigh: 2}}},
		{time.FixedZone("UTC+14", 14*3600), task.Stats{Total: 6, Completed: 2, Pending: 4, Overdue: 2, DueToday: 2,
			ByPriority: map[task.Priority]int{task.PriorityLow: 1, task.PriorityMedium: 1, task.PriorityHigh: 2}}},
	} {
		got := task.StatsOf(all, task.Moment{Now: now, Zone: tt.zone})
		if got.Total != tt.want.Total || got.Completed != tt.want.Completed || got.Pending != tt.want.Pending ||
			got.Overdue != tt.want.Overdue || got.DueToday != tt.want.DueToday || len(got.ByPriority) != 3 {
			t.Errorf("StatsOf(zone %v) = %+v, want %+v", tt.zone, got, tt.want)
		}
		for p, n := range tt.want.ByPriority {
			if got.ByPriority[p] != n {
				t.Errorf("StatsOf(zone %v).ByPriority[%s] = %d, want %d", tt.zone, p, got.ByPriority[p], n)
			}
		}
	}
	if got := task.StatsOf(nil, task.Moment{Now: now}); got.Total != 0 || len(got.ByPriority) != 3 {
		t.Errorf("StatsOf(none) = %+v, want zeros with every priority", got)
	}
}
