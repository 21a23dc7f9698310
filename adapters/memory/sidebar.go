package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
)

// Each user's sidebar is their own lists and the lists shared with them,
// in one order that is theirs (list.Anchor): their own lists by the list's
// key, the shared ones by their membership's key (membership.position, ""
// for the implicit key of the list's id, as a list never moved), one key
// space per user, the trash included so that a restored list never
// collides.

// placeOf is the key of list id in the sidebar of the member holding m.
func placeOf(id list.ID, m membership) string {
	if m.position == "" {
		return position.Implicit(int64(id))
	}
	return m.position
}

// sidebarKeys returns the keys of user's sidebar in order, but for user's
// own list own and the shared list shared (0: none left out); the data is
// held.
func (s *state) sidebarKeys(user auth.UserID, own, shared list.ID) []string {
	var keys []string
	for id, e := range s.lists {
		if id != own && e.l.Owner() == user {
			keys = append(keys, e.l.Position())
		}
	}
	for id, ms := range s.members {
		if m, ok := ms[user]; ok && id != shared {
			keys = append(keys, placeOf(id, m))
		}
	}
	slices.Sort(keys)
	return keys
}

// sidebarPlace returns the key of live list id in user's sidebar: user's
// own, or one shared with them; false when it is in neither.
func (s *state) sidebarPlace(user auth.UserID, id list.ID) (string, bool) {
	if e, ok := s.liveList(user, id); ok {
		return e.l.Position(), true
	}
	e, ok := s.lists[id]
	m, member := s.members[id][user]
	if !ok || !member || e.deletedAt != nil {
		return "", false
	}
	return placeOf(id, m), true
}

// sidebarGap returns the keys on either side of where a puts list id in
// user's sidebar, whose other keys are keys, in order.
func (s *state) sidebarGap(user auth.UserID, id list.ID, a list.Anchor, keys []string) (lower, upper string, err error) {
	anchor, field := a.After, "after_id"
	if a.Before != nil {
		anchor, field = a.Before, "before_id"
	}
	if anchor == nil {
		if len(keys) > 0 {
			upper = keys[0]
		}
		return "", upper, nil
	}
	if *anchor == id {
		return "", "", check.Invalid(field, "a list cannot be placed next to itself", "value_error")
	}
	k, ok := s.sidebarPlace(user, *anchor)
	if !ok {
		return "", "", list.ErrNotFound
	}
	if a.After != nil {
		i, found := slices.BinarySearch(keys, k)
		if found {
			i++
		}
		for i < len(keys) && keys[i] <= k {
			i++
		}
		if i < len(keys) {
			upper = keys[i]
		}
		return k, upper, nil
	}
	i, _ := slices.BinarySearch(keys, k)
	if i > 0 {
		lower = keys[i-1]
	}
	return lower, k, nil
}

// rebalanceSidebar re-keys user's sidebar, in the same order, with short
// keys (position.Rebalanced of each one's rank): their own lists, marked
// for the feed, and their memberships, marked too (the member's feed
// gets the list again).
func (s *state) rebalanceSidebar(user auth.UserID) {
	type item struct {
		key    string
		id     list.ID
		shared bool
	}
	var all []item
	for id, e := range s.lists {
		if e.l.Owner() == user {
			all = append(all, item{e.l.Position(), id, false})
		}
	}
	for id, ms := range s.members {
		if m, ok := ms[user]; ok {
			all = append(all, item{placeOf(id, m), id, true})
		}
	}
	slices.SortFunc(all, func(x, y item) int { return cmp.Or(strings.Compare(x.key, y.key), cmp.Compare(x.id, y.id)) })
	for rank, it := range all {
		key := position.Rebalanced(int64(rank))
		if it.shared {
			m := s.members[it.id][user]
			m.position = key
			s.members[it.id][user] = m
			s.touchMembers(it.id)
			continue
		}
		e := s.lists[it.id]
		e.l = e.l.WithPosition(key)
		s.touchList(it.id)
	}
}

// bottomOf is the key after every other one of user's sidebar.
func (s *state) bottomOf(user auth.UserID) (string, error) {
	keys := s.sidebarKeys(user, 0, 0)
	if len(keys) == 0 {
		return position.Between("", "")
	}
	return position.After(keys[len(keys)-1])
}

// shared is live list id as member user, holding m, sees it; the data is
// held.
func (s *state) shared(id list.ID, m membership) list.Shared {
	sum := s.summary(id)
	sum.List = sum.List.WithPosition(placeOf(id, m))
	return list.Shared{Summary: sum, Role: m.role}
}

// SharedList returns live list id as member user sees it.
func (r *MemberRepository) SharedList(ctx context.Context, user auth.UserID, id list.ID) (list.Shared, error) {
	defer r.read(ctx).done()
	e, ok := r.lists[id]
	m, member := r.members[id][user]
	if !ok || !member || e.deletedAt != nil {
		return list.Shared{}, list.ErrNotFound
	}
	return r.shared(id, m), nil
}

// Place puts shared list id at a in member user's sidebar: a new key on
// their membership, the list unchanged.
func (r *MemberRepository) Place(ctx context.Context, user auth.UserID, id list.ID, expect list.Version, a list.Anchor) (list.Shared, error) {
	if err := a.Check(); err != nil {
		return list.Shared{}, err
	}
	defer r.write(ctx).done()
	e, ok := r.lists[id]
	m, member := r.members[id][user]
	if !ok || !member || e.deletedAt != nil {
		return list.Shared{}, list.ErrNotFound
	}
	if err := list.Conflict(r.shared(id, m).Summary, expect); err != nil {
		return list.Shared{}, err
	}
	lower, upper, err := r.sidebarGap(user, id, a, r.sidebarKeys(user, 0, id))
	if err != nil {
		return list.Shared{}, err
	}
	key, err := position.Between(lower, upper)
	if err != nil {
		return list.Shared{}, err
	}
	m.position = key
	r.members[id][user] = m
	r.touchMembers(id)
	if position.NeedsRebalance(key) {
		r.rebalanceSidebar(user)
	}
	return r.shared(id, r.members[id][user]), nil
}
