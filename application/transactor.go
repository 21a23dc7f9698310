package application

import (
	"context"
	"errors"
	"sync"
)

// Transactor runs a unit of work: use cases that must be atomic with their
// bookkeeping (an Idempotency-Key's stored response, later a command's
// result or an import) write through the repositories with the context fn
// receives, and every such call runs in one store transaction. Each store
// adapter provides one, and its repositories honour a transaction carried
// in a context they are given.
type Transactor interface {
	// InTx runs fn in a transaction, committed when fn returns nil and
	// rolled back when it returns an error or panics (the panic goes on).
	// Every repository call made with the ctx that fn receives is part of
	// it; calls made with another context are not, and on a store with one
	// connection (SQLite) or one lock (memory) they wait for the
	// transaction to end. A nested InTx joins the outer transaction: its
	// fn's writes are kept or undone with the outer ones, and undone at
	// once when its own fn fails (a savepoint), so that the outer fn may
	// carry on. fn's calls run one after another, as on one connection.
	// The store may run fn again, from the start, when the database
	// aborted the whole transaction to break a deadlock or a serialization
	// failure (a bounded retry, on PostgreSQL: sqlstore.TxAttempts): fn
	// must keep nothing of a failed run but what it overwrites.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// WithTransactor gives the service the store's unit of work, which InTx
// runs.
func WithTransactor(tx Transactor) Option { return func(s *Service) { s.tx = tx } }

// ErrNoTransactor means InTx was called on a service built without
// WithTransactor.
var ErrNoTransactor = errors.New("application: the service has no Transactor")

var _ Transactor = (*Service)(nil)

// InTx runs fn as a unit of work of the store (see Transactor and
// WithTransactor) and, once it has committed, updates what the service
// keeps in memory about what was written (the users Authorize saved), so
// that a unit rolled back leaves no trace there either: a user whose save
// was undone is saved again by their next request. Callers that run use
// cases in a unit of work (the HTTP layer, for Idempotency-Key) use this
// rather than the store's Transactor.
func (s *Service) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.tx == nil {
		return ErrNoTransactor
	}
	if u, ok := ctx.Value(unitKey{}).(*unit); ok { // nested: a savepoint
		mark := u.mark()
		err := s.tx.InTx(ctx, fn)
		if err != nil {
			u.undo(mark)
		}
		return err
	}
	u := &unit{}
	// The store may run fn again when the database aborted the
	// transaction (a deadlock it broke): nothing of a failed run is kept,
	// its after-commit steps neither.
	run := func(ctx context.Context) error {
		u.undo(0)
		return fn(ctx)
	}
	if err := s.tx.InTx(context.WithValue(ctx, unitKey{}, u), run); err != nil {
		return err
	}
	u.committed()
	return nil
}

// afterCommit runs f now, or, in a unit of work (InTx), once it has
// committed.
func afterCommit(ctx context.Context, f func()) {
	if u, ok := ctx.Value(unitKey{}).(*unit); ok {
		u.add(f)
		return
	}
	f()
}

type unitKey struct{}

// unit is a unit of work of InTx: what to do once it has committed.
type unit struct {
	mu    sync.Mutex
	after []func()
}

func (u *unit) add(f func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.after = append(u.after, f)
}

func (u *unit) mark() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.after)
}

// undo forgets what was added since mark: a nested unit rolled back.
func (u *unit) undo(mark int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.after = u.after[:mark]
}

func (u *unit) committed() {
	u.mu.Lock()
	after := u.after
	u.after = nil
	u.mu.Unlock()
	for _, f := range after {
		f()
	}
}
