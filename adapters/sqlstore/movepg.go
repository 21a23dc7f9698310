package sqlstore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// A move on PostgreSQL in two round trips. Statement by statement (BEGIN,
// the scope lock, the trees, the new parent and its ancestors, the list,
// the anchor and its neighbour, the UPDATE, COMMIT) a move took six to eight
// round trips, all but the first under the owner's scope lock, so that the
// lock, which every move of the owner waits for, was held for as many
// network waits and process wake-ups. None of the reads depends on another's
// result once the gap is read in the scope of the anchor rather than in the
// target scope (which the domain decides from the reads): they go to the
// server in one pipeline with BEGIN (pgx's batch: one write, one Sync, in
// order, so the lock is taken before the reads run). The domain then
// decides as before (planMove); a move that writes one row sends its UPDATE
// with COMMIT, in a second pipeline. Anything else (a list change with
// subtasks, a bulk move, a guess of the gap that missed) runs statement by
// statement on the same connection, in the same transaction.

// gapGuess is the gap a move reads ahead, with its other reads, before the
// target scope is known (gapGuessSQL). planMove uses it when it is the
// target's: next to an anchor, the anchor's scope is the target's or the
// move is refused (Placement.CheckAnchor); at the top or the bottom, when
// the scope guessed from the placement is the target.
type gapGuess struct {
	anchor taskRows   // with an anchor: its row and its neighbour's key
	scope  task.Scope // without: the scope read
	key    string     // and its first key (the top) or last (the bottom)
	found  bool       // without an anchor: the scope's row was found
}

// gap returns the keys around the gap p names in target, and whether the
// guess had them; an error when the anchor is missing or misplaced, as
// gapKeys reports it. A nil guess has nothing.
func (g *gapGuess) gap(target task.Scope, p task.Placement, moved []task.ID) (lower, upper string, hit bool, err error) {
	switch {
	case g == nil:
		return "", "", false, nil
	case p.Anchor() != nil:
		lower, upper, err = anchorGap(g.anchor, target, p, moved)
		return lower, upper, err == nil, err
	case !g.found || g.scope != target:
		return "", "", false, nil
	case p.Bottom:
		return g.key, "", true, nil
	}
	return "", g.key, true, nil
}

// gapGuessSQL reads ahead the gap where p puts tasks moved (left out, as
// in gapKeys; those in the trash counted). With an anchor: its row and its
// neighbour in its own scope (extraNeighbour). Without: the scope p most
// likely names, (list_id, parent_id), and its first or last key: under the
// new parent; at the top level of p's list, or of the first task's; or in
// the first task's scope, its list replaced by p's. The neighbour's
// subquery takes one of four forms, by which of the scope's list and
// parent are NULL, so that each is one range of tasks_scope_key.
func gapGuessSQL(s *sqlText, owner auth.UserID, p task.Placement, moved []task.ID) *sqlText {
	agg, cmp := "min", ""
	switch {
	case p.After != nil:
		cmp = " AND n.sort_key > t.sort_key"
	case p.Before != nil:
		agg, cmp = "max", " AND n.sort_key < t.sort_key"
	case p.Bottom:
		agg = "max"
	}
	sub := func(filter string) {
		in(s.add("(SELECT "+agg+"(n.sort_key) FROM tasks AS n WHERE n.user_id = ?"+filter+cmp+" AND n.id NOT IN ", string(owner)), rawIDs(moved)).add(")")
	}
	neighbour := func() {
		s.add("CASE WHEN t.list_id IS NULL AND t.parent_id IS NULL THEN ")
		sub(" AND n.list_id IS NULL AND n.parent_id IS NULL")
		s.add(" WHEN t.list_id IS NULL THEN ")
		sub(" AND n.list_id IS NULL AND n.parent_id = t.parent_id")
		s.add(" WHEN t.parent_id IS NULL THEN ")
		sub(" AND n.list_id = t.list_id AND n.parent_id IS NULL")
		s.add(" ELSE ")
		sub(" AND n.list_id = t.list_id AND n.parent_id = t.parent_id")
		s.add(" END")
	}
	if a := p.Anchor(); a != nil {
		s.add("SELECT " + selectList + ", ")
		neighbour()
		return s.add(" FROM tasks AS t WHERE t.id = ? AND t.user_id = ? AND t.deleted_at IS NULL", int64(*a), string(owner)).withExtra(extraNeighbour)
	}
	s.add("SELECT t.list_id, t.parent_id, ")
	neighbour()
	if np := p.NewParent(); np != nil {
		return s.add(" FROM (SELECT p.list_id, p.id AS parent_id FROM tasks AS p WHERE p.id = ? AND p.user_id = ?) AS t", int64(*np), string(owner))
	}
	s.add(" FROM (SELECT ")
	switch {
	case p.List == nil:
		s.add("m.list_id")
	case *p.List == list.Inbox:
		s.add("NULL::bigint")
	default:
		s.add("?::bigint", int64(*p.List))
	}
	if p.Parent != nil { // the top level
		s.add(" AS list_id, NULL::bigint AS parent_id")
	} else {
		s.add(" AS list_id, m.parent_id")
	}
	return s.add(" FROM tasks AS m WHERE m.id = ? AND m.user_id = ?) AS t", int64(moved[0]), string(owner))
}

// movePipelined is Move on PostgreSQL (see the top of this file), on one
// pooled connection whose transaction it opens and ends itself: it never
// gives the connection back with a transaction open (rollback).
func (r *TaskRepository) movePipelined(ctx context.Context, owner auth.UserID, m task.Move, ids []task.ID) (out []*task.Task, rekey *task.Scope, err error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("move tasks: %w", err)
	}
	defer conn.Close()
	open := false // whether BEGIN was sent and no COMMIT answered
	defer func() {
		if open {
			rollback(conn)
		}
	}()

	var rd moveReads
	var prep bool
	err = onPgx(ctx, conn, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		prep = mode == pgx.QueryExecModeCacheStatement && len(ids) == 1
		open = true
		var err error
		rd, err = pipelinedReads(ctx, c, prep, owner, m, ids)
		if err != nil && preparedStatementMissing(err) {
			// Behind a pooler that keeps no prepared statements: end the
			// transaction, so that onPgx runs the reads again unprepared.
			if _, rbErr := c.Exec(ctx, "ROLLBACK"); rbErr == nil {
				open = false
			}
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	x := bunRunner{db: conn, pg: true}
	plan, err := planMove(ctx, x, owner, m, ids, rd)
	if err != nil {
		return nil, nil, err
	}
	c := plan.c
	c.completeSubtasks()
	if len(c.next) == 1 && m.Edit == nil && !plan.pre {
		// The move's one write (no tags change without an edit), and COMMIT.
		var t *task.Task
		for _, next := range c.next {
			t = next
		}
		before := c.read[t.ID()]
		st := storedBy(t, task.Actor(ctx, owner))
		var n int64
		err = onPgx(ctx, conn, func(ctx context.Context, pc *pgx.Conn, _ pgx.QueryExecMode) error {
			b := &pgx.Batch{}
			update, err := prepared(ctx, pc, prep, placeSQL.pgx)
			if err != nil {
				return fmt.Errorf("update task: %w", err)
			}
			b.Queue(update, placeArgs(&st, int64(before.Version()))...)
			b.Queue("COMMIT")
			br := pc.SendBatch(ctx, b)
			tag, err := br.Exec()
			n = tag.RowsAffected()
			if err != nil {
				_ = br.Close()
				return fmt.Errorf("update task: %w", placementError(err))
			}
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return fmt.Errorf("commit move: %w", err)
			}
			open = false
			return br.Close()
		})
		if err != nil {
			return nil, nil, err
		}
		if n != 1 {
			// Nothing was written (the row is locked, so this does not
			// happen): the COMMIT ended a transaction that only read.
			return nil, nil, errStale
		}
		return c.result(ids, map[task.ID]*task.Task{t.ID(): t.WithVersion(before.Version() + 1)}), plan.rekey, nil
	}
	written, err := c.write(ctx, x)
	if err != nil {
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, nil, fmt.Errorf("commit move: %w", err)
	}
	open = false
	return c.result(ids, written), plan.rekey, nil
}

// pipelinedReads sends BEGIN and a move's reads in one pipeline on c
// (readMove's, and the gap read ahead) and reads their results in order.
// With prep, the statements run prepared (see prepared).
func pipelinedReads(ctx context.Context, c *pgx.Conn, prep bool, owner auth.UserID, m task.Move, ids []task.ID) (moveReads, error) {
	var rd moveReads
	sql := func() *sqlText { return &sqlText{pg: true, dollar: true} }
	b := &pgx.Batch{}
	var err error
	queue := func(s *sqlText) {
		name, perr := prepared(ctx, c, prep, s.String())
		err = cmp.Or(err, perr)
		b.Queue(name, s.args...)
	}
	b.Queue("BEGIN")
	queue(lockScopeSQL(sql(), owner))
	load := loadSQL(sql(), owner, ids)
	queue(load)
	np := m.To.NewParent()
	if np != nil {
		queue(sql().add("SELECT "+selectList+" FROM tasks AS t WHERE t.id = ? AND t.user_id = ? AND t.deleted_at IS NULL", int64(*np), string(owner)))
		queue(chainSQL(sql(), owner, *np))
	}
	l := m.To.List
	if l != nil && *l != list.Inbox {
		queue(liveListSQL(sql(), owner, *l))
	}
	guess := gapGuessSQL(sql(), owner, m.To, ids)
	queue(guess)
	if len(ids) == 1 && m.Edit == nil {
		// The UPDATE the move may send with COMMIT, prepared now, outside
		// the transaction, as the others are: behind a pooler, in the
		// transaction, all of them are on the server or none is.
		_, perr := prepared(ctx, c, prep, placeSQL.pgx)
		err = cmp.Or(err, perr)
	}
	if err != nil {
		return rd, fmt.Errorf("prepare move: %w", err)
	}

	br := c.SendBatch(ctx, b)
	defer br.Close()
	for _, what := range []string{"begin", "lock scope"} {
		if _, err := br.Exec(); err != nil {
			return rd, fmt.Errorf("%s: %w", what, err)
		}
	}
	rows, err := queryTasks(br, owner, load.extra)
	if err != nil {
		return rd, fmt.Errorf("read tasks: %w", err)
	}
	if rd.c, err = loaded(rows, ids); err != nil {
		return rd, err
	}
	rd.c.by = owner
	if np != nil {
		ps, err := queryTasks(br, owner, noExtra)
		if err != nil {
			return rd, fmt.Errorf("select task for update: %w", err)
		}
		res, err := br.Query()
		if err != nil {
			return rd, fmt.Errorf("read tree: %w", err)
		}
		chain, err := scanNodes(res)
		res.Close()
		if err != nil {
			return rd, fmt.Errorf("read tree: %w", err)
		}
		if len(ps.tasks) == 0 {
			rd.parentErr = task.ErrNotFound
		} else {
			rd.parent, rd.parentAncestors = ps.tasks[0], above(chain)
		}
	}
	if l != nil && *l != list.Inbox {
		var n int64
		if err := br.QueryRow().Scan(&n); err != nil {
			return rd, fmt.Errorf("read list: %w", err)
		}
		if n == 0 {
			rd.listErr = list.ErrNotFound
		}
	}
	g := &gapGuess{}
	if m.To.Anchor() != nil {
		if g.anchor, err = queryTasks(br, owner, extraNeighbour); err != nil {
			return rd, fmt.Errorf("read neighbours: %w", err)
		}
	} else {
		var listID, parentID *int64
		var key *string
		err := br.QueryRow().Scan(&listID, &parentID, &key)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // the first task or the parent is missing: reported by the reads above
		case err != nil:
			return rd, fmt.Errorf("read neighbours: %w", err)
		default:
			g.found, g.scope = true, task.ScopeOf((*list.ID)(listID), (*task.ID)(parentID))
			if key != nil {
				g.key = *key
			}
		}
	}
	rd.guess = g
	return rd, br.Close()
}

// prepared is the name under which to queue the statement text in a batch:
// without prep, the text itself (the batch then runs it unprepared, in the
// connection's exec mode, planned anew each time); with prep, the name of
// a statement prepared on c from it (once per connection; planning the
// move's statements took longer than running them). The names are not the
// texts, so that a batch that must not use them (exec mode, after a
// pooler lost them) never does.
func prepared(ctx context.Context, c *pgx.Conn, prep bool, text string) (string, error) {
	if !prep {
		return text, nil
	}
	sum := sha256.Sum256([]byte(text))
	name := "todo_" + hex.EncodeToString(sum[:12])
	if _, err := c.Prepare(ctx, name, text); err != nil {
		return "", err
	}
	return name, nil
}

// queryTasks reads the next result of br, rows of owner's tasks (selectList
// then ex's columns).
func queryTasks(br pgx.BatchResults, owner auth.UserID, ex extra) (taskRows, error) {
	res, err := br.Query()
	if err != nil {
		return taskRows{}, err
	}
	return scanTasks(res, owner, ex)
}

// onPgx runs fn on conn's pgx connection as withPgx runs a statement on a
// pooled one: refused while the breaker is open, under the statement
// deadline, its error classified, and run once more in exec mode when the
// server lost its prepared statements and fn left no transaction open.
func onPgx(ctx context.Context, conn bun.Conn, fn func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error) error {
	return conn.Raw(func(dc any) error {
		gc, pc, err := rawPgx(dc)
		if err != nil {
			return err
		}
		return gc.runPgx(ctx, pc, fn)
	})
}

// rollback ends the transaction a move opened on conn. When the connection
// cannot say ROLLBACK (it broke, the breaker is open), it is discarded: no
// other request may find the transaction open.
func rollback(conn bun.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}
