package list

import (
	"slices"
	"testing"
)

func TestRoleAllows(t *testing.T) {
	// Each row: the actions a role may take, spelled out so that a change to
	// the rule shows here.
	want := map[Role][]Action{
		RoleOwner:     {ActRead, ActComplete, ActEdit, ActManageMembers, ActManageList, ActOwn},
		RoleAdmin:     {ActRead, ActComplete, ActEdit, ActManageMembers, ActManageList},
		RoleEditor:    {ActRead, ActComplete, ActEdit},
		RoleCompleter: {ActRead, ActComplete},
		RoleViewer:    {ActRead},
		Role("guest"): nil,
		Role(""):      nil,
	}
	all := []Action{ActRead, ActComplete, ActEdit, ActManageMembers, ActManageList, ActOwn}
	for r, allowed := range want {
		for _, a := range all {
			if got := r.Allows(a); got != slices.Contains(allowed, a) {
				t.Errorf("%q.Allows(%v) = %v", r, a, got)
			}
		}
	}
	if got := RolesAllowing(ActComplete); !slices.Equal(got, []Role{RoleOwner, RoleAdmin, RoleEditor, RoleCompleter}) {
		t.Errorf("RolesAllowing(complete) = %v", got)
	}
	if Action(99).String() != "Action(99)" || Role("owner").Allows(Action(99)) {
		t.Error("an unknown action must be refused")
	}
}

func TestParseMemberRole(t *testing.T) {
	for _, r := range MemberRoles() {
		if got, err := ParseMemberRole(string(r)); err != nil || got != r {
			t.Errorf("ParseMemberRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"owner", "", "Admin", "root"} {
		if _, err := ParseMemberRole(s); err == nil {
			t.Errorf("ParseMemberRole(%q) accepted", s)
		}
	}
}

func TestCanSetRole(t *testing.T) {
	cases := []struct {
		actor, from, to Role
		ok              bool
	}{
		{RoleOwner, "", RoleAdmin, true},
		{RoleOwner, RoleAdmin, "", true},
		{RoleOwner, RoleViewer, RoleOwner, false}, // a transfer, not a role change
		{RoleAdmin, "", RoleEditor, true},
		{RoleAdmin, RoleViewer, RoleCompleter, true},
		{RoleAdmin, RoleEditor, "", true},
		{RoleAdmin, "", RoleAdmin, false},
		{RoleAdmin, RoleAdmin, "", false},
		{RoleAdmin, RoleOwner, "", false},
		{RoleEditor, "", RoleViewer, false},
		{RoleViewer, RoleViewer, "", false},
	}
	for _, c := range cases {
		if got := c.actor.CanSetRole(c.from, c.to); got != c.ok {
			t.Errorf("%q.CanSetRole(%q, %q) = %v", c.actor, c.from, c.to, got)
		}
	}
}
