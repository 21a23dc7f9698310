package application

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// Memberships is what shared lists need of a store: the lists' members and
// who reaches which task through them.
type Memberships interface {
	list.Members
	task.Sharing
}

// sharedTasks is the task repository the use cases see when the service
// has members (WithMembers): the store's, where a call that finds nothing of
// the caller's own tries the tasks of the lists the caller is a member of.
// It is the application's one place for the access rule of shared tasks:
// the store answers who the task's owner is and the caller's role on its
// list (task.Sharing, list.Members: one SQL predicate, adapters/sqlstore
// access.go; one function in memory, roleOn), the role decides with
// list.Role.Allows, and the call goes on in the owner's rows, in one
// transaction with the read of the role (which takes the owner's scope
// lock, then the membership, on PostgreSQL: a removal, queued for the same
// scope lock, waits for the write, or the write sees the removal). A caller whose role does not allow the call gets
// task.ErrNotFound, exactly as for a task that does not exist.
//
// The owner's calls go straight to the store, unchanged; only a write that
// fails with not found costs the lookups of the shared path. Reads (Get,
// Revisions, List, Stats) are the store's own: it answers for a caller
// with the tasks they read, their own and those of the lists where their
// role reads, in one statement (task.Repository).
type sharedTasks struct {
	task.Repository
	m  Memberships
	tx Transactor // nil: no transaction around the shared path
}

// errOtherOwner is a move across lists of different owners.
var errOtherOwner = check.Invalid("list_id", "the task belongs to another owner's list: move it within lists of one owner", "value_error")

func (r *sharedTasks) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if r.tx == nil {
		return fn(ctx)
	}
	return r.tx.InTx(ctx, fn)
}

// reach is caller's access to task id through its shared list, when that
// allows act; task.ErrNotFound otherwise.
func (r *sharedTasks) reach(ctx context.Context, caller auth.UserID, id task.ID, act list.Action) (list.Access, error) {
	acc, err := r.m.Reach(ctx, caller, id)
	if err != nil {
		return list.Access{}, err
	}
	if !acc.Allows(act) {
		return list.Access{}, task.ErrNotFound
	}
	return acc, nil
}

// reachNamed refuses, with task.ErrNotFound, the tasks other than those
// it writes that a member's write names (a parent, an anchor: nil is
// none) when the caller does not reach them with act. The write runs in
// the owner's rows, which hold the owner's tasks of lists the caller is no
// member of: the store would put a task under one of those, into a list
// the caller cannot see, or refuse it with a 422 naming where it is.
func (r *sharedTasks) reachNamed(ctx context.Context, caller auth.UserID, act list.Action, ids ...*task.ID) error {
	for _, id := range ids {
		if id == nil {
			continue
		}
		if _, err := r.reach(ctx, caller, *id, act); err != nil {
			return err
		}
	}
	return nil
}

// guard makes fn fail with task.ErrNotFound when the change it makes needs
// more than role allows (task.Needs).
func guard(role list.Role, fn func(*task.Task) error) func(*task.Task) error {
	return func(t *task.Task) error {
		before := t.WithID(t.ID())
		if err := fn(t); err != nil {
			return err
		}
		if !role.Allows(task.Needs(before, t)) {
			return task.ErrNotFound
		}
		return nil
	}
}

// shareList is caller's access to list l for act when l is another
// owner's shared list; ok false when l is the caller's or not reachable.
func (r *sharedTasks) shareList(ctx context.Context, caller auth.UserID, l list.ID, act list.Action) (list.Access, error) {
	acc, err := r.m.Access(ctx, caller, l)
	if err != nil {
		return list.Access{}, err
	}
	if !acc.Allows(act) {
		return list.Access{}, list.ErrNotFound
	}
	return acc, nil
}

// Add stores t; a task of a list the owner does not own goes, when the
// creator may edit that list, to the list owner's rows, created by them.
func (r *sharedTasks) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	out, err := r.Repository.Add(ctx, t)
	// A list or a parent (in a list) not the owner's may be a shared one.
	if t.ListID() == nil || !errors.Is(err, list.ErrNotFound) && !errors.Is(err, task.ErrNotFound) {
		return out, err
	}
	first := err
	err = r.inTx(ctx, func(ctx context.Context) error {
		acc, err := r.shareList(ctx, t.Owner(), *t.ListID(), list.ActEdit)
		switch {
		case errors.Is(err, list.ErrNotFound), err == nil && acc.Owner == t.Owner():
			return first
		case err != nil:
			// A deadlock, a lost connection: not a list that is not
			// there (a 404 would hide it, and nobody would retry).
			return err
		}
		if err := r.reachNamed(ctx, t.Owner(), list.ActRead, t.ParentID()); err != nil {
			return err
		}
		out, err = r.Repository.Add(ctx, t.WithOwner(acc.Owner))
		return err
	})
	return out, err
}

// AddAll stores ts; those of shared lists as Add does, the caller's own
// together.
func (r *sharedTasks) AddAll(ctx context.Context, ts []*task.Task) ([]*task.Task, error) {
	out, err := r.Repository.AddAll(ctx, ts)
	if !errors.Is(err, list.ErrNotFound) {
		return out, err
	}
	err = r.inTx(ctx, func(ctx context.Context) error {
		out = make([]*task.Task, len(ts))
		for i, t := range ts {
			added, err := r.Add(ctx, t)
			if err != nil {
				return err
			}
			out[i] = added
		}
		return nil
	})
	return out, err
}

// Revisions is the history of a task the caller reads (the store's one
// statement decides that); a member's starts where the task came to the
// shared list (sinceArrival): before, it was in a list of its owner's the
// member may not see. Telling the member from the owner costs one more
// statement, on this route only.
func (r *sharedTasks) Revisions(ctx context.Context, caller auth.UserID, id task.ID, since task.Version) ([]task.Revision, error) {
	out, err := r.Repository.Revisions(ctx, caller, id, since)
	if err != nil || len(out) == 0 {
		return out, err
	}
	switch _, err := r.m.Reach(ctx, caller, id); {
	case err == nil: // a member's
		return sinceArrival(out), nil
	case errors.Is(err, task.ErrNotFound): // the caller's own
		return out, nil
	default:
		return nil, err
	}
}

// Update changes the caller's task, or one of a shared list when the
// caller's role allows the change fn makes (task.Needs).
func (r *sharedTasks) Update(ctx context.Context, caller auth.UserID, id task.ID, expect task.Version, fn func(*task.Task) error) (*task.Task, error) {
	ctx = task.WithActor(ctx, task.Actor(ctx, caller)) // the history names the caller (or whoever the application named), not the owner
	out, err := r.Repository.Update(ctx, caller, id, expect, fn)
	if !errors.Is(err, task.ErrNotFound) {
		return out, err
	}
	err = r.inTx(ctx, func(ctx context.Context) error {
		acc, err := r.reach(ctx, caller, id, list.ActComplete)
		if err != nil {
			return err
		}
		if expect != task.AnyVersion && !acc.Allows(list.ActEdit) {
			// The store checks the version before fn: a change the role
			// refuses would be a 412 at a stale version, not the 404 of
			// every refusal. Try fn on the task as it is first.
			cur, err := r.Repository.Get(ctx, acc.Owner, id)
			if err != nil {
				return err
			}
			if err := guard(acc.Role, fn)(cur); errors.Is(err, task.ErrNotFound) {
				return err
			}
		}
		out, err = r.Repository.Update(ctx, acc.Owner, id, expect, guard(acc.Role, fn))
		return err
	})
	return out, err
}

// lockOwners takes, in ctx's transaction, the scope locks of every owner
// of tasks ids (the caller's when some are theirs, and the owners of those
// the caller reaches as a member: Sharing.Owners, which locks nothing), in
// the owners' id order. A call that writes several owners' tasks then
// never holds one owner's lock while it waits for another's out of that
// order: Reach and the store's writes take them again (they are
// re-entrant). Without it, two users each writing a task of their own and
// one of the other's shared list at once deadlocked (TestCrossOwnerBatches).
//
// lists are the lists the call writes into besides the tasks' own (an
// offline batch's creates and moves into another owner's shared list, its
// changes of such a list): their owners' locks, and the caller's, are
// taken with the others, up front. ids may hold tasks the call only names
// (a parent, an anchor): their owners' locks are taken the same way. The
// owners of the tasks and of the lists are read in one statement
// (Sharing.Owners), none for a caller the store knows to be nobody's
// member. Without them a batch that wrote the caller's own task first and
// then created one in another owner's shared list took the two locks in
// the batch's order, and two such batches deadlocked
// (TestCrossOwnerCommandBatches). A list the caller does not reach adds
// nothing: the write into it answers not found.
func (r *sharedTasks) lockOwners(ctx context.Context, caller auth.UserID, ids []task.ID, lists ...list.ID) error {
	ids = task.UniqueIDs(ids)
	owned, err := r.m.Owners(ctx, caller, ids, lists)
	if err != nil {
		return err
	}
	set := map[auth.UserID]bool{}
	for _, o := range owned.Tasks {
		set[o] = true
	}
	if len(owned.Tasks) < len(ids) {
		set[caller] = true
	}
	for _, o := range owned.Lists {
		set[o] = true
		set[caller] = true
	}
	if len(set) < 2 {
		return nil // one owner: Reach takes that lock first anyway
	}
	for _, o := range slices.Sorted(maps.Keys(set)) {
		if err := r.Repository.Lock(ctx, o, nil); err != nil {
			return err
		}
	}
	return nil
}

// Lock takes the locks that writing tasks ids takes (task.Repository.Lock),
// in their owners' rows: the caller's own as the store does, and each task
// of a shared list the caller reaches after the owner's scope lock and the
// caller's membership (Reach), the order of every member's write. Without
// it a member's merge (MergeTask) or batch of commands locked nothing of
// what it then wrote: a merge could meet a write between its read and its
// own, and two batches could write the same tasks in opposite orders. An
// id the caller does not reach is locked as theirs, that is not at all:
// the write that follows answers not found.
func (r *sharedTasks) Lock(ctx context.Context, caller auth.UserID, ids []task.ID) error {
	return r.LockInto(ctx, caller, Locks{Tasks: ids})
}

// LockInto is Lock (of l.Tasks) for a unit that also writes into lists
// (creates or moves tasks into them, changes them: l.Lists) or under and
// beside tasks it does not write (l.Named): the scope locks of those
// lists' and tasks' owners come up front with the written tasks' owners',
// in the owners' id order (lockOwners). Only l.Tasks' rows are locked.
func (r *sharedTasks) LockInto(ctx context.Context, caller auth.UserID, l Locks) error {
	ids := l.Tasks
	if err := r.lockOwners(ctx, caller, append(slices.Clip(ids), l.Named...), l.Lists...); err != nil {
		return err
	}
	groups := map[auth.UserID][]task.ID{}
	for _, id := range task.UniqueIDs(ids) {
		owner := caller
		switch acc, err := r.access(ctx, caller, id); {
		case err == nil:
			owner = acc.Owner
		case !errors.Is(err, task.ErrNotFound):
			return err
		}
		groups[owner] = append(groups[owner], id)
	}
	for _, owner := range slices.Sorted(maps.Keys(groups)) {
		if err := r.Repository.Lock(ctx, owner, groups[owner]); err != nil {
			return err
		}
	}
	return nil
}

// access is caller's access to task id: their own task (list.RoleOwner),
// or one of a shared list they are a member of (Reach, which locks the
// membership); task.ErrNotFound when neither.
func (r *sharedTasks) access(ctx context.Context, caller auth.UserID, id task.ID) (list.Access, error) {
	// Get reads shared tasks too (task.Repository): the caller's own are
	// those they own.
	t, err := r.Repository.Get(ctx, caller, id)
	switch {
	case err == nil && t.Owner() == caller:
		return list.Access{Owner: caller, Role: list.RoleOwner}, nil
	case err != nil && !errors.Is(err, task.ErrNotFound):
		return list.Access{}, err
	}
	return r.m.Reach(ctx, caller, id)
}

// byOwner splits ids into the caller's and, per owner, those of shared
// lists the caller reaches with act (with the caller's role on each one's
// list); task.ErrNotFound when one is neither.
func (r *sharedTasks) byOwner(ctx context.Context, caller auth.UserID, ids []task.ID, act list.Action) (map[auth.UserID][]task.ID, map[task.ID]list.Role, error) {
	groups := map[auth.UserID][]task.ID{}
	roles := map[task.ID]list.Role{}
	for _, id := range task.UniqueIDs(ids) {
		acc, err := r.access(ctx, caller, id)
		if err != nil {
			return nil, nil, err
		}
		if !acc.Allows(act) {
			return nil, nil, task.ErrNotFound
		}
		groups[acc.Owner] = append(groups[acc.Owner], id)
		roles[id] = acc.Role
	}
	return groups, roles, nil
}

// eachOwner takes every owner's scope lock in owner order (lockOwners),
// splits ids by owner (byOwner, with act) and runs fn on each owner's
// group, in that order, with the caller's role on each task.
func (r *sharedTasks) eachOwner(ctx context.Context, caller auth.UserID, ids []task.ID, act list.Action,
	fn func(owner auth.UserID, group []task.ID, roles map[task.ID]list.Role) error) error {
	if err := r.lockOwners(ctx, caller, ids); err != nil {
		return err
	}
	groups, roles, err := r.byOwner(ctx, caller, ids, act)
	if err != nil {
		return err
	}
	for _, owner := range slices.Sorted(maps.Keys(groups)) {
		if err := fn(owner, groups[owner], roles); err != nil {
			return err
		}
	}
	return nil
}

// UpdateAll changes the caller's tasks and those of shared lists, all or
// none, each group in its owner's rows, each task as its list's role
// allows.
func (r *sharedTasks) UpdateAll(ctx context.Context, caller auth.UserID, ids []task.ID, fn func(*task.Task) error) ([]*task.Task, error) {
	ctx = task.WithActor(ctx, task.Actor(ctx, caller)) // the history names the caller (or whoever the application named), not the owner
	out, err := r.Repository.UpdateAll(ctx, caller, ids, fn)
	if !errors.Is(err, task.ErrNotFound) {
		return out, err
	}
	err = r.inTx(ctx, func(ctx context.Context) error {
		got := map[task.ID]*task.Task{}
		err := r.eachOwner(ctx, caller, ids, list.ActComplete, func(owner auth.UserID, group []task.ID, roles map[task.ID]list.Role) error {
			f := func(t *task.Task) error { return guard(roles[t.ID()], fn)(t) }
			ts, err := r.Repository.UpdateAll(ctx, owner, group, f)
			for _, t := range ts {
				got[t.ID()] = t
			}
			return err
		})
		if err != nil {
			return err
		}
		out = nil
		for _, id := range task.UniqueIDs(ids) {
			out = append(out, got[id])
		}
		return nil
	})
	return out, err
}

// Trash trashes the caller's task, or one of a list they may edit.
func (r *sharedTasks) Trash(ctx context.Context, caller auth.UserID, id task.ID, expect task.Version, at time.Time) error {
	ctx = task.WithActor(ctx, task.Actor(ctx, caller)) // the history names the caller (or whoever the application named), not the owner
	err := r.Repository.Trash(ctx, caller, id, expect, at)
	if !errors.Is(err, task.ErrNotFound) {
		return err
	}
	return r.inTx(ctx, func(ctx context.Context) error {
		acc, err := r.reach(ctx, caller, id, list.ActEdit)
		if err != nil {
			return err
		}
		return r.Repository.Trash(ctx, acc.Owner, id, expect, at)
	})
}

// TrashAll trashes the caller's tasks and those of lists they may edit,
// all or none.
func (r *sharedTasks) TrashAll(ctx context.Context, caller auth.UserID, ids []task.ID, at time.Time) (int, error) {
	ctx = task.WithActor(ctx, task.Actor(ctx, caller)) // the history names the caller (or whoever the application named), not the owner
	n, err := r.Repository.TrashAll(ctx, caller, ids, at)
	if !errors.Is(err, task.ErrNotFound) {
		return n, err
	}
	err = r.inTx(ctx, func(ctx context.Context) error {
		n = 0
		return r.eachOwner(ctx, caller, ids, list.ActEdit, func(owner auth.UserID, group []task.ID, _ map[task.ID]list.Role) error {
			k, err := r.Repository.TrashAll(ctx, owner, group, at)
			n += k
			return err
		})
	})
	return n, err
}

// RestoreFromTrash restores the caller's task, or one of a list they may
// edit.
func (r *sharedTasks) RestoreFromTrash(ctx context.Context, caller auth.UserID, id task.ID) (*task.Task, error) {
	ctx = task.WithActor(ctx, task.Actor(ctx, caller)) // the history names the caller (or whoever the application named), not the owner
	out, err := r.Repository.RestoreFromTrash(ctx, caller, id)
	if !errors.Is(err, task.ErrNotFound) {
		return out, err
	}
	err = r.inTx(ctx, func(ctx context.Context) error {
		acc, err := r.reach(ctx, caller, id, list.ActEdit)
		if err != nil {
			return err
		}
		out, err = r.Repository.RestoreFromTrash(ctx, acc.Owner, id)
		return err
	})
	return out, err
}

// Delete deletes the caller's task, or one of a list they may edit, for
// good.
func (r *sharedTasks) Delete(ctx context.Context, caller auth.UserID, id task.ID, expect task.Version) error {
	ctx = task.WithActor(ctx, task.Actor(ctx, caller)) // the history names the caller (or whoever the application named), not the owner
	err := r.Repository.Delete(ctx, caller, id, expect)
	if !errors.Is(err, task.ErrNotFound) {
		return err
	}
	return r.inTx(ctx, func(ctx context.Context) error {
		acc, err := r.reach(ctx, caller, id, list.ActEdit)
		if err != nil {
			return err
		}
		return r.Repository.Delete(ctx, acc.Owner, id, expect)
	})
}

// Move moves the caller's tasks, or tasks of lists they may edit, within
// the lists of one owner: every task, and the target list, must be one
// owner's (errOtherOwner otherwise), and a member moves only into lists
// they may edit.
func (r *sharedTasks) Move(ctx context.Context, caller auth.UserID, m task.Move) ([]*task.Task, error) {
	ctx = task.WithActor(ctx, task.Actor(ctx, caller)) // the history names the caller (or whoever the application named), not the owner
	out, err := r.Repository.Move(ctx, caller, m)
	if !errors.Is(err, task.ErrNotFound) && !errors.Is(err, list.ErrNotFound) {
		return out, err
	}
	first := err
	err = r.inTx(ctx, func(ctx context.Context) error {
		groups, roles, err := r.byOwner(ctx, caller, m.IDs, list.ActEdit)
		if err != nil {
			return err
		}
		if len(groups) > 1 {
			return errOtherOwner
		}
		var owner auth.UserID
		for o := range groups {
			owner = o
		}
		target := owner
		if l := m.To.List; l != nil {
			target = caller // the inbox is the caller's own
			if *l != list.Inbox {
				acc, err := r.shareList(ctx, caller, *l, list.ActEdit)
				if err != nil {
					return err
				}
				target = acc.Owner
			}
		}
		if target != owner {
			return errOtherOwner
		}
		if owner == caller {
			return first // the caller's own move, refused as it was
		}
		// The new parent decides the list the tasks go to when m names none.
		if err := r.reachNamed(ctx, caller, list.ActEdit, m.To.NewParent()); err != nil {
			return err
		}
		if err := r.reachNamed(ctx, caller, list.ActRead, m.To.Anchor()); err != nil {
			return err
		}
		if edit := m.Edit; edit != nil {
			m.Edit = func(t *task.Task) error { return guard(roles[t.ID()], edit)(t) }
		}
		out, err = r.Repository.Move(ctx, owner, m)
		return err
	})
	return out, err
}
