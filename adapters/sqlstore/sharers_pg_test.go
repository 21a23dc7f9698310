package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/user"
	"github.com/todo-backend/todo/internal/testenv"
)

// sharerInstance is one service instance's view of memberships: its pool,
// its Sharers, its listener (carrying the Sharers) and its members
// repository (telling them).
type sharerInstance struct {
	db      *bun.DB
	hub     *application.Hub
	sharers *sqlstore.Sharers
	l       *sqlstore.Listener
	members *sqlstore.MemberRepository
}

// saveUsers stores users, each with the e-mail address invite invites.
func (in *sharerInstance) saveUsers(t *testing.T, users ...auth.UserID) {
	t.Helper()
	repo := sqlstore.NewUserRepository(in.db)
	for _, u := range users {
		if err := repo.Save(context.Background(), user.FromIdentity(auth.Identity{UserID: u, Email: emailOf(u)})); err != nil {
			t.Fatal(err)
		}
	}
}

// addList stores a new list of owner's, named name.
func (in *sharerInstance) addList(t *testing.T, owner auth.UserID, name string) list.ID {
	t.Helper()
	l, err := list.New(owner, name, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sqlstore.NewListRepository(in.db).Add(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	return sum.List.ID()
}

// invite has by invite to (by e-mail) to list id as an editor.
func (in *sharerInstance) invite(t *testing.T, id list.ID, by, to auth.UserID) list.InvitationID {
	t.Helper()
	inv, err := in.members.Invite(context.Background(), list.Invitation{ListID: id, Email: emailOf(to),
		Role: list.RoleEditor, InvitedBy: by, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return inv.ID
}

func emailOf(u auth.UserID) string { return fmt.Sprintf("%x@example.com", string(u)) }

func newSharerInstance(t *testing.T, url string, minBackoff time.Duration) *sharerInstance {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s := sqlstore.NewSharers(db, sqlstore.SharersOptions{MinRetry: 10 * time.Millisecond, MaxRetry: 100 * time.Millisecond})
	hub := application.NewHub()
	l, err := sqlstore.NewListener(url, hub, sqlstore.ListenOptions{
		MinBackoff: minBackoff, MaxBackoff: 2 * minBackoff, Sharers: s,
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(l.Stop) // before db.Close: cleanups run last first
	in := &sharerInstance{db: db, hub: hub, sharers: s, l: l, members: sqlstore.NewMemberRepository(db, sqlstore.RecordSharers(s))}
	in.waitReady(t)
	return in
}

// eventually polls cond every 5 ms until it holds, failing after 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (in *sharerInstance) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, "the set answering (listener up, members read)", in.sharers.Ready)
}

func (in *sharerInstance) mayRead(t *testing.T, u auth.UserID) bool {
	t.Helper()
	ok, err := in.sharers.MayRead(context.Background(), u)
	if err != nil {
		t.Fatalf("MayRead(%q): %v", u, err)
	}
	return ok
}

// TestSharersAcrossInstances: two instances on one PostgreSQL database. A
// membership accepted through A is in A's set when Accept returns, and in
// B's within a bounded wait (the trigger's notification); one written by
// a third party (plain SQL) reaches both; a stranger stays false on both;
// change notifications still reach the hub.
// A Sharers without a listener answers true for everyone.
func TestSharersAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "sharers")
	a := newSharerInstance(t, url, 10*time.Millisecond)
	b := newSharerInstance(t, url, 10*time.Millisecond)
	ctx := context.Background()
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	owner, member, other, stranger := auth.UserID("u_own "+run), auth.UserID("u_mem "+run), auth.UserID("u_oth "+run), auth.UserID("u_str "+run)

	a.saveUsers(t, owner, member)
	id := a.addList(t, owner, "Groceries")
	inv := a.invite(t, id, owner, member)
	for name, in := range map[string]*sharerInstance{"a": a, "b": b} {
		for _, u := range []auth.UserID{owner, member, stranger} {
			if in.mayRead(t, u) {
				t.Errorf("%s: MayRead(%q) = true before any membership", name, u)
			}
		}
	}

	if _, err := a.members.Accept(ctx, member, inv, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !a.mayRead(t, member) {
		t.Error("a: MayRead(member) = false once Accept returned on a")
	}
	eventually(t, "b hearing of the membership accepted on a", func() bool { return b.mayRead(t, member) })

	// The change feed's channel still reaches the hub (one LISTEN
	// statement names both channels).
	ch, stop := b.hub.Watch(member, nil)
	defer stop()
	if _, err := a.db.ExecContext(ctx, "SELECT pg_notify(?, ?)", application.ChangeChannel, sqlstore.ChangeNotice(member, 42)); err != nil {
		t.Fatal(err)
	}
	if w := wake(t, ch, "b's hub"); w.Head != 42 {
		t.Errorf("b's hub woke with %+v, want Head 42", w)
	}

	// A third writer (a migration, a tool): heard by both.
	if _, err := a.db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'viewer', ?, ?)",
		int64(id), string(other), string(owner), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a hearing of the row written by SQL", func() bool { return a.mayRead(t, other) })
	eventually(t, "b hearing of the row written by SQL", func() bool { return b.mayRead(t, other) })
	// A rolled-back membership notifies nobody (b has not heard of it).
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'viewer', ?, ?)",
		int64(id), string(stranger), string(owner), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	// What b hears next proves it heard everything before: notifications
	// of one sender arrive in commit order.
	marker := auth.UserID("u_marker " + run)
	if _, err := a.db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'viewer', ?, ?)",
		int64(id), string(marker), string(owner), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b hearing of the marker", func() bool { return b.mayRead(t, marker) })
	for name, in := range map[string]*sharerInstance{"a": a, "b": b} {
		if in.mayRead(t, stranger) {
			t.Errorf("%s: MayRead(stranger) = true after a rolled-back membership", name)
		}
		if in.mayRead(t, owner) {
			t.Errorf("%s: MayRead(owner) = true; the owner is no member", name)
		}
	}

	// Without a listener the set cannot tell: true for everyone.
	alone := sqlstore.NewSharers(a.db, sqlstore.SharersOptions{})
	if err := alone.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := alone.MayRead(ctx, stranger); !ok || alone.Ready() {
		t.Errorf("without a listener: MayRead(stranger) = %v, Ready %v; want true, false", ok, alone.Ready())
	}
	local := sqlstore.NewSharers(a.db, sqlstore.SharersOptions{Local: true})
	if err := local.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := local.MayRead(ctx, stranger); ok {
		t.Error("Local: MayRead(stranger) = true after Load")
	}
	if ok, _ := local.MayRead(ctx, member); !ok {
		t.Error("Local: MayRead(member) = false after Load")
	}
}

// TestSharersListenerDrop: when an instance's listening connection is
// killed (pg_terminate_backend), its set stops answering (true for
// everyone); a membership committed while nobody listened there, whose
// notification is lost, is in its set once it listens again (the read
// that follows LISTEN).
func TestSharersListenerDrop(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "sharersdrop")
	// A slow reconnect (0.5 to 1 s) leaves a window to write in.
	b := newSharerInstance(t, url, time.Second)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	owner, stranger := auth.UserID("u_own "+run), auth.UserID("u_str "+run)
	id := b.addList(t, owner, "Team")

	for attempt := 1; ; attempt++ {
		member := auth.UserID(fmt.Sprintf("u_mem %d %s", attempt, run))
		pid := b.l.PID()
		if pid == 0 {
			t.Fatal("PID() = 0 while listening")
		}
		if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the set to stop answering after the kill", func() bool { return !b.sharers.Ready() })
		// Down: it cannot tell, so everyone may read.
		before := b.l.PID()
		ok := b.mayRead(t, stranger)
		if before == 0 && b.l.PID() == 0 && !ok {
			t.Fatal("MayRead(stranger) = false while the listener was down")
		}
		if _, err := conn.Exec(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES ($1, $2, 'viewer', $3, now())",
			int64(id), string(member), string(owner)); err != nil {
			t.Fatal(err)
		}
		missed := b.l.PID() == 0 // committed before b listened again: not notified there
		b.waitReady(t)
		if !b.mayRead(t, member) {
			t.Fatalf("MayRead(member) = false once listening again (notification missed: %v)", missed)
		}
		if b.mayRead(t, stranger) {
			t.Error("MayRead(stranger) = true once listening again")
		}
		if missed {
			return
		}
		if attempt == 5 {
			t.Fatal("5 times the listener was back before the write committed: the missed-notification path never ran")
		}
		t.Logf("attempt %d: the listener was back before the write; again", attempt)
	}
}

// TestSharersSweep: a user removed from every list leaves each instance's
// set at its next sweep (Sweep), and their queries are the owner's alone
// again (before, they stayed in the set until a restart); a sweep never
// drops a member: rounds of an acceptance on instance A while A and B
// sweep at once end with the member in A's set when Accept returns, and
// in B's once notified, after B's sweep too.
func TestSharersSweep(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "sharers")
	a := newSharerInstance(t, url, 10*time.Millisecond)
	b := newSharerInstance(t, url, 10*time.Millisecond)
	ctx := context.Background()
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	owner, member := auth.UserID("u_own "+run), auth.UserID("u_mem "+run)
	a.saveUsers(t, owner, member)
	id := a.addList(t, owner, "Groceries")
	join := func() {
		t.Helper()
		if _, err := a.members.Accept(ctx, member, a.invite(t, id, owner, member), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	sweep := func(name string, in *sharerInstance) {
		if _, err := in.sharers.Sweep(ctx); err != nil {
			t.Errorf("%s: sweep: %v", name, err)
		}
	}
	join()
	eventually(t, "b hearing of the membership", func() bool { return b.mayRead(t, member) })
	if err := a.members.Remove(ctx, id, member); err != nil {
		t.Fatal(err)
	}
	sweep("a", a)
	sweep("b", b)
	for name, in := range map[string]*sharerInstance{"a": a, "b": b} {
		if in.mayRead(t, member) {
			t.Errorf("%s: MayRead(member) = true after they left every list and a sweep", name)
		}
	}

	const rounds = 30
	for round := range rounds {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 3 {
				sweep("a", a)
				sweep("b", b)
			}
		}()
		join()
		onA := a.mayRead(t, member)
		<-done
		if !onA {
			t.Fatalf("round %d: a: MayRead(member) = false once Accept returned on a, while sweeping", round)
		}
		eventually(t, "b hearing of the membership", func() bool { return b.mayRead(t, member) })
		sweep("b", b)
		sweep("a", a)
		if !a.mayRead(t, member) || !b.mayRead(t, member) {
			t.Fatalf("round %d: a sweep dropped a member (a %v, b %v)", round, a.mayRead(t, member), b.mayRead(t, member))
		}
		if err := a.members.Remove(ctx, id, member); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSharersSweepQueuesNoWriter: a sweep never makes a membership write
// wait behind it. An acceptance holds the sharers lock shared while it
// waits for the new member's change head (the membership's feed entry,
// change_log_apply), held here by a long write of the member's; a sweep
// that queued for the lock exclusively then held every other membership
// write of every instance in PostgreSQL's lock queue behind it, until
// that member's write ended: an acceptance of another owner's list by
// someone else waited as long. Now the sweep tries the lock without
// queueing, and again after a pause. (A role change held the lock too,
// while it waited for the owner's scope lock, until it stopped taking
// it: TestSetRoleTakesNoSharersLock.)
func TestSharersSweepQueuesNoWriter(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "sharers")
	a := newSharerInstance(t, url, 10*time.Millisecond)
	ctx := context.Background()
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	owner, member, other, newcomer := auth.UserID("u_own "+run), auth.UserID("u_mem "+run), auth.UserID("u_oth "+run), auth.UserID("u_new "+run)
	a.saveUsers(t, owner, member, other, newcomer)
	inv := a.invite(t, a.addList(t, owner, "Groceries"), owner, member)
	theirs := a.invite(t, a.addList(t, other, "Groceries"), other, newcomer)

	// A long write of the member's: it holds their change head (as
	// change_log_apply does for every write of theirs) until released.
	holder, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "INSERT INTO change_heads (user_id, seq) VALUES (?, 0)"+
		" ON CONFLICT (user_id) DO UPDATE SET seq = change_heads.seq", string(member)); err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := holder.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	accepting := make(chan error, 1)
	go func() { _, err := a.members.Accept(ctx, member, inv, time.Now()); accepting <- err }()
	// The acceptance, holding the sharers lock shared, waits for the
	// member's write.
	eventually(t, "the member's acceptance waiting for their write", func() bool {
		var got int
		if err := a.db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", pid).Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		return got > 0
	})
	swept := make(chan error, 1)
	go func() { _, err := a.sharers.Sweep(ctx); swept <- err }()
	time.Sleep(200 * time.Millisecond) // the sweep's first try
	accepted := make(chan error, 1)
	go func() { _, err := a.members.Accept(ctx, newcomer, theirs, time.Now()); accepted <- err }()
	pending := map[string]chan error{"the member's acceptance": accepting, "sweep": swept}
	select {
	case err := <-accepted:
		if err != nil {
			t.Errorf("accept: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("an acceptance of another owner's list waited behind a sweep for the member's write (2 s)")
		pending["accept"] = accepted
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	for what, ch := range pending {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("%s: still waiting 20 s after the member's write", what)
		}
	}
	if !a.mayRead(t, member) || !a.mayRead(t, newcomer) {
		t.Errorf("after the sweep: MayRead(member) %v, MayRead(newcomer) %v; want both true", a.mayRead(t, member), a.mayRead(t, newcomer))
	}
}

// TestSetRoleTakesNoSharersLock: a role change makes nobody a member (it
// changes a row that exists, of a user the Sharers keep), so it does not
// take the sharers lock: it does not wait while a sweep holds it
// exclusively for its read, and it holds nothing a sweep waits for. It
// took the lock shared, a statement of its own, and held it while it
// waited for the owner's scope lock. A role change of a non-member is
// still list.ErrMemberNotFound, and makes them no reader.
func TestSetRoleTakesNoSharersLock(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "sharers")
	a := newSharerInstance(t, url, 10*time.Millisecond)
	ctx := context.Background()
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	owner, member, stranger := auth.UserID("u_own "+run), auth.UserID("u_mem "+run), auth.UserID("u_str "+run)
	a.saveUsers(t, owner, member, stranger)
	id := a.addList(t, owner, "Groceries")
	inv := a.invite(t, id, owner, member)
	if _, err := a.members.Accept(ctx, member, inv, time.Now()); err != nil {
		t.Fatal(err)
	}

	// A sweep's read: the sharers lock, exclusively, tried as a sweep
	// tries it (the lock is the database's, every test schema's: queued,
	// it would hold other tests' acceptances behind a writer), and held
	// for the role change only.
	sweep, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sweep.Rollback() }()
	eventually(t, "the sharers lock", func() bool {
		var locked bool
		if err := sweep.QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0))", "todo-backend sharers").Scan(&locked); err != nil {
			t.Fatal(err)
		}
		return locked
	})
	done := make(chan error, 1)
	go func() { done <- a.members.SetRole(ctx, id, member, list.RoleAdmin) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("SetRole: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("a role change waited for the sharers lock a sweep held (2 s)")
		defer func() {
			if err := <-done; err != nil {
				t.Errorf("SetRole: %v", err)
			}
		}()
	}
	if err := sweep.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := a.members.SetRole(ctx, id, stranger, list.RoleAdmin); !errors.Is(err, list.ErrMemberNotFound) {
		t.Errorf("SetRole(stranger) = %v, want list.ErrMemberNotFound", err)
	}
	if a.mayRead(t, stranger) {
		t.Errorf("MayRead(stranger) = true after a refused role change")
	}
	if !a.mayRead(t, member) {
		t.Errorf("MayRead(member) = false")
	}
}
