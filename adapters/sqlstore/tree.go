package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The trees in SQL: subtasks, their cascades, and moves.
//
// Every operation that changes a task's place, or more than one task (a
// move, a trash or restore with their cascades, a completion that
// completes subtasks, a bulk change, a create under a parent), runs in one
// transaction that
//
//  1. takes the owner's scope lock (lockScope): on PostgreSQL a
//     transaction-scoped advisory lock on the user, on SQLite the write
//     lock the transaction holds (BEGIN IMMEDIATE). The tree cannot change
//     under it: keys made between two neighbours stay unique, a depth or a
//     cycle checked stays checked, a subtree read is the whole subtree.
//     Creates without a parent take no lock (their keys are implicit);
//  2. locks every task row it will write in one statement, in id order
//     (lockRows), as every statement that writes many tasks does (the
//     update batches, lockInIDOrder), so that it never waits in a cycle
//     with them;
//  3. decides the changes in Go with the domain's functions, over the rows
//     read (changes: each task changed is written once, one version up),
//     and writes them.
//
// The lock order is then: scope lock, list row, task rows by id, the
// change heads by user (the change feed's triggers, migration
// 20261208000001), the counters (task_counts by user, list_counts by
// list; see migration 20261201000002). Single statements (a create, the
// update's fast path) start further down it. Every statement that writes
// a task or a list takes its owner's change head, held to the commit: a
// transaction locks every row it will write before its first write.

// lockScope takes owner's scope lock for the rest of the transaction x.
func lockScope(ctx context.Context, x runner, owner auth.UserID) error {
	s := x.sql()
	if !s.pg {
		return nil // the transaction holds SQLite's write lock
	}
	lockScopeSQL(s, owner)
	if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
		return fmt.Errorf("lock scope: %w", err)
	}
	return nil
}

// lockScopes takes the scope locks of owners (repeats counted once) in id
// order, the one order in which a transaction takes more than one.
func lockScopes(ctx context.Context, x runner, owners ...auth.UserID) error {
	for _, o := range slices.Compact(slices.Sorted(slices.Values(owners))) {
		if err := lockScope(ctx, x, o); err != nil {
			return err
		}
	}
	return nil
}

// lockScopeSQL is the statement that takes owner's scope lock on
// PostgreSQL.
func lockScopeSQL(s *sqlText, owner auth.UserID) *sqlText {
	return s.add("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "todo-backend scope "+string(owner))
}

// lockRows locks owner's tasks ids (live or not) in id order, in one
// statement, on PostgreSQL.
func lockRows(ctx context.Context, x runner, owner auth.UserID, ids []task.ID) error {
	s := x.sql()
	if !s.pg || len(ids) == 0 {
		return nil
	}
	in(s.add("SELECT t.id FROM tasks AS t WHERE t.user_id = ? AND t.id IN ", string(owner)), rawIDs(ids)).add(" ORDER BY t.id FOR UPDATE")
	if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
		return fmt.Errorf("lock tasks: %w", err)
	}
	return nil
}

// rawIDs are ids (of tasks or of lists) as the driver binds them.
func rawIDs[ID ~int64](ids []ID) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// node is a task of a tree as the tree queries read it: no more than its
// place and its trash.
type node struct {
	id     task.ID
	parent *task.ID
	trashed
}

// maxRecursion bounds the tree queries: deeper than any tree the rules
// allow, so that a corrupt cycle ends instead of looping.
const maxRecursion = 2 * task.MaxDepth

// subtreeSQL reads the subtrees of some roots: roots and every task under
// them, in the trash too. One range of tasks_parent_idx per level.
func subtreeSQL(s *sqlText, owner auth.UserID, roots []task.ID) *sqlText {
	in(s.add("WITH RECURSIVE sub(id, depth) AS (SELECT t.id, 0 FROM tasks AS t WHERE t.user_id = ? AND t.id IN ", string(owner)), rawIDs(roots)).
		add(" UNION ALL SELECT t.id, s.depth + 1 FROM sub AS s JOIN tasks AS t ON t.parent_id = s.id WHERE s.depth < ?)", maxRecursion)
	return s.add(" SELECT DISTINCT t.id, t.parent_id, t.deleted_at, t.trashed_with FROM sub AS s JOIN tasks AS t ON t.id = s.id ORDER BY t.id")
}

// chainSQL reads a task and its ancestors, the task first, then its parent,
// and so on up.
func chainSQL(s *sqlText, owner auth.UserID, id task.ID) *sqlText {
	s.add("WITH RECURSIVE up(id, parent_id, n) AS (SELECT t.id, t.parent_id, 0 FROM tasks AS t WHERE t.user_id = ? AND t.id = ?"+
		" UNION ALL SELECT t.id, t.parent_id, u.n + 1 FROM up AS u JOIN tasks AS t ON t.id = u.parent_id WHERE u.n < ?)", string(owner), int64(id), maxRecursion)
	return s.add(" SELECT t.id, t.parent_id, t.deleted_at, t.trashed_with FROM up AS u JOIN tasks AS t ON t.id = u.id ORDER BY u.n")
}

// nodes runs a tree query.
func nodes(ctx context.Context, x runner, s *sqlText) ([]node, error) {
	rows, err := x.idb().QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("read tree: %w", err)
	}
	defer rows.Close()
	return scanNodes(rows)
}

// scannedRows are the rows of a query, from database/sql or from pgx.
type scannedRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanNodes reads the rows of a tree query.
func scanNodes(rows scannedRows) ([]node, error) {
	var out []node
	for rows.Next() {
		var (
			id        int64
			parent    sql.NullInt64
			deletedAt any
			mark      sql.NullString
		)
		if err := rows.Scan(&id, &parent, &deletedAt, &mark); err != nil {
			return nil, fmt.Errorf("read tree: %w", err)
		}
		n := node{id: task.ID(id)}
		if parent.Valid {
			p := task.ID(parent.Int64)
			n.parent = &p
		}
		if deletedAt != nil {
			at, err := timeOf(deletedAt)
			if err != nil {
				return nil, fmt.Errorf("read tree: %w", err)
			}
			at = at.UTC()
			n.at = &at
		}
		if mark.Valid {
			m, err := task.ParseTrashMark(mark.String)
			if err != nil {
				return nil, fmt.Errorf("read tree: task %d: %w", id, err)
			}
			n.mark = m
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func subtree(ctx context.Context, x runner, owner auth.UserID, roots []task.ID) ([]node, error) {
	return nodes(ctx, x, subtreeSQL(x.sql(), owner, roots))
}

// forest is a set of nodes with their children.
type forest struct {
	byID map[task.ID]node
	kids map[task.ID][]task.ID
}

func newForest(ns []node) forest {
	f := forest{byID: make(map[task.ID]node, len(ns)), kids: map[task.ID][]task.ID{}}
	for _, n := range ns {
		f.byID[n.id] = n
	}
	for _, n := range ns { // ns are in id order, and so each node's kids
		if n.parent != nil {
			if _, ok := f.byID[*n.parent]; ok {
				f.kids[*n.parent] = append(f.kids[*n.parent], n.id)
			}
		}
	}
	return f
}

// height is how many levels id's subtree spans (1: no subtasks).
func (f forest) height(id task.ID) int {
	h := 0
	for _, k := range f.kids[id] {
		h = max(h, f.height(k))
	}
	return h + 1
}

// under returns the tasks under id that walk accepts, reached through
// accepted tasks only, parents before children.
func (f forest) under(id task.ID, walk func(node) bool) []task.ID {
	var out []task.ID
	for _, k := range f.kids[id] {
		if walk(f.byID[k]) {
			out = append(out, k)
			out = append(out, f.under(k, walk)...)
		}
	}
	return out
}

func (f forest) ids() []task.ID {
	out := make([]task.ID, 0, len(f.byID))
	for id := range f.byID {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// changes are the writes of one operation, decided in Go before any is
// sent: each task changed is written once, one version up, on condition
// that it is still at the version read (it is locked, so the condition
// only checks).
type changes struct {
	read      map[task.ID]*task.Task // live tasks as read, locked
	tree      forest                 // their trees
	next      map[task.ID]*task.Task
	completed []task.ID   // completed by this operation: their open subtasks follow
	by        auth.UserID // the user the operation was called with (task.Stored.By)
}

// load locks owner's tasks ids with every task under them (the trash
// included) and reads them, in one statement: the subtrees found by a
// recursive CTE, their rows locked in id order (on PostgreSQL) and read
// whole. ErrNotFound when one of ids is not a live task of owner. x holds
// the scope lock, so the trees read are the trees locked.
func load(ctx context.Context, x runner, owner auth.UserID, ids []task.ID) (*changes, error) {
	s := loadSQL(x.sql(), owner, ids)
	rows, err := x.tasks(ctx, owner, s)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	c, err := loaded(rows, ids)
	if err != nil {
		return nil, err
	}
	c.by = task.Actor(ctx, owner)
	return c, nil
}

// loadSQL is load's statement.
func loadSQL(s *sqlText, owner auth.UserID, ids []task.ID) *sqlText {
	in(s.add("WITH RECURSIVE sub(id, depth) AS (SELECT t.id, 0 FROM tasks AS t WHERE t.user_id = ? AND t.id IN ", string(owner)), rawIDs(ids)).
		add(" UNION ALL SELECT t.id, s.depth + 1 FROM sub AS s JOIN tasks AS t ON t.parent_id = s.id WHERE s.depth < ?)", maxRecursion).
		add(" SELECT "+selectList+", t.deleted_at, t.trashed_with FROM tasks AS t WHERE t.user_id = ? AND t.id IN (SELECT id FROM sub) ORDER BY t.id", string(owner))
	if s.pg {
		s.add(" FOR UPDATE OF t")
	}
	return s.withExtra(extraTrash)
}

// loaded is what load read, as changes to make.
func loaded(rows taskRows, ids []task.ID) (*changes, error) {
	c := &changes{read: make(map[task.ID]*task.Task, len(rows.tasks)), next: map[task.ID]*task.Task{}}
	ns := make([]node, len(rows.tasks))
	for i, t := range rows.tasks {
		ns[i] = node{id: t.ID(), parent: t.ParentID(), trashed: rows.trash[i]}
		if rows.trash[i].at == nil {
			c.read[t.ID()] = t
		}
	}
	for _, id := range ids {
		if _, ok := c.read[id]; !ok {
			return nil, task.ErrNotFound
		}
	}
	c.tree = newForest(ns)
	return c, nil
}

// get is task id as the operation leaves it (a copy).
func (c *changes) get(id task.ID) *task.Task {
	if t, ok := c.next[id]; ok {
		return t.WithID(id)
	}
	return c.read[id].WithID(id)
}

// put records t as the operation leaves it.
func (c *changes) put(t *task.Task) {
	id := t.ID()
	if !c.get(id).Completed() && t.Completed() {
		c.completed = append(c.completed, id)
	}
	c.next[id] = t.WithID(id)
}

// completeSubtasks completes the open live subtasks of the tasks the
// operation completed, as at their ancestor's update.
func (c *changes) completeSubtasks() {
	for i := 0; i < len(c.completed); i++ {
		root := c.completed[i]
		now := c.get(root).UpdatedAt()
		for _, d := range c.tree.under(root, func(n node) bool { return n.at == nil }) {
			if t := c.get(d); !t.Completed() {
				t.SetCompleted(true, now)
				c.next[d] = t
			}
		}
	}
}

// write sends the changes, in id order, and returns the tasks as written.
func (c *changes) write(ctx context.Context, x runner) (map[task.ID]*task.Task, error) {
	ids := make([]task.ID, 0, len(c.next))
	for id := range c.next {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make(map[task.ID]*task.Task, len(ids))
	for _, id := range ids {
		before := c.read[id]
		w, err := writePlaced(ctx, x, c.next[id], c.by, before.Version(), before.Tags())
		if err != nil {
			return nil, err
		}
		out[id] = w
	}
	return out, nil
}

// writePlaced writes t, list, parent and key included (placeSQL), one
// version up from read, on condition that its row is still at version read
// (errStale otherwise), and rewrites its tags when they changed.
func writePlaced(ctx context.Context, x runner, t *task.Task, by auth.UserID, read task.Version, before []string) (*task.Task, error) {
	s := storedBy(t, by)
	n, err := affected(x.idb().ExecContext(ctx, x.sql().fixed(placeSQL).String(), placeArgs(&s, int64(read))...))
	if err != nil {
		return nil, fmt.Errorf("update task: %w", placementError(err))
	}
	if n != 1 {
		return nil, errStale
	}
	if err := rewriteTags(ctx, x, t, before); err != nil {
		return nil, err
	}
	return t.WithVersion(read + 1), nil
}

// placementError is what the database says about a task's list or parent:
// the list is not its owner's live list (tasks_list_live, which only the
// insert trigger raises) or the parent is gone (deleted for good while the
// task was placed under it).
func placementError(err error) error {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "23503" {
		switch pe.ConstraintName {
		case "tasks_list_live", "tasks_list_id_fkey":
			return fmt.Errorf("%w: %w", list.ErrNotFound, err)
		case "tasks_parent_id_fkey":
			return fmt.Errorf("%w: %w", task.ErrNotFound, err)
		}
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			return fmt.Errorf("%w: %w", list.ErrNotFound, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", task.ErrNotFound, err)
		}
	}
	return err
}

// liveList checks that id is one of owner's live lists.
func liveList(ctx context.Context, x runner, owner auth.UserID, id list.ID) error {
	var n int64
	if err := x.ints(ctx, liveListSQL(x.sql(), owner, id), &n); err != nil {
		return fmt.Errorf("read list: %w", err)
	}
	if n == 0 {
		return list.ErrNotFound
	}
	return nil
}

// liveListSQL counts owner's live lists id: 1 or 0.
func liveListSQL(s *sqlText, owner auth.UserID, id list.ID) *sqlText {
	return s.add("SELECT count(*) FROM lists WHERE id = ? AND user_id = ? AND deleted_at IS NULL", int64(id), string(owner))
}

// ancestors returns the ids above task id, its parent first.
func ancestors(ctx context.Context, x runner, owner auth.UserID, id task.ID) ([]task.ID, error) {
	ns, err := nodes(ctx, x, chainSQL(x.sql(), owner, id))
	if err != nil {
		return nil, err
	}
	return above(ns), nil
}

// above is the ids of a chain (chainSQL) above its first task.
func above(ns []node) []task.ID {
	var out []task.ID
	for _, n := range ns[min(1, len(ns)):] {
		out = append(out, n.id)
	}
	return out
}

// gapKeys returns the keys on either side of where p puts tasks in scope
// (the tasks moved left out, those in the trash counted), and the anchor
// p names, checked (task.Placement.CheckAnchor): one statement, which
// reads the anchor and, in a subquery, its neighbour in the scope (the
// next key up or down, one range of tasks_scope_key); at the top or the
// bottom, the first or last key.
func gapKeys(ctx context.Context, x runner, owner auth.UserID, scope task.Scope, p task.Placement, moved []task.ID) (lower, upper string, err error) {
	// neighbour appends the subquery of the key next to t's (or the first
	// or last key of the scope, without an anchor).
	neighbour := func(s *sqlText) *sqlText {
		agg, cmp := "min", ""
		switch {
		case p.After != nil:
			cmp = " AND n.sort_key > t.sort_key"
		case p.Before != nil:
			agg, cmp = "max", " AND n.sort_key < t.sort_key"
		case p.Bottom:
			agg = "max"
		}
		scopeFilterOf(s.add("(SELECT "+agg+"(n.sort_key) FROM tasks AS n WHERE n.user_id = ?", string(owner)), "n", &scope.List, &scope.Parent)
		return in(s.add(cmp+" AND n.id NOT IN "), rawIDs(moved)).add(")")
	}
	a := p.Anchor()
	if a == nil {
		s := neighbour(x.sql().add("SELECT "))
		var k sql.NullString
		if err := x.idb().QueryRowContext(ctx, s.String(), s.args...).Scan(&k); err != nil {
			return "", "", fmt.Errorf("read neighbours: %w", err)
		}
		if p.Bottom {
			return k.String, "", nil
		}
		return "", k.String, nil
	}
	s := neighbour(x.sql().add("SELECT "+selectList+", ")).
		add(" FROM tasks AS t WHERE t.id = ? AND t.user_id = ? AND t.deleted_at IS NULL", int64(*a), string(owner))
	rows, err := x.tasks(ctx, owner, s.withExtra(extraNeighbour))
	if err != nil {
		return "", "", fmt.Errorf("read neighbours: %w", err)
	}
	return anchorGap(rows, scope, p, moved)
}

// anchorGap is the gap next to the anchor p names, from the row read of it
// with its neighbour's key (extraNeighbour): ErrNotFound when there is no
// row (the anchor is not a live task of owner), the anchor checked against
// the target scope and the tasks moved.
func anchorGap(rows taskRows, scope task.Scope, p task.Placement, moved []task.ID) (lower, upper string, err error) {
	if len(rows.tasks) == 0 {
		return "", "", task.ErrNotFound
	}
	if err := p.CheckAnchor(rows.tasks[0], scope, moved); err != nil {
		return "", "", err
	}
	k := rows.tasks[0].Position()
	if p.After != nil {
		return k, rows.neighbours[0], nil
	}
	return rows.neighbours[0], k, nil
}

// Move places owner's tasks together where m.To says (see
// task.Repository.Move), in one transaction: the scope lock, the moved
// tasks and their subtrees locked and read, the new parent, its ancestors
// and the target list read (readMove), the placement decided by the domain
// (task.Placement), the neighbours' keys read in one statement, and one
// UPDATE per task moved (placeSQL), plus one per live subtask when the
// list changes (planMove, then finish). On PostgreSQL the reads and the
// neighbours' keys go to the server together, with BEGIN, and a move that
// writes one row sends its UPDATE with COMMIT (movePipelined): two round
// trips. A key past position.RebalanceLen has the scope re-keyed right
// after, in a transaction of its own (rebalanceScope), which locks the
// whole scope first: the keys have room for the moves in between
// (position.MaxLen), and the move's own locks were taken without knowing
// that it would need every row of the scope.
func (r *TaskRepository) Move(ctx context.Context, owner auth.UserID, m task.Move) ([]*task.Task, error) {
	if err := m.To.Check(); err != nil {
		return nil, err
	}
	ids := task.UniqueIDs(m.IDs)
	if len(ids) == 0 {
		return nil, check.Invalid("ids", "must name at least one task", "too_short")
	}
	var out []*task.Task
	var rekey *task.Scope
	var err error
	if r.pg && r.on(ctx) == r.run {
		out, rekey, err = r.movePipelined(ctx, owner, m, ids)
	} else {
		err = r.inTx(ctx, func(ctx context.Context, x runner) error {
			reads, err := readMove(ctx, x, owner, m, ids)
			if err != nil {
				return err
			}
			plan, err := planMove(ctx, x, owner, m, ids, reads)
			if err != nil {
				return err
			}
			rekey = plan.rekey
			out, err = plan.c.finish(ctx, x, ids)
			return err
		})
	}
	if errors.Is(err, errStale) {
		// Every row written was locked, or the database was: nobody wrote it.
		return nil, fmt.Errorf("move tasks: %w", err)
	}
	if err != nil {
		return nil, err
	}
	if rekey != nil {
		// The move is done whatever happens here: a failed rebalance
		// leaves long keys, still valid, and the next move into their gap
		// asks for one again.
		if keyed, err := r.rebalanceScope(ctx, owner, *rekey, ids); err == nil {
			out = keyed
		}
	}
	return out, nil
}

// moveReads is what a move reads under the scope lock before it decides.
// The errors of the reads that may fail are kept, to be reported in the
// order the checks come in (planMove): a version conflict before a missing
// parent, and so on.
type moveReads struct {
	c *changes // the moved tasks and their subtrees, locked
	// parent is the new parent (m.To.NewParent) and its ancestors, or the
	// error reading it: ErrNotFound when it is not a live task of owner.
	parent          *task.Task
	parentAncestors []task.ID
	parentErr       error
	listErr         error // list.ErrNotFound when m.To.List is not a live list of owner
	// guess is the gap read ahead, before the target scope was known; nil
	// when none was (planMove then reads it).
	guess *gapGuess
}

// readMove reads what a move needs, statement by statement, in x (which
// holds the scope lock once lockScope ran).
func readMove(ctx context.Context, x runner, owner auth.UserID, m task.Move, ids []task.ID) (moveReads, error) {
	var rd moveReads
	if err := lockScope(ctx, x, owner); err != nil {
		return rd, err
	}
	var err error
	if rd.c, err = load(ctx, x, owner, ids); err != nil {
		return rd, err
	}
	if p := m.To.NewParent(); p != nil {
		var ps []*task.Task
		if ps, rd.parentErr = readLive(ctx, x, owner, []task.ID{*p}, false); rd.parentErr == nil {
			rd.parent = ps[0]
			if rd.parentAncestors, err = ancestors(ctx, x, owner, *p); err != nil {
				return rd, err
			}
		}
		if rd.parentErr != nil && !errors.Is(rd.parentErr, task.ErrNotFound) {
			return rd, rd.parentErr
		}
	}
	if l := m.To.List; l != nil && *l != list.Inbox {
		if rd.listErr = liveList(ctx, x, owner, *l); rd.listErr != nil && !errors.Is(rd.listErr, list.ErrNotFound) {
			return rd, rd.listErr
		}
	}
	return rd, nil
}

// movePlan is a move decided: the changes to write (c.next), and the scope
// to rebalance afterwards, if any. pre says whether statements were sent
// besides the reads (a bulk move's keys cleared, subtasks in the trash
// moved to the new list).
type movePlan struct {
	c     *changes
	rekey *task.Scope
	pre   bool
}

// planMove decides a move from what readMove (or the pipelined reads) read,
// with the domain's rules, reading in x what was not read ahead (the gap,
// when the guess did not hit the target scope), and sends the writes that
// must come before the tasks' own (planMove's pre).
func planMove(ctx context.Context, x runner, owner auth.UserID, m task.Move, ids []task.ID, rd moveReads) (*movePlan, error) {
	c := rd.c
	plan := &movePlan{c: c}
	moved := make([]*task.Task, len(ids))
	for i, id := range ids {
		moved[i] = c.get(id)
	}
	if len(ids) == 1 {
		if err := task.Conflict(moved[0], m.Expect); err != nil {
			return nil, err
		}
	}
	if rd.parentErr != nil {
		return nil, rd.parentErr
	}
	if rd.listErr != nil {
		return nil, rd.listErr
	}
	target, stay, err := m.To.Target(moved, rd.parent)
	if err != nil {
		return nil, err
	}
	if stay {
		if m.Edit != nil {
			for _, t := range moved {
				if err := m.Edit(t); err != nil {
					return nil, err
				}
				if t.Changed() { // else nothing to write
					c.put(t)
				}
			}
		}
		return plan, nil
	}
	for _, t := range moved {
		if err := task.CheckPlacement(t.ID(), c.tree.height(t.ID()), target.ParentID(), rd.parentAncestors); err != nil {
			return nil, err
		}
	}
	lower, upper, hit, err := rd.guess.gap(target, m.To, ids)
	if err != nil {
		return nil, err
	}
	if !hit {
		if lower, upper, err = gapKeys(ctx, x, owner, target, m.To, ids); err != nil {
			return nil, err
		}
	}
	keys, err := task.Keys(lower, upper, len(ids))
	if err != nil {
		return nil, err
	}

	var quiet []task.ID // subtasks in the trash that follow to another list
	for i, t := range moved {
		listChanged := t.Scope().List != target.List
		if m.Edit != nil {
			if err := m.Edit(t); err != nil {
				return nil, err
			}
		}
		t.Place(target.ListID(), target.ParentID(), keys[i], m.At)
		c.put(t)
		if !listChanged {
			continue
		}
		for _, d := range c.tree.under(t.ID(), func(node) bool { return true }) {
			switch {
			case slices.Contains(ids, d): // placed itself
			case c.tree.byID[d].at != nil:
				quiet = append(quiet, d)
			default:
				dt := c.get(d)
				dt.SetList(target.ListID(), m.At)
				if m.Follow != nil {
					if err := m.Follow(dt); err != nil {
						return nil, err
					}
				}
				c.put(dt)
			}
		}
	}
	if len(ids) > 1 {
		// Out of the way first: a task's new key may be another moved
		// task's old one. Without a key each sorts by its implicit key,
		// which no other key equals.
		s := in(x.sql().add("UPDATE tasks SET position = NULL, updated_by = ? WHERE user_id = ? AND id IN ", string(task.Actor(ctx, owner)), string(owner)), rawIDs(ids))
		if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
			return nil, fmt.Errorf("move tasks: %w", err)
		}
		plan.pre = true
	}
	if len(quiet) > 0 {
		s := in(x.sql().add("UPDATE tasks SET list_id = ?, updated_by = ? WHERE user_id = ? AND id IN ", (*int64)(target.ListID()), string(task.Actor(ctx, owner)), string(owner)), rawIDs(quiet))
		if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
			return nil, fmt.Errorf("move subtasks in the trash: %w", placementError(err))
		}
		plan.pre = true
	}
	if task.NeedsRebalance(keys) {
		plan.rekey = &target
	}
	return plan, nil
}

// rebalanceScope re-keys owner's scope (rebalance) in a transaction of its
// own: the scope lock, then every row of the scope locked in id order, then
// the two statements. It returns tasks ids as they are then.
func (r *TaskRepository) rebalanceScope(ctx context.Context, owner auth.UserID, scope task.Scope, ids []task.ID) ([]*task.Task, error) {
	var out []*task.Task
	err := r.inTx(ctx, func(ctx context.Context, x runner) error {
		if err := lockScope(ctx, x, owner); err != nil {
			return err
		}
		if s := x.sql(); s.pg {
			scopeFilter(s.add("SELECT t.id FROM tasks AS t WHERE t.user_id = ?", string(owner)), &scope.List, &scope.Parent).add(" ORDER BY t.id FOR UPDATE")
			if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
				return fmt.Errorf("lock scope rows: %w", err)
			}
		}
		if err := rebalance(ctx, x, owner, scope); err != nil {
			return err
		}
		var err error
		out, err = readLive(ctx, x, owner, ids, false)
		return err
	})
	return out, err
}

// finish completes the subtasks of the tasks the operation completed,
// writes the changes and returns tasks ids as written.
func (c *changes) finish(ctx context.Context, x runner, ids []task.ID) ([]*task.Task, error) {
	c.completeSubtasks()
	written, err := c.write(ctx, x)
	if err != nil {
		return nil, err
	}
	return c.result(ids, written), nil
}

// result is tasks ids as the operation leaves them, given the tasks
// written.
func (c *changes) result(ids []task.ID, written map[task.ID]*task.Task) []*task.Task {
	out := make([]*task.Task, len(ids))
	for i, id := range ids {
		if t, ok := written[id]; ok {
			out[i] = t
		} else {
			out[i] = c.get(id)
		}
	}
	return out
}

// rebalanceKey is position.Rebalanced in SQL, of a rank and a last digit:
// 'V' is the rebalanced key, '0' the same key marked as passing (no key a
// move makes ends in '0', so a passing key equals no key in the scope).
// TestRebalanceSQL holds it to position.Rebalanced.
func rebalanceKey(pg bool, rank string) string {
	if pg {
		return "'m' || lpad((" + rank + ")::text, 10, '0')"
	}
	return "printf('m%010d', " + rank + ")"
}

// rebalance gives every task of owner in scope, in the trash too, the key
// position.Rebalanced of its rank in the scope's order: the same order,
// short keys. Two statements, because a unique index is checked row by row
// on both databases, and a row's new key may be another's old one until
// that one is rewritten too: the first gives each row its new key ending in
// '0' instead of 'V' (a key ending in '0' is no key a move makes, and these
// are distinct), the second turns the '0' into 'V'.
func rebalance(ctx context.Context, x runner, owner auth.UserID, scope task.Scope) error {
	s := x.sql()
	s.add("UPDATE tasks SET position = "+rebalanceKey(s.pg, "r.rank")+" || '0', updated_by = ? FROM (SELECT t.id, row_number() OVER (ORDER BY t.sort_key) - 1 AS rank"+
		" FROM tasks AS t WHERE t.user_id = ?", string(task.Actor(ctx, owner)), string(owner))
	scopeFilter(s, &scope.List, &scope.Parent).add(") AS r WHERE tasks.id = r.id")
	if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
		return fmt.Errorf("rebalance: %w", err)
	}
	s = x.sql().add("UPDATE tasks SET position = substr(position, 1, 11) || 'V', updated_by = ? FROM (SELECT t.id FROM tasks AS t WHERE t.user_id = ?", string(task.Actor(ctx, owner)), string(owner))
	scopeFilter(s, &scope.List, &scope.Parent).add(") AS r WHERE tasks.id = r.id")
	if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
		return fmt.Errorf("rebalance: %w", err)
	}
	return nil
}

// trashTasks moves the live tasks of c's trees that selected names (each
// on its own) and their live subtrees (with their nearest selected
// ancestor) to the trash at at, as task.TrashMarks says, and returns how
// many went. The rows are locked (load).
func trashTasks(ctx context.Context, x runner, owner auth.UserID, c *changes, selected []task.ID, at time.Time) (int, error) {
	var ns []task.Node
	seen := map[task.ID]bool{}
	for _, id := range selected {
		for _, d := range append([]task.ID{id}, c.tree.under(id, func(n node) bool { return n.at == nil })...) {
			if !seen[d] {
				seen[d] = true
				ns = append(ns, task.Node{ID: d, Parent: c.tree.byID[d].parent})
			}
		}
	}
	byMark := map[task.TrashMark][]task.ID{}
	for id, m := range task.TrashMarks(selected, ns) {
		byMark[m] = append(byMark[m], id)
	}
	for m, ids := range byMark {
		slices.Sort(ids)
		var mark *string
		if m != task.NoMark {
			v := string(m)
			mark = &v
		}
		s := in(x.sql().add("UPDATE tasks SET deleted_at = ?, trashed_with = ? WHERE user_id = ? AND deleted_at IS NULL AND id IN ",
			trashTime(at), mark, string(owner)), rawIDs(ids))
		if _, err := x.idb().ExecContext(ctx, s.String(), s.args...); err != nil {
			return 0, fmt.Errorf("trash tasks: %w", err)
		}
	}
	return len(ns), nil
}
