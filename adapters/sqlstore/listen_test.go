package sqlstore_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/internal/testenv"
)

// instance is what one service instance has for live events: a hub and
// its listening connection.
type instance struct {
	hub *application.Hub
	l   *sqlstore.Listener
	ev  chan sqlstore.ListenEvent
}

func newInstance(t *testing.T, url string) *instance {
	t.Helper()
	in := &instance{hub: application.NewHub(), ev: make(chan sqlstore.ListenEvent, 100)}
	l, err := sqlstore.NewListener(url, in.hub, sqlstore.ListenOptions{
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnEvent: func(e sqlstore.ListenEvent) {
			select {
			case in.ev <- e:
			default:
			}
		},
	})
	if err != nil {
		t.Fatalf("NewListener: %v", err)
	}
	in.l = l
	l.Start()
	t.Cleanup(l.Stop)
	in.waitUp(t)
	return in
}

// waitUp waits until the listener says it is listening.
func (in *instance) waitUp(t *testing.T) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-in.ev:
			if e.Up && e.Err == nil {
				return
			}
		case <-deadline:
			t.Fatalf("the listener did not come up in 20 s")
		}
	}
}

// notify commits a transaction that sends payload, as a writer does.
func notify(t *testing.T, conn *pgx.Conn, payload string) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", application.ChangeChannel, payload); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// wake waits for a wake on ch and returns it.
func wake(t *testing.T, ch <-chan application.Wake, what string) application.Wake {
	t.Helper()
	select {
	case w := <-ch:
		return w
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no wake in 20 s", what)
	}
	return application.Wake{}
}

// TestListenAcrossInstances: two instances (two listeners and hubs) on one
// database; a change committed anywhere wakes the owner's watchers on
// both, with its seq, and nobody else's; a rolled-back notification wakes
// no one. When an instance's listening connection is killed
// (pg_terminate_backend) its watchers are told to resync, it reconnects by
// itself, and notifications reach it again.
func TestListenAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "listen")
	a, b := newInstance(t, url), newInstance(t, url)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	owner := auth.UserID(fmt.Sprintf("u listen %d", time.Now().UnixNano())) // a space in the id too
	wa, stopA := a.hub.Watch(owner, nil)
	defer stopA()
	wb, stopB := b.hub.Watch(owner, nil)
	defer stopB()
	other, stopO := b.hub.Watch(owner+"x", nil)
	defer stopO()

	// A rollback sends nothing; the commit after it is the first wake.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", application.ChangeChannel, sqlstore.ChangeNotice(owner, 6)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	notify(t, conn, sqlstore.ChangeNotice(owner, 7))
	for name, ch := range map[string]<-chan application.Wake{"a": wa, "b": wb} {
		if w := wake(t, ch, "instance "+name); !reflect.DeepEqual(w, application.Wake{Head: 7}) {
			t.Errorf("instance %s woke with %+v, want Head 7 (the rolled-back 6 never sent)", name, w)
		}
	}
	select {
	case w := <-other:
		t.Errorf("another user's watcher woke: %+v", w)
	default:
	}

	// Kill a's connection.
	pid := a.l.PID()
	if pid == 0 {
		t.Fatal("PID() = 0 while listening")
	}
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
		t.Fatal(err)
	}
	if w := wake(t, wa, "after the kill"); !w.Resync {
		t.Errorf("after its connection was killed, a's watcher got %+v, want Resync", w)
	}
	a.waitUp(t)
	if a.l.PID() == pid {
		t.Errorf("PID() = %d after reconnecting, the killed one", pid)
	}
	// Drain the resync after re-LISTEN, then a notice reaches a again.
	for {
		select {
		case <-wa:
			continue
		default:
		}
		break
	}
	notify(t, conn, sqlstore.ChangeNotice(owner, 8))
	for {
		w := wake(t, wa, "after reconnecting")
		if w.Head == 8 {
			break
		}
		if !w.Resync {
			t.Fatalf("after reconnecting a got %+v, want Head 8", w)
		}
	}
	if w := wake(t, wb, "b, unaffected"); w.Head != 8 {
		t.Errorf("b got %+v, want Head 8", w)
	}

	// A payload that is not ours is ignored, and the listener goes on.
	notify(t, conn, "garbage")
	notify(t, conn, sqlstore.ChangeNotice(owner, 9))
	if w := wake(t, wb, "after garbage"); w.Head != 9 {
		t.Errorf("after a bad payload b got %+v, want Head 9", w)
	}
}

// TestListenerStopsWhileDown: a listener that cannot connect keeps trying
// and stops cleanly.
func TestListenerStopsWhileDown(t *testing.T) {
	t.Parallel()
	l, err := sqlstore.NewListener("postgres://nobody@127.0.0.1:1/none?connect_timeout=1", application.NewHub(),
		sqlstore.ListenOptions{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	l.Stop()
	if l.Listening() {
		t.Errorf("Listening() = true with no database")
	}
	never, err := sqlstore.NewListener("postgres://nobody@127.0.0.1:1/none", application.NewHub(), sqlstore.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	never.Stop() // never started
}

// TestListenerRegistersWatchers: with a database, a user's first stream
// (Watch) writes the user's change_watchers row before Watch returns, so
// that their changes are notified; a second stream writes nothing more; the
// last stop removes it; Stop removes the instance's rows. A user's streams
// are woken again after RaceWindow (a write under way at registration may
// not have seen the row).
func TestListenerRegistersWatchers(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "watchers")
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	hub := application.NewHub()
	l, err := sqlstore.NewListener(url, hub, sqlstore.ListenOptions{DB: db, RaceWindow: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	rows := func(owner auth.UserID) int {
		t.Helper()
		var n int
		if err := db.NewRaw("SELECT count(*) FROM change_watchers WHERE user_id = ? AND expires_at > now()", string(owner)).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	owner := auth.UserID(fmt.Sprintf("u_watch_%d", time.Now().UnixNano()))
	ch, stop1 := l.Watch(owner, nil)
	if n := rows(owner); n != 1 {
		t.Fatalf("after Watch: %d rows, want 1", n)
	}
	if w := wake(t, ch, "after RaceWindow"); w.Head != 0 || w.Resync {
		t.Errorf("the late wake is %+v, want Head 0 (unknown: read the feed)", w)
	}
	_, stop2 := l.Watch(owner, nil)
	stop1()
	if n := rows(owner); n != 1 {
		t.Errorf("with one of two streams left: %d rows, want 1", n)
	}
	stop2()
	if n := rows(owner); n != 0 {
		t.Errorf("after the last stream: %d rows, want 0", n)
	}
	_, stop3 := l.Watch(owner, nil)
	defer stop3()
	l.Stop()
	if n := rows(owner); n != 0 {
		t.Errorf("after Stop: %d rows, want 0", n)
	}
}
