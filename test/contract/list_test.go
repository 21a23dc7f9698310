package contract

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // zones in the queries, whatever the machine has

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// TestTaskList holds every store's List, Tags and Stats to the domain's
// reference (task.Query.Apply, task.StatsOf): same tasks, same order, same
// tie-breaks, same totals and pages, for each parameter and for the
// combinations the list endpoint allows. Since each store equals the
// reference, the stores equal one another.
func TestTaskList(t *testing.T) {
	t.Parallel()
	for name, open := range taskStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, task.Repository)
			}{
				{"details round-trip", testDetailsRoundTrip},
				{"every query matches the reference", testQueriesMatchReference},
				{"pages match the reference", testPagesMatchReference},
				{"tags and stats match the reference", testTagsAndStats},
				{"paging is stable under inserts", testPagingUnderInserts},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, repo)
				})
			}
		})
	}
}

func mustDue(t *testing.T, s string) task.Due {
	t.Helper()
	d, err := task.ParseDue("due_date", s)
	if err != nil {
		t.Fatalf("ParseDue(%q) = %v", s, err)
	}
	return d
}

// diffDetails lists how got's attributes of issue 5 differ from want's.
func diffDetails(got, want *task.Task) []string {
	var d []string
	if got.Priority() != want.Priority() {
		d = append(d, fmt.Sprintf("priority %s != %s", got.Priority(), want.Priority()))
	}
	if !got.Due().Equal(want.Due()) {
		d = append(d, fmt.Sprintf("due %q (all-day %v) != %q", got.Due(), got.Due().AllDay(), want.Due()))
	}
	if !slices.Equal(got.Tags(), want.Tags()) {
		d = append(d, fmt.Sprintf("tags %q != %q", got.Tags(), want.Tags()))
	}
	g, w := got.CompletedAt(), want.CompletedAt()
	if (g == nil) != (w == nil) || g != nil && (!g.Equal(*w) || g.Location() != time.UTC) {
		d = append(d, fmt.Sprintf("completed_at %v != %v", g, w))
	}
	return append(d, diffTask(got, want)...)
}

func checkFull(t *testing.T, op string, got, want *task.Task) {
	t.Helper()
	if d := diffDetails(got, want); len(d) > 0 {
		t.Errorf("%s differs: %s", op, strings.Join(d, "; "))
	}
}

func testDetailsRoundTrip(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner := newOwner()
	for _, opts := range [][]task.Option{
		nil,
		{task.WithPriority("high"), task.WithDue("2026-03-01"), task.WithTags([]string{"Home", "work", "日本語", "x%_y"})},
		{task.WithPriority("LOW"), task.WithDue("2026-03-01T12:30:00.123456+02:00")},
		{task.WithDue("0001-01-01"), task.WithTags([]string{strings.Repeat("é", task.MaxTagLen)})},
		{task.WithDue("9999-12-31T23:59:59.999999Z")},
	} {
		in, err := task.New(owner, "details", nil, base, opts...)
		if err != nil {
			t.Fatal(err)
		}
		added := mustAdd(t, repo, in)
		checkFull(t, "Add", added, in.WithID(added.ID()))
		checkFull(t, "Get(added)", mustGet(t, repo, owner, added.ID()), added)

		// Change every attribute, then clear them.
		later := base.Add(time.Hour)
		for _, change := range [][]task.Option{
			{task.WithPriority("medium"), task.WithDue("2026-04-01T08:00:00Z"), task.WithTags([]string{"b", "a"})},
			{task.WithDue(""), task.WithTags(nil)},
		} {
			got, err := repo.Update(ctx, owner, added.ID(), task.AnyVersion, func(tk *task.Task) error {
				tk.SetCompleted(!tk.Completed(), later)
				return tk.Edit(tk.Title(), nil, later, change...)
			})
			if err != nil {
				t.Fatalf("Update() = %v", err)
			}
			checkFull(t, "Get(updated)", mustGet(t, repo, owner, added.ID()), got)
			later = later.Add(time.Hour)
		}
	}
	// A failed update leaves the tags as they were.
	tk := mustAdd(t, repo, mustNewWith(t, owner, "keep tags", base, task.WithTags([]string{"keep"})))
	if _, err := repo.Update(ctx, owner, tk.ID(), task.AnyVersion, func(tk *task.Task) error {
		return tk.Edit("", nil, base, task.WithTags([]string{"lost"}))
	}); err == nil {
		t.Fatal("Update(invalid) = nil error")
	}
	checkFull(t, "Get(after failed update)", mustGet(t, repo, owner, tk.ID()), tk)
	// Deleting a task deletes its tags.
	if err := repo.Delete(ctx, owner, tk.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	tags, err := repo.Tags(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tags {
		if tc.Name == "keep" {
			t.Errorf("Tags() after Delete = %+v, still has the deleted task's tag", tags)
		}
	}
}

func mustNewWith(t *testing.T, owner auth.UserID, title string, at time.Time, opts ...task.Option) *task.Task {
	t.Helper()
	tk, err := task.New(owner, title, nil, at, opts...)
	if err != nil {
		t.Fatalf("task.New(%q) = %v", title, err)
	}
	return tk
}

// dataset adds a varied list for a fresh owner: equal creation times,
// titles equal but for case, non-ASCII, LIKE wildcards in the text, every
// priority, all-day and timed due dates (some on the same key), none,
// tags in several spellings, completed tasks. It returns the stored tasks
// as the store hands them back after the last change.
func dataset(t *testing.T, repo task.Repository) (auth.UserID, []*task.Task) {
	t.Helper()
	ctx := context.Background()
	owner := newOwner()
	titles := []string{"apple", "Apple", "banana", "Älpler", "älpler", "cherry pie", "100% juice", "a_b", "zebra", "Éclair"}
	descs := []string{"", "buy MILK", "milk_shake", "50% off", "ÉCOLE", "nothing"}
	dues := []string{"", "2026-01-05", "2026-01-05T00:00:00Z", "2026-01-05T09:30:00Z", "2026-01-04", "2026-01-06",
		"2026-01-05T23:30:00Z", "2026-01-04T23:30:00-08:00", ""}
	tagSets := [][]string{nil, {"home"}, {"Home", "work"}, {"WORK"}, {"errands", "home"}, {"日本"}, {"x"}}
	prios := []string{"low", "medium", "high"}
	var out []*task.Task
	for i := range 40 {
		var desc *string
		if d := descs[i%len(descs)]; d != "" {
			desc = &d
		}
		opts := []task.Option{
			task.WithPriority(prios[(i*7)%3]),
			task.WithDue(dues[i%len(dues)]),
			task.WithTags(tagSets[i%len(tagSets)]),
		}
		// Creation times repeat every 6 tasks: ties broken by id.
		created := base.Add(time.Duration(i%6) * time.Second)
		tk, err := task.New(owner, titles[i%len(titles)], desc, created, opts...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, mustAdd(t, repo, tk))
	}
	for i, tk := range out {
		if i%3 != 1 {
			continue
		}
		done, err := repo.Update(ctx, owner, tk.ID(), task.AnyVersion, func(tk *task.Task) error {
			tk.SetCompleted(true, base.Add(time.Hour+time.Duration(i%4)*time.Minute))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = done
	}
	// Another owner's tasks, which no query may return.
	mustAdd(t, repo, mustNewWith(t, newOwner(), "apple", base, task.WithTags([]string{"home"})))
	return owner, out
}

// listQueries are the filters of the list endpoint, alone and combined.
func listQueries(t *testing.T) []task.Query {
	t.Helper()
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	kiritimati, _ := time.LoadLocation("Pacific/Kiritimati")
	la, _ := time.LoadLocation("America/Los_Angeles")
	yes, no := true, false
	st := func(s ...task.Status) []task.Status { return s }
	return []task.Query{
		{},
		{Statuses: st(task.StatusPending)},
		{Statuses: st(task.StatusCompleted)},
		{Statuses: st(task.StatusPending, task.StatusCompleted)},
		{Priorities: []task.Priority{task.PriorityHigh}},
		{Priorities: []task.Priority{task.PriorityLow, task.PriorityMedium}},
		{Tags: []string{"home"}},
		{Tags: []string{"HOME", "Work"}},
		{Tags: []string{"home", "work"}, TagsMatch: task.MatchAll},
		{Tags: []string{"日本", "nothing"}, TagsMatch: task.MatchAll},
		{Search: "apple"},
		{Search: "MILK"},
		{Search: "%"},
		{Search: "_"},
		{Search: "älp"},
		{Search: "éCOLE"},
		{Search: "a"},
		{DueFrom: mustDue(t, "2026-01-05")},
		{DueTo: mustDue(t, "2026-01-05")},
		{DueFrom: mustDue(t, "2026-01-05"), DueTo: mustDue(t, "2026-01-05")},
		{DueFrom: mustDue(t, "2026-01-05T00:00:00Z"), DueTo: mustDue(t, "2026-01-05T09:30:00Z")},
		{DueFrom: mustDue(t, "2026-01-05"), DueTo: mustDue(t, "2026-01-05"), Zone: la},
		{DueFrom: mustDue(t, "2026-01-06"), DueTo: mustDue(t, "2026-01-04")},
		{Overdue: &yes, Now: now},
		{Overdue: &no, Now: now},
		{Overdue: &yes, Now: now, Zone: kiritimati},
		{Overdue: &yes, Now: now, Zone: la},
		{Statuses: st(task.StatusCompleted), Overdue: &yes, Now: now},
		{Statuses: st(task.StatusPending), Priorities: []task.Priority{task.PriorityHigh}, Tags: []string{"home"}},
		{Search: "a", Tags: []string{"work"}, DueFrom: mustDue(t, "2026-01-04")},
		{Statuses: st(task.StatusPending), Overdue: &no, Now: now, Search: "e"},
	}
}

func testQueriesMatchReference(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner, all := dataset(t, repo)
	for i, base := range listQueries(t) {
		for _, s := range task.Sorts() {
			for _, o := range []task.Order{task.OrderAsc, task.OrderDesc} {
				q := base
				q.Sort, q.Order = s, o
				ref, err := q.Normalized()
				if err != nil {
					t.Fatalf("query %d: Normalized() = %v", i, err)
				}
				want := ref.Apply(all)
				got, err := repo.List(ctx, owner, q)
				if err != nil {
					t.Fatalf("query %d %s %s: List() = %v", i, s, o, err)
				}
				if !slices.Equal(ids(got.Tasks), ids(want.Tasks)) || got.Total != want.Total || got.Next != nil {
					t.Errorf("query %d (%+v) %s %s: List() = %v (total %d), want %v (total %d)",
						i, base, s, o, ids(got.Tasks), got.Total, ids(want.Tasks), want.Total)
					continue
				}
				for j := range got.Tasks {
					checkFull(t, fmt.Sprintf("query %d List()[%d]", i, j), got.Tasks[j], want.Tasks[j])
				}
			}
		}
	}
}

// testPagesMatchReference walks pages (by cursor, and by offset) and holds
// each page, its total and its cursor to the reference.
func testPagesMatchReference(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner, all := dataset(t, repo)
	queries := listQueries(t)
	for _, base := range []task.Query{queries[0], queries[1], queries[7], queries[17], queries[24]} {
		for _, s := range task.Sorts() {
			for _, o := range []task.Order{task.OrderAsc, task.OrderDesc} {
				q := base
				q.Sort, q.Order, q.Limit = s, o, 7
				ref, err := q.Normalized()
				if err != nil {
					t.Fatal(err)
				}
				for page := 0; page < 10; page++ {
					want := ref.Apply(all)
					got, err := repo.List(ctx, owner, q)
					if err != nil {
						t.Fatalf("%s %s page %d: List() = %v", s, o, page, err)
					}
					if !slices.Equal(ids(got.Tasks), ids(want.Tasks)) || got.Total != want.Total || (got.Next == nil) != (want.Next == nil) ||
						got.Next != nil && *got.Next != *want.Next {
						t.Errorf("%+v %s %s page %d: List() = %v total %d next %+v, want %v total %d next %+v",
							base, s, o, page, ids(got.Tasks), got.Total, got.Next, ids(want.Tasks), want.Total, want.Next)
						break
					}
					if got.Next == nil {
						break
					}
					q.After, ref.After = got.Next, got.Next
				}
				// Offset pages, as old clients ask for them.
				q.After, ref.After = nil, nil
				q.Offset, ref.Offset = 9, 9
				want := ref.Apply(all)
				got, err := repo.List(ctx, owner, q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(got.Tasks), ids(want.Tasks)) || got.Total != want.Total || (got.Next == nil) != (want.Next == nil) {
					t.Errorf("%+v %s %s offset 9: List() = %v total %d, want %v total %d", base, s, o, ids(got.Tasks), got.Total, ids(want.Tasks), want.Total)
				}
			}
		}
	}
}

func testTagsAndStats(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner, all := dataset(t, repo)
	// The reference of Tags: by key, the smallest spelling, the count.
	byKey := map[string]task.TagCount{}
	for _, tk := range all {
		for _, tag := range tk.Tags() {
			k := task.TagKey(tag)
			c, ok := byKey[k]
			if !ok || tag < c.Name {
				c.Name = tag
			}
			c.Count++
			byKey[k] = c
		}
	}
	var want []task.TagCount
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		want = append(want, byKey[k])
	}
	got, err := repo.Tags(ctx, owner)
	if err != nil {
		t.Fatalf("Tags() = %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Tags() = %+v, want %+v", got, want)
	}
	if got, err := repo.Tags(ctx, newOwner()); err != nil || len(got) != 0 {
		t.Errorf("Tags(new owner) = %+v, %v, want none", got, err)
	}

	kiritimati, _ := time.LoadLocation("Pacific/Kiritimati")
	la, _ := time.LoadLocation("America/Los_Angeles")
	for _, m := range []task.Moment{
		{Now: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)},
		{Now: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC), Zone: kiritimati},
		{Now: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC), Zone: la},
		{Now: time.Date(2026, 1, 5, 23, 30, 0, 0, time.UTC), Zone: la},
		{Now: time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)},
	} {
		want := task.StatsOf(all, m)
		got, err := repo.Stats(ctx, owner, m, nil)
		if err != nil {
			t.Fatalf("Stats() = %v", err)
		}
		if got.Total != want.Total || got.Completed != want.Completed || got.Pending != want.Pending ||
			got.Overdue != want.Overdue || got.DueToday != want.DueToday || !equalCounts(got.ByPriority, want.ByPriority) {
			t.Errorf("Stats(%v in %v) = %+v, want %+v", m.Now, m.Zone, got, want)
		}
		if want.Overdue == 0 && want.DueToday == 0 && m.Now.Day() == 5 {
			t.Errorf("Stats(%v in %v): the dataset should make overdue and due today count something", m.Now, m.Zone)
		}
	}
	if got, err := repo.Stats(ctx, newOwner(), task.Moment{Now: base}, nil); err != nil || got.Total != 0 || len(got.ByPriority) != 3 {
		t.Errorf("Stats(new owner) = %+v, %v, want zeros for every priority", got, err)
	}
}

func equalCounts(a, b map[task.Priority]int) bool {
	for _, p := range task.Priorities() {
		if a[p] != b[p] {
			return false
		}
	}
	return len(a) == len(b)
}

// testPagingUnderInserts walks 1,000 tasks in pages of 37 in several
// orders, adding tasks between pages (at the end, the start and in the
// middle of each order), and finds every pre-existing task exactly once.
func testPagingUnderInserts(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner := newOwner()
	rng := rand.New(rand.NewPCG(1, 2))
	dues := []string{"", "2026-02-01", "2026-02-01T10:00:00Z", "2026-03-01", ""}
	before := map[task.ID]bool{}
	add := func(at time.Time) *task.Task {
		tk := mustNewWith(t, owner, "task "+strconv.Itoa(rng.IntN(500)), at,
			task.WithPriority([]string{"low", "medium", "high"}[rng.IntN(3)]),
			task.WithDue(dues[rng.IntN(len(dues))]))
		return mustAdd(t, repo, tk)
	}
	for i := range 1000 {
		before[add(base.Add(time.Duration(i/3)*time.Second)).ID()] = true
	}
	for _, q := range []task.Query{
		{Sort: task.SortCreated},
		{Sort: task.SortTitle},
		{Sort: task.SortDue, Order: task.OrderDesc},
		{Sort: task.SortPriority},
	} {
		q.Limit = 37
		seen := map[task.ID]int{}
		pages := 0
		for ; pages < 100; pages++ {
			page, err := repo.List(ctx, owner, q)
			if err != nil {
				t.Fatalf("%s: List() = %v", q.Sort, err)
			}
			for _, tk := range page.Tasks {
				seen[tk.ID()]++
			}
			if page.Next == nil {
				break
			}
			q.After = page.Next
			// Tasks created before, among and after the others.
			for _, at := range []time.Time{base.Add(-time.Hour), base.Add(time.Duration(rng.IntN(333)) * time.Second), base.Add(time.Hour)} {
				add(at)
			}
		}
		missing, repeated := 0, 0
		for id := range before {
			switch seen[id] {
			case 0:
				missing++
			case 1:
			default:
				repeated++
			}
		}
		if missing > 0 || repeated > 0 || pages < 1000/37 {
			t.Errorf("%s %s: walking %d pages, %d pre-existing tasks missed and %d seen twice, want none", q.Sort, q.Order, pages, missing, repeated)
		}
	}
}
