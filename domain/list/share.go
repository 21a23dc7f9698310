package list

import (
	"fmt"
	"slices"

	"github.com/todo-backend/todo/domain/check"
)

// Role is what a person may do with a list and its tasks. The list's owner
// (List.Owner) holds RoleOwner; everyone else reaches a shared list through
// a membership with one of the other roles.
type Role string

// The roles, from the most to the least a member may do.
const (
	RoleOwner     Role = "owner"     // everything, and only the owner trashes, deletes or hands the list over
	RoleAdmin     Role = "admin"     // manages members and the list's name and color, and edits tasks
	RoleEditor    Role = "editor"    // creates, changes, moves, trashes and restores the list's tasks
	RoleCompleter Role = "completer" // only completes and reopens tasks
	RoleViewer    Role = "viewer"    // reads
)

// Roles lists every role, from the most to the least a member may do: the
// order documentation shows them in.
func Roles() []Role {
	return []Role{RoleOwner, RoleAdmin, RoleEditor, RoleCompleter, RoleViewer}
}

// MemberRoles are the roles an invitation or a membership may carry: every
// role but the owner's, which moves only by a transfer.
func MemberRoles() []Role {
	return []Role{RoleAdmin, RoleEditor, RoleCompleter, RoleViewer}
}

// Action is one kind of thing a person does with a list or its tasks.
type Action int

// The actions that access rules decide.
const (
	// ActRead sees the list, its tasks, their history, and their changes
	// in the feed and on live streams. It also places the list in the
	// reader's own sidebar: the place is personal (each member keeps their
	// own, Members.Place), so it changes nothing anybody else sees.
	ActRead Action = iota
	// ActComplete completes or reopens a task (and nothing else about it).
	ActComplete
	// ActEdit creates tasks in the list and changes, moves, trashes,
	// restores, reverts and deletes them.
	ActEdit
	// ActManageMembers invites, changes the role of and removes members
	// other than the owner.
	ActManageMembers
	// ActManageList renames, recolors and otherwise changes the list itself
	// (not its place in a sidebar, which is each reader's: ActRead).
	ActManageList
	// ActOwn trashes, restores or deletes the list, and hands it over to
	// another member.
	ActOwn
)

var actionNames = [...]string{"read", "complete", "edit", "manage members", "manage list", "own"}

func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("Action(%d)", int(a))
	}
	return actionNames[a]
}

// least is the weakest role that may take each action; roles earlier in
// Roles() may do everything later ones may.
var least = map[Action]Role{
	ActRead:          RoleViewer,
	ActComplete:      RoleCompleter,
	ActEdit:          RoleEditor,
	ActManageMembers: RoleAdmin,
	ActManageList:    RoleAdmin,
	ActOwn:           RoleOwner,
}

// rank orders roles: a smaller rank may do more.
func (r Role) rank() int {
	i := slices.Index(Roles(), r)
	if i < 0 {
		return len(Roles()) // an unknown role may do nothing
	}
	return i
}

// Allows reports whether a holder of r may take action a. This is the one
// access rule: every store and every route decides with it, or with the
// roles RolesAllowing derives from it.
func (r Role) Allows(a Action) bool {
	min, ok := least[a]
	return ok && r.rank() <= min.rank()
}

// RolesAllowing lists the roles that allow a, for stores that must put the
// rule into a query (role IN (...)).
func RolesAllowing(a Action) []Role {
	var rs []Role
	for _, r := range Roles() {
		if r.Allows(a) {
			rs = append(rs, r)
		}
	}
	return rs
}

// ParseMemberRole reads the role of an invitation or a membership change:
// one of MemberRoles.
func ParseMemberRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(MemberRoles(), r) {
		return r, nil
	}
	return "", check.Invalid("role", "Input should be 'admin', 'editor', 'completer' or 'viewer'", "enum")
}

// CanSetRole reports whether a holder of actor may give a member who holds
// from (empty: someone not yet a member) the role to (empty: remove them).
// Managing members needs ActManageMembers; nobody but the owner touches an
// admin or makes one, and the owner's own role moves only by a transfer.
func (actor Role) CanSetRole(from, to Role) bool {
	if !actor.Allows(ActManageMembers) || from == RoleOwner || to == RoleOwner {
		return false
	}
	if actor != RoleOwner && (from == RoleAdmin || to == RoleAdmin) {
		return false
	}
	return true
}
