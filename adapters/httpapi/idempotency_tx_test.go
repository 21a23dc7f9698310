package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

// Issue 14, item 1: an Idempotency-Key must never let a retry write twice.
// These tests break a keyed create between its write and the storing of
// its response (the database's reply lost, the request dying, the key's
// response not stored, the commit's reply lost), then retry it with the
// same key and body, and count the tasks. The store is one memory store
// whose transactions span the tasks and the keys, as in the service.

// afterWrite fails the first create (Add or AddAll) after it has written:
// the database did the work, and the service does not know.
type afterWrite struct {
	task.Repository
	fail  func() error // the failure, or a panic
	armed atomic.Bool
}

func (a *afterWrite) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	out, err := a.Repository.Add(ctx, t)
	if err == nil && a.armed.CompareAndSwap(true, false) {
		return nil, a.fail()
	}
	return out, err
}

func (a *afterWrite) AddAll(ctx context.Context, ts []*task.Task) ([]*task.Task, error) {
	out, err := a.Repository.AddAll(ctx, ts)
	if err == nil && a.armed.CompareAndSwap(true, false) {
		return nil, a.fail()
	}
	return out, err
}

// failingFinish fails the first Finish: the response is not stored with
// the key.
type failingFinish struct {
	application.IdempotencyStore
	armed atomic.Bool
}

func (f *failingFinish) Finish(ctx context.Context, c application.IdempotencyClaim, r application.StoredResponse) error {
	if f.armed.CompareAndSwap(true, false) {
		return fmt.Errorf("store idempotent response: %w", application.ErrUnavailable)
	}
	return f.IdempotencyStore.Finish(ctx, c, r)
}

// lostCommit commits the first unit of work and then reports an error: the
// commit's reply never came back.
type lostCommit struct {
	application.Transactor
	armed atomic.Bool
}

// lostCommitNested marks a context inside lostCommit's outermost InTx: a
// nested call is a savepoint, whose release is no commit.
type lostCommitNested struct{}

func (l *lostCommit) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if ctx.Value(lostCommitNested{}) != nil {
		return l.Transactor.InTx(ctx, fn)
	}
	err := l.Transactor.InTx(context.WithValue(ctx, lostCommitNested{}, true), fn)
	if err == nil && l.armed.CompareAndSwap(true, false) {
		return fmt.Errorf("commit: %w", application.ErrUnavailable)
	}
	return err
}

// keyedCreates are the creates that honour Idempotency-Key.
var keyedCreates = []struct {
	name, path, body string
	tasks            int // how many one request creates
}{
	{"create", "", `{"title": "once"}`, 1},
	{"bulk create", "/bulk", `[{"title": "once a"}, {"title": "once b"}]`, 2},
}

// TestIdempotentCreateInterrupted breaks a keyed create after its write
// and before its response is stored: the client gets an error, nothing is
// written, and a retry with the same key and body creates the tasks once,
// then replays.
func TestIdempotentCreateInterrupted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		// arm sets the failure up in the stores it is given.
		arm func(tasks *afterWrite, keys *failingFinish)
	}{
		{"the database's reply to the write is lost", http.StatusServiceUnavailable, func(tasks *afterWrite, _ *failingFinish) {
			tasks.fail = func() error { return fmt.Errorf("insert task: %w", application.ErrUnavailable) }
			tasks.armed.Store(true)
		}},
		{"the request dies after the write", http.StatusInternalServerError, func(tasks *afterWrite, _ *failingFinish) {
			tasks.fail = func() error { panic("killed after the write") }
			tasks.armed.Store(true)
		}},
		{"the response is not stored with the key", http.StatusServiceUnavailable, func(_ *afterWrite, keys *failingFinish) {
			keys.armed.Store(true)
		}},
	} {
		for _, op := range keyedCreates {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				store := memory.NewStore()
				tasks := &afterWrite{Repository: store.Tasks()}
				keys := &failingFinish{IdempotencyStore: store.Keys()}
				e := newEnv(t, withStore(store, tasks, store), func(d *httpapi.Deps) { d.Idempotency = keys })
				u := e.newUser(t)
				tc.arm(tasks, keys)
				req := post(u, u.tasks()+op.path, "interrupted", op.body)

				wantDetail(t, "the interrupted request", e.do(t, req), tc.status, "")
				if n := countTasks(t, e, u); n != 0 {
					t.Fatalf("after the interrupted request %d tasks, want 0: its write was kept without its response", n)
				}
				first := e.do(t, req)
				wantStatus(t, "the retry", first, http.StatusCreated)
				if first.header.Get("Idempotent-Replayed") != "" {
					t.Errorf("the retry was replayed: %s", first)
				}
				wantReplay(t, "another retry", first, e.do(t, req))
				if n := countTasks(t, e, u); n != op.tasks {
					t.Errorf("after the retries %d tasks, want %d", n, op.tasks)
				}
			})
		}
	}
}

// TestIdempotentCreateCommitReplyLost commits a keyed create and loses the
// commit's reply: the client gets 503, and its retry gets the response
// stored in that commit, replayed, without writing again.
func TestIdempotentCreateCommitReplyLost(t *testing.T) {
	t.Parallel()
	for _, op := range keyedCreates {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			store := memory.NewStore()
			tx := &lostCommit{Transactor: store}
			e := newEnv(t, withStore(store, store.Tasks(), tx))
			u := e.newUser(t)
			tx.armed.Store(true)
			req := post(u, u.tasks()+op.path, "commit-lost", op.body)

			wantDetail(t, "the request whose commit's reply was lost", e.do(t, req), http.StatusServiceUnavailable, "")
			retry := e.do(t, req)
			wantStatus(t, "the retry", retry, http.StatusCreated)
			if retry.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("the retry ran again instead of replaying: %s", retry)
			}
			if n := countTasks(t, e, u); n != op.tasks {
				t.Errorf("%d tasks, want %d: the committed create, once", n, op.tasks)
			}
		})
	}
}

// TestIdempotentUnitOfWork checks what the unit of work spans: a 4xx is
// stored with the key and replayed, a 5xx leaves nothing and frees the key.
func TestIdempotentUnitOfWork(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	tasks := &afterWrite{Repository: store.Tasks()}
	e := newEnv(t, withStore(store, tasks, store))
	u := e.newUser(t)
	bad := post(u, u.tasks(), "bad", `{"title": ""}`)
	first := e.do(t, bad)
	wantStatus(t, "an invalid create", first, http.StatusUnprocessableEntity)
	wantReplay(t, "the invalid create again", first, e.do(t, bad))

	tasks.fail = func() error { return errors.New("a bug") }
	tasks.armed.Store(true)
	req := post(u, u.tasks(), "500", `{"title": "x"}`)
	wantDetail(t, "a create that fails with 500 after its write", e.do(t, req), http.StatusInternalServerError, "")
	if n := countTasks(t, e, u); n != 0 {
		t.Errorf("after a 500 %d tasks, want 0", n)
	}
	wantStatus(t, "its retry", e.do(t, req), http.StatusCreated)
}
