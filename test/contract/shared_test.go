package contract

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// TestSharedTasks holds every store, through the use cases, to the access
// rule of shared lists: each role (and a removed member, and a stranger)
// reads, completes, edits, creates, trashes and moves a list's tasks as
// list.Role.Allows says, lands its writes in the owner's rows, and a
// refused write is task.ErrNotFound (or list.ErrNotFound) that changed
// nothing.
func TestSharedTasks(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, who := range append(list.Roles(), "removed", "stranger") {
				t.Run(string(who), func(t *testing.T) {
					t.Parallel()
					testSharedRole(t, s, who)
				})
			}
			t.Run("moves stay within one owner's lists", func(t *testing.T) {
				t.Parallel()
				testSharedMoves(t, s)
			})
		})
	}
}

// sharedService is the service over s, with members.
func sharedService(s shareStores) *application.Service {
	return application.New(s.tasks, s.users, nil, application.WithLists(s.lists),
		application.WithMembers(s.members.(application.Memberships)), application.WithTransactor(s.tx))
}

// sharedCase is an owner's list shared with one caller in role who.
type sharedCase struct {
	svc    *application.Service
	sh     *share
	owner  application.Actor
	caller application.Actor
	task   *task.Task
}

func newSharedCase(t *testing.T, s shareStores, who list.Role) *sharedCase {
	t.Helper()
	ctx := context.Background()
	sh := newShare(t, s)
	svc := sharedService(s)
	c := &sharedCase{svc: svc, sh: sh}
	var err error
	if c.owner, err = svc.Authorize(ctx, auth.Identity{UserID: sh.owner.ID, Email: sh.owner.Email, Name: sh.owner.Name}, string(sh.owner.ID)); err != nil {
		t.Fatal(err)
	}
	c.task, err = svc.CreateTaskAt(ctx, c.owner, application.Home{List: lid(sh.list)}, "milk", nil)
	if err != nil {
		t.Fatal(err)
	}
	var u user.User
	switch who {
	case list.RoleOwner:
		c.caller = c.owner
		return c
	case "stranger":
		u = sh.user("stranger")
	case "removed":
		u = sh.member("removed", list.RoleEditor)
		if err := s.members.Remove(ctx, sh.list, u.ID); err != nil {
			t.Fatal(err)
		}
	default:
		u = sh.member(string(who), who)
	}
	if c.caller, err = svc.Authorize(ctx, auth.Identity{UserID: u.ID, Email: u.Email, Name: u.Name}, string(u.ID)); err != nil {
		t.Fatal(err)
	}
	return c
}

// unchanged fails unless the case's task is as it was created.
func (c *sharedCase) unchanged(t *testing.T, what string) {
	t.Helper()
	got, err := c.svc.GetTask(context.Background(), c.owner, c.task.ID())
	if err != nil || got.Version() != c.task.Version() || got.Title() != c.task.Title() || got.Completed() {
		t.Errorf("after a refused %s: %+v, %v; want the task unchanged", what, got, err)
	}
}

func refused(err error) bool {
	return errors.Is(err, task.ErrNotFound) || errors.Is(err, list.ErrNotFound)
}

func testSharedRole(t *testing.T, s shareStores, who list.Role) {
	ctx := context.Background()
	allows := func(a list.Action) bool { return list.Role(who).Allows(a) }
	check := func(what string, a list.Action, err error) {
		t.Helper()
		switch {
		case allows(a) && err != nil:
			t.Errorf("%s: %v, want allowed", what, err)
		case !allows(a) && !refused(err):
			t.Errorf("%s: %v, want not found", what, err)
		}
	}

	c := newSharedCase(t, s, who)
	got, err := c.svc.GetTask(ctx, c.caller, c.task.ID())
	check("GetTask", list.ActRead, err)
	if err == nil && got.Owner() != c.sh.owner.ID {
		t.Errorf("GetTask owner = %s, want the list's owner", got.Owner())
	}
	_, err = c.svc.TaskHistory(ctx, c.caller, c.task.ID())
	check("TaskHistory", list.ActRead, err)
	page, err := c.svc.ListTasks(ctx, c.caller, task.Query{List: lid(c.sh.list)})
	if err != nil || (len(page.Tasks) == 1) != allows(list.ActRead) {
		t.Errorf("ListTasks(list) = %d tasks, %v; want readable %v", len(page.Tasks), err, allows(list.ActRead))
	}
	side, err := c.svc.Sidebar(ctx, c.caller)
	found := list.Role("")
	for _, l := range side {
		if l.List.ID() == c.sh.list {
			found = l.Role
			if l.List.Owner() != c.sh.owner.ID || l.Open != 1 {
				t.Errorf("Sidebar entry = %+v, want the owner's list with 1 open task", l)
			}
		}
	}
	if err != nil || (found != "") != allows(list.ActRead) || allows(list.ActRead) && found != who {
		t.Errorf("Sidebar = %+v, %v; want the list with role %s: %v", side, err, who, allows(list.ActRead))
	}
	_, err = c.svc.GetList(ctx, c.caller, c.sh.list)
	check("GetList", list.ActRead, err)
	_, err = c.svc.EditList(ctx, c.caller, c.sh.list, list.AnyVersion, application.ListPatch{SetColor: true, Color: ptrTo("#aabbcc")})
	check("EditList", list.ActManageList, err)
	st, err := c.svc.TaskStatsIn(ctx, c.caller, c.sh.list, nil)
	if err != nil || (st.Total == 1) != allows(list.ActRead) {
		t.Errorf("TaskStatsIn = %+v, %v", st, err)
	}

	// An edit by a role that may only complete is refused, and changes nothing.
	_, err = c.svc.PatchTask(ctx, c.caller, c.task.ID(), task.AnyVersion, application.Patch{Title: ptrTo("oat milk")})
	check("PatchTask(title)", list.ActEdit, err)
	if !allows(list.ActEdit) {
		c.unchanged(t, "edit")
	}
	c = newSharedCase(t, s, who)
	done, err := c.svc.CompleteTask(ctx, c.caller, c.task.ID(), task.AnyVersion, nil)
	check("CompleteTask", list.ActComplete, err)
	if err == nil && (!done.Completed() || done.Owner() != c.sh.owner.ID) {
		t.Errorf("CompleteTask = %+v", done)
	}
	if !allows(list.ActComplete) {
		c.unchanged(t, "complete")
	}
	_, err = c.svc.UpdateTasks(ctx, c.caller, []task.ID{c.task.ID()}, application.BulkSet{Completed: ptrTo(false)})
	check("UpdateTasks(completed)", list.ActComplete, err)

	c = newSharedCase(t, s, who)
	made, err := c.svc.CreateTaskAt(ctx, c.caller, application.Home{List: lid(c.sh.list)}, "bread", nil)
	check("CreateTaskAt", list.ActEdit, err)
	if err == nil && (made.Owner() != c.sh.owner.ID || made.CreatedBy() != c.caller.Owner()) {
		t.Errorf("CreateTaskAt = owner %s, created by %s; want the list's owner, created by the caller", made.Owner(), made.CreatedBy())
	}
	if err == nil {
		sub, err := c.svc.CreateTaskAt(ctx, c.caller, application.Home{Parent: tidOf(made.ID())}, "rye", nil)
		if err != nil || sub.Owner() != c.sh.owner.ID || sub.ListID() == nil || *sub.ListID() != c.sh.list {
			t.Errorf("CreateTaskAt(under) = %+v, %v", sub, err)
		}
	}
	err = c.svc.DeleteTask(ctx, c.caller, c.task.ID(), task.AnyVersion)
	check("DeleteTask", list.ActEdit, err)
	if err == nil {
		_, err = c.svc.RestoreTask(ctx, c.caller, c.task.ID())
		check("RestoreTask", list.ActEdit, err)
	} else {
		c.unchanged(t, "trash")
	}
	_, err = c.svc.TrashTasks(ctx, c.caller, []task.ID{c.task.ID()})
	check("TrashTasks", list.ActEdit, err)
}

func ptrTo[T any](v T) *T       { return &v }
func tidOf(id task.ID) *task.ID { return &id }

func testSharedMoves(t *testing.T, s shareStores) {
	ctx := context.Background()
	c := newSharedCase(t, s, list.RoleEditor)
	private := c.sh.tr.list("private " + uniq())
	second := c.sh.tr.list("second " + uniq())
	// The owner shares second too, with the same editor.
	inv, err := s.members.Invite(ctx, list.Invitation{ListID: second, Email: mustEmail(t, s, c), Role: list.RoleEditor, InvitedBy: c.sh.owner.ID, CreatedAt: c.sh.tr.now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.members.Accept(ctx, c.caller.Owner(), inv.ID, c.sh.tr.now()); err != nil {
		t.Fatal(err)
	}
	own, err := c.svc.CreateList(ctx, c.caller, "mine", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		to   list.ID
		want func(error) bool
	}{
		{private, refused},
		{own.List.ID(), isValidation},
		{list.Inbox, isValidation},
	} {
		_, err := c.svc.MoveTask(ctx, c.caller, c.task.ID(), task.AnyVersion, task.Placement{List: lid(tc.to)})
		if !tc.want(err) {
			t.Errorf("MoveTask(to %d) = %v", tc.to, err)
		}
		c.unchanged(t, fmt.Sprintf("move to %d", tc.to))
	}
	moved, err := c.svc.MoveTask(ctx, c.caller, c.task.ID(), task.AnyVersion, task.Placement{List: lid(second)})
	if err != nil || moved.ListID() == nil || *moved.ListID() != second || moved.Owner() != c.sh.owner.ID {
		t.Errorf("MoveTask(to the second shared list) = %+v, %v", moved, err)
	}
	// The caller's own task cannot go into the owner's list.
	mine, err := c.svc.CreateTask(ctx, c.caller, "mine", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.MoveTask(ctx, c.caller, mine.ID(), task.AnyVersion, task.Placement{List: lid(second)}); !isValidation(err) {
		t.Errorf("MoveTask(own task into the shared list) = %v, want 422", err)
	}
}

func isValidation(err error) bool {
	_, ok := errors.AsType[*check.ValidationError](err)
	return ok
}

// mustEmail is the email of the case's caller.
func mustEmail(t *testing.T, s shareStores, c *sharedCase) string {
	t.Helper()
	ms, err := s.members.Members(context.Background(), c.sh.list)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.UserID == c.caller.Owner() {
			return m.Email
		}
	}
	t.Fatal("caller is no member")
	return ""
}

// TestSharedHistoryNamesTheMember: a member's writes land in the owner's
// rows, and the task's history names the member, not the owner, for the
// creation and for each change, on every store.
func TestSharedHistoryNamesTheMember(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newSharedCase(t, open(t), list.RoleEditor)
			made, err := c.svc.CreateTaskAt(ctx, c.caller, application.Home{List: lid(c.sh.list)}, "bread", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.svc.PatchTask(ctx, c.caller, made.ID(), task.AnyVersion, application.Patch{Title: ptrTo("rye bread")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.svc.CompleteTask(ctx, c.caller, made.ID(), task.AnyVersion, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.svc.PatchTask(ctx, c.owner, made.ID(), task.AnyVersion, application.Patch{Title: ptrTo("bread")}); err != nil {
				t.Fatal(err)
			}
			revs, err := c.svc.TaskHistory(ctx, c.owner, made.ID())
			if err != nil {
				t.Fatal(err)
			}
			member, owner := c.caller.Owner(), c.owner.Owner()
			want := []auth.UserID{member, member, member, owner}
			var got []auth.UserID
			for _, r := range revs {
				got = append(got, r.By)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) && fmt.Sprint(reversed(got)) != fmt.Sprint(want) {
				t.Errorf("history by = %v, want %v (creation, edit, completion by the member, then the owner's edit)", got, want)
			}
		})
	}
}

func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
