package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The access rule of shared lists in SQL (issue 19), once: a caller reaches
// a task when they own it (alias.user_id) or when its list has a membership
// of theirs whose role allows the action (list.RolesAllowing, derived from
// list.Role.Allows). Every statement that lets a member reach tasks that
// are not theirs builds its condition here.

// memberLists appends the live lists where caller's role allows act:
// "SELECT m.list_id FROM list_members AS m WHERE m.user_id = ? AND m.role
// IN (...) AND <the list is live>". A list in the trash is reached by nobody but its
// owner, as Access and the memory store's roleOn say. The roles are
// literals (rolesAllowing): the domain's names, fixed for the statement,
// so that its text and its plan, prepared or generic, are one per action.
func memberLists(s *sqlText, caller auth.UserID, act list.Action) *sqlText {
	// The list's liveness is a lookup of its row per membership (lists_pkey):
	// a join let the planner read every live list.
	return s.add("SELECT m.list_id FROM list_members AS m WHERE m.user_id = ? AND "+rolesAllowing(act)+
		" AND (SELECT ml.deleted_at FROM lists AS ml WHERE ml.id = m.list_id) IS NULL", string(caller))
}

// memberRoles are, by action, the SQL condition on m.role that
// memberLists appends: "m.role IN ('admin', ...)", or "1 = 0" when no
// member's role allows the action.
var memberRoles = func() map[list.Action]string {
	out := map[list.Action]string{}
	for a := list.ActRead; a <= list.ActOwn; a++ {
		var roles []string
		for _, r := range list.RolesAllowing(a) {
			if r == list.RoleOwner { // the owner has no membership row
				continue
			}
			if strings.Trim(string(r), "abcdefghijklmnopqrstuvwxyz") != "" {
				panic(fmt.Sprintf("sqlstore: role %q is not a plain name", r))
			}
			roles = append(roles, "'"+string(r)+"'")
		}
		out[a] = "1 = 0"
		if len(roles) > 0 {
			out[a] = "m.role IN (" + strings.Join(roles, ", ") + ")"
		}
	}
	return out
}()

func rolesAllowing(act list.Action) string {
	cond, ok := memberRoles[act]
	if !ok {
		panic(fmt.Sprintf("sqlstore: no roles for action %v", act))
	}
	return cond
}

// reachable appends the predicate on a task row alias: caller owns it, or
// it is in a list where caller's role allows act. For the owner the first
// arm holds and the membership subquery is never run (PostgreSQL evaluates
// it lazily, SQLite short-circuits the OR). On PostgreSQL the lists are an
// array (= ANY(ARRAY(...)), one InitPlan), so that a scan of many tasks can
// be a BitmapOr of the owner's index and tasks_list_idx; an IN (subquery)
// under an OR would be a filter over every row.
func reachable(s *sqlText, alias string, caller auth.UserID, act list.Action) *sqlText {
	if s.pg {
		s.add("("+alias+".user_id = ? OR "+alias+".list_id = ANY(ARRAY(", string(caller))
		return memberLists(s, caller, act).add(")))")
	}
	s.add("("+alias+".user_id = ? OR "+alias+".list_id IN (", string(caller))
	return memberLists(s, caller, act).add("))")
}

// listOwner appends, as a scalar subquery, the owner of list l when caller
// owns it or is a member whose role there allows act; NULL otherwise (a
// comparison with it holds for no row). A statement on one list's tasks
// compares the owner column with it: the owner's index range, as for the
// owner's own query, found in the same statement.
func listOwner(s *sqlText, l list.ID, caller auth.UserID, act list.Action) *sqlText {
	s.add("(SELECT l.user_id FROM lists AS l WHERE l.id = ? AND (l.user_id = ? OR l.id IN (", int64(l), string(caller))
	return memberLists(s, caller, act).add(")))")
}

// readers appends, as a subquery, caller and the owners of the lists where
// caller's role allows act: whose rows of another table (task_tags) a
// query over reachable tasks reads.
func readers(s *sqlText, caller auth.UserID, act list.Action) *sqlText {
	s.add("(SELECT CAST(? AS text) UNION SELECT l.user_id FROM lists AS l WHERE l.id IN (", string(caller))
	return memberLists(s, caller, act).add("))")
}

// stmtShape is what a statement's text depends on beside its arguments:
// the dialect and the placeholders.
type stmtShape struct {
	name       string
	pg, dollar bool
}

// shapes holds, by stmtShape, statements written once (byCaller).
var shapes sync.Map

// Marks stand for a statement's arguments while byCaller writes it once.
const (
	callerMark = auth.UserID("\x00caller")
	idMark     = int64(-1 << 62)
)

// byCaller is the statement build writes for caller and id, written once
// per shape (name, dialect) with marks in place of caller and id, then
// taken whole (fixed), its arguments bound: a hot read whose text depends
// on the caller only through its arguments costs no writing of SQL.
func byCaller(s *sqlText, name string, build func(s *sqlText, caller auth.UserID, id int64) *sqlText, caller auth.UserID, id int64) *sqlText {
	key := stmtShape{name: name, pg: s.pg, dollar: s.dollar}
	v, ok := shapes.Load(key)
	if !ok {
		v, _ = shapes.LoadOrStore(key, build(&sqlText{pg: s.pg, dollar: s.dollar}, callerMark, idMark))
	}
	t := v.(*sqlText)
	args := make([]any, len(t.args))
	for i, a := range t.args {
		switch a {
		case any(string(callerMark)):
			args[i] = string(caller)
		case any(idMark):
			args[i] = id
		default:
			args[i] = a
		}
	}
	s.text, s.args, s.extra, s.adhoc = t.String(), args, t.extra, t.adhoc
	return s
}

// ShareHint tells, before a query of all of a user's tasks, whether the
// user may be a member of a shared list: then the query reads the tasks of
// those lists too, without the owner-only plans (the task_counts counters,
// index-ordered keyset pages). false only when the user certainly is not.
type ShareHint interface {
	MayRead(ctx context.Context, user auth.UserID) (bool, error)
}

// Sharers answers from memory.
var _ ShareHint = (*Sharers)(nil)

// UseShareHint makes r ask h instead of the database (probe) whether a user
// may be a member of a shared list. Call it before r is used.
func (r *TaskRepository) UseShareHint(h ShareHint) { r.hint = h }

// probe is the default ShareHint: one query of the user's memberships
// (list_members_user_idx) on the repository's connection or ctx's
// transaction.
type probe struct{ r *TaskRepository }

// MayRead reports whether user has a membership whose role reads.
func (p probe) MayRead(ctx context.Context, user auth.UserID) (bool, error) {
	x := p.r.on(ctx)
	var n int64
	s := memberLists(x.sql().add("SELECT count(*) FROM ("), user, list.ActRead).add(" LIMIT 1) AS m")
	if err := x.ints(ctx, s, &n); err != nil {
		return false, fmt.Errorf("read memberships: %w", err)
	}
	return n > 0, nil
}

// shares reports whether a query of caller's tasks in l (nil: all lists)
// may read the tasks of shared lists (filters' shared): when caller may be
// a member (mayRead). Then a query of all lists reads the caller's tasks
// and the shared lists' (reachable), and a query of one list finds that
// list's owner in the statement (listOwner); otherwise both are the
// caller's own tasks, the owner's index range with no subquery (a list of
// another's holds none of the caller's tasks: a list's tasks are its
// owner's rows, Transfer moves them). The inbox is the caller's. A query of
// one list without an in-process hint lets listOwner decide: the probe
// would cost a round trip where the subquery costs an index lookup.
func (r *TaskRepository) shares(ctx context.Context, caller auth.UserID, l *list.ID) (bool, error) {
	switch {
	case l == nil:
		return r.mayRead(ctx, caller)
	case *l == list.Inbox:
		return false, nil
	}
	return r.mayShare(ctx, caller)
}

// mayShare is mayRead for a statement that checks the membership itself
// at the cost of an index lookup (one list's owner, one task): without an
// in-process hint, true, since the probe would cost a round trip.
func (r *TaskRepository) mayShare(ctx context.Context, caller auth.UserID) (bool, error) {
	if r.hint == nil {
		return true, nil
	}
	return r.hint.MayRead(ctx, caller)
}

// mayRead asks r's hint whether caller may read shared lists.
func (r *TaskRepository) mayRead(ctx context.Context, caller auth.UserID) (bool, error) {
	if r.hint == nil {
		return probe{r}.MayRead(ctx, caller)
	}
	return r.hint.MayRead(ctx, caller)
}

// Reach reads the owner and the list of task id when caller reaches it as
// a member (the predicate above, for reading), then caller's role on that
// list with Access, which in a PostgreSQL transaction takes the owner's
// scope lock and the membership; it then checks that the task is in that
// list still.
func (r *MemberRepository) Reach(ctx context.Context, caller auth.UserID, id task.ID) (list.Access, error) {
	x := r.on(ctx)
	s := reachable(x.sql().add("SELECT t.list_id FROM tasks AS t WHERE t.id = ? AND t.user_id <> ? AND ", int64(id), string(caller)),
		"t", caller, list.ActRead)
	var listID int64
	if err := x.ints(ctx, s, &listID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return list.Access{}, task.ErrNotFound
		}
		return list.Access{}, fmt.Errorf("read task's list: %w", err)
	}
	acc, err := r.Access(ctx, caller, list.ID(listID))
	if err != nil || acc.Role == list.RoleOwner {
		return list.Access{}, task.ErrNotFound
	}
	if r.locking(ctx) {
		// Under the owner's scope lock now (Access): a move that committed
		// while it was awaited may have taken the task to a list the
		// caller's role there does not cover. Moves take that lock, so
		// what is read now holds until the caller's write commits.
		var now []int64
		if err := x.idb().NewRaw("SELECT t.list_id FROM tasks AS t WHERE t.id = ? AND t.user_id = ? AND t.list_id IS NOT NULL",
			int64(id), string(acc.Owner)).Scan(ctx, &now); err != nil {
			return list.Access{}, fmt.Errorf("read task's list: %w", err)
		}
		if len(now) == 0 || now[0] != listID {
			return list.Access{}, task.ErrNotFound
		}
	}
	return acc, nil
}

// Owners reads the owners of the tasks ids and of the lists lists that
// caller reaches as a member (the predicates above, for reading), in one
// statement that locks nothing, and none when there is nothing to read or
// when the repository's Sharers (RecordSharers) say that caller is
// nobody's member: a caller who is no member reaches no task or list of
// another's, which is all this statement could find. The batches of
// everyone else (nearly every caller) then take their up-front locks
// (application's lockOwners) without a round trip, as their reads skip
// the membership subquery (ShareHint). The owners found order locks only:
// every write decides access in its own statements, under the owner's
// lock. The statement reads without locking, so a membership committed
// after it leaves the batch without that owner's lock up front; the
// Sharers widen that window only on PostgreSQL with several instances,
// by the time another instance's membership takes to be heard of
// (Sharers: this process adds a user before it writes their row). In
// both cases such a batch takes the owner's lock in its commands' order,
// at worst a deadlock PostgreSQL breaks and the unit runs again (TxAttempts).
func (r *MemberRepository) Owners(ctx context.Context, caller auth.UserID, ids []task.ID, lists []list.ID) (task.Owned, error) {
	out := task.Owned{Tasks: map[task.ID]auth.UserID{}, Lists: map[list.ID]auth.UserID{}}
	if len(ids) == 0 && len(lists) == 0 {
		return out, nil
	}
	if r.sharers != nil {
		if may, err := r.sharers.MayRead(ctx, caller); err != nil || !may {
			return out, err
		}
	}
	x := r.on(ctx)
	s := x.sql()
	if len(ids) > 0 {
		s = in(s.add("SELECT false AS is_list, t.id, t.user_id FROM tasks AS t WHERE t.user_id <> ? AND t.id IN ", string(caller)), rawIDs(task.UniqueIDs(ids)))
		s = reachable(s.add(" AND "), "t", caller, list.ActRead)
	}
	if len(lists) > 0 {
		if len(ids) > 0 {
			s.add(" UNION ALL ")
		}
		s = in(s.add("SELECT true AS is_list, l.id, l.user_id FROM lists AS l WHERE l.user_id <> ? AND l.id IN ", string(caller)), rawIDs(slices.Compact(slices.Sorted(slices.Values(lists)))))
		s = memberLists(s.add(" AND l.id IN ("), caller, list.ActRead).add(")")
	}
	var rows []struct {
		IsList bool   `bun:"is_list"`
		ID     int64  `bun:"id"`
		UserID string `bun:"user_id"`
	}
	if err := x.idb().NewRaw(s.String(), s.args...).Scan(ctx, &rows); err != nil {
		return task.Owned{}, fmt.Errorf("read owners: %w", err)
	}
	for _, row := range rows {
		if row.IsList {
			out.Lists[list.ID(row.ID)] = auth.UserID(row.UserID)
		} else {
			out.Tasks[task.ID(row.ID)] = auth.UserID(row.UserID)
		}
	}
	return out, nil
}

var _ task.Sharing = (*MemberRepository)(nil)
