package sharing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/list"
)

// TestCrossOwnerCommandBatchesNamed: as TestCrossOwnerCommandBatches, two
// users, each an admin of the other's list, send at once batches that
// change a task of their own first, then write into the other's shared
// list through what a command names besides a list_id: a create under a
// task of that list (parent_id alone), a move of a task created so to the
// top level after another (after_id), a list.move of that list in their
// sidebar, a list.update of its color. The up-front locks read only
// list_id: the other owner's scope lock came second, out of the owners'
// id order, and the batches deadlocked. No transaction retry here
// (sqlstore.WithTxAttempts 1): the lock order alone must keep them apart.
func TestCrossOwnerCommandBatchesNamed(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: concurrent writes on PostgreSQL")
	}
	t.Parallel()
	s := start(t, "postgres", stores[2].url(t))
	s.noRetry()
	a, b := s.newCaller(t), s.newCaller(t)
	type side struct {
		who             caller
		own, other      int64 // a task of their own, the other's shared list
		otherTask, sibl int64 // tasks of the other's list
	}
	shared := func(owner, member caller) (int64, int64, int64) {
		id := s.create(t, owner, "/api/"+owner.id+"/lists", `{"name":"cross"}`)
		s.join(t, owner, member, id, list.RoleAdmin, false)
		t1 := s.create(t, owner, "/api/"+owner.id+"/tasks", fmt.Sprintf(`{"title":"parent","list_id":%d}`, id))
		t2 := s.create(t, owner, "/api/"+owner.id+"/tasks", fmt.Sprintf(`{"title":"anchor","list_id":%d}`, id))
		return id, t1, t2
	}
	ofA, pA, sA := shared(a, b)
	ofB, pB, sB := shared(b, a)
	sides := []side{
		{a, s.create(t, a, "/api/"+a.id+"/tasks", `{"title":"a's own"}`), ofB, pB, sB},
		{b, s.create(t, b, "/api/"+b.id+"/tasks", `{"title":"b's own"}`), ofA, pA, sA},
	}
	scenarios := []struct {
		name string
		cmds func(w side, i int) []map[string]any
	}{
		{"create by parent_id", func(w side, i int) []map[string]any {
			return []map[string]any{{"type": "task.create", "args": map[string]any{"title": fmt.Sprintf("sub %d", i), "parent_id": w.otherTask}}}
		}},
		{"move", func(w side, i int) []map[string]any {
			return []map[string]any{
				{"type": "task.create", "temp_id": "T", "args": map[string]any{"title": fmt.Sprintf("sub %d", i), "parent_id": w.otherTask}},
				{"type": "task.move", "entity_id": "T", "args": map[string]any{"parent_id": nil, "after_id": w.sibl}},
			}
		}},
		{"list.move", func(w side, i int) []map[string]any {
			return []map[string]any{{"type": "list.move", "entity_id": w.other, "args": map[string]any{}}}
		}},
		{"list.update", func(w side, i int) []map[string]any {
			return []map[string]any{{"type": "list.update", "entity_id": w.other, "args": map[string]any{"color": fmt.Sprintf("#%06x", i)}}}
		}},
	}
	const rounds = 40
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var failed, answered atomic.Int64
			statuses := sync.Map{}
			run := func(w side) {
				for i := range rounds {
					cmds := []map[string]any{{"type": "task.update", "entity_id": w.own, "args": map[string]any{"title": fmt.Sprintf("own %d", i)}}}
					cmds = append(cmds, sc.cmds(w, i)...)
					for j, c := range cmds {
						c["id"] = fmt.Sprintf("%s-%s-%d-%d", w.who.id, sc.name, i, j)
					}
					body, _ := json.Marshal(map[string]any{"atomic": true, "commands": cmds})
					got := s.do(t, w.who, http.MethodPost, "/api/"+w.who.id+"/commands", string(body))
					answered.Add(1)
					var out struct {
						Results map[string]struct{ Status int } `json:"results"`
					}
					ok := got.status == http.StatusOK && json.Unmarshal(got.body, &out) == nil
					status := got.status
					for _, r := range out.Results {
						if r.Status >= 300 {
							ok, status = false, 1000+r.Status // a command's
						}
					}
					if !ok {
						failed.Add(1)
						n, _ := statuses.LoadOrStore(status, new(atomic.Int64))
						n.(*atomic.Int64).Add(1)
						if failed.Load() <= 2 {
							t.Errorf("%s: commands by %s: %s", sc.name, w.who.id, got)
						}
					}
				}
			}
			var wg sync.WaitGroup
			for _, w := range sides {
				wg.Go(func() { run(w) })
			}
			wg.Wait()
			statuses.Range(func(k, v any) bool {
				t.Logf("%s: status %v (1000+: a command's): %d batches", sc.name, k, v.(*atomic.Int64).Load())
				return true
			})
			if failed.Load() > 0 {
				t.Errorf("%s: %d of %d batches failed", sc.name, failed.Load(), answered.Load())
			}
		})
	}
}

// noRetry makes every transaction of s's requests run once
// (sqlstore.WithTxAttempts 1): a deadlock is the request's failure, not
// hidden by a run again.
func (s *server) noRetry() {
	h := s.h
	s.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(sqlstore.WithTxAttempts(r.Context(), 1)))
	})
}
