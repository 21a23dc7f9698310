package application

import "context"

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
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}
