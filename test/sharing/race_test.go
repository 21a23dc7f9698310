package sharing

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// TestRemovalWhileWriting (issue 19): an editor of a shared list writes its
// task from several goroutines while the owner removes them, on
// PostgreSQL, many times. Each write either lands before the removal or is
// refused: none lands after it.
//
// How "after" is seen: as soon as the removal has returned (committed), the
// test reads the task's version; every write that landed before the removal
// committed is in it. When the writers are done, a final version above it
// is a write that committed after the removal. (A write committing between
// the removal's commit and that read is missed, never wrongly blamed: the
// test can only under-report. With the membership's FOR SHARE taken out of
// Access (adapters/sqlstore/members.go) every round failed, 2-4 writes
// after the removal.)
//
// starved counts the rounds where the removal committed only after every
// write. Writers used to hold the membership FOR SHARE while they queued
// for the owner's scope lock, keeping the row share-locked without a gap:
// 20 to 21 rounds of 30 starved. Since a write takes the scope lock before
// its membership (adapters/sqlstore/members.go, the lock order), the
// removal queues once, behind the writes queued before it: 0 of 30.
// TestRemovalUnderContinuousWrites bounds its wait.
func TestRemovalWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 30 rounds of concurrent writes on PostgreSQL")
	}
	t.Parallel()
	db := openPostgres(t)
	svc := serviceOn(db)
	ctx := t.Context()
	// Each writer stops at its first refusal or after perWriter writes: a
	// removal may have to wait for every write (see starved).
	const rounds, writers, perWriter = 30, 4, 10
	after, refused, landed, starved := 0, 0, 0, 0
	for round := range rounds {
		owner, editor := admit(t, svc), admit(t, svc)
		l, err := svc.CreateList(ctx, owner.actor, "race "+rand.Text()[:8], nil)
		if err != nil {
			t.Fatal(err)
		}
		lid := l.List.ID()
		inv, err := svc.InviteMember(ctx, owner.actor, lid, editor.email, string(list.RoleEditor))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AcceptInvitation(ctx, editor.actor, inv.ID); err != nil {
			t.Fatal(err)
		}
		tk, err := svc.CreateTask(ctx, owner.actor, "shared", nil, task.InList(&lid))
		if err != nil {
			t.Fatal(err)
		}

		var wrote, stopped atomic.Int64
		started := make(chan struct{}) // closed when the editor's first write landed
		var once sync.Once
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for n := range perWriter {
					_, err := svc.ReplaceTask(ctx, editor.actor, tk.ID(), 0, fmt.Sprintf("w%d-%d", g, n), nil, nil)
					switch {
					case err == nil:
						wrote.Add(1)
						once.Do(func() { close(started) })
					case errors.Is(err, task.ErrNotFound):
						stopped.Add(1)
						return // removed: refused from now on
					default:
						t.Errorf("round %d: the editor's write: %v", round, err)
						once.Do(func() { close(started) })
						return
					}
				}
			})
		}
		<-started
		if err := svc.RemoveMember(ctx, owner.actor, lid, editor.id); err != nil {
			t.Fatalf("round %d: remove: %v", round, err)
		}
		atRemoval := version(t, db, tk.ID())
		wg.Wait()
		final := version(t, db, tk.ID())
		if final > atRemoval {
			after++
			t.Errorf("round %d: the task was at version %d when the removal committed, %d when the writes ended: %d write(s) landed after the removal",
				round, atRemoval, final, final-atRemoval)
		}
		if got := final - 1; got != wrote.Load() {
			t.Errorf("round %d: %d writes answered success, the task went through %d versions", round, wrote.Load(), got)
		}
		landed += int(wrote.Load())
		refused += int(stopped.Load())
		if stopped.Load() == 0 {
			starved++
		}
	}
	t.Logf("%d rounds of %d writers: %d writes landed, %d refused; %d rounds with a write after the removal; "+
		"in %d rounds the removal committed only after every write (no writer was refused)",
		rounds, writers, landed, refused, after, starved)
}

// principal is an admitted user.
type principal struct {
	id    auth.UserID
	email string
	actor application.Actor
}

// admit records a new user and admits them to their own URL.
func admit(t *testing.T, svc *application.Service) principal {
	t.Helper()
	id := "u_" + strings.ToLower(rand.Text()[:12])
	p := principal{id: auth.UserID(id), email: id + "@example.com"}
	a, err := svc.Authorize(t.Context(), auth.Identity{UserID: p.id, Email: p.email}, id)
	if err != nil {
		t.Fatal(err)
	}
	p.actor = a
	return p
}

// serviceOn is the use cases on db, with shared lists.
func serviceOn(db *bun.DB) *application.Service {
	return application.New(sqlstore.NewTaskRepository(db), sqlstore.NewUserRepository(db), nil,
		application.WithLists(sqlstore.NewListRepository(db)), application.WithMembers(sqlstore.NewMemberRepository(db)),
		application.WithTransactor(sqlstore.NewTransactor(db)), application.WithChanges(sqlstore.NewChangeLog(db)))
}

// openPostgres opens a fresh, migrated schema.
func openPostgres(t *testing.T) *bun.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db, err := sqlstore.Open(ctx, testenv.FreshSchema(t, "sharing"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// version is the task's version as committed now.
func version(t *testing.T, db *bun.DB, id task.ID) int64 {
	t.Helper()
	var v int64
	if err := db.NewRaw("SELECT version FROM tasks WHERE id = ?", int64(id)).Scan(t.Context(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMemberMergeWhileOwnerWrites: an editor's offline changes merge
// (application.MergeTask, PATCH with Prefer: merge) while the owner
// writes the same task, on PostgreSQL. A merge reads the task and its
// history, decides, and writes in one unit with the task locked, so it
// never meets a write in between: no answer is the 412 of a stale
// version. Before the shared task repository's Lock locked the owner's
// row for a member, the member's merge locked nothing of it.
func TestMemberMergeWhileOwnerWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: concurrent writes on PostgreSQL")
	}
	t.Parallel()
	db := openPostgres(t)
	svc := serviceOn(db)
	ctx := t.Context()
	owner, editor := admit(t, svc), admit(t, svc)
	l, err := svc.CreateList(ctx, owner.actor, "merge "+rand.Text()[:8], nil)
	if err != nil {
		t.Fatal(err)
	}
	lid := l.List.ID()
	inv, err := svc.InviteMember(ctx, owner.actor, lid, editor.email, string(list.RoleEditor))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvitation(ctx, editor.actor, inv.ID); err != nil {
		t.Fatal(err)
	}
	tk, err := svc.CreateTask(ctx, owner.actor, "shared", nil, task.InList(&lid))
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	var stale atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if _, err := svc.ReplaceTask(ctx, owner.actor, tk.ID(), task.AnyVersion, fmt.Sprintf("owner %d", i), nil, nil); err != nil {
				t.Errorf("the owner's write: %v", err)
				return
			}
		}
	})
	for g := range 2 {
		wg.Go(func() {
			for i := range n / 2 {
				desc := fmt.Sprintf("editor %d-%d", g, i)
				_, _, err := svc.MergeTask(ctx, editor.actor, tk.ID(), 1, []string{"description"}, func([]string) (application.Patch, error) {
					return application.Patch{SetDescription: true, Description: &desc}, nil
				}, false)
				if _, ok := errors.AsType[*task.ConflictError](err); ok {
					stale.Add(1)
				} else if err != nil {
					t.Errorf("the editor's merge: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if stale.Load() > 0 {
		t.Errorf("%d of %d merges of the editor answered a stale version (412)", stale.Load(), n)
	}
}
