package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// membership is one member's row of a shared list.
type membership struct {
	role      list.Role
	invitedBy auth.UserID
	since     time.Time
	position  string // the list's key in the member's sidebar, "" for the implicit one (placeOf)
}

// MemberRepository is a list.Members held in memory, in a Store. The access
// rule of the memory store's tasks reads the same maps (roleOn).
type MemberRepository struct {
	*state
}

var _ list.Members = (*MemberRepository)(nil)

// Members returns the store's memberships of shared lists.
func (s *Store) Members() *MemberRepository { return &MemberRepository{state: s.tasks.state} }

// roleOn is caller's role on live list id, "" when none: the one place the
// memory store decides who reaches a list (its tasks' access asks it too).
// The data is held.
func (s *state) roleOn(caller auth.UserID, id list.ID) (auth.UserID, list.Role) {
	e, ok := s.lists[id]
	if !ok || e.deletedAt != nil {
		return "", ""
	}
	if e.l.Owner() == caller {
		return caller, list.RoleOwner
	}
	if m, ok := s.members[id][caller]; ok {
		return e.l.Owner(), m.role
	}
	return e.l.Owner(), ""
}

// Access returns the owner of live list id and caller's role there.
func (r *MemberRepository) Access(ctx context.Context, caller auth.UserID, id list.ID) (list.Access, error) {
	defer r.read(ctx).done()
	owner, role := r.roleOn(caller, id)
	if role == "" {
		return list.Access{}, list.ErrNotFound
	}
	return list.Access{Owner: owner, Role: role}, nil
}

// Members returns the owner of live list id, then its members by when they
// joined.
func (r *MemberRepository) Members(ctx context.Context, id list.ID) ([]list.Member, error) {
	defer r.read(ctx).done()
	e, ok := r.lists[id]
	if !ok || e.deletedAt != nil {
		return nil, list.ErrNotFound
	}
	users := r.s.users.byID
	owner := users[e.l.Owner()]
	out := []list.Member{{UserID: e.l.Owner(), Role: list.RoleOwner, Email: owner.Email, Name: owner.Name, Since: e.l.CreatedAt()}}
	var ms []list.Member
	for uid, m := range r.members[id] {
		u := users[uid]
		ms = append(ms, list.Member{UserID: uid, Role: m.role, Email: u.Email, Name: u.Name, InvitedBy: m.invitedBy, Since: m.since})
	}
	slices.SortFunc(ms, func(a, b list.Member) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.UserID, b.UserID))
	})
	return append(out, ms...), nil
}

// Invite stores inv, or sets the role of the list's invitation for its
// email.
func (r *MemberRepository) Invite(ctx context.Context, inv list.Invitation) (list.Invitation, error) {
	defer r.write(ctx).done()
	e, ok := r.lists[inv.ListID]
	if !ok || e.deletedAt != nil {
		return list.Invitation{}, list.ErrNotFound
	}
	if uid, ok := r.s.users.byEmail[inv.Email]; ok {
		if _, member := r.members[inv.ListID][uid]; member || uid == e.l.Owner() {
			return list.Invitation{}, list.ErrAlreadyMember
		}
	}
	for _, old := range r.invitations {
		if old.ListID == inv.ListID && old.Email == inv.Email {
			old.Role, old.InvitedBy = inv.Role, inv.InvitedBy
			out := *old
			out.ListName = e.l.Name()
			return out, nil
		}
	}
	r.lastInvitation++
	inv.ID = r.lastInvitation
	inv.ListName = ""
	inv.CreatedAt = inv.CreatedAt.UTC().Truncate(time.Microsecond)
	stored := inv
	r.invitations[inv.ID] = &stored
	inv.ListName = e.l.Name()
	return inv, nil
}

// SetRole gives member user of list id the role.
func (r *MemberRepository) SetRole(ctx context.Context, id list.ID, user auth.UserID, role list.Role) error {
	defer r.write(ctx).done()
	m, ok := r.members[id][user]
	if !ok {
		return list.ErrMemberNotFound
	}
	m.role = role
	r.members[id][user] = m
	r.touchMembers(id)
	return nil
}

// Remove ends user's membership of list id.
func (r *MemberRepository) Remove(ctx context.Context, id list.ID, user auth.UserID) error {
	defer r.write(ctx).done()
	if _, ok := r.members[id][user]; !ok {
		return list.ErrMemberNotFound
	}
	delete(r.members[id], user)
	r.touchMembers(id)
	return nil
}

// Transfer makes member to the owner of list id and its tasks.
func (r *MemberRepository) Transfer(ctx context.Context, id list.ID, to auth.UserID, at time.Time) error {
	defer r.write(ctx).done()
	e, ok := r.lists[id]
	if !ok || e.deletedAt != nil {
		return list.ErrNotFound
	}
	if _, ok := r.members[id][to]; !ok {
		return list.ErrMemberNotFound
	}
	from := e.l.Owner()
	// Nobody's sidebar changes: the new owner's place becomes the list's
	// key, the old owner's key their membership's.
	kept := e.l.Stored().Position
	e.l = e.l.WithOwner(to).WithPosition(r.members[id][to].position)
	r.touchList(id)
	for tid, te := range r.tasks {
		if l := te.t.ListID(); l != nil && *l == id {
			te.t = te.t.WithOwner(to)
			r.touchTask(tid)
		}
	}
	delete(r.members[id], to)
	r.members[id][from] = membership{role: list.RoleAdmin, invitedBy: to, since: at.UTC().Truncate(time.Microsecond), position: kept}
	r.touchMembers(id)
	return nil
}

// Invitations returns the invitations to user's email, oldest first.
func (r *MemberRepository) Invitations(ctx context.Context, user auth.UserID) ([]list.Invitation, error) {
	defer r.read(ctx).done()
	email := r.s.users.byID[user].Email
	out := []list.Invitation{}
	if email == "" {
		return out, nil
	}
	for _, inv := range r.invitations {
		if e, ok := r.lists[inv.ListID]; ok && e.deletedAt == nil && inv.Email == email {
			c := *inv
			c.ListName = e.l.Name()
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b list.Invitation) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// invitationOf is invitation id when it is addressed to user's email and
// its list is live; the data is held.
func (r *MemberRepository) invitationOf(user auth.UserID, id list.InvitationID) (*list.Invitation, *listEntry, bool) {
	inv, ok := r.invitations[id]
	email := r.s.users.byID[user].Email
	if !ok || email == "" || inv.Email != email {
		return nil, nil, false
	}
	e, ok := r.lists[inv.ListID]
	if !ok || e.deletedAt != nil {
		return nil, nil, false
	}
	return inv, e, true
}

// Accept makes user a member with the invitation's role.
func (r *MemberRepository) Accept(ctx context.Context, user auth.UserID, id list.InvitationID, at time.Time) (list.Invitation, error) {
	defer r.write(ctx).done()
	inv, e, ok := r.invitationOf(user, id)
	if !ok {
		return list.Invitation{}, list.ErrInvitationNotFound
	}
	out := *inv
	out.ListName = e.l.Name()
	delete(r.invitations, id)
	if _, member := r.members[inv.ListID][user]; member || e.l.Owner() == user {
		return out, nil
	}
	bottom, err := r.bottomOf(user)
	if err != nil {
		return list.Invitation{}, err
	}
	if r.members[inv.ListID] == nil {
		r.members[inv.ListID] = map[auth.UserID]membership{}
	}
	r.members[inv.ListID][user] = membership{role: inv.Role, invitedBy: inv.InvitedBy, since: at.UTC().Truncate(time.Microsecond), position: bottom}
	r.touchMembers(inv.ListID)
	return out, nil
}

// Decline deletes the invitation.
func (r *MemberRepository) Decline(ctx context.Context, user auth.UserID, id list.InvitationID) error {
	defer r.write(ctx).done()
	if _, _, ok := r.invitationOf(user, id); !ok {
		return list.ErrInvitationNotFound
	}
	delete(r.invitations, id)
	return nil
}

// Reach returns the owner of task id and caller's role on its list when
// caller is a member of that live list: the memory store's access rule for
// tasks, by roleOn.
func (r *MemberRepository) Reach(ctx context.Context, caller auth.UserID, id task.ID) (list.Access, error) {
	defer r.read(ctx).done()
	e, ok := r.tasks[id]
	if !ok || e.t.Owner() == caller || e.t.ListID() == nil {
		return list.Access{}, task.ErrNotFound
	}
	owner, role := r.roleOn(caller, *e.t.ListID())
	if role == "" || role == list.RoleOwner {
		return list.Access{}, task.ErrNotFound
	}
	return list.Access{Owner: owner, Role: role}, nil
}

// Owners returns the owners of the tasks ids and of the live lists lists
// caller reaches as a member.
func (r *MemberRepository) Owners(ctx context.Context, caller auth.UserID, ids []task.ID, lists []list.ID) (task.Owned, error) {
	defer r.read(ctx).done()
	out := task.Owned{Tasks: map[task.ID]auth.UserID{}, Lists: map[list.ID]auth.UserID{}}
	for _, id := range ids {
		e, ok := r.tasks[id]
		if !ok || e.t.Owner() == caller || e.t.ListID() == nil {
			continue
		}
		if owner, role := r.roleOn(caller, *e.t.ListID()); role != "" && role != list.RoleOwner {
			out.Tasks[id] = owner
		}
	}
	for _, id := range lists {
		if owner, role := r.roleOn(caller, id); role != "" && role != list.RoleOwner {
			out.Lists[id] = owner
		}
	}
	return out, nil
}

var _ task.Sharing = (*MemberRepository)(nil)

// SharedWith returns the live lists user is a member of, in user's order.
func (r *MemberRepository) SharedWith(ctx context.Context, user auth.UserID) ([]list.Shared, error) {
	defer r.read(ctx).done()
	var out []list.Shared
	for id, ms := range r.members {
		if m, ok := ms[user]; ok {
			if e, ok := r.lists[id]; ok && e.deletedAt == nil {
				out = append(out, r.shared(id, m))
			}
		}
	}
	slices.SortFunc(out, func(a, b list.Shared) int {
		return cmp.Or(cmp.Compare(a.List.Position(), b.List.Position()), cmp.Compare(a.List.ID(), b.List.ID()))
	})
	if out == nil {
		out = []list.Shared{}
	}
	return out, nil
}

// SetMember gives user role on list id (a membership of a shared list,
// issue 19), or changes its role, without an invitation: a helper for
// tests, over the memberships MemberRepository keeps. The change feed
// hears of it at the commit (feed.go): a new member gets the list and its
// tasks. list.ErrNotFound when the list does not exist.
func (s *Store) SetMember(ctx context.Context, id list.ID, user auth.UserID, role list.Role) error {
	defer s.write(ctx).done()
	st := s.tasks.state
	e, ok := st.lists[id]
	if !ok {
		return list.ErrNotFound
	}
	if st.members[id] == nil {
		st.members[id] = map[auth.UserID]membership{}
	}
	m, ok := st.members[id][user]
	if !ok {
		bottom, err := st.bottomOf(user)
		if err != nil {
			return err
		}
		m = membership{invitedBy: e.l.Owner(), since: time.Now().UTC().Truncate(time.Microsecond), position: bottom}
	}
	m.role = role
	st.members[id][user] = m
	st.touchMembers(id)
	return nil
}

// RemoveMember ends user's membership of list id, if any: the feed sends
// user tombstones for the list and its tasks.
func (s *Store) RemoveMember(ctx context.Context, id list.ID, user auth.UserID) error {
	defer s.write(ctx).done()
	st := s.tasks.state
	if _, ok := st.members[id][user]; ok {
		delete(st.members[id], user)
		st.touchMembers(id)
	}
	return nil
}
