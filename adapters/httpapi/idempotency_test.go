package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

// post is a POST with an Idempotency-Key.
func post(u user, path, key, body string) request {
	r := request{method: http.MethodPost, path: path, token: u.token, body: body}
	if key != "" {
		r.header = http.Header{"Idempotency-Key": {key}}
	}
	return r
}

func countTasks(t *testing.T, e *env, u user) int {
	t.Helper()
	return len(decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, "")))
}

// wantReplay checks that again is first again, marked as replayed.
func wantReplay(t *testing.T, what string, first, again *response) {
	t.Helper()
	if again.status != first.status || !bytes.Equal(again.body, first.body) {
		t.Errorf("%s: repeat = %s, want the first response %s", what, again, first)
	}
	if got := again.header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("%s: repeat has Idempotent-Replayed %q, want true", what, got)
	}
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("%s: the first response is marked as replayed", what)
	}
	if got, want := again.header.Get("ETag"), first.header.Get("ETag"); got != want {
		t.Errorf("%s: repeat ETag %q, want %q", what, got, want)
	}
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	first := e.do(t, post(u, u.tasks(), "key-1", `{"title": "once"}`))
	wantTask(t, "POST with a key", first, http.StatusCreated)
	// The same request again, even re-encoded with other spacing, is the
	// first response again, and creates nothing.
	for _, body := range []string{`{"title": "once"}`, `{ "title" : "once" }`} {
		wantReplay(t, "POST "+body, first, e.do(t, post(u, u.tasks(), "key-1", body)))
	}
	if n := countTasks(t, e, u); n != 1 {
		t.Errorf("after a repeated POST %d tasks, want 1", n)
	}
	// The same key for another request: 422, nothing created.
	for _, r := range []request{
		post(u, u.tasks(), "key-1", `{"title": "twice"}`),
		post(u, u.tasks()+"/bulk", "key-1", `[{"title": "once"}]`),
		post(u, u.tasks()+"/clear-completed", "key-1", ""),
	} {
		wantProblems(t, r.path+" "+r.body+" with a used key", e.do(t, r), []any{"header", "Idempotency-Key"})
	}
	// Keys are per user; without a key every POST creates.
	other := e.newUser(t)
	wantTask(t, "another user's POST with the same key", e.do(t, post(other, other.tasks(), "key-1", `{"title": "once"}`)), http.StatusCreated)
	for range 2 {
		wantTask(t, "POST without a key", e.do(t, post(u, u.tasks(), "", `{"title": "once"}`)), http.StatusCreated)
	}
	if n := countTasks(t, e, u); n != 3 {
		t.Errorf("%d tasks, want 3", n)
	}
	// A refused request is remembered as refused.
	bad := e.do(t, post(u, u.tasks(), "key-bad", `{"title": ""}`))
	wantProblems(t, "POST an empty title with a key", bad, []any{"body", "title"})
	wantReplay(t, "POST an empty title again", bad, e.do(t, post(u, u.tasks(), "key-bad", `{"title": ""}`)))
}

func TestIdempotencyKeyRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for _, key := range [][]string{
		{""},
		{strings.Repeat("k", 256)},
		{"ключ"},
		{"tab\there"},
		{"one", "two"},
	} {
		r := post(u, u.tasks(), "", `{"title": "x"}`)
		r.header, r.outsideDoc = http.Header{"Idempotency-Key": key}, true
		wantProblems(t, fmt.Sprintf("POST with Idempotency-Key %q", key), e.do(t, r), []any{"header", "Idempotency-Key"})
	}
	for _, key := range []string{"k", strings.Repeat("k", 255), "a b~!{}", "550e8400-e29b-41d4-a716-446655440000"} {
		wantTask(t, fmt.Sprintf("POST with Idempotency-Key %q", key), e.do(t, post(u, u.tasks(), key, `{"title": "x"}`)), http.StatusCreated)
	}
	if n := countTasks(t, e, u); n != 4 {
		t.Errorf("%d tasks, want the 4 with good keys", n)
	}
	// A bad token or another user's URL is answered as without a key.
	res := e.do(t, request{method: http.MethodPost, path: u.tasks(), token: "bad", body: `{"title": "x"}`,
		header: http.Header{"Idempotency-Key": {"k"}}, outsideDoc: true})
	wantDetail(t, "POST with a bad token and a key", res, http.StatusUnauthorized, "")
	other := e.newUser(t)
	res = e.do(t, post(other, u.tasks(), "k", `{"title": "x"}`))
	wantDetail(t, "POST to another user's URL with a key", res, http.StatusForbidden, "")
}

// failingTasks fails Add while failing is set.
type failingTasks struct {
	task.Repository
	failing atomic.Bool
}

var errInjected = errors.New("injected storage failure")

func (g *failingTasks) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	if g.failing.Load() {
		return nil, errInjected
	}
	return g.Repository.Add(ctx, t)
}

// gatedTx holds a keyed request, which has claimed its key, before its
// handler's unit of work until the test opens the gate. (Inside it, on the
// memory store, the request would hold the store's one lock, and a repeat
// would wait for it instead of finding the key in progress, as it does on
// SQLite; on PostgreSQL it finds it in progress.)
type gatedTx struct {
	application.Transactor
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	g.entered <- struct{}{}
	<-g.gate
	return g.Transactor.InTx(ctx, fn)
}

// withStore runs the service and the keys on store, with tasks (store's, or
// a wrapper of them) and the unit of work tx (store, or a wrapper of it).
func withStore(store *memory.Store, tasks task.Repository, tx application.Transactor) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) {
		d.Service = application.New(tasks, store.Users(), nil, application.WithTransactor(tx))
		d.Idempotency = store.Keys()
	}
}

func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	tx := &gatedTx{Transactor: store, entered: make(chan struct{}), gate: make(chan struct{})}
	e := newEnv(t, withStore(store, store.Tasks(), tx))
	u := e.newUser(t)
	firstDone := make(chan *response)
	go func() { firstDone <- e.do(t, post(u, u.tasks(), "slow", `{"title": "slow"}`)) }()
	<-tx.entered // the first request holds its key and has not finished

	res := e.do(t, post(u, u.tasks(), "slow", `{"title": "slow"}`))
	wantDetail(t, "a repeat while the first runs", res, http.StatusConflict, "")
	if res.header.Get("Retry-After") == "" {
		t.Errorf("409 without Retry-After: %v", res.header)
	}
	wantProblems(t, "another request with the key while the first runs",
		e.do(t, post(u, u.tasks(), "slow", `{"title": "other"}`)), []any{"header", "Idempotency-Key"})

	close(tx.gate)
	first := <-firstDone
	wantTask(t, "the first request", first, http.StatusCreated)
	wantReplay(t, "a repeat after the first", first, e.do(t, post(u, u.tasks(), "slow", `{"title": "slow"}`)))
	if n := countTasks(t, e, u); n != 1 {
		t.Errorf("%d tasks, want 1", n)
	}
}

// TestIdempotencyServerError: a 500 is not kept, so a retry runs again.
func TestIdempotencyServerError(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	repo := &failingTasks{Repository: store.Tasks()}
	e := newEnv(t, withStore(store, repo, store))
	u := e.newUser(t)
	repo.failing.Store(true)
	res := e.do(t, post(u, u.tasks(), "retry-me", `{"title": "x"}`))
	wantDetail(t, "POST while the store fails", res, http.StatusInternalServerError, "")
	repo.failing.Store(false)
	res = e.do(t, post(u, u.tasks(), "retry-me", `{"title": "x"}`))
	wantTask(t, "the retry", res, http.StatusCreated)
	if res.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the retry after a 500 was replayed")
	}
	wantReplay(t, "another retry", res, e.do(t, post(u, u.tasks(), "retry-me", `{"title": "x"}`)))
}

// TestIdempotencyConcurrentDuplicates sends one request with one key 20
// times at once: exactly one task is created, and every answer that is not
// "still in progress" (409 with Retry-After) is the same response.
func TestIdempotencyConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	const n = 20
	e := newEnv(t)
	u := e.newUser(t)
	for _, path := range []string{u.tasks(), u.tasks() + "/bulk"} {
		body := `{"title": "racing"}`
		if strings.HasSuffix(path, "/bulk") {
			body = `[{"title": "racing a"}, {"title": "racing b"}]`
		}
		var wg sync.WaitGroup
		results := make([]*response, n)
		for i := range n {
			wg.Go(func() { results[i] = e.do(t, post(u, path, "dup-"+path, body)) })
		}
		wg.Wait()
		var first *response
		for i, res := range results {
			switch res.status {
			case http.StatusCreated:
				if first == nil {
					first = res
				} else if !bytes.Equal(res.body, first.body) {
					t.Errorf("%s: response %d = %s, want the same as %s", path, i, res, first)
				}
			case http.StatusConflict:
				if res.header.Get("Retry-After") == "" {
					t.Errorf("%s: response %d is 409 without Retry-After", path, i)
				}
			default:
				t.Errorf("%s: response %d = %s, want 201 or 409", path, i, res)
			}
		}
		if first == nil {
			t.Fatalf("%s: no request was answered 201", path)
		}
	}
	if got := countTasks(t, e, u); got != 3 {
		t.Errorf("%d tasks after %d duplicates of each POST, want 3 (one, then two in bulk)", got, n)
	}
}

// TestIdempotentPosts: every POST replays instead of acting twice.
func TestIdempotentPosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	a, b, c := e.create(t, u, "a"), e.create(t, u, "b"), e.create(t, u, "c")
	e.call(t, http.MethodPatch, u.complete(a.ID), u.token, "")

	clear := e.do(t, post(u, u.tasks()+"/clear-completed", "clear", ""))
	wantStatus(t, "clear-completed", clear, http.StatusOK)
	e.call(t, http.MethodPatch, u.complete(b.ID), u.token, "")
	wantReplay(t, "clear-completed again", clear, e.do(t, post(u, u.tasks()+"/clear-completed", "clear", "")))
	if n := countTasks(t, e, u); n != 2 {
		t.Errorf("after a replayed clear-completed %d tasks, want 2 (b, completed since, stays)", n)
	}

	restore := e.do(t, post(u, u.task(a.ID)+"/restore", "restore", ""))
	wantTask(t, "restore", restore, http.StatusOK)
	wantReplay(t, "restore again", restore, e.do(t, post(u, u.task(a.ID)+"/restore", "restore", "")))

	body := fmt.Sprintf(`{"ids": [%d]}`, c.ID)
	del := e.do(t, post(u, u.tasks()+"/bulk-delete", "delete", body))
	wantStatus(t, "bulk-delete", del, http.StatusOK)
	wantReplay(t, "bulk-delete again", del, e.do(t, post(u, u.tasks()+"/bulk-delete", "delete", body)))
}
