package application

import (
	"context"
	"errors"
	"slices"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The use cases of shared lists' members and invitations (issue 19). Every
// decision is list.Role's (Allows, CanSetRole); a caller whose role does not
// allow a step gets list.ErrNotFound, the answer for a list that does not
// exist, so that no answer tells which rule refused.

// ErrNoMembers means the service was built without WithMembers: a wiring
// mistake, not a client's.
var ErrNoMembers = errors.New("application: no members repository (WithMembers)")

// WithMembers gives the service the memberships of shared lists, which the
// member and invitation use cases need (ErrNoMembers without). They run in
// the store's transactions, so the service needs WithTransactor too.
func WithMembers(m Memberships) Option { return func(s *Service) { s.members = m } }

func (s *Service) memberRepo() (list.Members, error) {
	if s.members == nil {
		return nil, ErrNoMembers
	}
	return s.members, nil
}

// ErrOwnerCannotLeave is the owner removing themself: a list always has
// its owner, who hands it over (a transfer) before leaving.
var errOwnerCannotLeave = check.Invalid("member_user_id", "the owner cannot leave the list: transfer it to a member first", "value_error")

// allowed returns the caller's access to live list id when it allows act,
// list.ErrNotFound otherwise (in a transaction on PostgreSQL it locks what
// it read: see list.Members).
func allowed(ctx context.Context, m list.Members, caller auth.UserID, id list.ID, act list.Action) (list.Access, error) {
	acc, err := m.Access(ctx, caller, id)
	if err != nil {
		return list.Access{}, err
	}
	if !acc.Allows(act) {
		return list.Access{}, list.ErrNotFound
	}
	return acc, nil
}

// ListAccess returns the actor's access to live list id when their role
// allows act, list.ErrNotFound otherwise: the one question every route about
// a shared list asks first.
func (s *Service) ListAccess(ctx context.Context, a Actor, id list.ID, act list.Action) (list.Access, error) {
	m, err := s.memberRepo()
	if err != nil {
		return list.Access{}, err
	}
	return allowed(ctx, m, a.owner, id, act)
}

// ListMembers returns the people of a list the actor may read: the owner
// first, then the members.
func (s *Service) ListMembers(ctx context.Context, a Actor, id list.ID) ([]list.Member, error) {
	m, err := s.memberRepo()
	if err != nil {
		return nil, err
	}
	var out []list.Member
	err = s.InTx(ctx, func(ctx context.Context) error {
		if _, err := allowed(ctx, m, a.owner, id, list.ActRead); err != nil {
			return err
		}
		out, err = m.Members(ctx, id)
		return err
	})
	return out, err
}

// InviteMember invites email to the list with role (one of
// list.MemberRoles). The actor's role must allow giving that role to a
// newcomer (CanSetRole). list.ErrAlreadyMember when the email is the owner's
// or a member's; an email invited already gets the new role.
func (s *Service) InviteMember(ctx context.Context, a Actor, id list.ID, email, role string) (list.Invitation, error) {
	m, err := s.memberRepo()
	if err != nil {
		return list.Invitation{}, err
	}
	var problems []check.Problem
	e, err := list.ParseEmail(email)
	problems = appendProblems(problems, err)
	r, err := list.ParseMemberRole(role)
	problems = appendProblems(problems, err)
	if len(problems) > 0 {
		return list.Invitation{}, &check.ValidationError{Problems: problems}
	}
	var out list.Invitation
	err = s.InTx(ctx, func(ctx context.Context) error {
		acc, err := allowed(ctx, m, a.owner, id, list.ActManageMembers)
		if err != nil {
			return err
		}
		if !acc.Role.CanSetRole("", r) {
			return list.ErrNotFound
		}
		out, err = m.Invite(ctx, list.Invitation{ListID: id, Email: e, Role: r, InvitedBy: a.owner, CreatedAt: s.now()})
		return err
	})
	return out, err
}

// appendProblems adds a ValidationError's problems to ps; err is nil or
// one.
func appendProblems(ps []check.Problem, err error) []check.Problem {
	if ve, ok := errors.AsType[*check.ValidationError](err); ok {
		return append(ps, ve.Problems...)
	}
	return ps
}

// SetMemberRole gives member the role and returns them as they are now.
// Role "owner" hands the list over to the member (only the owner may; the
// old owner becomes an admin). Otherwise the actor's role must allow the
// change (CanSetRole): nobody but the owner touches an admin.
func (s *Service) SetMemberRole(ctx context.Context, a Actor, id list.ID, member auth.UserID, role string) (list.Member, error) {
	m, err := s.memberRepo()
	if err != nil {
		return list.Member{}, err
	}
	transfer := role == string(list.RoleOwner)
	var r list.Role
	if !transfer {
		if r, err = list.ParseMemberRole(role); err != nil {
			if ve, ok := errors.AsType[*check.ValidationError](err); ok {
				ve.Problems[0].Msg = "Input should be 'owner', 'admin', 'editor', 'completer' or 'viewer'"
			}
			return list.Member{}, err
		}
	}
	var out list.Member
	err = s.InTx(ctx, func(ctx context.Context) error {
		acc, err := allowed(ctx, m, a.owner, id, list.ActRead)
		if err != nil {
			return err
		}
		from, err := memberRole(ctx, m, id, member)
		if err != nil {
			return err
		}
		switch {
		case transfer && from == list.RoleOwner && acc.Role.Allows(list.ActOwn):
			// The owner making themself the owner: nothing to do.
		case transfer:
			if !acc.Role.Allows(list.ActOwn) {
				return list.ErrNotFound
			}
			if err := m.Transfer(ctx, id, member, s.now()); err != nil {
				return err
			}
		default:
			if !acc.Role.CanSetRole(from, r) {
				return list.ErrNotFound
			}
			if err := m.SetRole(ctx, id, member, r); err != nil {
				return err
			}
		}
		ms, err := m.Members(ctx, id)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ms, func(x list.Member) bool { return x.UserID == member })
		if i < 0 {
			return list.ErrMemberNotFound
		}
		out = ms[i]
		return nil
	})
	return out, err
}

// memberRole is user's role on list id: list.ErrMemberNotFound when they
// have none.
func memberRole(ctx context.Context, m list.Members, id list.ID, user auth.UserID) (list.Role, error) {
	acc, err := m.Access(ctx, user, id)
	if errors.Is(err, list.ErrNotFound) {
		return "", list.ErrMemberNotFound
	}
	return acc.Role, err
}

// RemoveMember ends member's membership of the list. A member removing
// themself leaves, whatever their role; the owner cannot leave (a
// ValidationError: transfer the list first). Removing another needs a role
// that may (CanSetRole to none).
func (s *Service) RemoveMember(ctx context.Context, a Actor, id list.ID, member auth.UserID) error {
	m, err := s.memberRepo()
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		acc, err := allowed(ctx, m, a.owner, id, list.ActRead)
		if err != nil {
			return err
		}
		if member == a.owner {
			if acc.Role == list.RoleOwner {
				return errOwnerCannotLeave
			}
		} else {
			from, err := memberRole(ctx, m, id, member)
			if err != nil {
				return err
			}
			if !acc.Role.CanSetRole(from, "") {
				return list.ErrNotFound
			}
		}
		if err := m.Remove(ctx, id, member); err != nil {
			return err
		}
		// Their assignments in the list end with them (as in Todoist), in
		// the removal's unit: under the owner's scope lock, so that no
		// write assigns them in between (assignee.go). The writes are the
		// remover's (or the leaver's): the history names them, not the
		// owner.
		return s.clearAssignments(task.WithActor(ctx, a.owner), acc.Owner, id, member)
	})
}

// ListInvitations returns the invitations waiting for the actor's email,
// oldest first.
func (s *Service) ListInvitations(ctx context.Context, a Actor) ([]list.Invitation, error) {
	m, err := s.memberRepo()
	if err != nil {
		return nil, err
	}
	return m.Invitations(ctx, a.owner)
}

// AcceptInvitation makes the actor a member of the invitation's list with
// its role. list.ErrInvitationNotFound when it is not addressed to them.
func (s *Service) AcceptInvitation(ctx context.Context, a Actor, id list.InvitationID) (list.Invitation, error) {
	m, err := s.memberRepo()
	if err != nil {
		return list.Invitation{}, err
	}
	return m.Accept(ctx, a.owner, id, s.now())
}

// DeclineInvitation deletes an invitation addressed to the actor.
func (s *Service) DeclineInvitation(ctx context.Context, a Actor, id list.InvitationID) error {
	m, err := s.memberRepo()
	if err != nil {
		return err
	}
	return m.Decline(ctx, a.owner, id)
}

// errNotAssignable is an assignee who is neither the owner nor a member of
// the task's list.
var errNotAssignable = check.Invalid("assignee_id", "must be the owner or a member of the task's list (for a task in the inbox: its owner)", "value_error")

// CheckAssignee checks that who may be assigned a task of owner in list in
// (nil: the inbox): the owner, or, in a list, anyone whose role on it is
// any (list.Members.Access). A ValidationError on assignee_id otherwise.
// Callers run it in the unit of work of the write that assigns (on
// PostgreSQL it takes the owner's scope lock: a removal, which clears the
// member's assignments, waits for that write or is seen by the check).
func (s *Service) CheckAssignee(ctx context.Context, owner auth.UserID, in *list.ID, who auth.UserID) error {
	if who == owner {
		return nil
	}
	if in == nil || s.members == nil {
		return errNotAssignable
	}
	_, err := s.members.Access(ctx, who, *in)
	if errors.Is(err, list.ErrNotFound) {
		return errNotAssignable
	}
	return err
}
