package contract

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/user"
)

// TestSidebar holds every store to issue 19's personal sidebar: a user's
// own lists and the lists shared with them are in one order that is
// theirs. Accepting an invitation puts the list at the bottom; any member
// (a viewer too) moves a shared list among their lists without changing
// the owner's order, another member's, or the list's version; a removed
// member or a stranger cannot, nor can anyone move next to a list they do
// not see.
func TestSidebar(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, shareStores)
			}{
				{"accept puts the list at the bottom", testSidebarAccept},
				{"a member's move is theirs alone", testSidebarMemberMove},
				{"refused moves", testSidebarRefused},
				{"a transfer keeps both sidebars", testSidebarTransfer},
				{"long keys rebalance the whole sidebar", testSidebarRebalance},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, s)
				})
			}
		})
	}
}

// sidebarCase is an owner with lists, the first one shared, and the
// service.
type sidebarCase struct {
	t     *testing.T
	svc   *application.Service
	sh    *share
	owner application.Actor
}

func newSidebarCase(t *testing.T, s shareStores) *sidebarCase {
	t.Helper()
	sh := newShare(t, s)
	c := &sidebarCase{t: t, svc: sharedService(s), sh: sh}
	c.owner = c.actor(sh.owner)
	return c
}

func (c *sidebarCase) actor(u user.User) application.Actor {
	c.t.Helper()
	a, err := c.svc.Authorize(context.Background(), auth.Identity{UserID: u.ID, Email: u.Email, Name: u.Name}, string(u.ID))
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

// create adds a list of a's, named name.
func (c *sidebarCase) create(a application.Actor, name string) list.ID {
	c.t.Helper()
	l, err := c.svc.CreateList(context.Background(), a, name+" "+uniq(), nil)
	if err != nil {
		c.t.Fatalf("CreateList(%s) = %v", name, err)
	}
	return l.List.ID()
}

// sidebar is a's GET /lists: the ids in order, and each list as a sees it.
func (c *sidebarCase) sidebar(a application.Actor) ([]list.ID, map[list.ID]list.Shared) {
	c.t.Helper()
	ls, err := c.svc.Sidebar(context.Background(), a)
	if err != nil {
		c.t.Fatalf("Sidebar = %v", err)
	}
	ids := make([]list.ID, len(ls))
	byID := map[list.ID]list.Shared{}
	for i, l := range ls {
		ids[i] = l.List.ID()
		byID[l.List.ID()] = l
		if i > 0 && ls[i-1].List.Position() >= l.List.Position() {
			c.t.Errorf("Sidebar: %d at %q after %d at %q: positions not increasing", l.List.ID(), l.List.Position(),
				ls[i-1].List.ID(), ls[i-1].List.Position())
		}
	}
	return ids, byID
}

func (c *sidebarCase) wantOrder(what string, a application.Actor, want ...list.ID) map[list.ID]list.Shared {
	c.t.Helper()
	got, byID := c.sidebar(a)
	if !slices.Equal(got, want) {
		c.t.Errorf("%s: sidebar %v, want %v", what, got, want)
	}
	return byID
}

func (c *sidebarCase) move(a application.Actor, id list.ID, expect list.Version, to list.Anchor) (list.Shared, error) {
	return c.svc.MoveList(context.Background(), a, id, expect, to)
}

func (c *sidebarCase) mustMove(what string, a application.Actor, id list.ID, to list.Anchor) list.Shared {
	c.t.Helper()
	got, err := c.move(a, id, list.AnyVersion, to)
	if err != nil {
		c.t.Fatalf("%s: MoveList = %v", what, err)
	}
	return got
}

func after(id list.ID) list.Anchor  { return list.Anchor{After: &id} }
func before(id list.ID) list.Anchor { return list.Anchor{Before: &id} }

func testSidebarAccept(t *testing.T, s shareStores) {
	c := newSidebarCase(t, s)
	shared := c.sh.list
	other := c.create(c.owner, "other")
	u := c.sh.user("member")
	m := c.actor(u)
	a, b := c.create(m, "a"), c.create(m, "b")
	c.mustMove("own move before sharing", m, b, list.Anchor{}) // b, a
	c.wantOrder("member before sharing", m, b, a)

	inv := c.sh.invite(u.Email, list.RoleViewer)
	if _, err := c.svc.AcceptInvitation(context.Background(), m, inv.ID); err != nil {
		t.Fatalf("AcceptInvitation = %v", err)
	}
	byID := c.wantOrder("member after accepting", m, b, a, shared)
	if got := byID[shared]; got.Role != list.RoleViewer || got.List.Owner() != c.sh.owner.ID {
		t.Errorf("shared list in the member's sidebar: role %s, owner %s", got.Role, got.List.Owner())
	}
	// A list the member creates later goes below it.
	d := c.create(m, "d")
	c.wantOrder("member after a new list", m, b, a, shared, d)
	c.wantOrder("owner", c.owner, shared, other)
}

func testSidebarMemberMove(t *testing.T, s shareStores) {
	ctx := context.Background()
	c := newSidebarCase(t, s)
	shared := c.sh.list
	o2, o3 := c.create(c.owner, "o2"), c.create(c.owner, "o3")
	viewer := c.actor(c.sh.member("viewer", list.RoleViewer))
	editor := c.actor(c.sh.member("editor", list.RoleEditor))
	a, b := c.create(viewer, "a"), c.create(viewer, "b")
	c.wantOrder("viewer", viewer, shared, a, b)
	owned, err := c.svc.GetList(ctx, c.owner, shared)
	if err != nil {
		t.Fatal(err)
	}
	ownerBefore, _ := c.sidebar(c.owner)
	editorBefore, editorLists := c.sidebar(editor)

	got := c.mustMove("viewer: after own b", viewer, shared, after(b))
	if got.List.Version() != owned.List.Version() || !got.List.UpdatedAt().Equal(owned.List.UpdatedAt()) || got.Role != list.RoleViewer {
		t.Errorf("member's move = version %d updated %v role %s; want the list's version %d and updated_at %v unchanged, role viewer",
			got.List.Version(), got.List.UpdatedAt(), got.Role, owned.List.Version(), owned.List.UpdatedAt())
	}
	byID := c.wantOrder("viewer after the move", viewer, a, b, shared)
	if byID[shared].List.Position() != got.List.Position() {
		t.Errorf("sidebar position %q, move answered %q", byID[shared].List.Position(), got.List.Position())
	}
	if one, err := c.svc.GetList(ctx, viewer, shared); err != nil || one.List.Position() != got.List.Position() || one.Role != list.RoleViewer {
		t.Errorf("GetList as the viewer = %q %s, %v; want position %q", one.List.Position(), one.Role, err, got.List.Position())
	}
	c.mustMove("viewer: top", viewer, shared, list.Anchor{})
	c.wantOrder("viewer at the top", viewer, shared, a, b)
	c.mustMove("viewer: before own b", viewer, shared, before(b))
	c.wantOrder("viewer before b", viewer, a, shared, b)
	// The member's own lists move around the shared one too.
	c.mustMove("viewer: own a after the shared list", viewer, a, after(shared))
	c.wantOrder("viewer, a after shared", viewer, shared, a, b)
	c.mustMove("viewer: own b before the shared list", viewer, b, before(shared))
	c.wantOrder("viewer, b before shared", viewer, b, shared, a)
	// With If-Match: the list's version, which the move leaves.
	if _, err := c.move(viewer, shared, owned.List.Version()+1, list.Anchor{}); !errors.Is(err, list.ErrVersionMismatch) {
		t.Errorf("member's move at a stale version = %v, want ErrVersionMismatch", err)
	}
	c.mustMove("viewer: top at the version", viewer, shared, list.Anchor{})
	if _, err := c.move(viewer, shared, owned.List.Version(), after(a)); err != nil {
		t.Errorf("member's move at the list's version = %v", err)
	}
	c.wantOrder("viewer at the end", viewer, b, a, shared)

	// Nobody else's sidebar moved, and the list is as it was.
	c.wantOrder("owner", c.owner, ownerBefore...)
	c.wantOrder("editor", editor, editorBefore...)
	now, err := c.svc.GetList(ctx, c.owner, shared)
	if err != nil || now.List.Version() != owned.List.Version() || now.List.Position() != owned.List.Position() {
		t.Errorf("owner's list after members' moves = version %d at %q, %v; want version %d at %q",
			now.List.Version(), now.List.Position(), err, owned.List.Version(), owned.List.Position())
	}
	// The owner's If-Match still holds, and the owner's move is theirs.
	if _, err := c.move(c.owner, shared, owned.List.Version(), after(o3)); err != nil {
		t.Errorf("owner's move at the version before the members' moves = %v", err)
	}
	c.wantOrder("owner after their move", c.owner, o2, o3, shared)
	c.wantOrder("viewer after the owner's move", viewer, b, a, shared)
	_, byID = c.sidebar(editor)
	if byID[shared].List.Position() != editorLists[shared].List.Position() {
		t.Errorf("editor's place %q after the owner's move, want %q", byID[shared].List.Position(), editorLists[shared].List.Position())
	}
}

func testSidebarRefused(t *testing.T, s shareStores) {
	ctx := context.Background()
	c := newSidebarCase(t, s)
	shared := c.sh.list
	private := c.create(c.owner, "private")
	viewer := c.actor(c.sh.member("viewer", list.RoleViewer))
	own := c.create(viewer, "own")
	removedUser := c.sh.member("removed", list.RoleEditor)
	removed := c.actor(removedUser)
	if err := s.members.Remove(ctx, shared, removedUser.ID); err != nil {
		t.Fatal(err)
	}
	stranger := c.actor(c.sh.user("stranger"))
	ownerBefore, _ := c.sidebar(c.owner)
	viewerBefore, _ := c.sidebar(viewer)
	missing := list.ID(1 << 50)
	for _, tc := range []struct {
		what string
		a    application.Actor
		id   list.ID
		to   list.Anchor
		want func(error) bool
	}{
		{"removed member", removed, shared, list.Anchor{}, notFound},
		{"stranger", stranger, shared, list.Anchor{}, notFound},
		{"member, after the owner's private list", viewer, shared, after(private), notFound},
		{"member, before a missing list", viewer, shared, before(missing), notFound},
		{"member, own list after the owner's private list", viewer, own, after(private), notFound},
		{"member, after itself", viewer, shared, after(shared), isValidation},
		{"member, both anchors", viewer, shared, list.Anchor{After: &own, Before: &own}, isValidation},
		{"owner, after a list shared with someone else", c.owner, private, after(own), notFound},
	} {
		if _, err := c.move(tc.a, tc.id, list.AnyVersion, tc.to); !tc.want(err) {
			t.Errorf("%s: MoveList = %v", tc.what, err)
		}
	}
	c.wantOrder("owner", c.owner, ownerBefore...)
	c.wantOrder("viewer", viewer, viewerBefore...)
	if _, err := c.svc.GetList(ctx, removed, shared); !notFound(err) {
		t.Errorf("GetList as the removed member = %v", err)
	}
}

func notFound(err error) bool { return errors.Is(err, list.ErrNotFound) }

func testSidebarTransfer(t *testing.T, s shareStores) {
	c := newSidebarCase(t, s)
	shared := c.sh.list
	o2 := c.create(c.owner, "o2")
	c.mustMove("owner: shared after o2", c.owner, shared, after(o2))
	u := c.sh.member("admin", list.RoleAdmin)
	admin := c.actor(u)
	x, y := c.create(admin, "x"), c.create(admin, "y")
	placed := c.mustMove("admin: shared between x and y", admin, shared, after(x))
	c.wantOrder("admin before", admin, x, shared, y)
	// An admin's rename answers the list at the admin's place, its 412 too.
	name := "Renamed " + uniq()
	edited, err := c.svc.EditList(context.Background(), admin, shared, list.AnyVersion, application.ListPatch{Name: &name})
	if err != nil || edited.List.Position() != placed.List.Position() {
		t.Errorf("admin's EditList = %q, %v; want the admin's position %q", edited.List.Position(), err, placed.List.Position())
	}
	_, err = c.svc.EditList(context.Background(), admin, shared, edited.List.Version()+1, application.ListPatch{Name: &name})
	if ce, ok := errors.AsType[*list.ConflictError](err); !ok || ce.Current.List.Position() != placed.List.Position() {
		t.Errorf("admin's EditList at a stale version = %v; want a ConflictError at the admin's position %q", err, placed.List.Position())
	}
	if _, err := c.svc.SetMemberRole(context.Background(), c.owner, shared, u.ID, string(list.RoleOwner)); err != nil {
		t.Fatalf("SetMemberRole(owner) = %v", err)
	}
	byID := c.wantOrder("new owner", admin, x, shared, y)
	if byID[shared].Role != list.RoleOwner {
		t.Errorf("new owner's role %s", byID[shared].Role)
	}
	byID = c.wantOrder("old owner", c.owner, o2, shared)
	if byID[shared].Role != list.RoleAdmin {
		t.Errorf("old owner's role %s", byID[shared].Role)
	}
}

// testSidebarRebalance moves a member's shared list and own list, in turn,
// right after the same list until the keys grow past
// position.RebalanceLen: the member's sidebar is re-keyed, own and shared
// lists together, in the same order, and nobody else's changes.
func testSidebarRebalance(t *testing.T, s shareStores) {
	c := newSidebarCase(t, s)
	shared := c.sh.list
	c.create(c.owner, "o2")
	editor := c.actor(c.sh.member("editor", list.RoleEditor))
	viewer := c.actor(c.sh.member("viewer", list.RoleViewer))
	a, b, z := c.create(viewer, "a"), c.create(viewer, "b"), c.create(viewer, "z")
	ownerBefore, _ := c.sidebar(c.owner)
	editorBefore, editorLists := c.sidebar(editor)
	longest, rebalanced := 0, 0
	for i := range 300 {
		id := shared
		if i%2 == 1 {
			id = b
		}
		got := c.mustMove("after a", viewer, id, after(a))
		k := len(got.List.Position())
		if longest > 40 && k <= len(position.Rebalanced(0)) {
			rebalanced++
			longest = 0
		}
		longest = max(longest, k)
		if i%50 == 49 {
			want := []list.ID{a, b, shared, z}
			if i%2 == 0 {
				want = []list.ID{a, shared, b, z}
			}
			c.wantOrder("viewer while moving", viewer, want...)
		}
	}
	if rebalanced == 0 {
		t.Errorf("keys grew to %d characters and never went back: the test never rebalanced", longest)
	}
	byID := c.wantOrder("viewer after the moves", viewer, a, b, shared, z)
	for id, l := range byID {
		if len(l.List.Position()) > position.RebalanceLen {
			t.Errorf("list %d at %q: not rebalanced", id, l.List.Position())
		}
	}
	c.wantOrder("owner", c.owner, ownerBefore...)
	_, now := c.sidebar(editor)
	c.wantOrder("editor", editor, editorBefore...)
	if now[shared].List.Position() != editorLists[shared].List.Position() {
		t.Errorf("editor's place %q, want %q", now[shared].List.Position(), editorLists[shared].List.Position())
	}
}

// TestSidebarFeed: a member's move is a change of the list in that
// member's feed only, the list at their place; every reader's feed shows
// the list at that reader's own place, after the owner's move too.
func TestSidebarFeed(t *testing.T) {
	t.Parallel()
	for name, open := range changeStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := context.Background()
			tr := newTree(t, s.stores)
			owner, m, e := tr.owner, newOwner(), newOwner()
			l, other := tr.list("Groceries"), tr.list("Other")
			// m has a list of their own, above which the move puts l.
			mine, err := list.New(m, "Mine", nil, tr.now())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.lists.Add(ctx, mine); err != nil {
				t.Fatal(err)
			}
			s.member(t, l, m, true)
			s.member(t, l, e, true)
			head := func(u auth.UserID) application.Seq {
				t.Helper()
				h, err := s.feed.Head(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				return h
			}
			// placeIn is the position of list l in u's feed since since,
			// and how many changes there are.
			placeIn := func(u auth.UserID, since application.Seq) (string, int) {
				t.Helper()
				p, err := s.feed.Changes(ctx, u, since, 1000, false)
				if err != nil {
					t.Fatal(err)
				}
				at := ""
				for _, ch := range p.Changes {
					if ch.Entity == application.EntityList && ch.ID == int64(l) && ch.List != nil {
						at = ch.List.List.Position()
					}
				}
				return at, len(p.Changes)
			}
			ho, hm, he := head(owner), head(m), head(e)
			ownerAt, _ := placeIn(owner, 0)
			eAt, _ := placeIn(e, 0)
			got, err := s.members.Place(ctx, m, l, list.AnyVersion, list.Anchor{})
			if err != nil {
				t.Fatalf("Place = %v", err)
			}
			if head(owner) != ho || head(e) != he {
				t.Errorf("a member's move moved the owner's head %d -> %d or another member's %d -> %d", ho, head(owner), he, head(e))
			}
			if at, n := placeIn(m, hm); n != 1 || at != got.List.Position() {
				t.Errorf("member's feed after their move: %d changes, the list at %q; want 1, at %q", n, at, got.List.Position())
			}
			if at, _ := placeIn(owner, 0); at != ownerAt {
				t.Errorf("owner's feed: the list at %q, want %q", at, ownerAt)
			}
			moved, err := s.lists.Move(ctx, owner, l, list.AnyVersion, list.Anchor{After: &other}, tr.now())
			if err != nil {
				t.Fatalf("owner's Move = %v", err)
			}
			for u, want := range map[auth.UserID]string{owner: moved.List.Position(), m: got.List.Position(), e: eAt} {
				if at, _ := placeIn(u, 0); at != want {
					t.Errorf("after the owner's move, %s's feed has the list at %q, want %q", u, at, want)
				}
			}
		})
	}
}

// TestSidebarConcurrent: on every store, a member placing a shared list
// and their own lists over and over, while the owner hands the list over
// to them and back and another member is removed, never fails but with
// list.ErrNotFound (the list changed hands under the move) and never
// deadlocks; at the end each sidebar's keys are distinct and in order.
func TestSidebarConcurrent(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newSidebarCase(t, open(t))
			shared := c.sh.list
			o2 := c.create(c.owner, "o2")
			u := c.sh.member("admin", list.RoleAdmin)
			m := c.actor(u)
			x, y := c.create(m, "x"), c.create(m, "y")
			other := c.sh.member("other", list.RoleViewer)
			done := make(chan error, 3)
			go func() {
				var err error
				for i := range 40 {
					anchors := []list.Anchor{after(x), before(y), {}, after(o2)}
					if _, e := c.move(m, shared, list.AnyVersion, anchors[i%len(anchors)]); e != nil && !notFound(e) {
						err = e
					}
				}
				done <- err
			}()
			go func() {
				var err error
				for i := range 40 {
					id, to := x, after(shared)
					if i%2 == 1 {
						id, to = y, before(shared)
					}
					if _, e := c.move(m, id, list.AnyVersion, to); e != nil && !notFound(e) {
						err = e
					}
				}
				done <- err
			}()
			go func() {
				if _, err := c.svc.SetMemberRole(ctx, c.owner, shared, u.ID, string(list.RoleOwner)); err != nil {
					done <- err
					return
				}
				if _, err := c.svc.SetMemberRole(ctx, m, shared, c.sh.owner.ID, string(list.RoleOwner)); err != nil {
					done <- err
					return
				}
				done <- c.svc.RemoveMember(ctx, c.owner, shared, other.ID)
			}()
			for range 3 {
				if err := <-done; err != nil {
					t.Errorf("concurrent: %v", err)
				}
			}
			c.sidebar(m) // positions strictly increasing
			c.sidebar(c.owner)
		})
	}
}
