// Package application holds the use cases of the todo service. Each one checks
// who is asking, loads through a port, calls the domain, and saves.
package application

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// Clock tells the time; tests pass a fixed one.
type Clock func() time.Time

// Service runs the use cases against the ports it is given.
type Service struct {
	tasks task.Repository
	users user.Repository
	lists list.Repository
	// members are the shared lists' memberships (WithMembers).
	members Memberships
	tx      Transactor // nil: InTx is ErrNoTransactor
	// occurrences is the history of repeating tasks (WithOccurrences).
	occurrences task.OccurrenceLog
	now         Clock
	formats     Formats // WithFormats: export and import
	seen        *seenUsers
	changes     ChangeLog         // nil: the feed use cases are ErrNoChanges
	feeds       CalendarFeedStore // nil: the calendar feed use cases are ErrNoCalendarFeeds
}

// Option adds a port New does not require.
type Option func(*Service)

// WithLists gives the service its lists, which the list use cases need
// (ErrNoLists without). It is an option so that a service of tasks alone
// (most tests) is built as before.
func WithLists(l list.Repository) Option { return func(s *Service) { s.lists = l } }

// New returns a Service. A nil clock means time.Now.
func New(tasks task.Repository, users user.Repository, now Clock, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{tasks: tasks, users: users, now: now, seen: newSeenUsers(10000)}
	for _, o := range opts {
		o(s)
	}
	if s.members != nil {
		s.tasks = &sharedTasks{Repository: s.tasks, m: s.members, tx: s.tx}
	}
	return s
}

// Actor is a caller who was authenticated and allowed to act on one user's
// tasks. Only Authorize makes one, so no use case can run unchecked.
type Actor struct {
	owner auth.UserID
}

// Owner returns the user whose tasks the actor works on.
func (a Actor) Owner() auth.UserID { return a.owner }

// Authorize admits the bearer of a verified identity to act on pathUser's
// tasks: only their own (ErrForbidden otherwise). It records the user, which
// fails with user.ErrEmailTaken when their email belongs to another user id.
func (s *Service) Authorize(ctx context.Context, id auth.Identity, pathUser string) (Actor, error) {
	if strings.TrimSpace(string(id.UserID)) == "" {
		return Actor{}, auth.Unauthenticated("token has no user id")
	}
	if string(id.UserID) != pathUser {
		return Actor{}, auth.ErrForbidden
	}
	u := user.FromIdentity(id)
	if !s.seen.has(u) {
		if err := s.users.Save(ctx, u); err != nil {
			return Actor{}, fmt.Errorf("record user: %w", err)
		}
		// In a unit of work the save may yet be rolled back.
		afterCommit(ctx, func() { s.seen.add(u) })
	}
	return Actor{owner: id.UserID}, nil
}

// ListTasks returns one page of the actor's tasks. It normalizes q (a
// ValidationError names the parameter at fault) and sets its Now from the
// service's clock.
func (s *Service) ListTasks(ctx context.Context, a Actor, q task.Query) (task.Page, error) {
	q.Now = s.now()
	q, err := q.Normalized()
	if err != nil {
		return task.Page{}, err
	}
	return s.tasks.List(ctx, a.owner, q)
}

// ListTags returns the actor's tags with how many tasks carry each.
func (s *Service) ListTags(ctx context.Context, a Actor) ([]task.TagCount, error) {
	return s.tasks.Tags(ctx, a.owner)
}

// TaskStats counts the actor's tasks as seen now in their time zone (nil: UTC).
func (s *Service) TaskStats(ctx context.Context, a Actor, zone *time.Location) (task.Stats, error) {
	return s.tasks.Stats(ctx, a.owner, task.Moment{Now: s.now(), Zone: zone}, nil)
}

// TaskStatsIn counts the actor's tasks of one list, or of the inbox
// (list.Inbox), as TaskStats does. A list that is not the actor's is
// counted as empty, as a filter would: this reads no list.
func (s *Service) TaskStatsIn(ctx context.Context, a Actor, in list.ID, zone *time.Location) (task.Stats, error) {
	if in < 0 {
		return task.Stats{}, check.Invalid("list_id", "must be a positive integer", "greater_than")
	}
	return s.tasks.Stats(ctx, a.owner, task.Moment{Now: s.now(), Zone: zone}, &in)
}

// CreateTask adds a task for the actor; opts set its optional attributes.
func (s *Service) CreateTask(ctx context.Context, a Actor, title string, description *string, opts ...task.Option) (*task.Task, error) {
	t, err := task.New(a.owner, title, description, s.now(), opts...)
	if err != nil {
		return nil, err
	}
	return s.tasks.Add(ctx, t)
}

// GetTask returns one of the actor's tasks.
func (s *Service) GetTask(ctx context.Context, a Actor, id task.ID) (*task.Task, error) {
	return s.tasks.Get(ctx, a.owner, id)
}

// ReplaceTask sets the title and description; completed changes only when
// given. This is PUT: an absent description clears it. opts change the
// optional attributes; those no option names stay as they are. With expect
// other than task.AnyVersion, a task at another version is not changed and
// the error is a *task.ConflictError carrying it.
func (s *Service) ReplaceTask(ctx context.Context, a Actor, id task.ID, expect task.Version, title string, description *string, completed *bool, opts ...task.Option) (*task.Task, error) {
	return s.tasks.Update(ctx, a.owner, id, expect, func(t *task.Task) error {
		now := s.now()
		if err := t.Edit(title, description, now, opts...); err != nil {
			return err
		}
		if completed != nil {
			t.SetCompleted(*completed, now)
		}
		return nil
	})
}

// Patch is a partial change of a task (a JSON Merge Patch): only what it
// names changes.
type Patch struct {
	Title *string // nil: unchanged
	// SetDescription says whether the description changes: to Description,
	// nil clearing it.
	SetDescription bool
	Description    *string
	Completed      *bool         // nil: unchanged
	Options        []task.Option // the optional attributes that change
	// List, when set, moves the task to that list (list.Inbox: the inbox)
	// with its subtasks, to the bottom of the list's top level; a task
	// already in it stays where it is.
	List *list.ID
	// SetAssignee says whether the assignee changes: to Assignee, nil
	// unassigning (see CheckAssignee).
	SetAssignee bool
	Assignee    *auth.UserID
}

func (p Patch) empty() bool {
	return p.Title == nil && !p.SetDescription && p.Completed == nil && len(p.Options) == 0 && p.List == nil && !p.SetAssignee
}

// edit is the change of p's fields but the list (a move) and the
// assignee (an option patchTask adds once it is checked), made at now.
func (p Patch) edit(now time.Time) func(*task.Task) error {
	return func(t *task.Task) error {
		title, description := t.Title(), t.Description()
		if p.Title != nil {
			title = *p.Title
		}
		if p.SetDescription {
			description = p.Description
		}
		if err := t.Edit(title, description, now, p.Options...); err != nil {
			return err
		}
		if p.Completed != nil {
			t.SetCompleted(*p.Completed, now)
		}
		return nil
	}
}

func (p Patch) edits() bool {
	return p.Title != nil || p.SetDescription || p.Completed != nil || len(p.Options) > 0
}

// PatchTask applies p under the same rules as ReplaceTask. An empty patch
// changes nothing (not even updated_at or the version) and returns the
// task; expect is checked all the same.
func (s *Service) PatchTask(ctx context.Context, a Actor, id task.ID, expect task.Version, p Patch) (*task.Task, error) {
	if !p.SetAssignee && p.List == nil {
		return s.patchTask(ctx, a, id, expect, p)
	}
	// The assignee's check (or the target list's members) and the write in
	// one unit (see assignee.go).
	var out *task.Task
	err := s.inUnit(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.patchTask(ctx, a, id, expect, p)
		return err
	})
	return out, err
}

func (s *Service) patchTask(ctx context.Context, a Actor, id task.ID, expect task.Version, p Patch) (*task.Task, error) {
	if p.empty() {
		t, err := s.tasks.Get(ctx, a.owner, id)
		if err != nil {
			return nil, err
		}
		if err := task.Conflict(t, expect); err != nil {
			return nil, err
		}
		return t, nil
	}
	if p.SetAssignee {
		if p.Assignee != nil {
			cur, err := s.tasks.Get(ctx, a.owner, id)
			if err != nil {
				return nil, err
			}
			in := cur.ListID()
			check := true
			if p.List != nil {
				in = p.List
				if *in == list.Inbox {
					in = nil
				} else if s.members != nil {
					// A list the actor cannot reach is the move's to refuse
					// (404): checking the assignee against it would tell
					// whether it exists and who is in it.
					_, err := s.members.Access(ctx, a.owner, *in)
					check = err == nil
				}
			}
			if check {
				if err := s.CheckAssignee(ctx, cur.Owner(), in, *p.Assignee); err != nil {
					return nil, err
				}
			}
		}
		p.Options = append(p.Options[:len(p.Options):len(p.Options)], task.AssignTo(p.Assignee))
	}
	now := s.now()
	edit := p.edit(now)
	if p.List == nil {
		return s.tasks.Update(ctx, a.owner, id, expect, edit)
	}
	// A change of list is a move, in the same write as the other changes.
	m := task.Move{IDs: []task.ID{id}, Expect: expect, At: now,
		To: task.Placement{List: p.List, Parent: ptr(task.TopLevel), Bottom: true, OnlyIfListChanges: true}}
	if p.edits() {
		m.Edit = edit
	}
	ts, err := s.move(ctx, a, m)
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// CompleteTask toggles the task, or sets it to *completed when given.
// expect is checked as in ReplaceTask.
// An open repeating task moves on to its next occurrence instead (see
// CompleteOccurrence).
func (s *Service) CompleteTask(ctx context.Context, a Actor, id task.ID, expect task.Version, completed *bool) (*task.Task, error) {
	return s.CompleteOccurrence(ctx, a, id, expect, completed, "")
}

// DeleteTask moves one of the actor's tasks to the trash, where it stays
// until RestoreTask, EmptyTrash or the purge. expect is checked as in
// ReplaceTask.
func (s *Service) DeleteTask(ctx context.Context, a Actor, id task.ID, expect task.Version) error {
	return s.tasks.Trash(ctx, a.owner, id, expect, s.now())
}

// DeleteTaskForGood removes one of the actor's tasks, from the list or the
// trash, with no way back. expect is checked as in ReplaceTask.
func (s *Service) DeleteTaskForGood(ctx context.Context, a Actor, id task.ID, expect task.Version) error {
	return s.tasks.Delete(ctx, a.owner, id, expect)
}

// RestoreTask brings a task back from the trash exactly as it was deleted
// (same fields, same version). A task not in the trash is returned as it
// is, so that a retried restore succeeds. An assignee who left the list
// while the task was in the trash is cleared as it comes back, on it and
// its subtasks (a write, one version up: see assignee.go).
func (s *Service) RestoreTask(ctx context.Context, a Actor, id task.ID) (*task.Task, error) {
	if s.members == nil {
		return s.tasks.RestoreFromTrash(ctx, a.owner, id)
	}
	var out *task.Task
	err := s.inUnit(ctx, func(ctx context.Context) error {
		t, err := s.tasks.RestoreFromTrash(ctx, a.owner, id)
		if err != nil {
			return err
		}
		out = t
		// The actor's write, whoever owns the task: the history names them.
		cleared, err := s.clearStale(task.WithActor(ctx, a.owner), t)
		if err == nil && cleared != nil {
			out = cleared
		}
		return err
	})
	return out, err
}

// ListTrash returns a page of the actor's trash, the latest deletion first.
func (s *Service) ListTrash(ctx context.Context, a Actor, limit, offset int) (task.TrashPage, error) {
	return s.tasks.ListTrash(ctx, a.owner, limit, offset)
}

// EmptyTrash removes every task in the actor's trash for good, and the
// trashed lists, and returns how many tasks.
func (s *Service) EmptyTrash(ctx context.Context, a Actor) (int, error) {
	n, err := s.tasks.EmptyTrash(ctx, a.owner)
	if err != nil || s.lists == nil {
		return n, err
	}
	// The lists' tasks were in the trash with them, and are gone already.
	if _, err := s.lists.EmptyTrash(ctx, a.owner); err != nil {
		return n, err
	}
	return n, nil
}

// ClearCompleted moves every completed task of the actor to the trash and
// returns how many.
func (s *Service) ClearCompleted(ctx context.Context, a Actor) (int, error) {
	return s.tasks.TrashCompleted(ctx, a.owner, s.now())
}

// NewTask is one task of a bulk create.
type NewTask struct {
	Title       string
	Description *string
	Options     []task.Option
	// Home is where it goes, as in CreateTaskAt: the zero Home is the
	// inbox, at the top level.
	Home Home
}

// CreateTasks adds 1 to task.MaxBatch tasks for the actor, all or none. When
// items break rules the error is a *task.BatchError naming each by index.
func (s *Service) CreateTasks(ctx context.Context, a Actor, items []NewTask) ([]*task.Task, error) {
	if err := batchSize("", len(items)); err != nil {
		return nil, err
	}
	var out []*task.Task
	// The assignees' checks and the write in one unit (see assignee.go).
	err := s.inUnit(ctx, func(ctx context.Context) error {
		ts, err := s.newTasks(ctx, a, items)
		if err != nil {
			return err
		}
		out, err = s.tasks.AddAll(ctx, ts)
		return err
	})
	return out, err
}

// CheckNewTasks checks items by the rules CreateTasks applies to each,
// storing nothing: a *task.BatchError naming each bad item by its index in
// items, or nil. The API runs it on the items of a bulk create that its
// schema accepted when it refused others, so that one answer names every
// bad item. An item's Home that names a parent and no list reads the
// parent (newTaskAt).
func (s *Service) CheckNewTasks(ctx context.Context, a Actor, items []NewTask) error {
	_, err := s.newTasks(ctx, a, items)
	return err
}

// newTasks makes the tasks of items, or a *task.BatchError naming each bad
// one.
func (s *Service) newTasks(ctx context.Context, a Actor, items []NewTask) ([]*task.Task, error) {
	now := s.now()
	ts := make([]*task.Task, len(items))
	var bad task.BatchError
	for i, it := range items {
		t, err := s.newTaskAt(ctx, a, it.Home, it.Title, it.Description, now, it.Options)
		if err == nil {
			err = s.checkNewAssignee(ctx, a, t)
		}
		if ve, ok := errors.AsType[*task.ValidationError](err); ok {
			bad.Items = append(bad.Items, task.ItemError{Index: i, Problems: ve.Problems})
			continue
		}
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	if len(bad.Items) > 0 {
		return nil, &bad
	}
	return ts, nil
}

// BulkSet is what a bulk change sets on every task: completion when given,
// and the optional attributes that options name.
type BulkSet struct {
	Completed *bool
	Options   []task.Option
}

// UpdateTasks applies set to each of the actor's tasks ids (1 to
// task.MaxBatch), all or none: an id that is not the actor's live task is
// task.ErrNotFound for the whole call. Problems with set are reported under
// "set".
func (s *Service) UpdateTasks(ctx context.Context, a Actor, ids []task.ID, set BulkSet) ([]*task.Task, error) {
	if err := batchSize("ids", len(ids)); err != nil {
		return nil, err
	}
	if set.Completed == nil && len(set.Options) == 0 {
		return nil, &task.ValidationError{Problems: []task.Problem{{Field: "set",
			Msg: "must set at least one of completed, priority, tags, due_date", Type: "missing"}}}
	}
	// The options are checked once, so that a bad value is reported once
	// and before anything is read.
	if err := task.CheckOptions(set.Options...); err != nil {
		if ve, ok := errors.AsType[*task.ValidationError](err); ok {
			problems := make([]task.Problem, len(ve.Problems))
			for i, p := range ve.Problems {
				p.Field = "set." + p.Field
				problems[i] = p
			}
			return nil, &task.ValidationError{Problems: problems}
		}
		return nil, err
	}
	now := s.now()
	if set.Completed != nil && *set.Completed && s.occurrences != nil && s.tx != nil {
		return s.updateTasksPassing(ctx, a, ids, set, now)
	}
	return s.tasks.UpdateAll(ctx, a.owner, ids, func(t *task.Task) error {
		if len(set.Options) > 0 {
			if err := t.Edit(t.Title(), t.Description(), now, set.Options...); err != nil {
				return err
			}
		}
		if set.Completed != nil {
			t.SetCompleted(*set.Completed, now)
		}
		return nil
	})
}

// updateTasksPassing is UpdateTasks completing tasks, in a unit of work:
// an open repeating task among them completes its current occurrence and
// moves on (CompleteOccurrence), recorded in its history with the write.
func (s *Service) updateTasksPassing(ctx context.Context, a Actor, ids []task.ID, set BulkSet, now time.Time) ([]*task.Task, error) {
	var out []*task.Task
	err := s.InTx(ctx, func(ctx context.Context) error {
		passed := map[task.ID]task.Occurrence{} // by task: a store may run fn again
		var err error
		out, err = s.tasks.UpdateAll(ctx, a.owner, ids, func(t *task.Task) error {
			if len(set.Options) > 0 {
				if err := t.Edit(t.Title(), t.Description(), now, set.Options...); err != nil {
					return err
				}
			}
			if t.Recurring() && !t.Completed() {
				rec, err := t.PassOccurrence(t.Due(), task.OccurrenceCompleted, now)
				if err != nil {
					return err
				}
				passed[t.ID()] = rec
				return nil
			}
			t.SetCompleted(true, now)
			return nil
		})
		if err != nil {
			return err
		}
		for _, t := range out {
			rec, ok := passed[t.ID()]
			if !ok {
				continue
			}
			if _, err := s.occurrences.Record(ctx, a.owner, rec); err != nil {
				return err
			}
			if !t.Completed() {
				if err := s.reopenSubtasks(ctx, a, t.ID(), now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// TrashTasks moves the actor's tasks ids (1 to task.MaxBatch) to the trash,
// all or none (task.ErrNotFound when one is not the actor's live task), and
// returns how many.
func (s *Service) TrashTasks(ctx context.Context, a Actor, ids []task.ID) (int, error) {
	if err := batchSize("ids", len(ids)); err != nil {
		return 0, err
	}
	return s.tasks.TrashAll(ctx, a.owner, ids, s.now())
}

func batchSize(field string, n int) error {
	if n >= 1 && n <= task.MaxBatch {
		return nil
	}
	return &task.ValidationError{Problems: []task.Problem{{Field: field,
		Msg: fmt.Sprintf("must have 1 to %d items, not %d", task.MaxBatch, n), Type: "too_long"}}}
}

// seenUsers remembers users already saved with the same email and name, so
// that a request does not write the users table when nothing changed. It is
// bounded: when full it forgets everything and starts again.
type seenUsers struct {
	mu  sync.Mutex
	max int
	m   map[auth.UserID]user.User
}

func newSeenUsers(max int) *seenUsers {
	return &seenUsers{max: max, m: make(map[auth.UserID]user.User)}
}

func (s *seenUsers) has(u user.User) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.m[u.ID]
	return ok && got == u
}

func (s *seenUsers) add(u user.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		clear(s.m)
	}
	s.m[u.ID] = u
}

// Locks names what a unit of work will write, for LockTasks.
type Locks struct {
	// Tasks are the existing tasks it writes: their owners' scope locks
	// and their rows.
	Tasks []task.ID
	// Named are tasks its writes name without writing them (a new task's
	// parent, a move's anchors): their owners' scope locks, for a write
	// under or beside a task of a shared list writes into its owner's
	// rows.
	Named []task.ID
	// Lists are the lists it writes tasks into (creates, moves) or
	// changes (an admin's edit, a member's move of it in their sidebar),
	// and the lists a list's move names as anchors: their owners' scope
	// locks.
	Lists []list.ID
}

// LockTasks takes, in ctx's unit of work, the locks that writing the
// actor's tasks l.Tasks takes, in the one order every writer takes them
// (task.Repository.Lock): a unit that will write them in another order,
// or create tasks first, then cannot deadlock with another unit.
//
// With shared lists, the scope locks of the owners of l.Named's tasks and
// of l.Lists are taken up front too, in the same order
// (sharedTasks.LockInto), so that a unit that writes the actor's own
// tasks and then into another owner's shared list does not take the two
// owners' locks out of that order.
func (s *Service) LockTasks(ctx context.Context, a Actor, l Locks) error {
	if sh, ok := s.tasks.(*sharedTasks); ok {
		return sh.LockInto(ctx, a.owner, l)
	}
	return s.tasks.Lock(ctx, a.owner, l.Tasks)
}

// TaskHistory is the history of one of the actor's tasks (task.Revision),
// newest first; ErrNotFound for a task the actor does not have.
func (s *Service) TaskHistory(ctx context.Context, a Actor, id task.ID) ([]task.Revision, error) {
	return s.tasks.Revisions(ctx, a.owner, id, 0)
}
