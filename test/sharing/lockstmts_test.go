package sharing

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/todo-backend/todo/domain/list"
)

// TestBatchLockStatements counts the statements a batch of commands sends
// for its up-front locks (application.Service.LockTasks: those between
// its BEGIN and the first command's SAVEPOINT), with a bun query hook.
// For a caller who is nobody's member (the Sharers know it, as the reads
// do) there is nothing to lock beside their own scope, which their writes
// take: none. For a member of another's list, the owners of the lists and
// of the tasks the batch names are read in one statement. Before, each
// list a list command named cost a SharedList read of its own (two
// list.update of the caller's own lists: 2), and the tasks named in args
// (a parent) an Owners read, for every caller.
func TestBatchLockStatements(t *testing.T) {
	for _, st := range stores[1:] {
		if st.name == "postgres" && testing.Short() {
			continue
		}
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			c := &stmtCounter{}
			// On the service's own *bun.DB (a WithQueryHook clone would
			// not see the statements its repositories send), before the
			// service starts: its purge and reminder loops query the same
			// *bun.DB, and AddQueryHook races with them once they run.
			s := start(t, st.name, st.url(t), fx.Invoke(func(db *bun.DB) {
				//lint:ignore SA1019 a clone would miss the repositories' statements
				db.AddQueryHook(c)
			}))
			for deadline := time.Now().Add(20 * time.Second); !s.sharers.Ready(); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the Sharers never got ready")
				}
			}
			loner, member, other := s.newCaller(t), s.newCaller(t), s.newCaller(t)
			theirs := s.create(t, other, "/api/"+other.id+"/lists", `{"name":"theirs"}`)
			s.join(t, other, member, theirs, list.RoleEditor, false)
			for _, w := range []struct {
				who  caller
				want int
			}{{loner, 0}, {member, 1}} {
				l1 := s.create(t, w.who, "/api/"+w.who.id+"/lists", `{"name":"one"}`)
				l2 := s.create(t, w.who, "/api/"+w.who.id+"/lists", `{"name":"two"}`)
				p := s.create(t, w.who, "/api/"+w.who.id+"/tasks", `{"title":"parent"}`)
				for i, cmds := range map[string]string{
					"two list.update": fmt.Sprintf(`{"id":"a","type":"list.update","entity_id":%d,"args":{"color":"#ff0000"}},`+
						`{"id":"b","type":"list.update","entity_id":%d,"args":{"color":"#00ff00"}}`, l1, l2),
					"task.create under a parent": fmt.Sprintf(`{"id":"c","type":"task.create","args":{"title":"sub","parent_id":%d}}`, p),
					"both": fmt.Sprintf(`{"id":"d","type":"list.update","entity_id":%d,"args":{"color":"#0000ff"}},`+
						`{"id":"e","type":"task.create","args":{"title":"sub","parent_id":%d}}`, l1, p),
				} {
					got, stmts := s.statements(t, c, w.who, http.MethodPost, "/api/"+w.who.id+"/commands", `{"commands":[`+cmds+`]}`)
					if got.status != http.StatusOK || strings.Contains(string(got.body), `"status":4`) {
						t.Fatalf("%s: %s", i, got)
					}
					up := upFront(stmts)
					if len(up) != w.want {
						t.Errorf("%s, caller %s: %d statements for the up-front locks, want %d:\n%s", i,
							map[bool]string{true: "nobody's member", false: "a member"}[w.who == loner], len(up), w.want, strings.Join(up, "\n"))
					}
				}
			}
		})
	}
}

// upFront are the statements of stmts between the first BEGIN and the
// first SAVEPOINT (a command's): a batch's up-front locks.
func upFront(stmts []string) []string {
	var out []string
	begun := false
	for _, q := range stmts {
		switch {
		case strings.HasPrefix(q, "BEGIN"):
			begun = true
		case strings.HasPrefix(q, "SAVEPOINT"):
			return out
		case begun:
			if len(q) > 200 {
				q = q[:200] + "..."
			}
			out = append(out, q)
		}
	}
	return out
}

// stmtKey marks the context of the requests whose statements a
// stmtCounter records.
type stmtKey struct{}

// stmtCounter is a bun query hook that records the statements sent under
// a context stmtKey marks.
type stmtCounter struct {
	mu    sync.Mutex
	stmts []string
}

func (c *stmtCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *stmtCounter) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if ctx.Value(stmtKey{}) == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stmts = append(c.stmts, e.Query)
}

// statements sends one request as do does, and returns its answer and the
// statements it sent.
func (s *server) statements(t *testing.T, c *stmtCounter, who caller, method, path, body string) (answer, []string) {
	t.Helper()
	c.mu.Lock()
	c.stmts = nil
	c.mu.Unlock()
	ctx := context.WithValue(t.Context(), stmtKey{}, true)
	req := httptest.NewRequestWithContext(ctx, method, "http://todo.test"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+who.token)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	c.mu.Lock()
	defer c.mu.Unlock()
	return answer{status: rec.Code, body: rec.Body.Bytes(), header: rec.Header()}, c.stmts
}
