package memory

import (
	"context"
	"sync"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// Store is one memory database: the task, list, user and idempotency-key
// repositories it holds share one lock, and its transactions (InTx) span
// them all, as a database's do.
type Store struct {
	mu    sync.RWMutex
	tasks *TaskRepository
	lists *ListRepository
	users *UserRepository
	keys  *IdempotencyStore
	occ   *OccurrenceLog
	del   *DeliveryStore
	// occurrences are the repeating tasks' histories (OccurrenceLog), by
	// task; an entry is never changed in place.
	occurrences map[task.ID]*occurred
	feed        *feed // the change feed's numbering, kept at commits (feed.go)
}

var _ application.Transactor = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store {
	s := &Store{feed: newFeed()}
	st := &state{s: s, tasks: make(map[task.ID]*entry), lists: make(map[list.ID]*listEntry),
		members: make(map[list.ID]map[auth.UserID]membership), invitations: make(map[list.InvitationID]*list.Invitation)}
	s.tasks = &TaskRepository{state: st}
	s.lists = &ListRepository{state: st}
	s.users = &UserRepository{s: s, byID: make(map[auth.UserID]user.User), byEmail: make(map[string]auth.UserID)}
	s.keys = &IdempotencyStore{s: s, keys: make(map[application.IdempotencyKey]*keyEntry)}
	s.occ = &OccurrenceLog{s: s}
	s.occurrences = make(map[task.ID]*occurred)
	s.del = newDeliveryStore(s.tasks)
	return s
}

// Tasks returns the store's task repository.
func (s *Store) Tasks() *TaskRepository { return s.tasks }

// Lists returns the store's list repository.
func (s *Store) Lists() *ListRepository { return s.lists }

// Users returns the store's user repository.
func (s *Store) Users() *UserRepository { return s.users }

// Occurrences returns the store's history of repeating tasks.
func (s *Store) Occurrences() *OccurrenceLog { return s.occ }

// Keys returns the store's idempotency keys.
func (s *Store) Keys() *IdempotencyStore { return s.keys }

// InTx runs fn holding the store's lock, so that transactions run one at a
// time and nothing else sees their writes before they end (see
// application.Transactor). The repositories, called with fn's context,
// take no lock of their own. The first change in a transaction copies the
// store's data (copy on write); when fn fails or panics, the copy is put
// back. A nested InTx puts back what its own fn changed (a savepoint). Ids
// handed out are not taken back, as a database's sequence does not.
//
// The copy costs time in proportion to what the store holds, once per
// transaction that writes: fine for tests and a memory: service, and it
// leaves the repositories' code as it is outside transactions. Data kept
// in a new map of the store must be added to snapshot.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if tx := s.txOf(ctx); tx != nil {
		return tx.run(ctx, fn)
	}
	s.mu.Lock()
	defer s.commit(s.mu.Unlock)
	tx := &memTx{s: s}
	defer tx.close()
	return tx.run(ctx, fn)
}

// memTx is a transaction: for each InTx open in it, the store's data as it
// was when that InTx began, copied at the first change.
type memTx struct {
	s *Store
	// mu lets one call at a time work on the store's data, as a database
	// connection runs one statement at a time.
	mu     sync.Mutex
	levels []*snapshot // nil: nothing changed since that InTx began
	closed bool        // ended: a context that outlived it holds the store's lock again
}

type txKey struct{}

// txOf is the transaction on s that ctx carries, if any.
func (s *Store) txOf(ctx context.Context) *memTx {
	tx, _ := ctx.Value(txKey{}).(*memTx)
	if tx == nil || tx.s != s {
		return nil
	}
	return tx
}

// run runs fn as one more level of tx, and puts back what it changed
// unless it returns nil.
func (tx *memTx) run(ctx context.Context, fn func(ctx context.Context) error) error {
	tx.mu.Lock()
	level := len(tx.levels)
	tx.levels = append(tx.levels, nil)
	tx.mu.Unlock()
	ok := false
	defer func() {
		tx.mu.Lock()
		defer tx.mu.Unlock()
		before := tx.levels[level]
		tx.levels = tx.levels[:level]
		if !ok && before != nil {
			tx.s.restore(before)
		}
	}()
	err := fn(context.WithValue(ctx, txKey{}, tx))
	ok = err == nil
	return err
}

// changing is called before each change: the levels that changed nothing
// yet get a copy of the data as it is, which is as they began.
func (tx *memTx) changing() {
	var now *snapshot
	for i, l := range tx.levels {
		if l == nil {
			if now == nil {
				now = tx.s.snapshot()
			}
			tx.levels[i] = now
		}
	}
}

func (tx *memTx) close() {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.closed, tx.levels = true, nil
}

// snapshot is a copy of the store's data. The tasks and lists stored are
// never changed in place (a write stores a changed copy), so copying the
// entries that hold them suffices.
type snapshot struct {
	tasks   map[task.ID]*entry
	lists   map[list.ID]*listEntry
	byID    map[auth.UserID]user.User
	byEmail map[string]auth.UserID
	keys    map[application.IdempotencyKey]*keyEntry
	occ     map[task.ID]*occurred
	members map[list.ID]map[auth.UserID]membership
	invs    map[list.InvitationID]*list.Invitation
}

// snapshot copies the data; the lock or the transaction is held.
func (s *Store) snapshot() *snapshot {
	return &snapshot{
		tasks:   copyEntries(s.tasks.tasks),
		lists:   copyEntries(s.tasks.lists),
		byID:    copyMap(s.users.byID),
		byEmail: copyMap(s.users.byEmail),
		keys:    copyEntries(s.keys.keys),
		occ:     copyMap(s.occurrences),
		members: copyMembers(s.tasks.members),
		invs:    copyEntries(s.tasks.invitations),
	}
}

// restore puts a copy of sn back (sn stays as it is, for an outer level).
func (s *Store) restore(sn *snapshot) {
	s.tasks.tasks = copyEntries(sn.tasks)
	s.tasks.lists = copyEntries(sn.lists)
	s.feed.all = true // put back wholesale: the feed compares everything
	s.users.byID = copyMap(sn.byID)
	s.users.byEmail = copyMap(sn.byEmail)
	s.keys.keys = copyEntries(sn.keys)
	s.occurrences = copyMap(sn.occ)
	s.tasks.members = copyMembers(sn.members)
	s.tasks.invitations = copyEntries(sn.invs)
}

func copyMembers(m map[list.ID]map[auth.UserID]membership) map[list.ID]map[auth.UserID]membership {
	out := make(map[list.ID]map[auth.UserID]membership, len(m))
	for k, v := range m {
		out[k] = copyMap(v)
	}
	return out
}

func copyEntries[K comparable, V any](m map[K]*V) map[K]*V {
	out := make(map[K]*V, len(m))
	for k, v := range m {
		c := *v
		out[k] = &c
	}
	return out
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// hold is one repository call's hold on the store's data: the store's lock,
// or, in a transaction, the transaction's turn.
type hold struct{ unlock func() }

// read holds the data for reading.
func (s *Store) read(ctx context.Context) hold {
	if tx := s.enter(ctx); tx != nil {
		return hold{unlock: tx.mu.Unlock}
	}
	s.mu.RLock()
	return hold{unlock: s.mu.RUnlock}
}

// write holds the data for changing it.
func (s *Store) write(ctx context.Context) hold {
	if tx := s.enter(ctx); tx != nil {
		tx.changing()
		return hold{unlock: tx.mu.Unlock}
	}
	s.mu.Lock()
	return hold{unlock: func() { s.commit(s.mu.Unlock) }}
}

// enter takes the turn of the open transaction ctx carries, if any.
func (s *Store) enter(ctx context.Context) *memTx {
	tx := s.txOf(ctx)
	if tx == nil {
		return nil
	}
	tx.mu.Lock()
	if tx.closed {
		tx.mu.Unlock()
		return nil
	}
	return tx
}

func (h hold) done() { h.unlock() }
