package contract

import (
	"context"
	"testing"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// TestSharedAssignees holds every store, through the use cases, to the
// rule of assignees (issue 19): a task's assignee is its owner or a member
// of its list. Assigning anyone else is a 422 on assignee_id that writes
// nothing; a move to a list where the assignee may not be assigned clears
// the assignment (the task's and its subtasks'), one where they may keeps
// it; removing a member, or a member leaving, clears their assignments in
// the list.
func TestSharedAssignees(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testSharedAssignees(t, open(t))
		})
	}
}

func assigneeOf(t *task.Task) auth.UserID {
	if a := t.Assignee(); a != nil {
		return *a
	}
	return ""
}

// onAssigneeID reports whether err is a ValidationError on assignee_id.
func onAssigneeID(err error) bool {
	ve, ok := err.(*check.ValidationError)
	return ok && len(ve.Problems) == 1 && ve.Problems[0].Field == "assignee_id"
}

func testSharedAssignees(t *testing.T, s shareStores) {
	ctx := context.Background()
	c := newSharedCase(t, s, list.RoleEditor)
	editor := c.caller.Owner()
	stranger := c.sh.user("stranger").ID
	shared := c.sh.list
	other := c.sh.tr.list("other " + uniq()) // the owner's, not shared
	get := func(id task.ID) *task.Task {
		t.Helper()
		got, err := c.svc.GetTask(ctx, c.owner, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Assigning: members and the owner, nobody else.
	before, err := c.svc.ListTasks(ctx, c.owner, task.Query{List: lid(shared)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.CreateTaskAt(ctx, c.owner, application.Home{List: lid(shared)}, "to a stranger", nil, task.AssignTo(&stranger)); !onAssigneeID(err) {
		t.Errorf("CreateTaskAt(assigned to a stranger) = %v, want a 422 on assignee_id", err)
	}
	if _, err := c.svc.CreateTasks(ctx, c.owner, []application.NewTask{{Title: "to a stranger", Options: []task.Option{task.AssignTo(&stranger)}, Home: application.Home{List: lid(shared)}}}); err == nil {
		t.Error("CreateTasks(assigned to a stranger) = nil, want a 422")
	}
	if after, err := c.svc.ListTasks(ctx, c.owner, task.Query{List: lid(shared)}); err != nil || after.Total != before.Total {
		t.Errorf("after refused creates: %d tasks (%v), want %d", after.Total, err, before.Total)
	}
	if _, err := c.svc.PatchTask(ctx, c.owner, c.task.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &stranger}); !onAssigneeID(err) {
		t.Errorf("PatchTask(assignee a stranger) = %v, want a 422 on assignee_id", err)
	}
	c.unchanged(t, "assignment to a stranger")
	up, err := c.svc.PatchTask(ctx, c.caller, c.task.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &editor})
	if err != nil || assigneeOf(up) != editor {
		t.Fatalf("PatchTask(assignee the editor, by the editor) = %+v, %v", up, err)
	}
	sub, err := c.svc.CreateTaskAt(ctx, c.owner, application.Home{Parent: tidOf(c.task.ID())}, "sub", nil, task.AssignTo(&editor))
	if err != nil {
		t.Fatalf("CreateTaskAt(subtask assigned to the editor) = %v", err)
	}
	mine, err := c.svc.CreateTaskAt(ctx, c.owner, application.Home{List: lid(shared)}, "the owner's", nil, task.AssignTo(&c.sh.owner.ID))
	if err != nil {
		t.Fatalf("CreateTaskAt(assigned to the owner) = %v", err)
	}

	// A move to a list where the editor is nobody clears the task's and
	// its subtask's assignment; the owner's assignment stays.
	moved, err := c.svc.MoveTasks(ctx, c.owner, []task.ID{c.task.ID(), mine.ID()}, task.Placement{List: lid(other)})
	if err != nil {
		t.Fatal(err)
	}
	if assigneeOf(moved[0]) != "" || assigneeOf(moved[1]) != c.sh.owner.ID {
		t.Errorf("MoveTasks(to a list the editor is not in) = assignees %q, %q; want none, the owner", assigneeOf(moved[0]), assigneeOf(moved[1]))
	}
	if got := get(sub.ID()); assigneeOf(got) != "" || got.ListID() == nil || *got.ListID() != other {
		t.Errorf("the subtask that followed: list %v, assignee %q; want list %d, none", got.ListID(), assigneeOf(got), other)
	}
	// Back in the shared list, assigned again, then to the inbox: only the
	// owner is assignable there.
	if _, err := c.svc.MoveTask(ctx, c.owner, c.task.ID(), task.AnyVersion, task.Placement{List: lid(shared)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.PatchTask(ctx, c.owner, c.task.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &editor}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.svc.PatchTask(ctx, c.owner, c.task.ID(), task.AnyVersion, application.Patch{List: ptrTo(list.Inbox)}); err != nil || assigneeOf(got) != "" {
		t.Errorf("PatchTask(list_id: the inbox) = %+v, %v; want the assignment cleared", got, err)
	}
	// A PATCH that moves and assigns checks the assignee against the
	// target list.
	if _, err := c.svc.PatchTask(ctx, c.owner, c.task.ID(), task.AnyVersion, application.Patch{List: lid(other), SetAssignee: true, Assignee: &editor}); !onAssigneeID(err) {
		t.Errorf("PatchTask(list_id other, assignee the editor) = %v, want a 422 on assignee_id", err)
	}

	// Removal clears the member's assignments in the list, and only those.
	if _, err := c.svc.MoveTask(ctx, c.owner, c.task.ID(), task.AnyVersion, task.Placement{List: lid(shared)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.PatchTask(ctx, c.owner, c.task.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &editor}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.MoveTask(ctx, c.owner, mine.ID(), task.AnyVersion, task.Placement{List: lid(shared)}); err != nil {
		t.Fatal(err)
	}
	v := get(c.task.ID()).Version()
	if err := c.svc.RemoveMember(ctx, c.owner, shared, editor); err != nil {
		t.Fatal(err)
	}
	if got := get(c.task.ID()); assigneeOf(got) != "" || got.Version() != v+1 {
		t.Errorf("after the removal: assignee %q at version %d; want none, at %d", assigneeOf(got), got.Version(), v+1)
	}
	if got := get(mine.ID()); assigneeOf(got) != c.sh.owner.ID {
		t.Errorf("after the removal: the owner's assignment is %q", assigneeOf(got))
	}

	// A member who leaves: the same.
	leaver := c.sh.member("leaver", list.RoleEditor)
	la, err := c.svc.Authorize(ctx, auth.Identity{UserID: leaver.ID, Email: leaver.Email, Name: leaver.Name}, string(leaver.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.PatchTask(ctx, la, c.task.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &leaver.ID}); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.RemoveMember(ctx, la, shared, leaver.ID); err != nil {
		t.Fatal(err)
	}
	if got := get(c.task.ID()); assigneeOf(got) != "" {
		t.Errorf("after the member left: assignee %q, want none", assigneeOf(got))
	}
}

// TestAssigneeHistory: every store records assignee_id in a task's history
// (migration 20261213000030 for the SQL stores' triggers, task.Diff for
// memory), at the creation, at a change, and when a removal clears it, so
// that a merge finds a conflict on it as on any field.
func TestAssigneeHistory(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := context.Background()
			c := newSharedCase(t, s, list.RoleEditor)
			editor, owner := c.caller.Owner(), c.sh.owner.ID
			tk, err := c.svc.CreateTaskAt(ctx, c.owner, application.Home{List: lid(c.sh.list)}, "assigned", nil, task.AssignTo(&editor))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.svc.PatchTask(ctx, c.caller, tk.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &owner}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.svc.PatchTask(ctx, c.owner, tk.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &editor}); err != nil {
				t.Fatal(err)
			}
			if err := c.svc.RemoveMember(ctx, c.owner, c.sh.list, editor); err != nil {
				t.Fatal(err)
			}
			revs, err := c.svc.TaskHistory(ctx, c.owner, tk.ID())
			if err != nil {
				t.Fatal(err)
			}
			q := func(u auth.UserID) string { return `"` + string(u) + `"` }
			want := map[task.Version][2]string{1: {"null", q(editor)}, 2: {q(editor), q(owner)}, 3: {q(owner), q(editor)}, 4: {q(editor), "null"}}
			if len(revs) != len(want) {
				t.Fatalf("history = %d revisions, want %d", len(revs), len(want))
			}
			for _, r := range revs {
				c, ok := r.Changed["assignee_id"]
				if w := want[r.Version]; !ok || string(c.From) != w[0] || string(c.To) != w[1] {
					t.Errorf("version %d: assignee_id %s → %s (recorded %v), want %s → %s", r.Version, c.From, c.To, ok, w[0], w[1])
				}
			}
			if !task.ChangedSince(revs, 3)["assignee_id"] {
				t.Error("ChangedSince(3) misses the removal's assignee_id")
			}
		})
	}
}

// TestAssigneeTellsNothing: a caller who cannot reach a list learns
// nothing of its members through assignee_id: creating a task there, or
// moving one there by PATCH, assigned to a member or to nobody of it, is
// the same refusal (not found), never the 422 of an assignee who is not a
// member.
func TestAssigneeTellsNothing(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := context.Background()
			for _, who := range []list.Role{"stranger", "removed"} {
				c := newSharedCase(t, s, who)
				member := c.sh.member("member", list.RoleViewer).ID
				nobody := c.sh.user("nobody").ID
				mine, err := c.svc.CreateTask(ctx, c.caller, "mine", nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, as := range []auth.UserID{member, nobody} {
					_, err := c.svc.CreateTaskAt(ctx, c.caller, application.Home{List: lid(c.sh.list)}, "probe", nil, task.AssignTo(&as))
					if !refused(err) {
						t.Errorf("%s: CreateTaskAt(in the list, assigned to %s) = %v, want not found", who, as, err)
					}
					_, err = c.svc.PatchTask(ctx, c.caller, mine.ID(), task.AnyVersion, application.Patch{List: lid(c.sh.list), SetAssignee: true, Assignee: &as})
					if !refused(err) {
						t.Errorf("%s: PatchTask(to the list, assigned to %s) = %v, want not found", who, as, err)
					}
				}
				c.unchanged(t, "probe")
			}
		})
	}
}

// TestAssigneeRemovedWhileTrashed: a task in the trash when its assignee
// left the list comes back from the trash without them, and so do its
// subtasks; an assignee still a member stays.
func TestAssigneeRemovedWhileTrashed(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := context.Background()
			c := newSharedCase(t, s, list.RoleEditor)
			editor := c.caller.Owner()
			stays := c.sh.member("stays", list.RoleViewer).ID
			root, err := c.svc.CreateTaskAt(ctx, c.owner, application.Home{List: lid(c.sh.list)}, "root", nil, task.AssignTo(&editor))
			if err != nil {
				t.Fatal(err)
			}
			sub, err := c.svc.CreateTaskAt(ctx, c.owner, application.Home{Parent: tidOf(root.ID())}, "sub", nil, task.AssignTo(&editor))
			if err != nil {
				t.Fatal(err)
			}
			kept, err := c.svc.CreateTaskAt(ctx, c.owner, application.Home{Parent: tidOf(root.ID())}, "kept", nil, task.AssignTo(&stays))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.svc.DeleteTask(ctx, c.owner, root.ID(), task.AnyVersion); err != nil {
				t.Fatal(err)
			}
			if err := c.svc.RemoveMember(ctx, c.owner, c.sh.list, editor); err != nil {
				t.Fatal(err)
			}
			back, err := c.svc.RestoreTask(ctx, c.owner, root.ID())
			if err != nil {
				t.Fatal(err)
			}
			if assigneeOf(back) != "" {
				t.Errorf("the restored task is assigned to %q, want nobody", assigneeOf(back))
			}
			for _, tc := range []struct {
				id   task.ID
				want auth.UserID
			}{{root.ID(), ""}, {sub.ID(), ""}, {kept.ID(), stays}} {
				got, err := c.svc.GetTask(ctx, c.owner, tc.id)
				if err != nil {
					t.Fatal(err)
				}
				if assigneeOf(got) != tc.want {
					t.Errorf("task %d after the restore: assigned to %q, want %q", tc.id, assigneeOf(got), tc.want)
				}
			}
		})
	}
}

// TestSharingOwners: task.Sharing.Owners names the owner of each task and
// of each list the caller reaches as a member, and leaves out the
// caller's own, a stranger's, what does not exist, and everything once
// the membership ends.
func TestSharingOwners(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := context.Background()
			c := newSharedCase(t, s, list.RoleViewer)
			sharing := s.members.(task.Sharing)
			mine, err := c.svc.CreateTask(ctx, c.caller, "mine", nil)
			if err != nil {
				t.Fatal(err)
			}
			inbox, err := c.svc.CreateTask(ctx, c.owner, "the owner's inbox", nil)
			if err != nil {
				t.Fatal(err)
			}
			myList, err := c.svc.CreateList(ctx, c.caller, "mine", nil)
			if err != nil {
				t.Fatal(err)
			}
			theirList, err := c.svc.CreateList(ctx, c.owner, "not shared", nil)
			if err != nil {
				t.Fatal(err)
			}
			ids := []task.ID{c.task.ID(), mine.ID(), inbox.ID(), c.task.ID() + 100000}
			lists := []list.ID{c.sh.list, myList.List.ID(), theirList.List.ID(), c.sh.list + 100000, c.sh.list}
			got, err := sharing.Owners(ctx, c.caller.Owner(), ids, lists)
			if err != nil || len(got.Tasks) != 1 || got.Tasks[c.task.ID()] != c.sh.owner.ID ||
				len(got.Lists) != 1 || got.Lists[c.sh.list] != c.sh.owner.ID {
				t.Errorf("Owners(member) = %v, %v; want only the shared task and list, the owner's", got, err)
			}
			if got, err := sharing.Owners(ctx, c.caller.Owner(), nil, lists[:1]); err != nil || len(got.Tasks) != 0 || got.Lists[c.sh.list] != c.sh.owner.ID {
				t.Errorf("Owners(member, the shared list alone) = %v, %v; want it, the owner's", got, err)
			}
			if got, err := sharing.Owners(ctx, c.owner.Owner(), ids, lists); err != nil || len(got.Tasks)+len(got.Lists) != 0 {
				t.Errorf("Owners(owner) = %v, %v; want none (their own)", got, err)
			}
			if err := s.members.Remove(ctx, c.sh.list, c.caller.Owner()); err != nil {
				t.Fatal(err)
			}
			if got, err := sharing.Owners(ctx, c.caller.Owner(), ids, lists); err != nil || len(got.Tasks)+len(got.Lists) != 0 {
				t.Errorf("Owners(removed member) = %v, %v; want none", got, err)
			}
		})
	}
}
