package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/store"
)

// Group commit for creates on PostgreSQL. A create is one INSERT and one
// commit, and the commit waits for its WAL to reach the disk. With a pool
// of a few connections that flush is what bounds creates a second, and it
// costs PostgreSQL CPU per commit (`make bench`: the service's creates cost
// PostgreSQL 238 µs each against pgbench's 167 for the same INSERT from 32
// connections, whose commits share flushes). So concurrent single creates
// are gathered: a create that finds fewer than maxFlushes batches in
// flight sends every create waiting at that moment, its own included, as
// one INSERT ... SELECT FROM unnest(...) RETURNING id, one statement and
// one commit; the others wait for its answer. Nothing waits on a timer:
// under no load a batch is one create, sent at once as before, and under
// load the batches grow with the queue. Every create is answered only
// after its commit, as before, so durability is unchanged.
//
// A batch fails as a whole (one statement). When PostgreSQL refused it (a
// row broke a constraint), each create is retried alone, so that one bad
// row fails only its own request; any other error, which may have come
// after the commit (a lost connection), is every create's answer.

// maxFlushes is how many batches may be in flight at once: more than one,
// so that one batch's round trip and flush overlap the next one's CPU.
const maxFlushes = 2

// maxBatch bounds the creates in one statement: one user's counter row
// locked by a long transaction holds up the other creates of its batch.
const maxBatch = 64

// insertSQL is the single create, prepared on PostgreSQL.
const insertSQL = "INSERT INTO tasks (user_id, title, description, completed, priority, due_at, due_all_day, " +
	"completed_at, title_key, created_at, updated_at, version, tags) " +
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING id"

// insertManySQL is a batch: the rows in order (WITH ORDINALITY, ORDER BY),
// so that the sequence hands out ids in that order too. Tags are '[]':
// only tasks without tags are batched (tagged ones need their task_tags
// rows in the same transaction).
const insertManySQL = "INSERT INTO tasks (user_id, title, description, completed, priority, due_at, due_all_day, " +
	"completed_at, title_key, created_at, updated_at, version, tags) " +
	"SELECT u.user_id, u.title, u.description, u.completed, u.priority, u.due_at, u.due_all_day, " +
	"u.completed_at, u.title_key, u.created_at, u.updated_at, 1, '[]' " +
	"FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int2[], $6::timestamptz[], $7::bool[], " +
	"$8::timestamptz[], $9::text[], $10::timestamptz[], $11::timestamptz[]) WITH ORDINALITY " +
	"AS u(user_id, title, description, completed, priority, due_at, due_all_day, completed_at, title_key, created_at, updated_at, n) " +
	"ORDER BY u.n RETURNING id"

type insertResult struct {
	id  int64
	err error
}

type insertReq struct {
	ctx      context.Context
	row      taskRow
	done     chan insertResult // buffered: the flush never waits for the caller
	answered bool              // by the batch's goroutine only
}

// answer tells the create its outcome, once.
func (r *insertReq) answer(id int64, err error) {
	if !r.answered {
		r.answered = true
		r.done <- insertResult{id, err}
	}
}

// inserter gathers concurrent creates into batches (see above).
type inserter struct {
	db      *bun.DB
	mu      sync.Mutex
	queue   []*insertReq
	flushes int // batches in flight
}

// insert stores row (tags '[]') and returns its id, once committed. It
// waits for its batch's answer, also past its own deadline (by at most the
// spread of the deadlines in one batch, see batchContext): a create is
// acknowledged exactly when it was committed.
func (in *inserter) insert(ctx context.Context, row taskRow) (int64, error) {
	req := &insertReq{ctx: ctx, row: row, done: make(chan insertResult, 1)}
	in.mu.Lock()
	in.queue = append(in.queue, req)
	var batch []*insertReq
	if in.flushes < maxFlushes {
		in.flushes++
		batch = in.take()
	}
	in.mu.Unlock()
	if batch != nil {
		in.run(batch)
	}
	res := <-req.done
	return res.id, res.err
}

// take removes up to maxBatch waiting creates from the queue; mu is held.
func (in *inserter) take() []*insertReq {
	n := min(len(in.queue), maxBatch)
	batch := slices.Clone(in.queue[:n])
	in.queue = slices.Delete(in.queue, 0, n)
	return batch
}

// run sends batch, then, if creates queued up meanwhile, hands the next
// batch to a new goroutine (the caller has its answer and may return), or
// gives its turn back. A panic while sending is every unanswered create's
// error, not the process's end nor a turn never given back.
func (in *inserter) run(batch []*insertReq) {
	defer func() {
		if p := recover(); p != nil {
			for _, r := range batch {
				r.answer(0, fmt.Errorf("insert task: panic in batch: %v", p))
			}
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		if len(in.queue) == 0 {
			in.flushes--
			return
		}
		go in.run(in.take())
	}()
	ctx, cancel := batchContext(batch)
	defer cancel()
	in.flush(ctx, batch)
}

// batchContext is the context a batch runs under: the first request's
// values, none of any request's cancellation (the batch serves them all),
// and the latest of their deadlines, so that no create is cut short before
// its own request's deadline while a stuck database holds a batch no
// longer than that. Creates in one batch arrived within one batch's round
// trip of each other, so their deadlines differ by about that much.
func batchContext(batch []*insertReq) (context.Context, context.CancelFunc) {
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

// flush sends one batch and answers each create in it. A create whose
// request is gone by now is answered with its context's error and not
// sent.
func (in *inserter) flush(ctx context.Context, batch []*insertReq) {
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
		live[0].answer(in.one(ctx, live[0].row))
		return
	}
	ids, err := in.many(ctx, live)
	if err == nil {
		for i, r := range live {
			r.answer(ids[i], nil)
		}
		return
	}
	// PostgreSQL refused the statement (a row broke a constraint, say):
	// nothing of it was committed, and each create is retried alone, under
	// its own request's context. Any other error (the database out of
	// reach, the connection lost, an answer that does not add up) may have
	// come after the commit: retrying could store a create twice.
	if _, refused := errors.AsType[*pgconn.PgError](err); !refused || errors.Is(err, store.ErrUnavailable) {
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
		r.answer(in.one(r.ctx, r.row))
	}
}

// one is a single create: one prepared INSERT ... RETURNING id.
func (in *inserter) one(ctx context.Context, row taskRow) (int64, error) {
	s := newSQL(true).add(insertSQL,
		row.UserID, row.Title, row.Description, row.Completed, row.Priority, row.DueAt, row.DueAllDay,
		row.CompletedAt, row.TitleKey, row.CreatedAt, row.UpdatedAt, row.Tags)
	var id int64
	if err := queryInts(ctx, in.db, s, &id); err != nil {
		return 0, err
	}
	return id, nil
}

// many sends the batch as one statement and returns the ids in its order.
func (in *inserter) many(ctx context.Context, batch []*insertReq) ([]int64, error) {
	n := len(batch)
	var (
		users, titles, keys = make([]string, n), make([]string, n), make([]string, n)
		descs               = make([]pgtype.Text, n)
		completed, allDay   = make([]bool, n), make([]bool, n)
		prios               = make([]int16, n)
		due, done           = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		created, updated    = make([]time.Time, n), make([]time.Time, n)
		ids                 = make([]int64, 0, n)
	)
	for i, r := range batch {
		row := &r.row
		users[i], titles[i], keys[i] = row.UserID, row.Title, row.TitleKey
		descs[i] = pgText(row.Description)
		completed[i], allDay[i], prios[i] = row.Completed, row.DueAllDay, row.Priority
		due[i], done[i] = pgTimestamptz(row.DueAt), pgTimestamptz(row.CompletedAt)
		created[i], updated[i] = row.CreatedAt, row.UpdatedAt
	}
	err := withPgx(ctx, in.db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		rows, err := c.Query(ctx, insertManySQL, mode, users, titles, descs, completed, prios, due, allDay,
			done, keys, created, updated)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("insert tasks: %d ids for %d rows", len(ids), n)
	}
	// The sequence numbered the rows in insertion order, which is the
	// batch's (ORDER BY u.n); sorting makes that independent of the order
	// RETURNING lists them in.
	slices.Sort(ids)
	return ids, nil
}

func pgText(s *string) pgtype.Text {
	if s == nil {
		return pgtype.Text{}
	}
	return pgtype.Text{String: *s, Valid: true}
}

func pgTimestamptz(t *time.Time) pgtype.Timestamptz {
	if t == nil {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: *t, Valid: true}
}
