package application

import (
	"context"
	"errors"
	"time"

	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The use cases of lists, subtasks and manual order (issue 15).

// ErrNoLists means the service was built without WithLists: a wiring
// mistake, not a client's.
var ErrNoLists = errors.New("application: no list repository (WithLists)")

func (s *Service) listRepo() (list.Repository, error) {
	if s.lists == nil {
		return nil, ErrNoLists
	}
	return s.lists, nil
}

// CreateList adds a list at the bottom of the actor's lists.
// list.ErrNameTaken when one of their lists has the name, ignoring case.
func (s *Service) CreateList(ctx context.Context, a Actor, name string, color *string) (list.Summary, error) {
	lists, err := s.listRepo()
	if err != nil {
		return list.Summary{}, err
	}
	l, err := list.New(a.owner, name, color, s.now())
	if err != nil {
		return list.Summary{}, err
	}
	return lists.Add(ctx, l)
}

// GetList returns one of the actor's lists, or a list shared with them,
// with its counts, at the actor's place for it, and their role there.
func (s *Service) GetList(ctx context.Context, a Actor, id list.ID) (list.Shared, error) {
	lists, err := s.listRepo()
	if err != nil {
		return list.Shared{}, err
	}
	out, err := lists.Get(ctx, a.owner, id)
	if !errors.Is(err, list.ErrNotFound) || s.members == nil {
		return list.Shared{Summary: out, Role: list.RoleOwner}, err
	}
	if _, err := allowed(ctx, s.members, a.owner, id, list.ActRead); err != nil {
		return list.Shared{}, err
	}
	return s.members.SharedList(ctx, a.owner, id)
}

// Sidebar returns the actor's lists (each with role owner) and the lists
// shared with them (each with their role) in the actor's order: one key
// space per user, their own lists by the list's key and the shared ones by
// their membership's key (list.Anchor), then by id. GET /lists.
func (s *Service) Sidebar(ctx context.Context, a Actor) ([]list.Shared, error) {
	own, err := s.ListLists(ctx, a)
	if err != nil {
		return nil, err
	}
	out := make([]list.Shared, len(own), len(own)+4)
	for i, l := range own {
		out[i] = list.Shared{Summary: l, Role: list.RoleOwner}
	}
	if s.members == nil {
		return out, nil
	}
	shared, err := s.members.SharedWith(ctx, a.owner)
	if err != nil || len(shared) == 0 {
		return out, err
	}
	// Both are in order already: merge them.
	merged := make([]list.Shared, 0, len(out)+len(shared))
	i, j := 0, 0
	for i < len(out) || j < len(shared) {
		if j == len(shared) || i < len(out) && sidebarBefore(out[i].List, shared[j].List) {
			merged = append(merged, out[i])
			i++
		} else {
			merged = append(merged, shared[j])
			j++
		}
	}
	return merged, nil
}

// sidebarBefore reports whether a comes before b in a sidebar: by key, then
// by id.
func sidebarBefore(a, b *list.List) bool {
	if pa, pb := a.Position(), b.Position(); pa != pb {
		return pa < pb
	}
	return a.ID() < b.ID()
}

// ListLists returns the actor's lists in their order, with their counts:
// the sidebar.
func (s *Service) ListLists(ctx context.Context, a Actor) ([]list.Summary, error) {
	lists, err := s.listRepo()
	if err != nil {
		return nil, err
	}
	return lists.List(ctx, a.owner)
}

// ListPatch is a partial change of a list (a JSON Merge Patch).
type ListPatch struct {
	Name *string // nil: unchanged
	// SetColor says whether the color changes: to Color, nil clearing it.
	SetColor bool
	Color    *string
}

// EditList applies p. An empty patch changes nothing and returns the list;
// with expect other than list.AnyVersion a list at another version is a
// *list.ConflictError carrying it.
func (s *Service) EditList(ctx context.Context, a Actor, id list.ID, expect list.Version, p ListPatch) (list.Summary, error) {
	lists, err := s.listRepo()
	if err != nil {
		return list.Summary{}, err
	}
	if p.Name == nil && !p.SetColor {
		cur, err := s.GetList(ctx, a, id)
		if err != nil {
			return list.Summary{}, err
		}
		return cur.Summary, list.Conflict(cur.Summary, expect)
	}
	owner := a.owner
	if s.members != nil {
		// An admin of a shared list renames and recolors it too.
		if _, err := lists.Get(ctx, a.owner, id); errors.Is(err, list.ErrNotFound) {
			acc, err := allowed(ctx, s.members, a.owner, id, list.ActManageList)
			if err != nil {
				return list.Summary{}, err
			}
			owner = acc.Owner
		}
	}
	out, err := lists.Update(ctx, a.owner, owner, id, expect, func(l *list.List) error {
		name, color := l.Name(), l.Color()
		if p.Name != nil {
			name = *p.Name
		}
		if p.SetColor {
			color = p.Color
		}
		return l.Edit(name, color, s.now())
	})
	if owner == a.owner {
		return out, err
	}
	// The list as the admin sees it: at their own place.
	if ce, ok := errors.AsType[*list.ConflictError](err); ok {
		ce.Current = s.placedFor(ctx, a, ce.Current)
		return out, ce
	}
	if err != nil {
		return out, err
	}
	return s.placedFor(ctx, a, out), nil
}

// placedFor is sum, a list shared with the actor, at the actor's place for
// it (as it is now); sum as it is when that cannot be read.
func (s *Service) placedFor(ctx context.Context, a Actor, sum list.Summary) list.Summary {
	sh, err := s.members.SharedList(ctx, a.owner, sum.List.ID())
	if err != nil {
		return sum
	}
	sum.List = sum.List.WithPosition(sh.List.Position())
	return sum
}

// MoveList places a list in the actor's sidebar right after or before
// another list there (their own or one shared with them), or at the top
// (an anchor naming neither), and returns it as the actor sees it. The
// sidebar's order is personal: the owner's move gives the list a new key
// (one version up); a member's, whatever their role (list.ActRead), gives
// their membership one and changes nothing anybody else sees, the list's
// version included, so that nobody's If-Match fails for it.
func (s *Service) MoveList(ctx context.Context, a Actor, id list.ID, expect list.Version, to list.Anchor) (list.Shared, error) {
	lists, err := s.listRepo()
	if err != nil {
		return list.Shared{}, err
	}
	if s.members != nil {
		if _, err := lists.Get(ctx, a.owner, id); errors.Is(err, list.ErrNotFound) {
			if err := to.Check(); err != nil {
				return list.Shared{}, err
			}
			if _, err := allowed(ctx, s.members, a.owner, id, list.ActRead); err != nil {
				return list.Shared{}, err
			}
			return s.members.Place(ctx, a.owner, id, expect, to)
		}
	}
	out, err := lists.Move(ctx, a.owner, id, expect, to, s.now())
	return list.Shared{Summary: out, Role: list.RoleOwner}, err
}

// DeleteList moves one of the actor's lists to the trash with its tasks, in
// one step.
func (s *Service) DeleteList(ctx context.Context, a Actor, id list.ID, expect list.Version) error {
	lists, err := s.listRepo()
	if err != nil {
		return err
	}
	return lists.Trash(ctx, a.owner, id, expect, s.now())
}

// DeleteListForGood removes one of the actor's lists and all its tasks,
// live or in the trash, with no way back.
func (s *Service) DeleteListForGood(ctx context.Context, a Actor, id list.ID, expect list.Version) error {
	lists, err := s.listRepo()
	if err != nil {
		return err
	}
	return lists.Delete(ctx, a.owner, id, expect)
}

// RestoreList brings a list back from the trash with the tasks that went
// with it (not those trashed on their own before). list.ErrNameTaken when
// another list took its name meanwhile. A live list is returned as it is.
func (s *Service) RestoreList(ctx context.Context, a Actor, id list.ID) (list.Summary, error) {
	lists, err := s.listRepo()
	if err != nil {
		return list.Summary{}, err
	}
	return lists.Restore(ctx, a.owner, id)
}

// ListTrashedLists returns the actor's trashed lists, the latest deletion
// first.
func (s *Service) ListTrashedLists(ctx context.Context, a Actor) ([]list.Trashed, error) {
	lists, err := s.listRepo()
	if err != nil {
		return nil, err
	}
	return lists.ListTrash(ctx, a.owner)
}

// Home is where a new task goes. Each member is absent (nil) or given:
// List a list or the inbox (list.Inbox), Parent a task or the top level
// (task.TopLevel).
type Home struct {
	List   *list.ID
	Parent *task.ID
}

// CreateTaskAt adds a task for the actor at the bottom of home: in a list
// (list.ErrNotFound when it is not one of the actor's lists) and under a
// parent (task.ErrNotFound when it is not one of the actor's tasks). A
// subtask goes to its parent's list; a List that names another one is a
// ValidationError, as is a parent at the deepest level.
func (s *Service) CreateTaskAt(ctx context.Context, a Actor, home Home, title string, description *string, opts ...task.Option) (*task.Task, error) {
	t, err := s.newTaskAt(ctx, a, home, title, description, s.now(), opts)
	if err != nil {
		return nil, err
	}
	if t.Assignee() == nil {
		return s.tasks.Add(ctx, t)
	}
	// The check and the write in one unit: the assignee read as a member
	// stays one until the task is stored (see assignee.go).
	var out *task.Task
	err = s.inUnit(ctx, func(ctx context.Context) error {
		if err := s.checkNewAssignee(ctx, a, t); err != nil {
			return err
		}
		out, err = s.tasks.Add(ctx, t)
		return err
	})
	return out, err
}

// checkNewAssignee checks the assignee of a new task t of the actor's (see
// CheckAssignee): the owner of the task's list, who owns it once stored,
// or a member of that list.
func (s *Service) checkNewAssignee(ctx context.Context, a Actor, t *task.Task) error {
	who := t.Assignee()
	if who == nil {
		return nil
	}
	owner := t.Owner()
	if l := t.ListID(); l != nil && s.members != nil {
		acc, err := s.members.Access(ctx, a.owner, *l)
		if err != nil {
			// A list the actor cannot reach is the store's to refuse
			// (404): checking the assignee against it would tell whether
			// it exists and who is in it.
			return nil
		}
		owner = acc.Owner
	}
	return s.CheckAssignee(ctx, owner, t.ListID(), *who)
}

// newTaskAt makes the task CreateTaskAt stores, created at now: the
// parent's list when home names a parent and no list (the store checks it
// again as it inserts). The zero Home reads nothing.
func (s *Service) newTaskAt(ctx context.Context, a Actor, home Home, title string, description *string, now time.Time, opts []task.Option) (*task.Task, error) {
	if home.List != nil && *home.List < 0 {
		return nil, check.Invalid("list_id", "must be a positive integer", "greater_than")
	}
	if home.Parent != nil && *home.Parent < 0 {
		return nil, check.Invalid("parent_id", "must be a positive integer", "greater_than")
	}
	inList := home.List
	if inList != nil && *inList == list.Inbox {
		inList = nil
	}
	var under *task.ID
	if home.Parent != nil && *home.Parent != task.TopLevel {
		under = home.Parent
		if home.List == nil {
			p, err := s.tasks.Get(ctx, a.owner, *home.Parent)
			if err != nil {
				return nil, err
			}
			inList = p.ListID()
		}
	}
	return task.New(a.owner, title, description, now, append(opts[:len(opts):len(opts)], task.InList(inList), task.Under(under))...)
}

// MoveTask places one of the actor's tasks where to says (see
// task.Placement: an absent list or parent keeps it, no anchor is the top
// of the scope) and returns it. Its subtasks follow it to another list.
// With expect other than task.AnyVersion, a task at another version is
// not moved and the error is a *task.ConflictError.
func (s *Service) MoveTask(ctx context.Context, a Actor, id task.ID, expect task.Version, to task.Placement) (*task.Task, error) {
	ts, err := s.move(ctx, a, task.Move{IDs: []task.ID{id}, To: to, Expect: expect, At: s.now()})
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// MoveTasks places 1 to task.MaxBatch of the actor's tasks together where
// to says, in the order of ids (a multi-select drag), all or none, and
// returns them in that order.
func (s *Service) MoveTasks(ctx context.Context, a Actor, ids []task.ID, to task.Placement) ([]*task.Task, error) {
	if err := batchSize("ids", len(ids)); err != nil {
		return nil, err
	}
	return s.move(ctx, a, task.Move{IDs: ids, To: to, At: s.now()})
}

func ptr[T any](v T) *T { return &v }
