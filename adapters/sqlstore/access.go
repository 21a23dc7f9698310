package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The access rule of shared lists in SQL (issue 19), once: a caller reaches
// a task when they own it (alias.user_id) or when its list has a membership
// of theirs whose role allows the action (list.RolesAllowing, derived from
// list.Role.Allows). Every statement that lets a member reach tasks that
// are not theirs builds its condition here.

// memberLists appends the lists where caller's role allows act:
// "SELECT m.list_id FROM list_members AS m WHERE m.user_id = ? AND m.role IN (...)".
func memberLists(s *sqlText, caller auth.UserID, act list.Action) *sqlText {
	var roles []string
	for _, r := range list.RolesAllowing(act) {
		if r != list.RoleOwner { // the owner has no membership row
			roles = append(roles, string(r))
		}
	}
	s.add("SELECT m.list_id FROM list_members AS m WHERE m.user_id = ?", string(caller))
	if len(roles) == 0 {
		return s.add(" AND 1 = 0")
	}
	return in(s.add(" AND m.role IN "), roles)
}

// reachable appends the predicate on a task row alias: caller owns it, or
// it is in a list where caller's role allows act.
func reachable(s *sqlText, alias string, caller auth.UserID, act list.Action) *sqlText {
	s.add("("+alias+".user_id = ? OR "+alias+".list_id IN (", string(caller))
	return memberLists(s, caller, act).add("))")
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

// Owners reads the owners of the tasks ids that caller reaches as a
// member (the predicate above, for reading), in one statement that locks
// nothing.
func (r *MemberRepository) Owners(ctx context.Context, caller auth.UserID, ids []task.ID) (map[task.ID]auth.UserID, error) {
	out := map[task.ID]auth.UserID{}
	if len(ids) == 0 {
		return out, nil
	}
	x := r.on(ctx)
	s := in(x.sql().add("SELECT t.id, t.user_id FROM tasks AS t WHERE t.user_id <> ? AND t.id IN ", string(caller)), rawIDs(task.UniqueIDs(ids)))
	s = reachable(s.add(" AND "), "t", caller, list.ActRead)
	var rows []struct {
		ID     int64  `bun:"id"`
		UserID string `bun:"user_id"`
	}
	if err := x.idb().NewRaw(s.String(), s.args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read tasks' owners: %w", err)
	}
	for _, row := range rows {
		out[task.ID(row.ID)] = auth.UserID(row.UserID)
	}
	return out, nil
}

var _ task.Sharing = (*MemberRepository)(nil)
