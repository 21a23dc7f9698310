package list

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
)

// The members of shared lists (issue 19). The owner of a list is its
// List.Owner and holds RoleOwner; everyone else reaches it through a
// membership whose role is one of MemberRoles. Invitations name an email
// and wait for a user with that email (as the users table knows it from
// their tokens) to accept or decline.

var (
	// ErrMemberNotFound means the user is not a member of the list (or
	// the list is not the caller's to see).
	ErrMemberNotFound = errors.New("member not found")
	// ErrInvitationNotFound means no invitation with that id is addressed
	// to the caller's email.
	ErrInvitationNotFound = errors.New("invitation not found")
	// ErrAlreadyMember means an invitation names the email of the list's
	// owner or of one of its members: there is nobody to invite.
	ErrAlreadyMember = errors.New("already a member of the list")
)

// InvitationID identifies an invitation; the store assigns it.
type InvitationID int64

// Access is what a caller may do with one live list: who owns it and the
// caller's role there (RoleOwner for the owner).
type Access struct {
	Owner auth.UserID
	Role  Role
}

// Allows reports whether the access allows action a (Role.Allows).
func (a Access) Allows(act Action) bool { return a.Role.Allows(act) }

// Member is one person who reaches a list: its owner or a member.
type Member struct {
	UserID auth.UserID
	Role   Role
	// Email and Name are the user's as their last token said; empty when
	// unknown.
	Email string
	Name  string
	// InvitedBy is who invited the member; empty for the owner.
	InvitedBy auth.UserID
	// Since is when the member joined (for the owner: the list's
	// creation).
	Since time.Time
}

// Invitation asks the user with Email to join list ListID with Role.
type Invitation struct {
	ID        InvitationID
	ListID    ID
	ListName  string // filled in by reads
	Email     string
	Role      Role
	InvitedBy auth.UserID
	CreatedAt time.Time
}

// MaxEmailLen bounds an invitation's email, in bytes (RFC 5321's path).
const MaxEmailLen = 320

// ParseEmail reads the email an invitation names: trimmed, lower case (as
// users' emails are kept), one @ with text on both sides.
func ParseEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(e, '@')
	switch {
	case e == "":
		return "", check.Invalid("email", "must not be empty", "missing")
	case !utf8.ValidString(e) || strings.ContainsAny(e, "\x00 \t\r\n"):
		return "", check.Invalid("email", "must be an email address", "value_error")
	case len(e) > MaxEmailLen:
		return "", check.Invalid("email", "must be at most 320 characters", "string_too_long")
	case at <= 0 || at == len(e)-1:
		return "", check.Invalid("email", "must be an email address", "value_error")
	}
	return e, nil
}

// Shared is a list as one of its members sees it: the list with its counts,
// at the member's own place (its Position is the member's key, see
// Members.Place), and the member's role.
type Shared struct {
	Summary
	Role Role
}

// Members stores who reaches which list: memberships and invitations. It
// decides no rule (the application does, with Role.Allows and CanSetRole);
// each call is one atomic step, and the application runs the steps of one
// use case in a transaction.
//
// On PostgreSQL, Access called in a transaction locks what a member's
// answer rests on (their membership row, FOR SHARE), so that a removal, a
// role change or a transfer to them waits for the writes decided on it: a
// member's write lands before their removal or is refused.
type Members interface {
	// Access returns the owner of live list id and caller's role there;
	// ErrNotFound when the list does not exist, is in the trash, or the
	// caller neither owns it nor is a member.
	Access(ctx context.Context, caller auth.UserID, id ID) (Access, error)
	// Members returns the people of live list id: the owner first, then
	// the members by when they joined and their id.
	Members(ctx context.Context, id ID) ([]Member, error)
	// Invite stores inv (its ID and CreatedAt assigned) or, when the list
	// has an invitation for the email already, sets that one's role and
	// inviter. ErrAlreadyMember when the email is the owner's or a
	// member's (as the users table knows emails).
	Invite(ctx context.Context, inv Invitation) (Invitation, error)
	// SetRole gives member user of list id the role; ErrMemberNotFound
	// when they are not a member.
	SetRole(ctx context.Context, id ID, user auth.UserID, role Role) error
	// Remove ends user's membership of list id; ErrMemberNotFound when
	// they are not a member.
	Remove(ctx context.Context, id ID, user auth.UserID) error
	// Transfer makes member to the owner of list id and of its tasks
	// (live and in the trash); the old owner becomes an admin member,
	// invited by the new owner, since at. Nobody's sidebar changes: the
	// old owner's membership keeps the list's key, the list takes the new
	// owner's membership key. ErrMemberNotFound when to is
	// not a member. Never ErrNameTaken: to may own a list of the same name
	// already (see NameKey: refusing would tell the old owner to's list
	// names).
	Transfer(ctx context.Context, id ID, to auth.UserID, at time.Time) error
	// SharedWith returns the live lists user is a member of (not those
	// they own), with their counts and user's role, each at user's place
	// for it, in user's order (by that key, then by id).
	SharedWith(ctx context.Context, user auth.UserID) ([]Shared, error)
	// SharedList returns live list id as member user sees it (as
	// SharedWith); ErrNotFound when user is not a member.
	SharedList(ctx context.Context, user auth.UserID, id ID) (Shared, error)
	// Place puts live list id, which user is a member of, at a in user's
	// sidebar (the top when a names no list): a key between its new
	// neighbours' among user's own lists and the lists shared with them,
	// kept on user's membership. The list itself does not change (nor its
	// version, nor anybody else's place for it); with expect other than
	// AnyVersion a list at another version is a *ConflictError. An
	// anchor that is not in user's sidebar is ErrNotFound, the list itself
	// a ValidationError; ErrNotFound when user is not a member. It returns
	// the list as user now sees it.
	Place(ctx context.Context, user auth.UserID, id ID, expect Version, a Anchor) (Shared, error)
	// Invitations returns the invitations addressed to user's email (as
	// the users table has it), oldest first, with their lists' names;
	// none when the user has no email. Invitations to lists in the trash
	// are left out.
	Invitations(ctx context.Context, user auth.UserID) ([]Invitation, error)
	// Accept makes user a member of the invitation's list with its role,
	// as of at, with the list at the bottom of user's sidebar, and deletes
	// the invitation; ErrInvitationNotFound when
	// invitation id is not addressed to user's email or its list is in
	// the trash. A user already the owner or a member keeps their role
	// and the invitation goes.
	Accept(ctx context.Context, user auth.UserID, id InvitationID, at time.Time) (Invitation, error)
	// Decline deletes the invitation; ErrInvitationNotFound as in Accept.
	Decline(ctx context.Context, user auth.UserID, id InvitationID) error
}
