package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/todo-backend/todo/application"
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
// commits in one statement: one notification transaction for many writes,
// committed without waiting for its WAL flush (synchronous_commit off for
// that transaction only; the writes were flushed by their own commits).
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
// so that the commits of those milliseconds share one statement.
const publishCoalesce = 2 * time.Millisecond

// maxSent bounds the heads the publisher remembers having sent (those
// stamped at or above its floor): a transaction that stays open holds the
// floor back, and past this many the oldest are forgotten and the floor
// raised to the oldest kept (a head then missed is found by the
// listeners' check).
const maxSent = 10000

// noticeBytes bounds the pairs of one notification's payload (PostgreSQL
// refuses 8000 bytes and more); a pair is at most 20 digits, a space, a
// user id (auth.MaxUserIDBytes) and a newline.
const noticeBytes = 7600

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
	retry func(time.Duration) // wakes the loop again after a failure
	// failed: the last round failed (its retry is due).
	failed bool
}

type sentHead struct{ seq, stamp int64 }

// publishSQL reads the moved heads and notifies them in one statement:
// ?0, ?1 the users and numbers already sent, ?2 the floor. s sets
// synchronous_commit off for this transaction (it is read at the commit),
// and gives the oldest running transaction id of the statement's
// snapshot, the next floor; m is the heads to send, n their notifications,
// the pairs "<seq> <user id>" separated by newlines (a user id holds no
// control character), cut below noticeBytes.
var publishSQL = `WITH s AS MATERIALIZED (
	SELECT set_config('synchronous_commit', 'off', true) AS off, pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
), m AS MATERIALIZED (
	SELECT h.user_id, h.seq, h.stamp FROM change_heads AS h
	LEFT JOIN unnest(?0::text[], ?1::bigint[]) AS d(u, s) ON d.u = h.user_id
	WHERE h.stamp > 0 AND h.stamp >= ?2 AND (d.s IS NULL OR h.seq > d.s)
), n AS MATERIALIZED (
	SELECT count(pg_notify('` + application.ChangeChannel + `', c.p)) AS sent FROM (
		SELECT string_agg(x.seq::text || ' ' || x.user_id, E'\n' ORDER BY x.stamp, x.user_id) AS p FROM (
			SELECT m.user_id, m.seq, m.stamp,
				sum(octet_length(m.user_id) + 22) OVER (ORDER BY m.stamp, m.user_id ROWS UNBOUNDED PRECEDING) / ` + fmt.Sprint(noticeBytes) + ` AS chunk
			FROM m
		) AS x GROUP BY x.chunk
	) AS c
)
SELECT s.xmin, n.sent, m.user_id, m.seq, m.stamp FROM s CROSS JOIN n LEFT JOIN m ON true`

// publishPG starts the publisher of db's commits (db opened by Open), until
// stop.
func publishPG(db *bun.DB) (stop func()) {
	v, ok := signals.Load(db.DB)
	if !ok {
		return func() {}
	}
	p := &pgPublisher{db: db, sig: v.(*commitSignal), sent: map[string]sentHead{}}
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
	var rows []struct {
		Xmin   int64          `bun:"xmin"`
		Sent   int64          `bun:"sent"`
		UserID sql.NullString `bun:"user_id"`
		Seq    sql.NullInt64  `bun:"seq"`
		Stamp  sql.NullInt64  `bun:"stamp"`
	}
	qctx, cancel := context.WithTimeout(context.WithValue(ctx, quietKey{}, true), 5*time.Second)
	defer cancel()
	if err := p.db.NewRaw(publishSQL, pgdialect.Array(users), pgdialect.Array(seqs), p.floor).Scan(qctx, &rows); err != nil {
		return fmt.Errorf("publish changes: %w", err)
	}
	for _, r := range rows {
		p.floor = max(p.floor, r.Xmin)
		if r.UserID.Valid {
			p.sent[r.UserID.String] = sentHead{seq: r.Seq.Int64, stamp: r.Stamp.Int64}
		}
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
