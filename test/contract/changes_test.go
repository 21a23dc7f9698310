package contract

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// feedStores are a task and a list repository and the change feed over
// one store.
type feedStores struct {
	stores
	feed application.ChangeLog
	// member gives user a membership of list l (on) or ends it: a
	// list_members row written directly (issue 19's membership use cases
	// sit above the stores).
	member func(t *testing.T, l list.ID, user auth.UserID, on bool)
	db     *bun.DB // the SQL stores' database (nil: memory)
	// members are the store's membership repository (share-core's
	// Invite/Accept/SetRole/Remove/Transfer).
	members list.Members
}

var changeStores = map[string]func(*testing.T) feedStores{
	"memory": func(*testing.T) feedStores {
		s := memory.NewStore()
		s.SetFeedCheck(true) // every commit also compared with the whole store
		return feedStores{stores{tasks: s.Tasks(), lists: s.Lists()}, s.Changes(), func(t *testing.T, l list.ID, user auth.UserID, on bool) {
			t.Helper()
			err := s.RemoveMember(context.Background(), l, user)
			if on {
				err = s.SetMember(context.Background(), l, user, list.RoleEditor)
			}
			if err != nil {
				t.Fatalf("member(%d, %s, %v) = %v", l, user, on, err)
			}
		}, nil, s.Members()}
	},
	"sqlite": func(t *testing.T) feedStores {
		db := openSQLiteDB(t)
		return feedStores{stores{tasks: sqlstore.NewTaskRepository(db), lists: sqlstore.NewListRepository(db)}, sqlstore.NewChangeLog(db), sqlMember(db), db, sqlstore.NewMemberRepository(db)}
	},
	"postgres": func(t *testing.T) feedStores {
		db := openPostgresDB(t)
		return feedStores{stores{tasks: sqlstore.NewTaskRepository(db), lists: sqlstore.NewListRepository(db)}, sqlstore.NewChangeLog(db), sqlMember(db), db, sqlstore.NewMemberRepository(db)}
	},
}

// sqlMember writes and deletes list_members rows on db.
func sqlMember(db *bun.DB) func(t *testing.T, l list.ID, user auth.UserID, on bool) {
	return func(t *testing.T, l list.ID, user auth.UserID, on bool) {
		t.Helper()
		ctx := context.Background()
		var err error
		if on {
			_, err = db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'editor', ?, ?)",
				int64(l), string(user), "u_inviter", time.Now().UTC())
		} else {
			_, err = db.ExecContext(ctx, "DELETE FROM list_members WHERE list_id = ? AND user_id = ?", int64(l), string(user))
		}
		if err != nil {
			t.Fatalf("member(%d, %s, %v) = %v", l, user, on, err)
		}
	}
}

// TestChangeFeed holds every store's change feed (issue 16) to its
// contract: each write numbered after the last, an entity once at its last
// number with its data as it is, trashed entities as upserts with their
// deletion time, tombstones for the purged, live snapshots, pages, the
// floor of a snapshot's later pages, Head, Prune and ErrChangesExpired.
func TestChangeFeed(t *testing.T) {
	t.Parallel()
	for name, open := range changeStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testChangeFeed(t, open(t))
		})
	}
}

// entry is a change as the test compares it.
type entry struct {
	Entity  application.Entity
	Op      application.Op
	ID      int64
	Deleted bool
}

func (e entry) String() string {
	d := ""
	if e.Deleted {
		d = " (trashed)"
	}
	return fmt.Sprintf("%s %s %d%s", e.Op, e.Entity, e.ID, d)
}

func entries(t *testing.T, p application.ChangePage) []entry {
	t.Helper()
	var out []entry
	var last application.Seq
	for _, c := range p.Changes {
		if c.Seq <= last {
			t.Fatalf("changes out of order: %d after %d", c.Seq, last)
		}
		last = c.Seq
		switch {
		case c.Op == application.OpDelete && (c.Task != nil || c.List != nil):
			t.Errorf("tombstone %s %d carries data", c.Entity, c.ID)
		case c.Op == application.OpUpsert && c.Entity == application.EntityTask && (c.Task == nil || int64(c.Task.ID()) != c.ID):
			t.Errorf("upsert of task %d carries %v", c.ID, c.Task)
		case c.Op == application.OpUpsert && c.Entity == application.EntityList && (c.List == nil || int64(c.List.List.ID()) != c.ID):
			t.Errorf("upsert of list %d carries %v", c.ID, c.List)
		}
		out = append(out, entry{c.Entity, c.Op, c.ID, c.Deleted != nil})
	}
	return out
}

func sortedEntries(es []entry) []entry {
	out := slices.Clone(es)
	slices.SortFunc(out, func(x, y entry) int {
		if x.Entity != y.Entity {
			return strings.Compare(string(x.Entity), string(y.Entity))
		}
		return int(x.ID - y.ID)
	})
	return out
}

func testChangeFeed(t *testing.T, s feedStores) {
	ctx := context.Background()
	tr := newTree(t, s.stores)
	owner := tr.owner
	read := func(since application.Seq, live bool) application.ChangePage {
		t.Helper()
		p, err := s.feed.Changes(ctx, owner, since, 1000, live)
		if err != nil {
			t.Fatalf("Changes(%d, live %v) = %v", since, live, err)
		}
		if k, ok := s.feed.(application.ChangeKeyReader); ok && !live {
			sameKeys(t, k, owner, since, p)
		}
		return p
	}
	head := func() application.Seq {
		t.Helper()
		h, err := s.feed.Head(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	want := func(step string, p application.ChangePage, w ...entry) {
		t.Helper()
		// Changes in one commit may come in any order: compared as sets.
		got := sortedEntries(entries(t, p))
		w = sortedEntries(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: changes %v, want %v", step, got, w)
		}
		if p.More {
			t.Errorf("%s: More with everything read", step)
		}
		if h := head(); p.Next != h || p.Head != h {
			t.Errorf("%s: Next %d, Head %d, want the head %d", step, p.Next, p.Head, h)
		}
	}
	task1 := func(id task.ID) entry { return entry{application.EntityTask, application.OpUpsert, int64(id), false} }
	list1 := func(id list.ID) entry { return entry{application.EntityList, application.OpUpsert, int64(id), false} }

	if h := head(); h != 0 {
		t.Fatalf("a new user's head is %d, want 0", h)
	}
	want("nothing yet", read(0, false))

	l := tr.list("Home")
	a := tr.add("a", lid(l), nil)
	b := tr.add("b", nil, nil)
	// Someone else's writes are not in owner's feed.
	other := newTree(t, s.stores)
	other.add("not yours", nil, nil)

	want("creates", read(0, false), list1(l), task1(a.ID()), task1(b.ID()))
	h1 := head()
	if h1 < 3 {
		t.Errorf("head after 3 changes is %d", h1)
	}

	// An edit of a's title: a alone (its list's counts did not change).
	if _, err := s.tasks.Update(ctx, owner, a.ID(), task.AnyVersion, func(tk *task.Task) error {
		return tk.Edit("a2", nil, tr.now())
	}); err != nil {
		t.Fatal(err)
	}
	p := read(h1, false)
	want("edit", p, task1(a.ID()))
	if p.Changes[0].Task.Title() != "a2" {
		t.Errorf("edit: the change carries %q, want the task as it is", p.Changes[0].Task.Title())
	}
	// Latest state: from 0, each entity once, a last.
	p = read(0, false)
	want("latest state", p, list1(l), task1(b.ID()), task1(a.ID()))
	if e := entries(t, p); e[len(e)-1] != task1(a.ID()) {
		t.Errorf("latest state: %v, want task %d last", e, a.ID())
	}

	// Completing a changes its list's counts: both, the list with them.
	h2 := head()
	if _, err := s.tasks.Update(ctx, owner, a.ID(), task.AnyVersion, func(tk *task.Task) error {
		tk.SetCompleted(true, tr.now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p = read(h2, false)
	got := entries(t, p)
	slices.SortFunc(got, func(x, y entry) int { return int(x.ID - y.ID) })
	if len(got) != 2 || !slices.Contains(got, task1(a.ID())) || !slices.Contains(got, list1(l)) {
		t.Errorf("complete: changes %v, want task %d and list %d", got, a.ID(), l)
	}
	for _, c := range p.Changes {
		if c.List != nil && c.List.Completed != 1 {
			t.Errorf("complete: the list's change says %d completed, want 1", c.List.Completed)
		}
	}

	// Trash b: an upsert with its deletion time; a live snapshot leaves it out.
	h3 := head()
	if err := s.tasks.Trash(ctx, owner, b.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	want("trash", read(h3, false), entry{application.EntityTask, application.OpUpsert, int64(b.ID()), true})
	snap := read(0, true)
	for _, e := range entries(t, snap) {
		if e.ID == int64(b.ID()) && e.Entity == application.EntityTask {
			t.Errorf("a live snapshot holds trashed task %d", b.ID())
		}
	}
	if snap.Next != head() {
		t.Errorf("snapshot: Next %d, want the head %d", snap.Next, head())
	}

	// Restore it: an upsert, live.
	h4 := head()
	if _, err := s.tasks.RestoreFromTrash(ctx, owner, b.ID()); err != nil {
		t.Fatal(err)
	}
	want("restore", read(h4, false), task1(b.ID()))

	// Delete it for good: a tombstone.
	h5 := head()
	if err := s.tasks.Delete(ctx, owner, b.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	want("purge", read(h5, false), entry{application.EntityTask, application.OpDelete, int64(b.ID()), false})
	for _, e := range entries(t, read(0, true)) {
		if e.Op != application.OpUpsert || e.Deleted {
			t.Errorf("a live snapshot holds %v", e)
		}
	}

	// A bulk create: one change per task.
	h6 := head()
	var many []*task.Task
	for i := range 5 {
		many = append(many, mustNewWith(t, owner, fmt.Sprint("bulk ", i), tr.now()))
	}
	added, err := s.tasks.AddAll(ctx, many)
	if err != nil {
		t.Fatal(err)
	}
	var wantBulk []entry
	for _, tk := range added {
		wantBulk = append(wantBulk, task1(tk.ID()))
	}
	got = entries(t, read(h6, false))
	slices.SortFunc(got, func(x, y entry) int { return int(x.ID - y.ID) })
	if !slices.Equal(got, wantBulk) {
		t.Errorf("bulk create: changes %v, want %v", got, wantBulk)
	}

	// Pages: limit 1 at a time, Next and More, the same as one read.
	all := entries(t, read(0, false))
	var paged []entry
	var since application.Seq
	for range 100 {
		p, err := s.feed.Changes(ctx, owner, since, 2, false)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, entries(t, p)...)
		if len(p.Changes) > 2 {
			t.Fatalf("a page of limit 2 holds %d", len(p.Changes))
		}
		since = p.Next
		if !p.More {
			break
		}
		if p.Next != p.Changes[len(p.Changes)-1].Seq {
			t.Errorf("Next %d is not the page's last change %d", p.Next, p.Changes[len(p.Changes)-1].Seq)
		}
	}
	if !slices.Equal(paged, all) {
		t.Errorf("paged %v, want %v", paged, all)
	}
	if since != head() {
		t.Errorf("the last page's Next %d, want the head %d", since, head())
	}

	// A snapshot's later pages (Floor at the head it began at): a task of
	// its first page trashed meanwhile reaches the reader; what was gone
	// before it began does not.
	first, err := s.feed.Read(ctx, owner, application.ChangeRead{Floor: application.MaxSeq}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !first.More {
		t.Fatal("a snapshot of several entities in pages of 1 has no More")
	}
	floor := first.Head
	var firstTask task.ID
	for _, tk := range added {
		firstTask = tk.ID()
		break
	}
	if err := s.tasks.Trash(ctx, owner, firstTask, task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	rest, err := s.feed.Read(ctx, owner, application.ChangeRead{Since: first.Next, Floor: floor}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries(t, rest) {
		if e.ID == int64(firstTask) && e.Entity == application.EntityTask {
			found = e.Deleted
		}
		if e.Op == application.OpDelete {
			t.Errorf("a snapshot's later page holds %v, purged before it began", e)
		}
	}
	if !found {
		t.Errorf("a snapshot's later page misses task %d, trashed after it began", firstTask)
	}

	// A list deleted for good, with its task: tombstones for both.
	h7 := head()
	if err := s.lists.Delete(ctx, owner, l, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	got = entries(t, read(h7, false))
	if !slices.Contains(got, entry{application.EntityList, application.OpDelete, int64(l), false}) ||
		!slices.Contains(got, entry{application.EntityTask, application.OpDelete, int64(a.ID()), false}) {
		t.Errorf("list delete: changes %v, want tombstones of list %d and task %d", got, l, a.ID())
	}
	for _, e := range got {
		if e.Entity == application.EntityList && e.Op == application.OpUpsert {
			t.Errorf("list delete: %v after its tombstone", e)
		}
	}

	// Prune: the tombstones go; a read from before them is expired, one
	// from the head and a live snapshot are not.
	h8 := head()
	n, err := s.feed.Prune(ctx, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Errorf("Prune removed %d tombstones, want 3 or more", n)
	}
	if _, err := s.feed.Changes(ctx, owner, h5, 10, false); !errors.Is(err, application.ErrChangesExpired) {
		t.Errorf("Changes from before pruned tombstones = %v, want ErrChangesExpired", err)
	}
	if _, err := s.feed.Changes(ctx, owner, h8, 10, false); err != nil {
		t.Errorf("Changes from the head after Prune = %v", err)
	}
	if _, err := s.feed.Changes(ctx, owner, 0, 10, true); err != nil {
		t.Errorf("a live snapshot after Prune = %v", err)
	}
	if head() != h8 {
		t.Errorf("Prune moved the head from %d to %d", h8, head())
	}
}

// sameKeys holds a store's ChangeKeys (live events read the feed without
// data) to its Changes: the same entries in the same order, Next and More,
// and a page of one the first of them.
func sameKeys(t *testing.T, k application.ChangeKeyReader, owner auth.UserID, since application.Seq, want application.ChangePage) {
	t.Helper()
	key := func(c application.Change) string { return fmt.Sprintf("%d %s %s %d", c.Seq, c.Entity, c.Op, c.ID) }
	got, err := k.ChangeKeys(context.Background(), owner, since, 1000)
	if err != nil {
		t.Fatalf("ChangeKeys(%d) = %v", since, err)
	}
	if !slices.Equal(mapKeys(got.Changes, key), mapKeys(want.Changes, key)) || got.Next != want.Next || got.More != want.More {
		t.Errorf("ChangeKeys(%d) = %v next %d more %v, Changes %v next %d more %v", since,
			mapKeys(got.Changes, key), got.Next, got.More, mapKeys(want.Changes, key), want.Next, want.More)
	}
	one, err := k.ChangeKeys(context.Background(), owner, since, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Changes) > 0 && (len(one.Changes) != 1 || key(one.Changes[0]) != key(want.Changes[0]) ||
		one.More != (len(want.Changes) > 1) || one.More && one.Next != want.Changes[0].Seq) {
		t.Errorf("ChangeKeys(%d, limit 1) = %+v, want %s first", since, one, key(want.Changes[0]))
	}
}

func mapKeys(cs []application.Change, f func(application.Change) string) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = f(c)
	}
	return out
}
