package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

// Group commit on PostgreSQL, for creates and for the update's fast path.
// A create is one INSERT and one commit, an update (after its read) one
// conditional UPDATE and one commit, and a commit waits for its WAL to
// reach the disk. With a pool of a few connections that flush is what
// bounds writes a second, and it costs PostgreSQL CPU per commit (`make
// bench`: the service's creates cost PostgreSQL 238 µs each against
// pgbench's 167 for the same INSERT from 32 connections, whose commits
// share flushes). So concurrent writes of one kind are gathered: a write
// that finds fewer than maxFlushes batches of its kind in flight sends
// every write waiting at that moment, its own included, as one statement
// over unnest(...) arrays and one commit; the others wait for its answer.
// Nothing waits on a timer: under no load a batch is one write, sent at
// once as before, and under load the batches grow with the queue. Every
// write is answered only after its commit, as before, so durability is
// unchanged.
//
// A batch fails as a whole (one statement). When PostgreSQL refused it (a
// row broke a constraint, a deadlock), each write is retried alone, so that
// one bad row fails only its own request; any other error, which may have
// come after the commit (a lost connection), is every write's answer.

// maxFlushes is how many batches may be in flight at once: more than one,
// so that one batch's round trip and flush overlap the next one's CPU.
const maxFlushes = 2

// maxBatch bounds the writes in one statement: one user's counter row
// locked by a long transaction holds up the other writes of its batch.
const maxBatch = 64

type batchResult struct {
	n   int64 // a create's id, an update's rows changed
	err error
}

type batchReq[T any] struct {
	ctx      context.Context
	item     T
	done     chan batchResult // buffered: the flush never waits for the caller
	answered bool             // by the batch's goroutine only
}

// answer tells the write its outcome, once.
func (r *batchReq[T]) answer(n int64, err error) {
	if !r.answered {
		r.answered = true
		r.done <- batchResult{n, err}
	}
}

// batcher gathers concurrent writes of one kind into batches (see above).
type batcher[T any] struct {
	db *bun.DB
	// one sends a single write; many sends two or more as one statement
	// and returns each one's result, in order.
	one  func(ctx context.Context, db *bun.DB, item T) (int64, error)
	many func(ctx context.Context, db *bun.DB, items []T) ([]int64, error)
	// key, when set, names the row a write changes: a batch holds at most
	// one write per key (the others wait for the next), so that every
	// write in a statement is decided on its own.
	key func(T) int64

	mu      sync.Mutex
	queue   []*batchReq[T]
	flushes int // batches in flight
}

func newInserter(db *bun.DB) *batcher[task.Stored] {
	return &batcher[task.Stored]{db: db, one: insertOne, many: insertMany}
}

func newUpdater(db *bun.DB) *batcher[updateArg] {
	return &batcher[updateArg]{db: db, one: updateOne, many: updateMany, key: func(a updateArg) int64 { return int64(a.next.ID) }}
}

// do sends item with the writes around it and returns its result, once
// committed. It waits for its batch's answer, also past its own deadline
// (by at most the spread of the deadlines in one batch, see batchContext):
// a write is acknowledged exactly when it was committed.
func (b *batcher[T]) do(ctx context.Context, item T) (int64, error) {
	req := &batchReq[T]{ctx: ctx, item: item, done: make(chan batchResult, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, req)
	var batch []*batchReq[T]
	if b.flushes < maxFlushes {
		b.flushes++
		batch = b.take()
	}
	b.mu.Unlock()
	if batch != nil {
		b.run(batch)
	}
	res := <-req.done
	return res.n, res.err
}

// take removes up to maxBatch waiting writes from the queue, in order, at
// most one per key; mu is held.
func (b *batcher[T]) take() []*batchReq[T] {
	if b.key == nil {
		n := min(len(b.queue), maxBatch)
		batch := slices.Clone(b.queue[:n])
		b.queue = slices.Delete(b.queue, 0, n)
		return batch
	}
	var batch, rest []*batchReq[T]
	keys := make(map[int64]bool, min(len(b.queue), maxBatch))
	for _, r := range b.queue {
		k := b.key(r.item)
		if len(batch) == maxBatch || keys[k] {
			rest = append(rest, r)
			continue
		}
		keys[k] = true
		batch = append(batch, r)
	}
	b.queue = rest
	return batch
}

// run sends batch, then, if writes queued up meanwhile, hands the next
// batch to a new goroutine (the caller has its answer and may return), or
// gives its turn back. A panic while sending is every unanswered write's
// error, not the process's end nor a turn never given back.
func (b *batcher[T]) run(batch []*batchReq[T]) {
	defer func() {
		if p := recover(); p != nil {
			for _, r := range batch {
				r.answer(0, fmt.Errorf("panic in a batch of writes: %v", p))
			}
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.queue) == 0 {
			b.flushes--
			return
		}
		go b.run(b.take())
	}()
	ctx, cancel := batchContext(batch)
	defer cancel()
	b.flush(ctx, batch)
}

// batchContext is the context a batch runs under: the first request's
// values, none of any request's cancellation (the batch serves them all),
// and the latest of their deadlines, so that no write is cut short before
// its own request's deadline while a stuck database holds a batch no
// longer than that. Writes in one batch arrived within one batch's round
// trip of each other, so their deadlines differ by about that much.
func batchContext[T any](batch []*batchReq[T]) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(batch[0].ctx)
	var latest time.Time
	for _, r := range batch {
		d, ok := r.ctx.Deadline()
		if !ok {
			return context.WithCancel(ctx)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}

// flush sends one batch and answers each write in it. A write whose
// request is gone by now is answered with its context's error and not
// sent.
func (b *batcher[T]) flush(ctx context.Context, batch []*batchReq[T]) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.answer(0, classify(err))
			continue
		}
		live = append(live, r)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		live[0].answer(b.one(ctx, b.db, live[0].item))
		return
	}
	items := make([]T, len(live))
	for i, r := range live {
		items[i] = r.item
	}
	ns, err := b.many(ctx, b.db, items)
	if err == nil {
		for i, r := range live {
			r.answer(ns[i], nil)
		}
		return
	}
	// PostgreSQL refused the statement (a row broke a constraint, a
	// deadlock): nothing of it was committed, and each write is retried
	// alone, under its own request's context. Any other error (the
	// database out of reach, the connection lost, an answer that does not
	// add up) may have come after the commit: retrying could store a create
	// twice, or apply an update again.
	if _, refused := errors.AsType[*pgconn.PgError](err); !refused || errors.Is(err, application.ErrUnavailable) {
		for _, r := range live {
			r.answer(0, err)
		}
		return
	}
	for _, r := range live {
		if err := r.ctx.Err(); err != nil {
			r.answer(0, classify(err))
			continue
		}
		r.answer(b.one(r.ctx, b.db, r.item))
	}
}

// insertOne is a single create: one prepared INSERT ... RETURNING id.
func insertOne(ctx context.Context, db *bun.DB, row task.Stored) (int64, error) {
	var id int64
	if err := pgxInts(ctx, db, (&sqlText{pg: true, dollar: true}).fixed(insertSQL, insertArgs(&row)...), &id); err != nil {
		return 0, err
	}
	return id, nil
}

// insertMany sends the creates as one statement and returns their ids, in
// order.
func insertMany(ctx context.Context, db *bun.DB, rows []task.Stored) ([]int64, error) {
	n := len(rows)
	ids, err := queryIDs(ctx, db, insertManySQL, columnArrays(insertedColumns, n, func(i int) *task.Stored { return &rows[i] })...)
	if err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("insert tasks: %d ids for %d rows", len(ids), n)
	}
	// The sequence numbered the rows in insertion order, which is the
	// batch's (ORDER BY batch_n); sorting makes that independent of the
	// order RETURNING lists them in.
	slices.Sort(ids)
	return ids, nil
}

// updateArg is the update fast path's write (TaskRepository.updateFast):
// the task's new row, to be stored at version read+1 if the task is still
// live at version read.
type updateArg struct {
	next task.Stored
	read int64
}

// updateOne is a single update; it returns the rows changed (0 or 1).
func updateOne(ctx context.Context, db *bun.DB, a updateArg) (int64, error) {
	return pgxExec(ctx, db, (&sqlText{pg: true, dollar: true}).fixed(updateSQL, updateArgs(&a.next, a.read)...))
}

// updateMany sends the updates (one per task) as one statement and returns
// each one's rows changed (0 or 1), in order.
func updateMany(ctx context.Context, db *bun.DB, as []updateArg) ([]int64, error) {
	n := len(as)
	// Sorted by id, for the plans that follow the arrays' order; the
	// answers go by id.
	sorted := slices.SortedFunc(slices.Values(as), func(x, y updateArg) int { return cmp.Compare(x.next.ID, y.next.ID) })
	ids, owners, reads := make([]int64, n), make([]string, n), make([]int64, n)
	for k := range sorted {
		ids[k], owners[k], reads[k] = int64(sorted[k].next.ID), string(sorted[k].next.Owner), sorted[k].read
		sorted[k].next.Version = task.Version(sorted[k].read + 1)
	}
	won, err := queryIDs(ctx, db, updateManySQL,
		columnArrays(updatedColumns, n, func(k int) *task.Stored { return &sorted[k].next }, ids, owners, reads)...)
	if err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i, a := range as {
		if slices.Contains(won, int64(a.next.ID)) {
			out[i] = 1
		}
	}
	return out, nil
}

// queryIDs runs a statement that returns one bigint column (RETURNING id)
// and returns its values.
func queryIDs(ctx context.Context, db *bun.DB, sql string, args ...any) ([]int64, error) {
	var ids []int64
	err := withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		res, err := c.Query(ctx, sql, append([]any{mode}, args...)...)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(res, pgx.RowTo[int64])
		return err
	})
	return ids, err
}
