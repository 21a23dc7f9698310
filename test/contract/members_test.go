package contract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// shareStores are the repositories of one store that shared lists touch.
type shareStores struct {
	tasks   task.Repository
	lists   list.Repository
	users   user.Repository
	members list.Members
	tx      application.Transactor
}

var shareStoreKinds = map[string]func(*testing.T) shareStores{
	"memory": func(*testing.T) shareStores {
		s := memory.NewStore()
		return shareStores{tasks: s.Tasks(), lists: s.Lists(), users: s.Users(), members: s.Members(), tx: s}
	},
	"sqlite": func(t *testing.T) shareStores { return sqlShareStores(openSQLiteDB(t)) },
	"postgres": func(t *testing.T) shareStores {
		return sqlShareStores(openPostgresDB(t))
	},
}

func sqlShareStores(d *bun.DB) shareStores {
	return shareStores{
		tasks: sqlstore.NewTaskRepository(d), lists: sqlstore.NewListRepository(d), users: sqlstore.NewUserRepository(d),
		members: sqlstore.NewMemberRepository(d), tx: sqlstore.NewTransactor(d),
	}
}

// TestMembers holds every store to list.Members' contract: access by role,
// invitations by email, memberships, leaving, transfers, and what a list's
// trash and deletion do to them.
func TestMembers(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, shareStores)
			}{
				{"access: owner, member, stranger, trash", testMemberAccess},
				{"invitations: by email, accepted", testInviteAccept},
				{"invitations: before the invitee signs in", testInviteUnknownEmail},
				{"invitations: owner's or member's email refused", testInviteAlreadyMember},
				{"invitations: again sets the role", testInviteAgain},
				{"invitations: only the invitee accepts or declines", testInvitationOthers},
				{"memberships: role and removal", testSetRoleRemove},
				{"transfer: the list and its tasks change hands", testTransfer},
				{"transfer: refused without a change", testTransferRefused},
				{"names: checked against the namer's lists only", testNamesByNamer},
				{"names: one of two concurrent namings lands", testNamesConcurrent},
				{"deleted list: memberships and invitations go", testMembersListDeleted},
				{"tasks: created_by and assignee_id round-trip", testTaskPeople},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, s)
				})
			}
		})
	}
}

// share is a case's people: an owner with a list, and users who signed in.
type share struct {
	t     *testing.T
	s     shareStores
	owner user.User
	list  list.ID
	tr    *tree
}

func newShare(t *testing.T, s shareStores) *share {
	t.Helper()
	tr := newTree(t, stores{tasks: s.tasks, lists: s.lists})
	sh := &share{t: t, s: s, tr: tr, owner: user.User{ID: tr.owner, Email: uniqEmail(), Name: "Owner"}}
	sh.save(sh.owner)
	sh.list = tr.list("Groceries " + uniq())
	return sh
}

func (sh *share) save(u user.User) {
	sh.t.Helper()
	if err := sh.s.users.Save(context.Background(), u); err != nil {
		sh.t.Fatalf("Save(%v) = %v", u, err)
	}
}

// user signs a new user in.
func (sh *share) user(name string) user.User {
	u := user.User{ID: newOwner(), Email: uniqEmail(), Name: name}
	sh.save(u)
	return u
}

func (sh *share) invite(email string, role list.Role) list.Invitation {
	sh.t.Helper()
	inv, err := sh.s.members.Invite(context.Background(), list.Invitation{ListID: sh.list, Email: email, Role: role, InvitedBy: sh.owner.ID, CreatedAt: sh.tr.now()})
	if err != nil {
		sh.t.Fatalf("Invite(%s, %s) = %v", email, role, err)
	}
	return inv
}

// member signs a user in, invites and makes them a member with role.
func (sh *share) member(name string, role list.Role) user.User {
	sh.t.Helper()
	u := sh.user(name)
	inv := sh.invite(u.Email, role)
	if _, err := sh.s.members.Accept(context.Background(), u.ID, inv.ID, sh.tr.now()); err != nil {
		sh.t.Fatalf("Accept = %v", err)
	}
	return u
}

func (sh *share) access(who auth.UserID) (list.Access, error) {
	return sh.s.members.Access(context.Background(), who, sh.list)
}

func (sh *share) wantRole(who auth.UserID, want list.Role) {
	sh.t.Helper()
	acc, err := sh.access(who)
	if want == "" {
		if !errors.Is(err, list.ErrNotFound) {
			sh.t.Errorf("Access(%s) = %v, %v, want ErrNotFound", who, acc, err)
		}
		return
	}
	if err != nil || acc.Role != want {
		sh.t.Errorf("Access(%s) = %v, %v, want role %s", who, acc, err, want)
	}
}

func (sh *share) members() []list.Member {
	sh.t.Helper()
	ms, err := sh.s.members.Members(context.Background(), sh.list)
	if err != nil {
		sh.t.Fatalf("Members = %v", err)
	}
	return ms
}

func testMemberAccess(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	sh.wantRole(sh.owner.ID, list.RoleOwner)
	for _, r := range list.MemberRoles() {
		u := sh.member(string(r), r)
		acc, err := sh.access(u.ID)
		if err != nil || acc != (list.Access{Owner: sh.owner.ID, Role: r}) {
			t.Errorf("Access(%s) = %+v, %v, want owner %s role %s", r, acc, err, sh.owner.ID, r)
		}
	}
	stranger := sh.user("stranger")
	sh.wantRole(stranger.ID, "")
	if _, err := s.members.Access(ctx, sh.owner.ID, sh.list+100000); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Access(missing list) = %v, want ErrNotFound", err)
	}
	// Another owner's list with the same member: no access to this one.
	other := newShare(t, s)
	sh.wantRole(other.owner.ID, "")
	if err := s.lists.Trash(ctx, sh.owner.ID, sh.list, list.AnyVersion, sh.tr.now()); err != nil {
		t.Fatal(err)
	}
	sh.wantRole(sh.owner.ID, "")
	if ms, err := s.members.Members(ctx, sh.list); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Members(trashed) = %v, %v, want ErrNotFound", ms, err)
	}
}

func testInviteAccept(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob := sh.user("Bob")
	inv := sh.invite(bob.Email, list.RoleEditor)
	if inv.ID <= 0 || inv.ListID != sh.list || inv.Role != list.RoleEditor || inv.InvitedBy != sh.owner.ID || inv.Email != bob.Email {
		t.Errorf("Invite = %+v", inv)
	}
	sh.wantRole(bob.ID, "")
	got, err := s.members.Invitations(ctx, bob.ID)
	if err != nil || len(got) != 1 || got[0].ID != inv.ID || got[0].ListName == "" || got[0].Role != list.RoleEditor {
		t.Fatalf("Invitations(bob) = %+v, %v, want the one", got, err)
	}
	if got, err := s.members.Invitations(ctx, sh.owner.ID); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Invitations(owner) = %#v, %v, want empty and not nil", got, err)
	}
	acc, err := s.members.Accept(ctx, bob.ID, inv.ID, sh.tr.now())
	if err != nil || acc.ListID != sh.list || acc.Role != list.RoleEditor {
		t.Fatalf("Accept = %+v, %v", acc, err)
	}
	sh.wantRole(bob.ID, list.RoleEditor)
	if got, _ := s.members.Invitations(ctx, bob.ID); len(got) != 0 {
		t.Errorf("Invitations after accept = %+v, want none", got)
	}
	if _, err := s.members.Accept(ctx, bob.ID, inv.ID, sh.tr.now()); !errors.Is(err, list.ErrInvitationNotFound) {
		t.Errorf("Accept again = %v, want ErrInvitationNotFound", err)
	}
	carol := sh.member("Carol", list.RoleViewer)
	ms := sh.members()
	if len(ms) != 3 || ms[0].UserID != sh.owner.ID || ms[0].Role != list.RoleOwner || ms[0].Email != sh.owner.Email || ms[0].Name != "Owner" ||
		ms[1].UserID != bob.ID || ms[1].Role != list.RoleEditor || ms[1].Email != bob.Email || ms[1].Name != "Bob" || ms[1].InvitedBy != sh.owner.ID ||
		ms[2].UserID != carol.ID || ms[2].Role != list.RoleViewer || ms[1].Since.IsZero() {
		t.Errorf("Members = %+v, want owner, bob (editor), carol (viewer)", ms)
	}
}

func testInviteUnknownEmail(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	email := uniqEmail()
	inv := sh.invite(email, list.RoleCompleter)
	dan := user.User{ID: newOwner(), Email: email, Name: "Dan"}
	if got, _ := s.members.Invitations(ctx, dan.ID); len(got) != 0 {
		t.Errorf("Invitations before sign-in = %+v, want none", got)
	}
	sh.save(dan)
	got, err := s.members.Invitations(ctx, dan.ID)
	if err != nil || len(got) != 1 || got[0].ID != inv.ID {
		t.Fatalf("Invitations after sign-in = %+v, %v", got, err)
	}
	if err := s.members.Decline(ctx, dan.ID, inv.ID); err != nil {
		t.Fatalf("Decline = %v", err)
	}
	sh.wantRole(dan.ID, "")
	if got, _ := s.members.Invitations(ctx, dan.ID); len(got) != 0 {
		t.Errorf("Invitations after decline = %+v, want none", got)
	}
	// A user without an email has no invitations.
	nobody := user.User{ID: newOwner()}
	sh.save(nobody)
	if got, err := s.members.Invitations(ctx, nobody.ID); err != nil || len(got) != 0 {
		t.Errorf("Invitations(no email) = %+v, %v", got, err)
	}
}

func testInviteAlreadyMember(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob := sh.member("Bob", list.RoleViewer)
	for _, email := range []string{sh.owner.Email, bob.Email} {
		_, err := s.members.Invite(ctx, list.Invitation{ListID: sh.list, Email: email, Role: list.RoleAdmin, InvitedBy: sh.owner.ID, CreatedAt: sh.tr.now()})
		if !errors.Is(err, list.ErrAlreadyMember) {
			t.Errorf("Invite(%s) = %v, want ErrAlreadyMember", email, err)
		}
	}
	sh.wantRole(bob.ID, list.RoleViewer)
	if got, _ := s.members.Invitations(ctx, bob.ID); len(got) != 0 {
		t.Errorf("Invitations(bob) = %+v, want none", got)
	}
	if _, err := s.members.Invite(ctx, list.Invitation{ListID: sh.list + 100000, Email: uniqEmail(), Role: list.RoleAdmin, InvitedBy: sh.owner.ID, CreatedAt: sh.tr.now()}); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Invite(missing list) = %v, want ErrNotFound", err)
	}
}

func testInviteAgain(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob := sh.user("Bob")
	first := sh.invite(bob.Email, list.RoleViewer)
	again := sh.invite(bob.Email, list.RoleEditor)
	if again.ID != first.ID || again.Role != list.RoleEditor {
		t.Errorf("Invite again = %+v, want id %d with role editor", again, first.ID)
	}
	got, _ := s.members.Invitations(ctx, bob.ID)
	if len(got) != 1 || got[0].Role != list.RoleEditor {
		t.Errorf("Invitations = %+v, want one, editor", got)
	}
	// Another list's invitation to the same email is its own.
	other := newShare(t, s)
	other.invite(bob.Email, list.RoleAdmin)
	if got, _ := s.members.Invitations(ctx, bob.ID); len(got) != 2 || got[0].ID != first.ID {
		t.Errorf("Invitations = %+v, want two, oldest first", got)
	}
}

func testInvitationOthers(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob, eve := sh.user("Bob"), sh.user("Eve")
	inv := sh.invite(bob.Email, list.RoleEditor)
	for _, who := range []auth.UserID{eve.ID, sh.owner.ID} {
		if _, err := s.members.Accept(ctx, who, inv.ID, sh.tr.now()); !errors.Is(err, list.ErrInvitationNotFound) {
			t.Errorf("Accept(%s) = %v, want ErrInvitationNotFound", who, err)
		}
		if err := s.members.Decline(ctx, who, inv.ID); !errors.Is(err, list.ErrInvitationNotFound) {
			t.Errorf("Decline(%s) = %v, want ErrInvitationNotFound", who, err)
		}
		sh.wantRole(who, map[auth.UserID]list.Role{sh.owner.ID: list.RoleOwner}[who])
	}
	if _, err := s.members.Accept(ctx, bob.ID, inv.ID+100000, sh.tr.now()); !errors.Is(err, list.ErrInvitationNotFound) {
		t.Errorf("Accept(missing) = %v, want ErrInvitationNotFound", err)
	}
	if got, _ := s.members.Invitations(ctx, bob.ID); len(got) != 1 {
		t.Errorf("Invitations(bob) = %+v, want still one", got)
	}
	// A list in the trash hides its invitations and refuses their accept.
	if err := s.lists.Trash(ctx, sh.owner.ID, sh.list, list.AnyVersion, sh.tr.now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.members.Invitations(ctx, bob.ID); len(got) != 0 {
		t.Errorf("Invitations(trashed list) = %+v, want none", got)
	}
	if _, err := s.members.Accept(ctx, bob.ID, inv.ID, sh.tr.now()); !errors.Is(err, list.ErrInvitationNotFound) {
		t.Errorf("Accept(trashed list) = %v, want ErrInvitationNotFound", err)
	}
}

func testSetRoleRemove(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob := sh.member("Bob", list.RoleViewer)
	stranger := sh.user("stranger")
	if err := s.members.SetRole(ctx, sh.list, bob.ID, list.RoleAdmin); err != nil {
		t.Fatalf("SetRole = %v", err)
	}
	sh.wantRole(bob.ID, list.RoleAdmin)
	if err := s.members.SetRole(ctx, sh.list, stranger.ID, list.RoleAdmin); !errors.Is(err, list.ErrMemberNotFound) {
		t.Errorf("SetRole(stranger) = %v, want ErrMemberNotFound", err)
	}
	sh.wantRole(stranger.ID, "")
	if err := s.members.Remove(ctx, sh.list, stranger.ID); !errors.Is(err, list.ErrMemberNotFound) {
		t.Errorf("Remove(stranger) = %v, want ErrMemberNotFound", err)
	}
	if err := s.members.Remove(ctx, sh.list, bob.ID); err != nil {
		t.Fatalf("Remove = %v", err)
	}
	sh.wantRole(bob.ID, "")
	if ms := sh.members(); len(ms) != 1 {
		t.Errorf("Members after removal = %+v, want the owner", ms)
	}
	// A removal in a transaction that fails is undone.
	carol := sh.member("Carol", list.RoleEditor)
	boom := errors.New("boom")
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.members.Remove(ctx, sh.list, carol.ID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	sh.wantRole(carol.ID, list.RoleEditor)
}

func testTransfer(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob := sh.member("Bob", list.RoleEditor)
	carol := sh.member("Carol", list.RoleViewer)
	in := sh.tr.add("in the list", lid(sh.list), nil).ID()
	sub := sh.tr.add("a subtask", lid(sh.list), tid(in)).ID()
	gone := sh.tr.add("in the trash", lid(sh.list), nil).ID()
	if err := s.tasks.Trash(ctx, sh.owner.ID, gone, task.AnyVersion, sh.tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.tasks.Update(ctx, sh.owner.ID, sub, task.AnyVersion, func(t *task.Task) error { t.ToggleCompleted(sh.tr.now()); return nil }); err != nil {
		t.Fatal(err)
	}
	inbox := sh.tr.add("the owner's own", nil, nil).ID()
	if err := s.members.Transfer(ctx, sh.list, bob.ID, sh.tr.now()); err != nil {
		t.Fatalf("Transfer = %v", err)
	}
	sh.wantRole(bob.ID, list.RoleOwner)
	sh.wantRole(sh.owner.ID, list.RoleAdmin)
	sh.wantRole(carol.ID, list.RoleViewer)
	ms := sh.members()
	if len(ms) != 3 || ms[0].UserID != bob.ID || ms[0].Role != list.RoleOwner {
		t.Errorf("Members = %+v, want bob first as the owner", ms)
	}
	for _, m := range ms[1:] {
		if m.UserID == sh.owner.ID && (m.Role != list.RoleAdmin || m.InvitedBy != bob.ID) {
			t.Errorf("old owner = %+v, want admin invited by bob", m)
		}
	}
	for _, id := range []task.ID{in, sub} {
		if got, err := s.tasks.Get(ctx, bob.ID, id); err != nil || got.CreatedBy() != sh.owner.ID {
			t.Errorf("Get(bob, %d) = %v, %v, want the task, created by the old owner", id, got, err)
		}
		// The old owner, now an admin, reads the task in bob's rows.
		if got, err := s.tasks.Get(ctx, sh.owner.ID, id); err != nil || got.Owner() != bob.ID {
			t.Errorf("Get(old owner, %d) = %v, %v, want the task, owned by bob (the owner's rows moved)", id, got, err)
		}
	}
	if _, err := s.tasks.Get(ctx, sh.owner.ID, inbox); err != nil {
		t.Errorf("Get(old owner's inbox task) = %v", err)
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, bob.ID, gone); err != nil {
		t.Errorf("RestoreFromTrash(bob, the list's trashed task) = %v", err)
	}
	sum, err := s.lists.Get(ctx, bob.ID, sh.list)
	if err != nil || sum.Open != 2 || sum.Completed != 1 || sum.List.Owner() != bob.ID {
		t.Errorf("lists.Get(bob) = %+v, %v, want 2 open, 1 completed, owned by bob", sum, err)
	}
	if _, err := s.lists.Get(ctx, sh.owner.ID, sh.list); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("lists.Get(old owner) = %v, want ErrNotFound", err)
	}
	bobs, err := s.lists.List(ctx, bob.ID)
	if err != nil || len(bobs) != 1 {
		t.Errorf("lists.List(bob) = %+v, %v, want the list", bobs, err)
	}
	st, err := s.tasks.Stats(ctx, bob.ID, task.Moment{Now: sh.tr.now()}, nil)
	if err != nil || st.Total != 3 {
		t.Errorf("Stats(bob) = %+v, %v, want 3 tasks", st, err)
	}
	// The old owner, an admin now, counts the list's tasks as a member.
	st, err = s.tasks.Stats(ctx, sh.owner.ID, task.Moment{Now: sh.tr.now()}, nil)
	if err != nil || st.Total != 4 {
		t.Errorf("Stats(old owner) = %+v, %v, want 4 tasks (the inbox's and, as a member, the list's)", st, err)
	}
	if err := s.members.Remove(ctx, sh.list, sh.owner.ID); err != nil {
		t.Fatal(err)
	}
	st, err = s.tasks.Stats(ctx, sh.owner.ID, task.Moment{Now: sh.tr.now()}, nil)
	if err != nil || st.Total != 1 {
		t.Errorf("Stats(old owner, removed) = %+v, %v, want 1 task (the inbox's)", st, err)
	}
	for _, id := range []task.ID{in, sub} {
		if _, err := s.tasks.Get(ctx, sh.owner.ID, id); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Get(old owner, removed, %d) = %v, want ErrNotFound", id, err)
		}
	}
}

func testTransferRefused(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	stranger := sh.user("stranger")
	if err := s.members.Transfer(ctx, sh.list, stranger.ID, sh.tr.now()); !errors.Is(err, list.ErrMemberNotFound) {
		t.Errorf("Transfer(stranger) = %v, want ErrMemberNotFound", err)
	}
	sh.wantRole(sh.owner.ID, list.RoleOwner)
}

// rename has by rename owner's list id to name.
func (sh *share) rename(by, owner auth.UserID, id list.ID, name string) error {
	_, err := sh.s.lists.Update(context.Background(), by, owner, id, list.AnyVersion, func(l *list.List) error {
		return l.Edit(name, l.Color(), sh.tr.now())
	})
	return err
}

// names returns the names of user's own live lists.
func (sh *share) names(user auth.UserID) []string {
	sh.t.Helper()
	ls, err := sh.s.lists.List(context.Background(), user)
	if err != nil {
		sh.t.Fatal(err)
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.List.Name()
	}
	return out
}

// testNamesByNamer: a name is checked against the lists of whoever gives
// it, and nothing else (list.NameKey): an admin's rename never tells them
// the owner's private list names, a hand-over never tells the old owner
// the new one's.
func testNamesByNamer(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	private := "Private " + uniq()
	mine := sh.tr.list(private)
	carol := sh.member("Carol", list.RoleAdmin)
	carols := "Carol's " + uniq()
	cl, _ := list.New(carol.ID, carols, nil, sh.tr.now())
	cs, err := s.lists.Add(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	// The admin renames the shared list to the owner's private name: it
	// lands, as a free name would.
	if err := sh.rename(carol.ID, sh.owner.ID, sh.list, strings.ToUpper(private)); err != nil {
		t.Errorf("admin's rename to the owner's private name = %v, want it to land", err)
	}
	// To one of their own lists' names: refused, nothing changed.
	if err := sh.rename(carol.ID, sh.owner.ID, sh.list, carols); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("admin's rename to their own list's name = %v, want ErrNameTaken", err)
	}
	if got, err := s.lists.Get(ctx, sh.owner.ID, sh.list); err != nil || got.List.Name() != strings.ToUpper(private) {
		t.Errorf("the shared list = %v, %v, want it named %q still", got.List, err, strings.ToUpper(private))
	}
	// The owner holds two lists of one name now: either keeps it (a
	// recolor, a change of case) without a refusal; a new list, or a
	// rename to it of another list, is refused as ever.
	if _, err := s.lists.Update(ctx, sh.owner.ID, sh.owner.ID, sh.list, list.AnyVersion, func(l *list.List) error {
		return l.Edit(l.Name(), ptr("#00ff00"), sh.tr.now())
	}); err != nil {
		t.Errorf("owner's recolor of a list whose name another of theirs has = %v", err)
	}
	if err := sh.rename(sh.owner.ID, sh.owner.ID, mine, strings.ToLower(private)); err != nil {
		t.Errorf("owner's change of case = %v", err)
	}
	l, _ := list.New(sh.owner.ID, private, nil, sh.tr.now())
	if _, err := s.lists.Add(ctx, l); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("owner's Add(%q) = %v, want ErrNameTaken", private, err)
	}
	other := sh.tr.list("Other " + uniq())
	if err := sh.rename(sh.owner.ID, sh.owner.ID, other, private); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("owner's rename to their own name = %v, want ErrNameTaken", err)
	}
	// The admin's own list may take the name of the shared one (not theirs).
	if err := sh.rename(carol.ID, carol.ID, cs.List.ID(), private); err != nil {
		t.Errorf("admin's rename of their list to the shared list's name = %v", err)
	}
	// A hand-over to a member who owns a list of that name lands.
	bob := sh.member("Bob", list.RoleEditor)
	bl, _ := list.New(bob.ID, private, nil, sh.tr.now())
	if _, err := s.lists.Add(ctx, bl); err != nil {
		t.Fatal(err)
	}
	if err := s.members.Transfer(ctx, sh.list, bob.ID, sh.tr.now()); err != nil {
		t.Fatalf("Transfer to a member owning a list of that name = %v, want it to land", err)
	}
	sh.wantRole(bob.ID, list.RoleOwner)
	if got := sh.names(bob.ID); len(got) != 2 || list.NameKey(got[0]) != list.NameKey(got[1]) {
		t.Errorf("bob's lists = %q, want two of one name", got)
	}
	// Trashed and restored, a list whose name another list of its owner
	// has is refused as ever (the owner names it again).
	if err := s.lists.Trash(ctx, bob.ID, sh.list, list.AnyVersion, sh.tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.lists.Restore(ctx, bob.ID, sh.list); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("Restore while another of bob's lists has the name = %v, want ErrNameTaken", err)
	}
}

// testNamesConcurrent: the check holds under concurrency with no unique
// index behind it (the namer's scope lock does it): two creates of one
// name by one user, or two renames of two of their lists to one name, at
// once: one lands and the other is ErrNameTaken, every round. (An admin's
// rename of a shared list checks the admin's own lists, which the shared
// list is not among: it races with nothing of theirs.)
func testNamesConcurrent(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	carol := sh.member("Carol", list.RoleAdmin)
	add := func(name string, at time.Time) func() error {
		return func() error {
			l, _ := list.New(carol.ID, name, nil, at)
			_, err := s.lists.Add(ctx, l)
			return err
		}
	}
	rename := func(id list.ID, name string, at time.Time) func() error {
		return func() error {
			_, err := s.lists.Update(ctx, carol.ID, carol.ID, id, list.AnyVersion, func(l *list.List) error { return l.Edit(name, nil, at) })
			return err
		}
	}
	newList := func(name string) list.ID {
		l, _ := list.New(carol.ID, name, nil, sh.tr.now())
		sum, err := s.lists.Add(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		return sum.List.ID()
	}
	for round := range 10 {
		name := fmt.Sprintf("Same %d %s", round, uniq())
		a, b := newList(name+" a"), newList(name+" b")
		for _, pair := range [][2]func() error{
			{add(name, sh.tr.now()), add(strings.ToUpper(name), sh.tr.now())},
			{rename(a, name+" c", sh.tr.now()), rename(b, name+" C", sh.tr.now())},
		} {
			var errs [2]error
			var wg sync.WaitGroup
			for i := range pair {
				wg.Go(func() { errs[i] = pair[i]() })
			}
			wg.Wait()
			landed := 0
			for _, err := range errs {
				switch {
				case err == nil:
					landed++
				case !errors.Is(err, list.ErrNameTaken):
					t.Errorf("round %d: %v, want nil or ErrNameTaken", round, err)
				}
			}
			if landed != 1 {
				t.Errorf("round %d: %v: %d landed, want exactly 1", round, errs, landed)
			}
		}
	}
}

func testMembersListDeleted(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob := sh.member("Bob", list.RoleEditor)
	carol := sh.user("Carol")
	sh.invite(carol.Email, list.RoleViewer)
	if err := s.lists.Delete(ctx, sh.owner.ID, sh.list, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	sh.wantRole(bob.ID, "")
	if got, _ := s.members.Invitations(ctx, carol.ID); len(got) != 0 {
		t.Errorf("Invitations after delete = %+v", got)
	}
}

func testTaskPeople(t *testing.T, s shareStores) {
	ctx := context.Background()
	sh := newShare(t, s)
	bob := sh.member("Bob", list.RoleEditor)
	mine := sh.tr.add("the owner's", lid(sh.list), nil)
	if mine.CreatedBy() != sh.owner.ID || mine.Assignee() != nil {
		t.Errorf("Add = created by %s, assigned to %v; want the owner, nobody", mine.CreatedBy(), mine.Assignee())
	}
	bobs := sh.tr.add("bob's", lid(sh.list), nil, task.CreatedBy(bob.ID), task.AssignTo(&bob.ID))
	got, err := s.tasks.Get(ctx, sh.owner.ID, bobs.ID())
	if err != nil || got.CreatedBy() != bob.ID || got.Assignee() == nil || *got.Assignee() != bob.ID || got.Owner() != sh.owner.ID {
		t.Fatalf("Get = %+v, %v; want owned by the owner, created by and assigned to bob", got, err)
	}
	for _, q := range []task.Query{{Assignee: &bob.ID}, {Assignee: &bob.ID, Limit: 1, Statuses: []task.Status{task.StatusPending}}, {Assignee: &bob.ID, List: lid(sh.list)}} {
		page, err := s.tasks.List(ctx, sh.owner.ID, q)
		if err != nil || len(page.Tasks) != 1 || page.Tasks[0].ID() != bobs.ID() || page.Total != 1 {
			t.Errorf("List(assignee bob, %+v) = %+v, %v; want bob's task", q, page, err)
		}
	}
	if page, err := s.tasks.List(ctx, sh.owner.ID, task.Query{Assignee: &sh.owner.ID}); err != nil || len(page.Tasks) != 0 {
		t.Errorf("List(assignee owner) = %+v, %v; want none", page, err)
	}
	up, err := s.tasks.Update(ctx, sh.owner.ID, mine.ID(), task.AnyVersion, func(tk *task.Task) error {
		return tk.Edit(tk.Title(), tk.Description(), sh.tr.now(), task.AssignTo(&bob.ID))
	})
	if err != nil || up.Assignee() == nil || *up.Assignee() != bob.ID || up.Version() != 2 {
		t.Fatalf("Update(assign) = %+v, %v", up, err)
	}
	up, err = s.tasks.Update(ctx, sh.owner.ID, mine.ID(), task.AnyVersion, func(tk *task.Task) error {
		return tk.Edit(tk.Title(), tk.Description(), sh.tr.now(), task.AssignTo(nil))
	})
	if err != nil || up.Assignee() != nil || up.Version() != 3 {
		t.Fatalf("Update(unassign) = %+v, %v", up, err)
	}
	if got, _ := s.tasks.Get(ctx, sh.owner.ID, mine.ID()); got.Assignee() != nil || got.CreatedBy() != sh.owner.ID {
		t.Errorf("Get after unassign = %+v", got)
	}
}
