package contract

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// TestChangeFeedMembers holds every store's feed to issue 19: a member of
// a shared list gets, in its own sequence and in commit order, the list
// and its tasks when it joins (the trash too), every later change of them,
// a tombstone for a task moved out of the list, tombstones for everything
// of the list when it leaves and nothing after; the owner's other data
// never reaches it. A client that applies the member's pages as they come
// ends with exactly what a fresh snapshot shows.
func TestChangeFeedMembers(t *testing.T) {
	t.Parallel()
	for name, open := range changeStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testChangeFeedMembers(t, open(t))
		})
	}
}

func testChangeFeedMembers(t *testing.T, s feedStores) {
	ctx := context.Background()
	tr := newTree(t, s.stores)
	owner, m := tr.owner, newOwner()
	read := func(u auth.UserID, since application.Seq, live bool) application.ChangePage {
		t.Helper()
		p, err := s.feed.Changes(ctx, u, since, 1000, live)
		if err != nil {
			t.Fatalf("Changes(%s, %d, live %v) = %v", u, since, live, err)
		}
		if k, ok := s.feed.(application.ChangeKeyReader); ok && !live {
			sameKeys(t, k, u, since, p)
		}
		return p
	}
	head := func(u auth.UserID) application.Seq {
		t.Helper()
		h, err := s.feed.Head(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	want := func(step string, p application.ChangePage, w ...entry) {
		t.Helper()
		if got := sortedEntries(entries(t, p)); !slices.Equal(got, sortedEntries(w)) {
			t.Errorf("%s: changes %v, want %v", step, got, sortedEntries(w))
		}
	}
	up := func(id task.ID) entry { return entry{application.EntityTask, application.OpUpsert, int64(id), false} }
	upTrashed := func(id task.ID) entry { return entry{application.EntityTask, application.OpUpsert, int64(id), true} }
	del := func(id task.ID) entry { return entry{application.EntityTask, application.OpDelete, int64(id), false} }
	upList := func(id list.ID) entry { return entry{application.EntityList, application.OpUpsert, int64(id), false} }
	delList := func(id list.ID) entry { return entry{application.EntityList, application.OpDelete, int64(id), false} }

	// The member's client: it takes a snapshot, then applies small pages
	// after each step; at the end it must hold what a fresh snapshot shows.
	client := feedState{}
	cursor := application.ChangeRead{Floor: application.MaxSeq}
	sync := func() {
		t.Helper()
		for {
			p, err := s.feed.Read(ctx, m, cursor, 2)
			if err != nil {
				t.Fatalf("client read: %v", err)
			}
			client.apply(p.Changes)
			next := application.ChangeRead{Since: p.Next, Floor: p.Next}
			if p.More && cursor.Floor > p.Next { // as application.Service.Changes pages a snapshot
				next.Floor = max(min(cursor.Floor, p.Head), p.Next)
			}
			cursor = next
			if !p.More {
				return
			}
		}
	}
	// What a client holds of the live data must be what a fresh snapshot
	// shows.
	check := func(step string) {
		t.Helper()
		live := maps.Clone(client)
		maps.DeleteFunc(live, func(_, v string) bool { return strings.Contains(v, " trashed ") })
		if snap := snapshotState(t, s.feed, m); !maps.Equal(live, snap) {
			t.Errorf("%s: the member's client holds %v, a fresh snapshot %v", step, live, snap)
		}
	}
	update := func(id task.ID, fn func(*task.Task) error) {
		t.Helper()
		if _, err := s.tasks.Update(ctx, owner, id, task.AnyVersion, fn); err != nil {
			t.Fatal(err)
		}
	}

	shared, private := tr.list("Groceries"), tr.list("Private")
	a := tr.add("milk", lid(shared), nil)
	b := tr.add("eggs", lid(shared), nil)
	if err := s.tasks.Trash(ctx, owner, b.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	c := tr.add("secret", lid(private), nil)
	tr.add("inbox", nil, nil)
	sync()
	if h := head(m); h != 0 || len(client) != 0 {
		t.Fatalf("before joining: head %d, client %v, want nothing", h, client)
	}

	ho := head(owner)
	s.member(t, shared, m, true)
	p := read(m, 0, false)
	want("join", p, upList(shared), up(a.ID()), upTrashed(b.ID()))
	for _, ch := range p.Changes {
		if ch.Task != nil && ch.Task.Owner() != owner {
			t.Errorf("join: task %d carries owner %s, want %s", ch.ID, ch.Task.Owner(), owner)
		}
		if ch.List != nil && (ch.List.Open != 1 || ch.List.List.Owner() != owner) {
			t.Errorf("join: the list carries %d open, owner %s; want 1, %s", ch.List.Open, ch.List.List.Owner(), owner)
		}
	}
	want("join, snapshot", read(m, 0, true), upList(shared), up(a.ID()))
	if h := head(owner); h != ho {
		t.Errorf("a membership moved the owner's head from %d to %d", ho, h)
	}
	sync()

	// The owner's writes reach the member in order, in its own sequence.
	hm := head(m)
	update(a.ID(), func(tk *task.Task) error { tk.SetCompleted(true, tr.now()); return nil })
	p = read(m, hm, false)
	want("toggle", p, up(a.ID()), upList(shared))
	if p.Changes[0].Seq <= hm || p.Next != head(m) {
		t.Errorf("toggle: seqs %v after %d, next %d, head %d", p.Changes, hm, p.Next, head(m))
	}
	hm = head(m)
	e := tr.add("bread", lid(shared), nil)
	want("create", read(m, hm, false), up(e.ID()), upList(shared))
	sync()
	check("writes")
	hm = head(m)
	update(c.ID(), func(tk *task.Task) error { return tk.Edit("secret2", nil, tr.now()) })
	if h := head(m); h != hm {
		t.Errorf("an edit of a task of an unshared list moved the member's head from %d to %d", hm, h)
	}

	// Moved out of the shared list: a tombstone for the member, an upsert
	// for the owner.
	hm, ho = head(m), head(owner)
	inbox := list.Inbox
	tr.move([]task.ID{a.ID()}, task.Placement{List: &inbox})
	want("move out", read(m, hm, false), del(a.ID()), upList(shared))
	if got := entries(t, read(owner, ho, false)); !slices.Contains(got, up(a.ID())) {
		t.Errorf("move out: the owner's feed %v lacks task %d", got, a.ID())
	}
	// Moved back in: an upsert again.
	hm = head(m)
	tr.move([]task.ID{a.ID()}, task.Placement{List: lid(shared)})
	want("move in", read(m, hm, false), up(a.ID()), upList(shared))
	sync()
	check("moves")

	// Leaving: tombstones for the list and all its tasks, then nothing.
	hm = head(m)
	s.member(t, shared, m, false)
	want("leave", read(m, hm, false), delList(shared), del(a.ID()), del(b.ID()), del(e.ID()))
	want("leave, snapshot", read(m, 0, true))
	sync()
	if len(client) != 0 {
		t.Errorf("after leaving the client holds %v", client)
	}
	hm = head(m)
	update(e.ID(), func(tk *task.Task) error { return tk.Edit("bread2", nil, tr.now()) })
	tr.add("butter", lid(shared), nil)
	if h := head(m); h != hm {
		t.Errorf("writes after leaving moved the member's head from %d to %d", hm, h)
	}

	// Back again, and the owner deletes the list for good: tombstones.
	s.member(t, shared, m, true)
	sync()
	check("rejoined")
	if len(client) != 5 { // the list, milk, eggs (trashed), bread, butter
		t.Errorf("after rejoining the client holds %v, want the list and 4 tasks", client)
	}
	hm = head(m)
	if err := s.lists.Delete(ctx, owner, shared, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	p = read(m, hm, false)
	for _, ch := range p.Changes {
		if ch.Op != application.OpDelete {
			t.Errorf("list deleted for good: the member got %s %s %d", ch.Op, ch.Entity, ch.ID)
		}
	}
	if got := entries(t, p); !slices.Contains(got, delList(shared)) || !slices.Contains(got, del(e.ID())) {
		t.Errorf("list deleted for good: the member got %v, want tombstones for list %d and task %d", got, shared, e.ID())
	}
	sync()
	check("list deleted")
	if len(client) != 0 {
		t.Errorf("after the list's deletion the member's client holds %v", client)
	}
}

// snapshotState is u's live state as a fresh snapshot shows it.
func snapshotState(t *testing.T, feed application.ChangeLog, u auth.UserID) feedState {
	t.Helper()
	st := feedState{}
	r := application.ReadFloor(0, true)
	for {
		p, err := feed.Read(context.Background(), u, r, application.MaxChangesLimit)
		if err != nil {
			t.Fatalf("snapshot of %s: %v", u, err)
		}
		st.apply(p.Changes)
		if !p.More {
			return st
		}
		r = application.ChangeRead{Since: p.Next, Floor: application.MaxSeq}
	}
}

// TestChangeFeedTransfer: a list handed over in one transaction, as
// SHARING.md decides (lists.user_id and the tasks' user_id move to the new
// owner, the old owner becomes an admin member, the new owner's
// membership goes), leaves the list and its tasks in the snapshot of the
// old owner, the new owner and another member: nothing lost. SQL stores
// (the memory store has no transfer yet).
func TestChangeFeedTransfer(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := changeStores[name](t)
			ctx := context.Background()
			tr := newTree(t, s.stores)
			oldOwner, newOwnerID, other := tr.owner, newOwner(), newOwner()
			l := tr.list("Groceries")
			a := tr.add("milk", lid(l), nil)
			s.member(t, l, newOwnerID, true)
			s.member(t, l, other, true)
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"UPDATE lists SET user_id = ? WHERE id = ?", []any{string(newOwnerID), int64(l)}},
				{"UPDATE tasks SET user_id = ? WHERE list_id = ?", []any{string(newOwnerID), int64(l)}},
				{"INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'admin', ?, ?)",
					[]any{int64(l), string(oldOwner), string(newOwnerID), time.Now().UTC()}},
				{"DELETE FROM list_members WHERE list_id = ? AND user_id = ?", []any{int64(l), string(newOwnerID)}},
			} {
				if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
					_ = tx.Rollback()
					t.Fatalf("%s: %v", q.sql, err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			for _, u := range []auth.UserID{oldOwner, newOwnerID, other} {
				snap := snapshotState(t, s.feed, u)
				if _, ok := snap[fmt.Sprintf("list %d", l)]; !ok {
					t.Errorf("after the transfer %s's snapshot lacks the list: %v", u, snap)
				}
				if got, ok := snap[fmt.Sprintf("task %d", a.ID())]; !ok {
					t.Errorf("after the transfer %s's snapshot lacks the task: %v", u, snap)
				} else if !strings.Contains(got, `"milk"`) {
					t.Errorf("after the transfer %s's snapshot has the task as %s", u, got)
				}
			}
		})
	}
}

// TestChangeFeedTransferRepository: the membership repository's own
// mutations on every store are seen by the feed. Transfer (one
// transaction: the new owner's membership row, the lists' and tasks' owner,
// the old owner's admin row) keeps the list and its tasks in the
// snapshots of the old owner, the new owner and another member; SetRole
// numbers the list again in the member's feed; Remove leaves the removed
// member a snapshot without the list and its tasks, while the others keep
// them.
func TestChangeFeedTransferRepository(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"memory", "sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := changeStores[name](t)
			ctx := context.Background()
			tr := newTree(t, s.stores)
			oldOwner, newOwnerID, other := tr.owner, newOwner(), newOwner()
			l := tr.list("Groceries")
			a := tr.add("milk", lid(l), nil)
			s.member(t, l, newOwnerID, true)
			s.member(t, l, other, true)
			if err := s.members.Transfer(ctx, l, newOwnerID, time.Now()); err != nil {
				t.Fatalf("Transfer: %v", err)
			}
			listKey, taskKey := fmt.Sprintf("list %d", l), fmt.Sprintf("task %d", a.ID())
			for _, u := range []auth.UserID{oldOwner, newOwnerID, other} {
				snap := snapshotState(t, s.feed, u)
				if _, ok := snap[listKey]; !ok {
					t.Errorf("after the transfer %s's snapshot lacks the list: %v", u, snap)
				}
				if got, ok := snap[taskKey]; !ok {
					t.Errorf("after the transfer %s's snapshot lacks the task: %v", u, snap)
				} else if !strings.Contains(got, `"milk"`) {
					t.Errorf("after the transfer %s's snapshot has the task as %s", u, got)
				}
				if o := taskOwnerInFeed(t, s.feed, u, a.ID()); o != newOwnerID {
					t.Errorf("after the transfer %s's feed has the task owned by %q, want %s", u, o, newOwnerID)
				}
			}
			before, err := s.feed.Head(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.members.SetRole(ctx, l, other, list.RoleViewer); err != nil {
				t.Fatalf("SetRole: %v", err)
			}
			if after, err := s.feed.Head(ctx, other); err != nil || after <= before {
				t.Errorf("SetRole: the member's head %d -> %d (%v), want it moved", before, after, err)
			}
			if err := s.members.Remove(ctx, l, other); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			snap := snapshotState(t, s.feed, other)
			if _, ok := snap[listKey]; ok {
				t.Errorf("after its removal %s's snapshot still has the list: %v", other, snap)
			}
			if _, ok := snap[taskKey]; ok {
				t.Errorf("after its removal %s's snapshot still has the task: %v", other, snap)
			}
			for _, u := range []auth.UserID{oldOwner, newOwnerID} {
				if snap := snapshotState(t, s.feed, u); snap[listKey] == "" || snap[taskKey] == "" {
					t.Errorf("after another member's removal %s's snapshot lacks the list or task: %v", u, snap)
				}
			}
		})
	}
}

// taskOwnerInFeed is the owner of task id in the last upsert of it in u's
// feed ("" when none).
func taskOwnerInFeed(t *testing.T, feed application.ChangeLog, u auth.UserID, id task.ID) auth.UserID {
	t.Helper()
	var owner auth.UserID
	r := application.ReadFloor(0, true)
	for {
		p, err := feed.Read(context.Background(), u, r, application.MaxChangesLimit)
		if err != nil {
			t.Fatalf("feed of %s: %v", u, err)
		}
		for _, ch := range p.Changes {
			if ch.Entity == application.EntityTask && ch.ID == int64(id) {
				owner = ""
				if ch.Task != nil {
					owner = ch.Task.Owner()
				}
			}
		}
		if !p.More {
			return owner
		}
		r = application.ChangeRead{Since: p.Next, Floor: application.MaxSeq}
	}
}

// TestTransferWaitsForNewOwnersWrite (PostgreSQL): a transfer that meets a
// write of the new owner in flight (it holds the new owner's scope lock
// and then takes the new owner's change head, as every write's feed
// trigger does) waits for it and both succeed: the transfer takes no
// change head before its scope locks. It deadlocked (40P01) when the
// membership row's DELETE, whose feed trigger numbers tombstones for the
// new owner, came before the scope locks.
func TestTransferWaitsForNewOwnersWrite(t *testing.T) {
	t.Parallel()
	s := changeStores["postgres"](t)
	ctx := context.Background()
	tr := newTree(t, s.stores)
	to := newOwner()
	l := tr.list("Groceries")
	tr.add("milk", lid(l), nil)
	s.member(t, l, to, true) // the new owner's head row exists now

	// The new owner's write: its scope lock first.
	w, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Rollback() }()
	var pid int
	if err := w.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "todo-backend scope "+string(to)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.members.Transfer(ctx, l, to, time.Now()) }()
	// Until the transfer waits for the write (no time assumed: it must
	// come to wait for the scope lock).
	for {
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks AS l WHERE NOT l.granted AND ? = ANY(pg_blocking_pids(l.pid))", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the transfer ended (%v) without waiting for the new owner's write", err)
		default:
		}
		runtime.Gosched()
	}
	// The write's feed trigger takes the new owner's change head.
	if _, err := w.ExecContext(ctx, "UPDATE change_heads SET seq = seq WHERE user_id = ?", string(to)); err != nil {
		t.Fatalf("the new owner's write: %v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("the new owner's write: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Transfer: %v", err)
	}
}
