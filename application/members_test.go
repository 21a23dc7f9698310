package application_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
)

// sharing is a service on the memory store with one list of alice's,
// shared with a member of each role.
type sharing struct {
	s      *application.Service
	list   list.ID
	actors map[list.Role]application.Actor
	ids    map[list.Role]auth.Identity
}

func newSharing(t *testing.T) *sharing {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: start}
	store := memory.NewStore()
	s := application.New(store.Tasks(), store.Users(), c.now, application.WithLists(store.Lists()),
		application.WithMembers(store.Members()), application.WithTransactor(store))
	sh := &sharing{s: s, actors: map[list.Role]application.Actor{}, ids: map[list.Role]auth.Identity{list.RoleOwner: alice}}
	sh.actors[list.RoleOwner] = authorize(t, s, alice)
	l, err := s.CreateList(ctx, sh.actors[list.RoleOwner], "Groceries", nil)
	if err != nil {
		t.Fatal(err)
	}
	sh.list = l.List.ID()
	for _, r := range list.MemberRoles() {
		id := auth.Identity{UserID: auth.UserID("u_" + string(r)), Email: string(r) + "@example.com", Name: string(r)}
		sh.ids[r], sh.actors[r] = id, authorize(t, s, id)
		sh.join(t, r, r)
	}
	return sh
}

// join has alice invite role's user with role given, and them accept.
func (sh *sharing) join(t *testing.T, who, given list.Role) {
	t.Helper()
	ctx := context.Background()
	inv, err := sh.s.InviteMember(ctx, sh.actors[list.RoleOwner], sh.list, sh.ids[who].Email, string(given))
	if err != nil {
		t.Fatalf("InviteMember(%s) = %v", who, err)
	}
	if _, err := sh.s.AcceptInvitation(ctx, sh.actors[who], inv.ID); err != nil {
		t.Fatalf("AcceptInvitation(%s) = %v", who, err)
	}
}

// TestMemberRules tries every role at every member use case against every
// other role: what CanSetRole and Allows decide, the use cases do, and a
// refusal is list.ErrNotFound whatever refused.
func TestMemberRules(t *testing.T) {
	ctx := context.Background()
	for _, actor := range list.Roles() {
		for _, target := range list.MemberRoles() {
			if actor == target {
				continue
			}
			for _, to := range list.MemberRoles() {
				t.Run(fmt.Sprintf("%s sets %s to %s", actor, target, to), func(t *testing.T) {
					sh := newSharing(t)
					m, err := sh.s.SetMemberRole(ctx, sh.actors[actor], sh.list, sh.ids[target].UserID, string(to))
					if actor.CanSetRole(target, to) {
						if err != nil || m.Role != to {
							t.Errorf("SetMemberRole = %+v, %v, want role %s", m, err, to)
						}
					} else if !errors.Is(err, list.ErrNotFound) {
						t.Errorf("SetMemberRole = %+v, %v, want ErrNotFound", m, err)
					}
				})
			}
			t.Run(fmt.Sprintf("%s removes %s", actor, target), func(t *testing.T) {
				sh := newSharing(t)
				err := sh.s.RemoveMember(ctx, sh.actors[actor], sh.list, sh.ids[target].UserID)
				_, after := sh.s.ListAccess(ctx, sh.actors[target], sh.list, list.ActRead)
				if actor.CanSetRole(target, "") {
					if err != nil || !errors.Is(after, list.ErrNotFound) {
						t.Errorf("RemoveMember = %v, then access %v; want removed", err, after)
					}
				} else if !errors.Is(err, list.ErrNotFound) || after != nil {
					t.Errorf("RemoveMember = %v, then access %v; want ErrNotFound and still a member", err, after)
				}
			})
		}
		for _, r := range list.MemberRoles() {
			t.Run(fmt.Sprintf("%s invites a %s", actor, r), func(t *testing.T) {
				sh := newSharing(t)
				_, err := sh.s.InviteMember(ctx, sh.actors[actor], sh.list, "new@example.com", string(r))
				if actor.CanSetRole("", r) != (err == nil) || err != nil && !errors.Is(err, list.ErrNotFound) {
					t.Errorf("InviteMember = %v, want allowed %v", err, actor.CanSetRole("", r))
				}
			})
		}
		t.Run(fmt.Sprintf("%s reads the members", actor), func(t *testing.T) {
			sh := newSharing(t)
			ms, err := sh.s.ListMembers(ctx, sh.actors[actor], sh.list)
			if err != nil || len(ms) != 5 || ms[0].Role != list.RoleOwner || ms[0].Email != alice.Email {
				t.Errorf("ListMembers = %+v, %v", ms, err)
			}
		})
		if actor != list.RoleOwner {
			t.Run(fmt.Sprintf("%s leaves", actor), func(t *testing.T) {
				sh := newSharing(t)
				if err := sh.s.RemoveMember(ctx, sh.actors[actor], sh.list, sh.ids[actor].UserID); err != nil {
					t.Fatalf("leave = %v", err)
				}
				if _, err := sh.s.ListMembers(ctx, sh.actors[actor], sh.list); !errors.Is(err, list.ErrNotFound) {
					t.Errorf("ListMembers after leaving = %v, want ErrNotFound", err)
				}
			})
			t.Run(fmt.Sprintf("%s cannot transfer", actor), func(t *testing.T) {
				sh := newSharing(t)
				_, err := sh.s.SetMemberRole(ctx, sh.actors[actor], sh.list, sh.ids[list.RoleViewer].UserID, "owner")
				if !errors.Is(err, list.ErrNotFound) {
					t.Errorf("transfer = %v, want ErrNotFound", err)
				}
			})
		}
	}
}

func TestMemberEdgeCases(t *testing.T) {
	ctx := context.Background()
	sh := newSharing(t)
	owner := sh.actors[list.RoleOwner]
	var ve *check.ValidationError
	if err := sh.s.RemoveMember(ctx, owner, sh.list, alice.UserID); !errors.As(err, &ve) || ve.Problems[0].Field != "member_user_id" {
		t.Errorf("owner leaves = %v, want a ValidationError on member_user_id", err)
	}
	if _, err := sh.s.InviteMember(ctx, owner, sh.list, "not an email", "boss"); !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Errorf("InviteMember(bad email, bad role) = %v, want two problems", err)
	}
	if _, err := sh.s.InviteMember(ctx, owner, sh.list, "VIEWER@Example.com", "editor"); !errors.Is(err, list.ErrAlreadyMember) {
		t.Errorf("InviteMember(a member's email, other case) = %v, want ErrAlreadyMember", err)
	}
	if _, err := sh.s.SetMemberRole(ctx, owner, sh.list, "u_nobody", "viewer"); !errors.Is(err, list.ErrMemberNotFound) {
		t.Errorf("SetMemberRole(stranger) = %v, want ErrMemberNotFound", err)
	}
	if _, err := sh.s.SetMemberRole(ctx, owner, sh.list, sh.ids[list.RoleViewer].UserID, "boss"); !errors.As(err, &ve) {
		t.Errorf("SetMemberRole(boss) = %v, want a ValidationError", err)
	}
	stranger := authorize(t, sh.s, bob)
	if _, err := sh.s.ListMembers(ctx, stranger, sh.list); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("ListMembers(stranger) = %v, want ErrNotFound", err)
	}
	// The owner hands the list to the editor, and becomes an admin.
	m, err := sh.s.SetMemberRole(ctx, owner, sh.list, sh.ids[list.RoleEditor].UserID, "owner")
	if err != nil || m.Role != list.RoleOwner {
		t.Fatalf("transfer = %+v, %v", m, err)
	}
	if acc, err := sh.s.ListAccess(ctx, owner, sh.list, list.ActRead); err != nil || acc.Role != list.RoleAdmin || acc.Owner != sh.ids[list.RoleEditor].UserID {
		t.Errorf("old owner's access = %+v, %v, want admin", acc, err)
	}
	if err := sh.s.RemoveMember(ctx, owner, sh.list, alice.UserID); err != nil {
		t.Errorf("old owner leaves = %v", err)
	}
}
