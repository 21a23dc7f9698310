package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/user"
)

// sharersDB is a migrated SQLite database with a list of "u_owner" and a
// membership of "u_old" on it.
func sharersDB(t *testing.T) (*bun.DB, list.ID) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	l, err := list.New("u_owner", "Groceries", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := NewListRepository(db).Add(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	id := sum.List.ID()
	if _, err := db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, 'u_old', 'viewer', 'u_owner', ?)",
		int64(id), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	return db, id
}

func mayRead(t *testing.T, s *Sharers, u auth.UserID) bool {
	t.Helper()
	ok, err := s.MayRead(context.Background(), u)
	if err != nil {
		t.Fatalf("MayRead(%q): %v", u, err)
	}
	return ok
}

// TestSharersLoad: before Load the set answers true for everyone; after it,
// true for the members it read and for users added, false for the rest.
func TestSharersLoad(t *testing.T) {
	t.Parallel()
	db, _ := sharersDB(t)
	s := NewSharers(db, SharersOptions{})
	if s.Ready() || !mayRead(t, s, "u_stranger") {
		t.Fatalf("before Load: Ready %v, MayRead(stranger) %v; want false, true", s.Ready(), mayRead(t, s, "u_stranger"))
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.Ready() {
		t.Fatal("Ready() = false after Load on SQLite")
	}
	for u, want := range map[auth.UserID]bool{"u_old": true, "u_stranger": false, "u_owner": false} {
		if got := mayRead(t, s, u); got != want {
			t.Errorf("MayRead(%q) = %v, want %v", u, got, want)
		}
	}
	s.Add("u_new")
	s.Add("u_new")
	if !mayRead(t, s, "u_new") || s.Len() != 2 {
		t.Errorf("after Add: MayRead %v, Len %d; want true, 2", mayRead(t, s, "u_new"), s.Len())
	}
}

// TestSharersRecordedByMembers: MemberRepository with RecordSharers adds
// a user accepting an invitation, and the old owner of a list handed over,
// by the time the call returns; a stale true after a removal is allowed.
func TestSharersRecordedByMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, id := sharersDB(t)
	s := NewSharers(db, SharersOptions{})
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	m := NewMemberRepository(db, RecordSharers(s))
	users := NewUserRepository(db)
	for _, u := range []auth.UserID{"u_owner", "u_join"} {
		if err := users.Save(ctx, user.FromIdentity(auth.Identity{UserID: u, Email: string(u) + "@example.com"})); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := m.Invite(ctx, list.Invitation{ListID: id, Email: "u_join@example.com", Role: list.RoleEditor, InvitedBy: "u_owner", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if mayRead(t, s, "u_join") {
		t.Fatal("MayRead(invitee) = true before they accepted")
	}
	if _, err := m.Accept(ctx, "u_join", inv.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !mayRead(t, s, "u_join") {
		t.Error("MayRead(u_join) = false after Accept returned")
	}
	if mayRead(t, s, "u_owner") {
		t.Fatal("MayRead(owner) = true before the transfer")
	}
	if err := m.Transfer(ctx, id, "u_join", time.Now()); err != nil {
		t.Fatal(err)
	}
	if !mayRead(t, s, "u_owner") {
		t.Error("MayRead(old owner) = false after the transfer made them an admin")
	}
}

// TestSharersEpochs: on PostgreSQL (simulated here on SQLite) the set
// answers only between a Listener's listening and its loss, once the read
// that began after listening is merged; a read of an older epoch merges
// but does not make it answer; a user heard of during the read is kept.
func TestSharersEpochs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := sharersDB(t)
	s := NewSharers(db, SharersOptions{})
	s.listened = true
	noReport := func(err error) { t.Errorf("reload reported %v", err) }
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Ready() || !mayRead(t, s, "u_stranger") {
		t.Fatal("a set that needs a listener answers after Load alone")
	}
	e := s.listening()
	if s.Ready() {
		t.Fatal("Ready() before the read")
	}
	s.Add("u_heard") // a notification while the read runs
	s.reload(ctx, e, noReport)
	if !s.Ready() {
		t.Fatal("Ready() = false after listening and its read")
	}
	for u, want := range map[auth.UserID]bool{"u_old": true, "u_heard": true, "u_stranger": false} {
		if got := mayRead(t, s, u); got != want {
			t.Errorf("MayRead(%q) = %v, want %v", u, got, want)
		}
	}
	s.lost()
	if s.Ready() || !mayRead(t, s, "u_stranger") {
		t.Fatal("the set answers while the listener does not listen")
	}
	old := s.listening()
	s.lost()
	s.reload(ctx, old, noReport) // finished after the connection dropped
	if s.Ready() {
		t.Fatal("a read of a listening that ended made the set answer")
	}
	s.reload(ctx, s.listening(), noReport)
	if !s.Ready() {
		t.Fatal("Ready() = false after listening again and its read")
	}
}

// TestSharersReloadRetries: a failed read is retried until it succeeds,
// reported each time, and the set answers once it has; it stops when the
// epoch ends.
func TestSharersReloadRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := sharersDB(t)
	s := NewSharers(db, SharersOptions{MinRetry: time.Millisecond, MaxRetry: 2 * time.Millisecond})
	s.listened = true
	if _, err := db.ExecContext(ctx, "ALTER TABLE list_members RENAME TO list_members_away"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	fails := 0
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if fails++; fails == 3 {
			if _, err := db.ExecContext(ctx, "ALTER TABLE list_members_away RENAME TO list_members"); err != nil {
				t.Error(err)
			}
		}
	}
	s.reload(ctx, s.listening(), report)
	if !s.Ready() || fails != 3 || !mayRead(t, s, "u_old") {
		t.Errorf("after 3 failures: Ready %v, reported %d, MayRead(u_old) %v; want true, 3, true", s.Ready(), fails, mayRead(t, s, "u_old"))
	}

	// An epoch that ends while the read fails: reload gives up.
	if _, err := db.ExecContext(ctx, "ALTER TABLE list_members RENAME TO list_members_away"); err != nil {
		t.Fatal(err)
	}
	e := s.listening()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.reload(ctx, e, func(error) {})
	}()
	s.lost()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("reload went on after its epoch ended")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	e = s.listening()
	s.reload(cctx, e, func(err error) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("with ctx canceled, reload reported %v", err)
		}
	})
	if s.Ready() {
		t.Error("Ready() after a failed read")
	}
}

// TestSharersConcurrent: readers, adders, listening, losses and reads at
// once (run with -race); a user added is never answered false once the
// set answers.
func TestSharersConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := sharersDB(t)
	s := NewSharers(db, SharersOptions{})
	s.listened = true
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := auth.UserID(fmt.Sprintf("u_%d_%d", w, i%50))
				s.Add(u)
				if !mayRead(t, s, u) {
					t.Errorf("MayRead(%q) = false after Add", u)
					return
				}
			}
		})
	}
	for range 20 {
		e := s.listening()
		wg.Go(func() { s.reload(ctx, e, func(error) {}) })
		mayRead(t, s, "u_stranger")
		s.lost()
	}
	e := s.listening()
	s.reload(ctx, e, func(err error) { t.Error(err) })
	close(stop)
	wg.Wait()
	if !s.Ready() || mayRead(t, s, "u_stranger") || !mayRead(t, s, "u_old") {
		t.Errorf("at the end: Ready %v, MayRead(stranger) %v, MayRead(u_old) %v; want true, false, true",
			s.Ready(), mayRead(t, s, "u_stranger"), mayRead(t, s, "u_old"))
	}
}

// TestSharersSweepSQLite: a sweep drops the users in no list_members row
// (a member removed from their only list) and keeps the members; a user
// added by hand (Add, as a writer other than MemberRepository does before
// its row) stays too, until a sweep finds them in no row.
func TestSharersSweepSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, id := sharersDB(t)
	s := NewSharers(db, SharersOptions{})
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	s.Add("u_gone")
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d dropped, %v; want 1 (u_gone)", n, err)
	}
	if err := NewMemberRepository(db, RecordSharers(s)).Remove(ctx, id, "u_old"); err != nil {
		t.Fatal(err)
	}
	if !mayRead(t, s, "u_old") {
		t.Fatal("MayRead(u_old) = false before a sweep")
	}
	if n, err := s.Sweep(ctx); err != nil || n != 1 || mayRead(t, s, "u_old") || mayRead(t, s, "u_gone") {
		t.Errorf("after removal and sweep: %d dropped, %v, MayRead(u_old) %v; want 1, nil, false", n, err, mayRead(t, s, "u_old"))
	}
}
