package contract

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// txStore is one store's repositories and the transactor they honour.
type txStore struct {
	tasks task.Repository
	lists list.Repository
	users user.Repository
	keys  application.IdempotencyStore
	tx    application.Transactor
}

func sqlTxStore(db *bun.DB) txStore {
	return txStore{
		tasks: sqlstore.NewTaskRepository(db),
		lists: sqlstore.NewListRepository(db),
		users: sqlstore.NewUserRepository(db),
		keys:  sqlstore.NewIdempotencyStore(db),
		tx:    sqlstore.NewTransactor(db),
	}
}

var txStores = map[string]func(*testing.T) txStore{
	"memory": func(*testing.T) txStore {
		s := memory.NewStore()
		s.SetFeedCheck(true) // every commit also compared with the whole store
		return txStore{tasks: s.Tasks(), lists: s.Lists(), users: s.Users(), keys: s.Keys(), tx: s}
	},
	"sqlite":   func(t *testing.T) txStore { return sqlTxStore(openSQLiteDB(t)) },
	"postgres": func(t *testing.T) txStore { return sqlTxStore(openPostgresDB(t)) },
}

func TestTransactions(t *testing.T) {
	t.Parallel()
	for name, open := range txStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, txStore)
			}{
				{"a unit of work commits tasks, users and keys together", testTxCommit},
				{"a failing unit of work leaves nothing", testTxRollback},
				{"a panic rolls back", testTxPanic},
				{"a nested unit of work joins the outer one", testTxNested},
				{"concurrent units of work lose no write", testTxConcurrent},
				{"every repository method runs in the transaction", testTxEveryMethod},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, s)
				})
			}
		})
	}
}

var errRollback = errors.New("roll back, please")

// txTimeout bounds a unit of work in these tests. A correct one takes
// milliseconds; one whose statement ignores the transaction waits on
// SQLite for the only connection, and on memory for the lock, forever.
const txTimeout = 30 * time.Second

// errBlocked is inTx's error for a unit of work still running after
// txTimeout: blocked by a call that did not use the transaction's context.
var errBlocked = fmt.Errorf("the unit of work is still running after %s: a call in it waits for a connection or lock the transaction holds", txTimeout)

// inTx runs fn in a transaction of s and returns InTx's error, or
// errBlocked.
func inTx(s txStore, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.tx.InTx(ctx, fn)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errBlocked
	}
}

// written is what a unit of work of txWork wrote: a task with tags, a
// change of a task that existed before, a user, and an idempotency key
// with its response.
type written struct {
	owner   auth.UserID
	added   task.ID
	before  *task.Task // the task that existed, as it was
	user    user.User
	claim   application.IdempotencyClaim
	respond application.StoredResponse
}

// txFixture makes an owner with one task, outside any transaction.
func txFixture(t *testing.T, s txStore) *written {
	t.Helper()
	owner := newOwner()
	w := &written{
		owner:   owner,
		before:  mustAdd(t, s.tasks, mustNewWith(t, owner, "before", base, task.WithTags([]string{"old"}))),
		user:    user.User{ID: owner, Email: uniqEmail(), Name: "In a transaction"},
		claim:   claim(owner, "key-"+uniq(), "fp", base),
		respond: application.StoredResponse{Status: 201, Header: map[string][]string{"Etag": {`"1"`}}, Body: []byte(`{"id":1}`)},
	}
	return w
}

// txWork writes, with ctx, everything written names.
func txWork(ctx context.Context, s txStore, w *written) error {
	if _, err := s.keys.Begin(ctx, w.claim); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := s.users.Save(ctx, w.user); err != nil {
		return fmt.Errorf("save user: %w", err)
	}
	tk, err := task.New(w.owner, "added", nil, base, task.WithTags([]string{"new"}))
	if err != nil {
		return err
	}
	added, err := s.tasks.Add(ctx, tk)
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	w.added = added.ID()
	// A change of tags: the store's locking path (a savepoint in the
	// transaction on the SQL stores).
	if _, err := s.tasks.Update(ctx, w.owner, w.before.ID(), w.before.Version(), func(tk *task.Task) error {
		return tk.Edit("changed", nil, base.Add(time.Minute), task.WithTags([]string{"changed"}))
	}); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := s.keys.Finish(ctx, w.claim, w.respond); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	return nil
}

// wantCommitted checks that everything w names was written.
func wantCommitted(t *testing.T, s txStore, w *written) {
	t.Helper()
	ctx := context.Background()
	if got, err := s.tasks.Get(ctx, w.owner, w.added); err != nil || got.Title() != "added" {
		t.Errorf("the task added: %v, %v", got, err)
	}
	if got := mustGet(t, s.tasks, w.owner, w.before.ID()); got.Title() != "changed" || !slices.Equal(got.Tags(), []string{"changed"}) ||
		got.Version() != w.before.Version()+1 {
		t.Errorf("the task changed: %q %v at version %d, want \"changed\" [changed] at %d", got.Title(), got.Tags(), got.Version(), w.before.Version()+1)
	}
	if err := s.users.Save(ctx, user.User{ID: newUserID(), Email: w.user.Email}); !errors.Is(err, user.ErrEmailTaken) {
		t.Errorf("another user with the email saved: %v, want ErrEmailTaken", err)
	}
	again := w.claim
	again.Token = "again-" + uniq()
	wantResponse(t, "the key", s.keys, again, w.respond)
}

// wantNothing checks that nothing w names was written.
func wantNothing(t *testing.T, s txStore, w *written) {
	t.Helper()
	ctx := context.Background()
	if got := mustList(t, s.tasks, w.owner, task.Query{}); len(got) != 1 || got[0].ID() != w.before.ID() {
		t.Errorf("the owner's tasks: %v, want only the one from before", ids(got))
	}
	checkFull(t, "the task from before", mustGet(t, s.tasks, w.owner, w.before.ID()), w.before)
	if w.added != 0 {
		if got, err := s.tasks.Get(ctx, w.owner, w.added); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("the task added: %v, %v, want ErrNotFound", got, err)
		}
	}
	if err := s.users.Save(ctx, user.User{ID: newUserID(), Email: w.user.Email}); err != nil {
		t.Errorf("another user with the email: %v, want it saved (the email was never taken)", err)
	}
	again := w.claim
	again.Token = "again-" + uniq()
	wantClaimed(t, "the key", s.keys, again)
}

func testTxCommit(t *testing.T, s txStore) {
	w := txFixture(t, s)
	if err := inTx(s, func(ctx context.Context) error { return txWork(ctx, s, w) }); err != nil {
		t.Fatalf("InTx() = %v", err)
	}
	wantCommitted(t, s, w)
}

func testTxRollback(t *testing.T, s txStore) {
	w := txFixture(t, s)
	err := inTx(s, func(ctx context.Context) error {
		if err := txWork(ctx, s, w); err != nil {
			return err
		}
		// The work is visible inside the transaction.
		if _, err := s.tasks.Get(ctx, w.owner, w.added); err != nil {
			return fmt.Errorf("get the task added, in the transaction: %w", err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx() = %v, want fn's error", err)
	}
	wantNothing(t, s, w)
}

func testTxPanic(t *testing.T, s txStore) {
	// InTx runs here, not on inTx's goroutine, where the panic, which
	// InTx lets go on, would end the test binary.
	var recovered any
	w2 := txFixture(t, s)
	func() {
		defer func() { recovered = recover() }()
		ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
		defer cancel()
		_ = s.tx.InTx(ctx, func(ctx context.Context) error {
			if err := txWork(ctx, s, w2); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if recovered != "boom" {
		t.Fatalf("InTx() recovered %v, want the panic to go on", recovered)
	}
	wantNothing(t, s, w2)
	// The store is usable again: the lock or connection was given back.
	w3 := txFixture(t, s)
	if err := inTx(s, func(ctx context.Context) error { return txWork(ctx, s, w3) }); err != nil {
		t.Fatalf("InTx() after a panic = %v", err)
	}
	wantCommitted(t, s, w3)
}

func testTxNested(t *testing.T, s txStore) {
	// An inner unit of work that fails leaves nothing; the outer one goes
	// on and commits.
	owner := newOwner()
	add := func(ctx context.Context, title string) (task.ID, error) {
		tk, err := task.New(owner, title, nil, base)
		if err == nil {
			tk, err = s.tasks.Add(ctx, tk)
		}
		if err != nil {
			return 0, err
		}
		return tk.ID(), nil
	}
	var kept, dropped, after task.ID
	err := inTx(s, func(ctx context.Context) error {
		var err error
		if kept, err = add(ctx, "kept"); err != nil {
			return err
		}
		err = s.tx.InTx(ctx, func(ctx context.Context) error {
			var err error
			if dropped, err = add(ctx, "dropped"); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			return fmt.Errorf("inner InTx() = %v, want its fn's error", err)
		}
		after, err = add(ctx, "after")
		return err
	})
	if err != nil {
		t.Fatalf("InTx() = %v", err)
	}
	if got := ids(mustList(t, s.tasks, owner, task.Query{})); !slices.Equal(got, []task.ID{kept, after}) {
		t.Errorf("after a failed inner unit of work: tasks %v, want %v (not %d)", got, []task.ID{kept, after}, dropped)
	}

	// An inner unit of work that succeeds is undone with the outer one.
	w := txFixture(t, s)
	err = inTx(s, func(ctx context.Context) error {
		if err := s.tx.InTx(ctx, func(ctx context.Context) error { return txWork(ctx, s, w) }); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx() = %v, want fn's error", err)
	}
	wantNothing(t, s, w)
}

// testTxConcurrent runs units of work at once that each change one shared
// task, add a task and finish a key: every change lands once, and none
// fails (on PostgreSQL: no deadlock between units that lock the owner's
// scope and the shared row).
func testTxConcurrent(t *testing.T, s txStore) {
	const n = 26
	owner := newOwner()
	shared := mustAdd(t, s.tasks, mustNew(t, owner, "shared", ptr(""), base))
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			c := claim(owner, fmt.Sprintf("k%d", i), "fp", base)
			errs[i] = inTx(s, func(ctx context.Context) error {
				if _, err := s.keys.Begin(ctx, c); err != nil {
					return err
				}
				if _, err := s.tasks.Update(ctx, owner, shared.ID(), task.AnyVersion, func(tk *task.Task) error {
					d := *tk.Description() + string(rune('a'+i))
					return tk.Edit(tk.Title(), &d, base)
				}); err != nil {
					return err
				}
				tk, err := task.New(owner, fmt.Sprintf("task %d", i), nil, base)
				if err != nil {
					return err
				}
				if _, err := s.tasks.Add(ctx, tk); err != nil {
					return err
				}
				return s.keys.Finish(ctx, c, application.StoredResponse{Status: 201, Header: map[string][]string{}, Body: []byte{byte('a' + i)}})
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("unit of work %d: %v", i, err)
		}
	}
	got := mustGet(t, s.tasks, owner, shared.ID())
	letters := []rune(*got.Description())
	slices.Sort(letters)
	if string(letters) != "abcdefghijklmnopqrstuvwxyz"[:n] || got.Version() != shared.Version()+n {
		t.Errorf("the shared task: %q at version %d, want every letter once at version %d", *got.Description(), got.Version(), shared.Version()+n)
	}
	if all := mustList(t, s.tasks, owner, task.Query{}); len(all) != n+1 {
		t.Errorf("%d tasks, want %d", len(all), n+1)
	}
	for i := range n {
		c := claim(owner, fmt.Sprintf("k%d", i), "fp", base)
		wantResponse(t, c.Key.Value, s.keys, c, application.StoredResponse{Status: 201, Header: map[string][]string{}, Body: []byte{byte('a' + i)}})
	}
}

// txCall is one method of a port called as a use case would call it in a
// unit of work; f is the test's owner and its tasks.
type txCall struct {
	port   string // the interface: task.Repository, user.Repository, application.IdempotencyStore
	method string
	call   func(ctx context.Context, s txStore, f *txCallFixture) error
}

type txCallFixture struct {
	owner               auth.UserID
	live, done, trashed *task.Task
	list, trashedList   list.ID
	holder              auth.UserID // holds email
	email, taken        string
	claim               application.IdempotencyClaim
}

// txCalls holds a call of every method of the ports. Each runs in a unit
// of work that is then rolled back, so each finds the fixture as it was.
var txCalls = []txCall{
	{"task.Repository", "Add", func(ctx context.Context, s txStore, f *txCallFixture) error {
		tk, _ := task.New(f.owner, "added", nil, base)
		_, err := s.tasks.Add(ctx, tk)
		return err
	}},
	{"task.Repository", "AddAll", func(ctx context.Context, s txStore, f *txCallFixture) error {
		a, _ := task.New(f.owner, "a", nil, base, task.WithTags([]string{"x"}))
		b, _ := task.New(f.owner, "b", nil, base)
		_, err := s.tasks.AddAll(ctx, []*task.Task{a, b})
		return err
	}},
	{"task.Repository", "Move", func(ctx context.Context, s txStore, f *txCallFixture) error {
		// Into a list, then under another task there.
		if _, err := s.tasks.Move(ctx, f.owner, task.Move{IDs: []task.ID{f.live.ID()}, To: task.Placement{List: &f.list},
			Expect: task.AnyVersion, At: base}); err != nil {
			return err
		}
		parent := f.done.ID()
		_, err := s.tasks.Move(ctx, f.owner, task.Move{IDs: []task.ID{f.live.ID()}, To: task.Placement{Parent: &parent},
			Expect: task.AnyVersion, At: base})
		return err
	}},
	{"task.Repository", "Get", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.Get(ctx, f.owner, f.live.ID())
		return err
	}},
	{"task.Repository", "List", func(ctx context.Context, s txStore, f *txCallFixture) error {
		// Pages short of every task, so that the store counts them too (from
		// the counters, and by a COUNT), and a page by due date.
		for _, q := range []task.Query{{Limit: 1}, {Limit: 1, Search: "e"}, {Limit: 1, Sort: task.SortDue}} {
			if _, err := s.tasks.List(ctx, f.owner, q); err != nil {
				return err
			}
		}
		return nil
	}},
	{"task.Repository", "Update", func(ctx context.Context, s txStore, f *txCallFixture) error {
		// The fast path, the locking path (tags change) and a conflict.
		if _, err := s.tasks.Update(ctx, f.owner, f.live.ID(), task.AnyVersion, func(tk *task.Task) error {
			return tk.Edit("edited", nil, base)
		}); err != nil {
			return err
		}
		if _, err := s.tasks.Update(ctx, f.owner, f.live.ID(), task.AnyVersion, func(tk *task.Task) error {
			return tk.Edit("edited", nil, base, task.WithTags([]string{"y"}))
		}); err != nil {
			return err
		}
		_, err := s.tasks.Update(ctx, f.owner, f.live.ID(), f.live.Version(), func(*task.Task) error { return nil })
		if !errors.Is(err, task.ErrVersionMismatch) {
			return fmt.Errorf("update at a stale version: %v, want a conflict", err)
		}
		return nil
	}},
	{"task.Repository", "UpdateAll", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.UpdateAll(ctx, f.owner, []task.ID{f.live.ID(), f.done.ID()}, func(tk *task.Task) error {
			tk.ToggleCompleted(base)
			return nil
		})
		return err
	}},
	{"task.Repository", "Trash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		if err := s.tasks.Trash(ctx, f.owner, f.live.ID(), f.live.Version(), base); err != nil {
			return err
		}
		// A miss reads the task to say why.
		if err := s.tasks.Trash(ctx, f.owner, f.live.ID(), task.AnyVersion, base); !errors.Is(err, task.ErrNotFound) {
			return fmt.Errorf("trash a trashed task: %v, want ErrNotFound", err)
		}
		return nil
	}},
	{"task.Repository", "TrashAll", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.TrashAll(ctx, f.owner, []task.ID{f.live.ID(), f.done.ID()}, base)
		return err
	}},
	{"task.Repository", "TrashCompleted", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.TrashCompleted(ctx, f.owner, base)
		return err
	}},
	{"task.Repository", "ListTrash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.ListTrash(ctx, f.owner, 10, 0)
		return err
	}},
	{"task.Repository", "RestoreFromTrash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.RestoreFromTrash(ctx, f.owner, f.trashed.ID())
		return err
	}},
	{"task.Repository", "Delete", func(ctx context.Context, s txStore, f *txCallFixture) error {
		if err := s.tasks.Delete(ctx, f.owner, f.live.ID(), f.live.Version()); err != nil {
			return err
		}
		if err := s.tasks.Delete(ctx, f.owner, f.live.ID(), task.AnyVersion); !errors.Is(err, task.ErrNotFound) {
			return fmt.Errorf("delete a deleted task: %v, want ErrNotFound", err)
		}
		return nil
	}},
	{"task.Repository", "EmptyTrash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.EmptyTrash(ctx, f.owner)
		return err
	}},
	{"task.Repository", "PurgeTrash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.PurgeTrash(ctx, base.Add(-48*time.Hour), 10)
		return err
	}},
	{"task.Repository", "Tags", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.Tags(ctx, f.owner)
		return err
	}},
	{"task.Repository", "Revisions", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.tasks.Revisions(ctx, f.owner, f.live.ID(), 0)
		return err
	}},
	{"task.Repository", "Lock", func(ctx context.Context, s txStore, f *txCallFixture) error {
		return s.tasks.Lock(ctx, f.owner, []task.ID{f.done.ID(), f.live.ID()})
	}},
	{"task.Repository", "Stats", func(ctx context.Context, s txStore, f *txCallFixture) error {
		if _, err := s.tasks.Stats(ctx, f.owner, task.Moment{Now: base}, nil); err != nil {
			return err
		}
		_, err := s.tasks.Stats(ctx, f.owner, task.Moment{Now: base}, &f.list)
		return err
	}},
	{"list.Repository", "Add", func(ctx context.Context, s txStore, f *txCallFixture) error {
		l, err := list.New(f.owner, "added", nil, base)
		if err != nil {
			return err
		}
		if _, err := s.lists.Add(ctx, l); err != nil {
			return err
		}
		// A taken name: the transaction goes on after it.
		if _, err := s.lists.Add(ctx, l); !errors.Is(err, list.ErrNameTaken) {
			return fmt.Errorf("add a list with a taken name: %v, want ErrNameTaken", err)
		}
		return nil
	}},
	{"list.Repository", "Get", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.Get(ctx, f.owner, f.list)
		return err
	}},
	{"list.Repository", "List", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.List(ctx, f.owner)
		return err
	}},
	{"list.Repository", "Update", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.Update(ctx, f.owner, f.owner, f.list, list.AnyVersion, func(l *list.List) error {
			return l.Edit("renamed", nil, base)
		})
		return err
	}},
	{"list.Repository", "Move", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.Move(ctx, f.owner, f.list, list.AnyVersion, list.Anchor{}, base)
		return err
	}},
	{"list.Repository", "Trash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		return s.lists.Trash(ctx, f.owner, f.list, list.AnyVersion, base)
	}},
	{"list.Repository", "Restore", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.Restore(ctx, f.owner, f.trashedList)
		return err
	}},
	{"list.Repository", "Delete", func(ctx context.Context, s txStore, f *txCallFixture) error {
		return s.lists.Delete(ctx, f.owner, f.list, list.AnyVersion)
	}},
	{"list.Repository", "ListTrash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.ListTrash(ctx, f.owner)
		return err
	}},
	{"list.Repository", "EmptyTrash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.EmptyTrash(ctx, f.owner)
		return err
	}},
	{"list.Repository", "PurgeTrash", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.lists.PurgeTrash(ctx, base.Add(-48*time.Hour), 10)
		return err
	}},
	{"user.Repository", "Save", func(ctx context.Context, s txStore, f *txCallFixture) error {
		// The holder of f.email gives it up (which, rolled back, it has
		// not).
		if err := s.users.Save(ctx, user.User{ID: f.holder, Email: uniqEmail()}); err != nil {
			return err
		}
		// A taken email: the transaction goes on after it.
		if err := s.users.Save(ctx, user.User{ID: newUserID(), Email: f.taken}); !errors.Is(err, user.ErrEmailTaken) {
			return fmt.Errorf("save with a taken email: %v, want ErrEmailTaken", err)
		}
		return s.users.Save(ctx, user.User{ID: newUserID(), Email: uniqEmail()})
	}},
	{"application.IdempotencyStore", "Begin", func(ctx context.Context, s txStore, f *txCallFixture) error {
		if _, err := s.keys.Begin(ctx, claim(f.owner, "new", "fp", base)); err != nil {
			return err
		}
		again := f.claim
		again.Token = "again"
		if _, err := s.keys.Begin(ctx, again); !errors.Is(err, application.ErrKeyInFlight) {
			return fmt.Errorf("begin a held key: %v, want ErrInFlight", err)
		}
		return nil
	}},
	{"application.IdempotencyStore", "Finish", func(ctx context.Context, s txStore, f *txCallFixture) error {
		return s.keys.Finish(ctx, f.claim, application.StoredResponse{Status: 201, Body: []byte("x")})
	}},
	{"application.IdempotencyStore", "Abandon", func(ctx context.Context, s txStore, f *txCallFixture) error {
		return s.keys.Abandon(ctx, f.claim)
	}},
	{"application.IdempotencyStore", "Purge", func(ctx context.Context, s txStore, f *txCallFixture) error {
		_, err := s.keys.Purge(ctx, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), 10)
		return err
	}},
}

// TestTxCallsCoverPorts holds txCalls to the ports: a method added to one
// needs its call there, so that testTxEveryMethod checks that it runs in
// the transaction.
func TestTxCallsCoverPorts(t *testing.T) {
	have := map[string]bool{}
	for _, c := range txCalls {
		have[c.port+"."+c.method] = true
	}
	for name, port := range map[string]reflect.Type{
		"task.Repository":              reflect.TypeFor[task.Repository](),
		"list.Repository":              reflect.TypeFor[list.Repository](),
		"user.Repository":              reflect.TypeFor[user.Repository](),
		"application.IdempotencyStore": reflect.TypeFor[application.IdempotencyStore](),
	} {
		for m := range port.Methods() {
			if !have[name+"."+m.Name] {
				t.Errorf("txCalls has no call of %s.%s", name, m.Name)
			}
		}
	}
}

// testTxEveryMethod calls every method of the ports in a unit of work, then
// rolls it back. A method whose statements ignore the transaction either
// waits for it (SQLite's one connection, memory's lock: inTx fails) or
// writes outside it (PostgreSQL: the fixture has changed afterwards).
func testTxEveryMethod(t *testing.T, s txStore) {
	ctx := context.Background()
	owner := newOwner()
	f := &txCallFixture{
		owner:   owner,
		live:    mustAdd(t, s.tasks, mustNewWith(t, owner, "live", base, task.WithTags([]string{"x"}))),
		done:    mustAdd(t, s.tasks, mustNew(t, owner, "done", nil, base)),
		trashed: mustAdd(t, s.tasks, mustNew(t, owner, "trashed", nil, base)),
		holder:  newUserID(),
		email:   uniqEmail(),
		taken:   uniqEmail(),
		claim:   claim(owner, "held", "fp", base),
	}
	for _, l := range []struct {
		id   *list.ID
		name string
	}{{&f.list, "live list"}, {&f.trashedList, "trashed list"}} {
		nl, err := list.New(owner, l.name, nil, base)
		if err != nil {
			t.Fatal(err)
		}
		added, err := s.lists.Add(ctx, nl)
		if err != nil {
			t.Fatal(err)
		}
		*l.id = added.List.ID()
	}
	if err := s.lists.Trash(ctx, owner, f.trashedList, list.AnyVersion, base.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.done, err = s.tasks.Update(ctx, owner, f.done.ID(), task.AnyVersion, func(tk *task.Task) error {
		tk.ToggleCompleted(base)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.tasks.Trash(ctx, owner, f.trashed.ID(), task.AnyVersion, base.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []user.User{{ID: f.holder, Email: f.email}, {ID: newUserID(), Email: f.taken}} {
		if err := s.users.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	wantClaimed(t, "the held key", s.keys, f.claim)
	before := txSnapshot(t, s, f)

	for _, c := range txCalls {
		err := inTx(s, func(ctx context.Context) error {
			if err := c.call(ctx, s, f); err != nil {
				return fmt.Errorf("%s: %w", c.method, err)
			}
			return errRollback
		})
		if errors.Is(err, errBlocked) {
			// The transaction still holds the store: nothing more can run.
			t.Fatalf("%s.%s in a unit of work: %v", c.port, c.method, err)
		}
		if !errors.Is(err, errRollback) {
			t.Errorf("%s.%s in a unit of work: %v", c.port, c.method, err)
		}
		if after := txSnapshot(t, s, f); after != before {
			t.Errorf("%s.%s in a unit of work rolled back changed the store:\n%s\nwant\n%s", c.port, c.method, after, before)
		}
	}
}

// txSnapshot describes what txCalls may change: the owner's tasks and
// trash, the users, the keys.
func txSnapshot(t *testing.T, s txStore, f *txCallFixture) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	var trash task.TrashPage
	for _, tk := range mustList(t, s.tasks, f.owner, task.Query{}) {
		fmt.Fprintf(&b, "task %d %q v%d completed=%v tags=%v list=%s parent=%s\n", tk.ID(), tk.Title(), tk.Version(), tk.Completed(),
			tk.Tags(), orNone(tk.ListID()), orNone(tk.ParentID()))
	}
	lists, err := s.lists.List(ctx, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lists {
		fmt.Fprintf(&b, "list %d %q v%d\n", l.List.ID(), l.List.Name(), l.List.Version())
	}
	trashedLists, err := s.lists.ListTrash(ctx, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range trashedLists {
		fmt.Fprintf(&b, "trashed list %d\n", l.List.ID())
	}
	trash, err = s.tasks.ListTrash(ctx, f.owner, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range trash.Items {
		fmt.Fprintf(&b, "trashed %d v%d\n", it.Task.ID(), it.Task.Version())
	}
	// Taken by another id, the email stays taken; the key stays held, and
	// the key "new" free (Begin on it is undone at once by Abandon).
	fmt.Fprintf(&b, "email taken: %v\n", errors.Is(s.users.Save(ctx, user.User{ID: newUserID(), Email: f.email}), user.ErrEmailTaken))
	again := f.claim
	again.Token = "look-" + uniq()
	_, err = s.keys.Begin(ctx, again)
	fmt.Fprintf(&b, "held key: %v\n", err)
	fresh := claim(f.owner, "new", "fp", base)
	_, err = s.keys.Begin(ctx, fresh)
	fmt.Fprintf(&b, "key new: %v\n", err)
	if err == nil {
		if err := s.keys.Abandon(ctx, fresh); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// orNone shows *p, or "none".
func orNone[T any](p *T) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}
