package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestCommandsCrossOrder: batches that touch the same tasks in opposite
// orders, sent at once (on PostgreSQL to two instances), all apply: each
// batch is one transaction, so without a common lock order the first
// holds task 1 waiting for task 20 while the second holds 20 waiting for
// 1, and PostgreSQL answers one of them with a deadlock (a 500). A batch
// takes the locks of the tasks it names first, in id order.
func TestCommandsCrossOrder(t *testing.T) {
	t.Parallel()
	for name, open := range commandAPIs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hs := open(t)
			c := newCommandClient(t)
			const n = 20
			ids := make([]int64, n)
			for i := range ids {
				code, raw := c.do(hs[0], http.MethodPost, "/tasks", map[string]any{"title": "t" + strconv.Itoa(i)})
				var tk cmdTask
				if code != http.StatusCreated || json.Unmarshal(raw, &tk) != nil {
					t.Fatalf("create: %d %s", code, raw)
				}
				ids[i] = tk.ID
			}
			batch := func(round, w int, order []int64) map[string]any {
				var cmds []map[string]any
				for k, id := range order {
					cmds = append(cmds,
						map[string]any{"id": fmt.Sprintf("r%d-w%d-%d-u", round, w, k), "type": "task.update", "entity_id": id,
							"args": map[string]any{"description": fmt.Sprintf("round %d writer %d", round, w)}},
						map[string]any{"id": fmt.Sprintf("r%d-w%d-%d-c", round, w, k), "type": "task.complete", "entity_id": id,
							"args": map[string]any{"completed": w == 0}})
				}
				// A create too: its insert takes the owner's feed and
				// counters rows (triggers) before any task lock; the first
				// writer creates first, the second last.
				create := map[string]any{"id": fmt.Sprintf("r%d-w%d-new", round, w), "type": "task.create", "temp_id": "new",
					"args": map[string]any{"title": "new"}}
				if w == 0 {
					cmds = append([]map[string]any{create}, cmds...)
				} else {
					cmds = append(cmds, create)
				}
				return map[string]any{"commands": cmds, "atomic": true}
			}
			up := slices.Clone(ids)
			down := slices.Clone(ids)
			slices.Reverse(down)
			for round := range 5 {
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for w, order := range [][]int64{up, down} {
					wg.Go(func() {
						out, err := c.send(hs[w%len(hs)], batch(round, w, order))
						if err != nil {
							errs[w] = err
							return
						}
						for id, r := range out.Results {
							if r.Status != http.StatusOK && r.Status != http.StatusCreated && (errs[w] == nil || r.Status != http.StatusFailedDependency) {
								errs[w] = fmt.Errorf("command %s: %d %s", id, r.Status, r.Detail)
							}
						}
					})
				}
				wg.Wait()
				for w, err := range errs {
					if err != nil {
						t.Fatalf("round %d, writer %d: %v", round, w, err)
					}
				}
			}
		})
	}
}

// TestMergeConcurrent: PATCHes made on the same version with Prefer:
// merge, sent at once (on PostgreSQL to two instances), each adding its
// own tag, all apply: a merge reads, decides and writes in one unit of
// work with the task locked, so none loses a race it would have to retry
// (a bounded retry answered some of them 412 under contention).
func TestMergeConcurrent(t *testing.T) {
	t.Parallel()
	for name, open := range commandAPIs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hs := open(t)
			c := newCommandClient(t)
			code, raw := c.do(hs[0], http.MethodPost, "/tasks", map[string]any{"title": "shared"})
			var tk cmdTask
			if code != http.StatusCreated || json.Unmarshal(raw, &tk) != nil {
				t.Fatalf("create: %d %s", code, raw)
			}
			const n = 12
			path := "/api/" + string(c.owner) + "/tasks/" + strconv.FormatInt(tk.ID, 10)
			codes := make([]int, n)
			bodies := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					req := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(fmt.Sprintf(`{"tags_add":["g%d"]}`, i)))
					req.Header.Set("Authorization", "Bearer "+c.token)
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("If-Match", fmt.Sprintf(`"%d-1"`, tk.ID))
					req.Header.Set("Prefer", "merge")
					w := httptest.NewRecorder()
					hs[i%len(hs)].ServeHTTP(w, req)
					codes[i], bodies[i] = w.Code, w.Body.String()
				})
			}
			wg.Wait()
			for i := range n {
				if codes[i] != http.StatusOK {
					t.Errorf("merge %d: %d %s", i, codes[i], bodies[i])
				}
			}
			code, raw = c.do(hs[0], http.MethodGet, "/tasks/"+strconv.FormatInt(tk.ID, 10), nil)
			if code != http.StatusOK || json.Unmarshal(raw, &tk) != nil {
				t.Fatalf("GET: %d %s", code, raw)
			}
			if len(tk.Tags) != n || tk.Version != n+1 {
				t.Errorf("after %d merges: tags %v, version %d; want %d tags, version %d", n, tk.Tags, tk.Version, n, n+1)
			}
		})
	}
}
