package sharing

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// TestCrossOwnerBatches: two users, each an editor of the other's list,
// change at once, in one call each, a task of their own and one of the
// other's list, on PostgreSQL. Each call takes both owners' scope locks;
// taken in the order the ids came, the two calls deadlocked (PostgreSQL
// aborts one: a 500). Taken in one order (the owners' ids), every call
// lands.
func TestCrossOwnerBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: concurrent writes on PostgreSQL")
	}
	t.Parallel()
	db := openPostgres(t)
	svc := serviceOn(db)
	ctx := t.Context()
	a, b := admit(t, svc), admit(t, svc)
	share := func(owner, member principal) *task.Task {
		l, err := svc.CreateList(ctx, owner.actor, "cross "+rand.Text()[:8], nil)
		if err != nil {
			t.Fatal(err)
		}
		lid := l.List.ID()
		inv, err := svc.InviteMember(ctx, owner.actor, lid, member.email, string(list.RoleEditor))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AcceptInvitation(ctx, member.actor, inv.ID); err != nil {
			t.Fatal(err)
		}
		tk, err := svc.CreateTask(ctx, owner.actor, "shared", nil, task.InList(&lid))
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	ofA, ofB := share(a, b), share(b, a)
	ownA, err := svc.CreateTask(ctx, a.actor, "a's own", nil)
	if err != nil {
		t.Fatal(err)
	}
	ownB, err := svc.CreateTask(ctx, b.actor, "b's own", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	var failed atomic.Int64
	var wg sync.WaitGroup
	run := func(who principal, ids []task.ID) {
		for i := range n {
			done := i%2 == 0
			if _, err := svc.UpdateTasks(ctx, who.actor, ids, application.BulkSet{Completed: &done}); err != nil {
				failed.Add(1)
				if failed.Load() <= 3 {
					t.Errorf("UpdateTasks by %s: %v", who.id, err)
				}
			}
		}
	}
	// Each call names the other's task first: its owner's scope lock
	// (Reach) comes before the caller's own.
	wg.Go(func() { run(a, []task.ID{ofB.ID(), ownA.ID()}) })
	wg.Go(func() { run(b, []task.ID{ofA.ID(), ownB.ID()}) })
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d calls failed", failed.Load(), 2*n)
	}
}
