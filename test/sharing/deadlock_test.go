package sharing

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
)

// TestCrossOwnerCommandBatches: two users, each an editor of the other's
// list, send at once atomic batches of offline commands that change a task
// of their own first, then create a task in the other's shared list, on
// PostgreSQL. The batch's up-front locks (LockTasks) knew only the tasks
// it names: the caller's scope lock came first, the other owner's (the
// create's) after it, out of the owners' id order, and the two batches
// deadlocked: PostgreSQL aborted one with 40P01, which the create
// answered as a 404 "List not found" (and the batch's other command 424)
// in 39 of 40 rounds. Every batch must land.
func TestCrossOwnerCommandBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: concurrent writes on PostgreSQL")
	}
	t.Parallel()
	var url string
	for _, st := range stores {
		if st.name == "postgres" {
			url = st.url(t)
		}
	}
	s := start(t, "postgres", url)
	s.noRetry() // the lock order alone must keep them apart
	a, b := s.newCaller(t), s.newCaller(t)
	shared := func(owner, member caller) int64 {
		id := s.create(t, owner, "/api/"+owner.id+"/lists", `{"name":"cross"}`)
		s.join(t, owner, member, id, list.RoleEditor, false)
		return id
	}
	ofA, ofB := shared(a, b), shared(b, a)
	ownA := s.create(t, a, "/api/"+a.id+"/tasks", `{"title":"a's own"}`)
	ownB := s.create(t, b, "/api/"+b.id+"/tasks", `{"title":"b's own"}`)
	for _, w := range []struct {
		who        caller
		own, other int64
	}{{a, ownA, ofB}, {b, ownB, ofA}} {
		s.create(t, w.who, "/api/"+w.who.id+"/tasks", fmt.Sprintf(`{"title":"alone","list_id":%d}`, w.other)) // each alone lands
	}
	const rounds = 40
	var failed, answered atomic.Int64
	statuses := sync.Map{}
	run := func(who caller, own, other int64) {
		for i := range rounds {
			body, _ := json.Marshal(map[string]any{"atomic": true, "commands": []map[string]any{
				{"id": fmt.Sprintf("%s-u-%d", who.id, i), "type": "task.update", "entity_id": own,
					"args": map[string]any{"title": fmt.Sprintf("own %d", i)}},
				{"id": fmt.Sprintf("%s-c-%d", who.id, i), "type": "task.create",
					"args": map[string]any{"title": fmt.Sprintf("for the other %d", i), "list_id": other}},
			}})
			got := s.do(t, who, http.MethodPost, "/api/"+who.id+"/commands", string(body))
			answered.Add(1)
			var out struct {
				Results map[string]struct{ Status int } `json:"results"`
			}
			ok := got.status == http.StatusOK && json.Unmarshal(got.body, &out) == nil
			for _, r := range out.Results {
				ok = ok && r.Status < 300
			}
			if !ok {
				failed.Add(1)
				n, _ := statuses.LoadOrStore(got.status, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				if failed.Load() <= 3 {
					t.Errorf("commands by %s: %s", who.id, got)
				}
			}
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { run(a, ownA, ofB) })
	wg.Go(func() { run(b, ownB, ofA) })
	wg.Wait()
	statuses.Range(func(k, v any) bool {
		t.Logf("status %v: %d batches", k, v.(*atomic.Int64).Load())
		return true
	})
	if failed.Load() > 0 {
		t.Errorf("%d of %d batches failed", failed.Load(), answered.Load())
	}
}

// TestRebalanceWhileRemoved: a member moves one of their own lists where
// their sidebar's keys grow past position.RebalanceLen, so that the move
// re-keys their sidebar, their memberships too (rebalanceSidebar), while
// the owner of a list they are a member of removes them, at once, on
// PostgreSQL. The removal takes the owner's scope lock, then the
// membership row, then (the feed's trigger) the member's change head; the
// move held the member's change head (its first write) and then waited
// for the membership row: a cycle, which PostgreSQL broke with 40P01.
// Every call must land.
func TestRebalanceWhileRemoved(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: concurrent writes on PostgreSQL")
	}
	t.Parallel()
	db := openPostgres(t)
	svc := serviceOn(db)
	// No retry of an aborted transaction (sqlstore.TxAttempts): the lock
	// order alone must keep the calls apart.
	ctx := sqlstore.WithTxAttempts(t.Context(), 1)
	const rounds = 30
	var failed, rebalanced int
	for round := range rounds {
		owner, m := admit(t, svc), admit(t, svc)
		var own []list.ID
		for _, name := range []string{"a", "b", "c"} {
			l, err := svc.CreateList(ctx, m.actor, name+" "+rand.Text()[:8], nil)
			if err != nil {
				t.Fatal(err)
			}
			own = append(own, l.List.ID())
		}
		var shared []list.ID
		for range 4 {
			l, err := svc.CreateList(ctx, owner.actor, "shared "+rand.Text()[:8], nil)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := svc.InviteMember(ctx, owner.actor, l.List.ID(), m.email, string(list.RoleEditor))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.AcceptInvitation(ctx, m.actor, inv.ID); err != nil {
				t.Fatal(err)
			}
			shared = append(shared, l.List.ID())
		}
		// a and b next to each other at keys of RebalanceLen characters:
		// c moved between them gets a longer key, and the sidebar is
		// re-keyed.
		// On odd rounds the same with shared lists: the member's move of
		// one (MemberRepository.Place) re-keys the sidebar, under the
		// owner's scope lock and the member's.
		k := "m" + strings.Repeat("5", position.RebalanceLen-1)
		q := "UPDATE lists SET position = CASE id WHEN ? THEN ? ELSE ? END WHERE id IN (?, ?) AND user_id = ?"
		moved, anchor, next, removed := own[2], own[0], own[1], shared[round%4]
		if round%2 == 1 {
			q = "UPDATE list_members SET position = CASE list_id WHEN ? THEN ? ELSE ? END WHERE list_id IN (?, ?) AND user_id = ?"
			moved, anchor, next, removed = shared[2], shared[0], shared[1], shared[3]
		}
		if _, err := db.ExecContext(ctx, q, int64(anchor), k, k+"1", int64(anchor), int64(next), string(m.id)); err != nil {
			t.Fatal(err)
		}
		var errMove, errRemove error
		var wg sync.WaitGroup
		wg.Go(func() {
			got, err := svc.MoveList(ctx, m.actor, moved, list.AnyVersion, list.Anchor{After: &anchor})
			if err == nil && len(got.List.Position()) <= len(position.Rebalanced(0)) {
				rebalanced++
			}
			errMove = err
		})
		wg.Go(func() { errRemove = svc.RemoveMember(ctx, owner.actor, removed, m.id) })
		wg.Wait()
		for _, err := range []error{errMove, errRemove} {
			if err != nil {
				failed++
				if failed <= 3 {
					t.Errorf("round %d: %v", round, err)
				}
			}
		}
	}
	t.Logf("%d rounds, %d moves rebalanced, %d calls failed", rounds, rebalanced, failed)
	if rebalanced == 0 {
		t.Error("no move rebalanced: the test tests nothing")
	}
}
