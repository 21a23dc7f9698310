package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// Notifying after the commit, on PostgreSQL (issue 16). A transaction that
// runs pg_notify takes one lock for the whole database at its commit and
// holds it until the commit is on disk, so writers that notify commit one
// at a time: pgbench's INSERT and COMMIT from 32 clients ran at 10.2k tps,
// 3.24k with pg_notify in the transaction, 6.86k with it sent after the
// commit; the service's creates of users with streams open ran at 0.61 of
// those without. So writers do not notify. The trigger (migration
// 20261214000010) stamps the change head of each user who has a watcher
// with the writing transaction's id, and each instance's publisher, woken
// after its own commits, sends the moved heads of a few milliseconds of
// commits, with the keys of their latest changes, in one statement: one
// notification transaction for many writes, committed without waiting for
// its WAL flush (synchronous_commit off for that transaction only; the
// writes were flushed by their own commits). The keys spare the streams of
// other instances a read of the feed per event (notice.go).
//
// Which heads moved: the publisher reads the heads whose stamp is at or
// above its floor, the oldest transaction id still running when it last
// read (pg_snapshot_xmin of that statement's snapshot). A transaction that
// its previous read did not see was running then or began later, so its
// id is at or above that floor: nothing committed is skipped, although
// transactions commit in another order than they took their ids. A head
// read again with the number already sent is left out (sent, below).
//
// What is lost when an instance dies between a commit and its publisher's
// statement (or a statement fails) is found by the listeners' check of
// their users' heads (ListenOptions.CheckInterval).

// publishCoalesce is how long the publisher waits after a commit wakes it,
// so that the commits of those milliseconds share one statement. Each
// round costs PostgreSQL a statement, a notifying commit and a wake of
// every listening backend: with 32 writers on A and their streams on B
// (eventsbench latency, alternated, quiet), 10 ms against 2 ms gave writes
// with streams ÷ without 0.914, 0.941 against 0.810, 0.827, PostgreSQL's
// CPU per write with ÷ without 1.10 against 1.23-1.26, for a p50 A→B of 8
// ms against 3.5 and a p99 of 23-25 ms against 14-15 (the bound: 100).
const publishCoalesce = 10 * time.Millisecond

// maxSent bounds the heads the publisher remembers having sent (those
// stamped at or above its floor): a transaction that stays open holds the
// floor back, and past this many the oldest are forgotten and the floor
// raised to the oldest kept (a head then missed is found by the
// listeners' check).
const maxSent = 10000

// keysWindow is how many numbers below each head the publisher reads the
// keys of (the changes' seq, entity, op and id), to send them with the
// head (notice.go): a stream on another instance that has sent up to one
// of those numbers sends them without reading the feed. A head that moved
// by more between two notifications (a bulk write) costs its streams a
// read, as before.
const keysWindow = 8

// maxLast bounds the heads the publisher remembers having sent last (all
// of them go with each statement); past it they are forgotten, and the
// keys of each user's next head start keysWindow below it.
const maxLast = 1000

// commitSignal is told when a connection of the pool commits a write (see
// commitTracer); the publisher waits on wake.
type commitSignal struct {
	wake chan struct{}
}

func (s *commitSignal) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// signals holds the commitSignal of each *sql.DB that openPostgres opened.
var signals sync.Map // *sql.DB -> *commitSignal

// commitTracer is the pgx tracer of every pooled PostgreSQL connection: it
// sees every statement, whichever path sent it (Bun through database/sql,
// the hand-written statements on pgx, pipelined batches), and tells the
// signal after each commit of a transaction that wrote, and after each
// write that committed by itself.
type commitTracer struct {
	sig *commitSignal
}

var (
	_ pgx.QueryTracer = (*commitTracer)(nil)
	_ pgx.BatchTracer = (*commitTracer)(nil)
)

// quietKey marks the publisher's own statement, which must not wake it.
type quietKey struct{}

// dirtyKey is the key, in a connection's CustomData, of whether its open
// transaction wrote.
const dirtyKey = "todo.wrote"

// TraceQueryStart keeps the text of a statement that starts with WITH (a
// write may hide in it: its tag is the final SELECT's) or ROLLBACK (TO
// SAVEPOINT?) for TraceQueryEnd, which is not given it; the command tag
// says enough of every other.
func (t *commitTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	q := strings.TrimLeft(d.SQL, " \t\r\n(")
	if hasPrefixFold(q, "WITH") || hasPrefixFold(q, "ROLLBACK") {
		return context.WithValue(ctx, sqlKey{}, q)
	}
	return ctx
}

func (t *commitTracer) TraceQueryEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryEndData) {
	if ctx.Value(quietKey{}) == nil {
		t.observe(c, sqlOf(ctx), d.CommandTag, d.Err, false)
	}
}

func (t *commitTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (t *commitTracer) TraceBatchQuery(_ context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	t.observe(c, d.SQL, d.CommandTag, d.Err, true)
}

// TraceBatchEnd wakes the publisher after a batch whose writes committed
// with it: a batch sent outside a transaction is one implicit transaction,
// committed at its end (the Sync), after the results of its statements;
// the connection's status is only known again here.
func (t *commitTracer) TraceBatchEnd(_ context.Context, c *pgx.Conn, _ pgx.TraceBatchEndData) {
	data := c.PgConn().CustomData()
	if s := c.PgConn().TxStatus(); s != 'T' && s != 'E' && data[dirtyKey] == true {
		t.sig.signal() // a failed batch may wake it for nothing: never too few
		delete(data, dirtyKey)
	}
}

// sqlOf is the statement text TraceQueryStart kept, if any.
func sqlOf(ctx context.Context) string {
	s, _ := ctx.Value(sqlKey{}).(string)
	return s
}

type sqlKey struct{}

// observe follows one statement's outcome on c: BEGIN and ROLLBACK forget
// the writes, a write marks the transaction (and, outside one, wakes the
// publisher: it committed), COMMIT of a transaction that wrote wakes it.
// A failed statement changes nothing (PostgreSQL rolls back what follows).
// In a batch (inBatch) the connection's status is the one from before the
// batch: a write outside a transaction waits for TraceBatchEnd.
func (t *commitTracer) observe(c *pgx.Conn, q string, tag pgconn.CommandTag, err error, inBatch bool) {
	if err != nil {
		return
	}
	data := c.PgConn().CustomData()
	switch s := tag.String(); {
	case s == "COMMIT":
		if data[dirtyKey] == true {
			t.sig.signal()
		}
		delete(data, dirtyKey)
	case s == "BEGIN", s == "START TRANSACTION":
		delete(data, dirtyKey)
	case s == "ROLLBACK":
		// A COMMIT of a failed transaction says ROLLBACK too; ROLLBACK TO
		// SAVEPOINT keeps what came before the savepoint.
		if !hasPrefixFold(strings.TrimSpace(q), "ROLLBACK TO") {
			delete(data, dirtyKey)
		}
	case tag.Insert(), tag.Update(), tag.Delete(), strings.HasPrefix(s, "MERGE"),
		tag.Select() && hasPrefixFold(strings.TrimLeft(q, " \t\r\n("), "WITH"):
		data[dirtyKey] = true
		if !inBatch && c.PgConn().TxStatus() == 'I' {
			t.sig.signal() // committed by itself
		}
	}
}

// newCommitTracer returns the tracer of a pool and its signal.
func newCommitTracer() (*commitTracer, *commitSignal) {
	sig := &commitSignal{wake: make(chan struct{}, 1)}
	return &commitTracer{sig: sig}, sig
}

// pgPublisher sends the moved heads of watched users after commits (see
// above).
type pgPublisher struct {
	db    *bun.DB
	sig   *commitSignal
	floor int64               // stamps below it were read; 0: not known yet
	sent  map[string]sentHead // heads sent with a stamp at or above floor
	// last is the head last sent of each user (at most maxLast of them),
	// where the keys of the user's next notification start: a stream that
	// heard it needs none below.
	last  map[string]int64
	retry func(time.Duration) // wakes the loop again after a failure
	// failed: the last round failed (its retry is due).
	failed bool
}

type sentHead struct{ seq, stamp int64 }

// noticeBudget bounds the running sum by which publishSQL cuts its lines
// into notifications: a notification holds less than noticeBudget plus
// its longest line, a head's lines at most 20 digits, a space, a user id
// (auth.MaxUserIDBytes), a newline, "0 k", 20 digits and keysWindow keys
// of at most 43 bytes (notice.go), under maxPayload.
const noticeBudget = maxPayload - 21 - auth.MaxUserIDBytes - 1 - 23 - keysWindow*43 - 1

// publishSQL reads the moved heads and the keys of their latest changes
// and notifies them, in one statement: $1, $2 the users and numbers
// already sent, $3 the floor, $4 keysWindow, $5, $6 the users and heads
// the publisher sent last (where their keys start). s sets
// synchronous_commit off for this transaction (it is read at the commit),
// and gives the oldest running transaction id of the statement's
// snapshot, the next floor; m is the heads to send, with where their keys
// start (the head sent last, at most keysWindow below, never below the
// pruned tombstones: a stream behind them reads the feed, which tells it
// the history expired); x their lines, the keys read in the same snapshot
// as the head: every change numbered up to a head was committed before it
// (the head row is locked from a change's number to its commit), so they
// are every entry of the feed after from up to the head; n the
// notifications, the lines cut below noticeBudget (a head never parted
// from its keys).
var publishSQL = `WITH s AS MATERIALIZED (
	SELECT set_config('synchronous_commit', 'off', true) AS off, pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
), m AS MATERIALIZED (
	SELECT h.user_id, h.seq, h.stamp,
		greatest(h.seq - $4, h.pruned_seq, CASE WHEN e.last < h.seq THEN e.last ELSE 0 END, 0) AS from_seq
	FROM change_heads AS h
	LEFT JOIN unnest($1::text[], $2::bigint[]) AS d(u, s) ON d.u = h.user_id
	LEFT JOIN unnest($5::text[], $6::bigint[]) AS e(u, last) ON e.u = h.user_id
	WHERE h.stamp_block > 0 AND h.stamp_block >= greatest($3::bigint >> 10, 1) AND h.stamp >= $3 AND (d.s IS NULL OR h.seq > d.s)
), x AS MATERIALIZED (
	SELECT m.user_id, m.seq, m.stamp, m.seq::text || ' ' || m.user_id ||
		CASE WHEN m.from_seq < m.seq AND k.ok THEN E'\n0 k' || m.from_seq::text || k.keys ELSE '' END AS line
	FROM m LEFT JOIN LATERAL (
		SELECT coalesce(bool_and(l.entity IN ('task', 'list')), true) AS ok,
			coalesce(string_agg(' ' || l.seq::text || CASE l.entity WHEN 'task' THEN 't' ELSE 'l' END ||
				CASE WHEN l.purged_at IS NULL THEN 'u' ELSE 'd' END || l.id::text, '' ORDER BY l.seq), '') AS keys
		FROM change_log AS l WHERE l.user_id = m.user_id AND l.seq > m.from_seq AND l.seq <= m.seq
	) AS k ON true
), n AS MATERIALIZED (
	SELECT count(pg_notify('` + application.ChangeChannel + `', c.p)) AS sent FROM (
		SELECT string_agg(y.line, E'\n' ORDER BY y.stamp, y.user_id) AS p FROM (
			SELECT x.line, x.stamp, x.user_id,
				sum(octet_length(x.line) + 1) OVER (ORDER BY x.stamp, x.user_id ROWS UNBOUNDED PRECEDING) / ` + fmt.Sprint(noticeBudget) + ` AS chunk
			FROM x
		) AS y GROUP BY y.chunk
	) AS c
)
SELECT s.xmin, n.sent, x.user_id, x.seq, x.stamp FROM s CROSS JOIN n LEFT JOIN x ON true`

// publishPG starts the publisher of db's commits (db opened by Open), until
// stop.
func publishPG(db *bun.DB) (stop func()) {
	v, ok := signals.Load(db.DB)
	if !ok {
		return func() {}
	}
	p := &pgPublisher{db: db, sig: v.(*commitSignal), sent: map[string]sentHead{}, last: map[string]int64{}}
	ctx, cancel := context.WithCancel(context.Background())
	p.retry = func(d time.Duration) {
		time.AfterFunc(d, func() {
			if ctx.Err() == nil {
				p.sig.signal()
			}
		})
	}
	// Commits from now on: the floor of this moment (retried by the first
	// round when the database does not answer yet).
	_ = p.readFloor(ctx)
	closing, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		p.run(ctx, closing)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			// Not cancel first: the commits that woke the publisher last
			// (fx stops it after the HTTP server has drained its
			// requests) are sent by a last round, not left to the other
			// instances' checks.
			close(closing)
			<-finished
			cancel()
		})
	}
}

func (p *pgPublisher) readFloor(ctx context.Context) error {
	qctx, cancel := context.WithTimeout(context.WithValue(ctx, quietKey{}, true), 5*time.Second)
	defer cancel()
	return p.db.NewRaw("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").Scan(qctx, &p.floor)
}

// run publishes after each wake until closing, then once more if a
// commit woke it since its last round or that round failed.
func (p *pgPublisher) run(ctx context.Context, closing <-chan struct{}) {
	for {
		select {
		case <-closing:
			select {
			case <-p.sig.wake:
				p.failed = true
			default:
			}
			if p.failed {
				_ = p.publish(ctx)
			}
			return
		case <-p.sig.wake:
		}
		t := time.NewTimer(publishCoalesce)
		select {
		case <-t.C:
		case <-closing: // publish now, then the last check above
			t.Stop()
		}
		// The statement's snapshot is taken after every commit that woke
		// the publisher until now.
		select {
		case <-p.sig.wake:
		default:
		}
		err := p.publish(ctx)
		p.failed = err != nil
		if p.failed && ctx.Err() == nil {
			p.retry(100 * time.Millisecond)
		}
	}
}

// publish runs one round: see publishSQL.
func (p *pgPublisher) publish(ctx context.Context) error {
	if p.floor == 0 {
		if err := p.readFloor(ctx); err != nil {
			return err
		}
	}
	users := make([]string, 0, len(p.sent))
	seqs := make([]int64, 0, len(p.sent))
	for u, h := range p.sent {
		users = append(users, u)
		seqs = append(seqs, h.seq)
	}
	lastUsers := make([]string, 0, len(p.last))
	lastSeqs := make([]int64, 0, len(p.last))
	for u, s := range p.last {
		lastUsers = append(lastUsers, u)
		lastSeqs = append(lastSeqs, s)
	}
	type head struct {
		user       string
		seq, stamp int64
	}
	var (
		xmin  int64
		heads []head
	)
	qctx, cancel := context.WithTimeout(context.WithValue(ctx, quietKey{}, true), 5*time.Second)
	defer cancel()
	err := withPgx(qctx, p.db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		heads = heads[:0]
		rows, err := c.Query(ctx, publishSQL, mode, users, seqs, p.floor, keysWindow, lastUsers, lastSeqs)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				sent       int64
				user       *string
				seq, stamp *int64
			)
			if err := rows.Scan(&xmin, &sent, &user, &seq, &stamp); err != nil {
				return err
			}
			if user != nil {
				heads = append(heads, head{user: *user, seq: *seq, stamp: *stamp})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("publish changes: %w", err)
	}
	p.floor = max(p.floor, xmin)
	for _, h := range heads {
		p.sent[h.user] = sentHead{seq: h.seq, stamp: h.stamp}
		p.last[h.user] = h.seq
	}
	if len(p.last) > maxLast {
		clear(p.last) // where the next keys start is only a saving
	}
	for u, h := range p.sent {
		if h.stamp < p.floor {
			delete(p.sent, u)
		}
	}
	if len(p.sent) > maxSent {
		type kept struct {
			u string
			sentHead
		}
		all := make([]kept, 0, len(p.sent))
		for u, h := range p.sent {
			all = append(all, kept{u, h})
		}
		slices.SortFunc(all, func(a, b kept) int { return cmp.Compare(b.stamp, a.stamp) })
		for _, k := range all[maxSent:] {
			delete(p.sent, k.u)
		}
		p.floor = all[maxSent-1].stamp
	}
	return nil
}
