package httpapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// countedLog is instance B's feed, counting the streams' reads.
type countedLog struct {
	*sqlstore.ChangeLog
	reads atomic.Int64
}

func (c *countedLog) ChangeKeys(ctx context.Context, owner auth.UserID, since application.Seq, limit int) (application.ChangePage, error) {
	c.reads.Add(1)
	return c.ChangeLog.ChangeKeys(ctx, owner, since, limit)
}

// TestEventsKeysAcrossInstances (PostgreSQL): instance A takes the writes
// and publishes them after the commits; a stream on instance B (its own
// pool and listener) gets each change as an event with the feed's keys
// (seq, entity, op, id: task and list upserts, a tombstone) without
// reading the feed, for the owner and, with the member's own numbers, for
// a member of a shared list; a head that moved by more than the keys the
// publisher reads (one transaction of many writes) makes the stream read
// the feed, and nothing is skipped or sent twice.
func TestEventsKeysAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "evkeys")
	ctx := context.Background()
	open := func(migrate bool) *bun.DB {
		db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if migrate {
			if err := sqlstore.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
		return db
	}
	dbA, dbB := open(true), open(false)

	// Instance B: its listener, and the streams over its feed.
	hubB := application.NewHub()
	l, err := sqlstore.NewListener(url, hubB, sqlstore.ListenOptions{DB: dbB, CheckInterval: time.Hour, RaceWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(l.Stop)
	for deadline := time.Now().Add(20 * time.Second); !l.Listening(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("B's listener did not come up in 20 s")
		}
	}
	logB := &countedLog{ChangeLog: sqlstore.NewChangeLog(dbB)}
	ee := &eventsEnv{hub: hubB, streams: httpapi.NewStreams(0)}
	ee.env = newEnv(t, func(d *httpapi.Deps) {
		d.Events = application.NewEvents(logB, l, memory.NewTicketStore(), nil)
		d.Streams = ee.streams
		d.Config.Events.Keepalive = time.Hour
	})
	ee.srv = httptest.NewServer(ee.handler)
	t.Cleanup(func() {
		ee.streams.Close()
		ee.srv.Close()
	})

	// Instance A: its writes, and its publisher.
	stopA := sqlstore.PublishChanges(dbA, application.NewHub())
	t.Cleanup(stopA)
	tasks, lists, tx, truth := sqlstore.NewTaskRepository(dbA), sqlstore.NewListRepository(dbA), sqlstore.NewTransactor(dbA), sqlstore.NewChangeLog(dbA)
	owner, member := ee.newUser(t), ee.newUser(t)
	ownerID, memberID := auth.UserID(owner.id), auth.UserID(member.id)
	onB := ee.open(t, owner, owner.token, "", nil)
	memberOnB := ee.open(t, member, member.token, "", nil)

	// want reads the changes after since from the feed (on A, not
	// counted), n of them (at least -n when n < 0), and checks that c's
	// next events are they.
	want := func(c *client, u auth.UserID, since application.Seq, n int, what string) application.Seq {
		t.Helper()
		p, err := truth.ChangeKeys(ctx, u, since, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n >= 0 && len(p.Changes) != n || n < 0 && len(p.Changes) < -n {
			t.Fatalf("%s: the feed has %d changes after %d, want %d (negative: at least)", what, len(p.Changes), since, n)
		}
		for _, ch := range p.Changes {
			ev, d := c.nextEvent(t)
			if d.Seq != uint64(ch.Seq) || d.Entity != string(ch.Entity) || d.Op != string(ch.Op) || d.ID != ch.ID {
				t.Fatalf("%s: event %+v, want %+v", what, ev, ch)
			}
		}
		return p.Next
	}
	newTask := func(u auth.UserID, title string, in *list.ID) *task.Task {
		t.Helper()
		var opts []task.Option
		if in != nil {
			opts = append(opts, task.InList(in))
		}
		tk, err := task.New(u, title, nil, time.Now(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}

	var seen application.Seq
	var first *task.Task
	for i := range 5 {
		tk, err := tasks.Add(ctx, newTask(ownerID, fmt.Sprint("task ", i), nil))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = tk
		}
		seen = want(onB, ownerID, seen, 1, fmt.Sprint("task ", i))
	}
	l1, err := list.New(ownerID, "Groceries", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := lists.Add(ctx, l1)
	if err != nil {
		t.Fatal(err)
	}
	seen = want(onB, ownerID, seen, 1, "a list")
	if err := tasks.Delete(ctx, ownerID, first.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	seen = want(onB, ownerID, seen, 1, "a tombstone")

	// A member of the shared list: the member's own numbers.
	listID := sum.List.ID()
	if _, err := dbA.NewRaw("INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'editor', ?, ?)",
		int64(listID), member.id, owner.id, time.Now().UTC()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	memberSeen := want(memberOnB, memberID, 0, -1, "the member's join")
	if memberSeen == 0 {
		t.Fatal("the member's feed is empty after joining")
	}
	if _, err := tasks.Add(ctx, newTask(ownerID, "milk", &listID)); err != nil {
		t.Fatal(err)
	}
	seen = want(onB, ownerID, seen, -1, "the owner's task in the shared list")
	memberSeen = want(memberOnB, memberID, memberSeen, -1, "the member's event of the owner's task")
	if seen == memberSeen {
		t.Logf("the owner's and the member's numbers happen to be equal (%d)", seen)
	}
	if n := logB.reads.Load(); n != 0 {
		t.Errorf("B's streams read the feed %d times for changes that continued them, want 0", n)
	}

	// One transaction of more changes than the keys carry: a read, and
	// every change, once.
	if err := tx.InTx(ctx, func(ctx context.Context) error {
		for i := range 12 {
			if _, err := tasks.Add(ctx, newTask(ownerID, fmt.Sprint("bulk ", i), nil)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seen = want(onB, ownerID, seen, 12, "a transaction of 12")
	if n := logB.reads.Load(); n != 1 {
		t.Errorf("B's stream read the feed %d times after a head moved by 12, want 1", n)
	}
	// Live again without reads, and nothing sent twice.
	if _, err := tasks.Add(ctx, newTask(ownerID, "after", nil)); err != nil {
		t.Fatal(err)
	}
	want(onB, ownerID, seen, 1, "after the transaction")
	if n := logB.reads.Load(); n != 1 {
		t.Errorf("B's stream read the feed %d times in all, want 1", n)
	}
}
