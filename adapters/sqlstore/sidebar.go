package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
)

// Each user's sidebar is their own lists and the lists shared with them,
// in one order that is theirs (list.Anchor): their own lists by
// lists.sort_key, the shared ones by their membership's
// list_members.sort_key (migration 20261213000040), one key space per
// user, the trash included so that a restored list never collides. Writes
// of a user's keys hold the user's scope lock.

// sidebarKeysSQL is the keys of user's sidebar, but for user's own list
// own and the shared list shared (0: none left out), as k.sort_key.
const sidebarKeysSQL = "(SELECT sort_key FROM lists WHERE user_id = ? AND id <> ?" +
	" UNION ALL SELECT sort_key FROM list_members WHERE user_id = ? AND list_id <> ?) AS k"

// memberListColumns is listColumns with the member's key (m, their
// list_members row) for the list's.
var memberListColumns = strings.Replace(listColumns, "l.sort_key", "m.sort_key", 1)

// sidebarPlace reads the key of live list id in user's sidebar: user's
// own, or one shared with them; list.ErrNotFound when it is in neither.
func sidebarPlace(ctx context.Context, x runner, user auth.UserID, id list.ID) (string, error) {
	var keys []string
	if err := x.idb().NewRaw("SELECT l.sort_key FROM lists AS l WHERE l.id = ? AND l.user_id = ? AND l.deleted_at IS NULL"+
		" UNION ALL SELECT m.sort_key FROM list_members AS m JOIN lists AS l ON l.id = m.list_id"+
		" WHERE m.list_id = ? AND m.user_id = ? AND l.deleted_at IS NULL",
		int64(id), string(user), int64(id), string(user)).Scan(ctx, &keys); err != nil {
		return "", fmt.Errorf("read anchor: %w", err)
	}
	if len(keys) == 0 {
		return "", list.ErrNotFound
	}
	return keys[0], nil
}

// sidebarKey returns the key where a puts user's own list own, or the
// list shared with them shared (the other one 0), in user's sidebar: a key
// between its new neighbours', read in one statement besides the anchor.
func sidebarKey(ctx context.Context, x runner, user auth.UserID, own, shared list.ID, a list.Anchor) (string, error) {
	moved := max(own, shared)
	anchor, field := a.After, "after_id"
	if a.Before != nil {
		anchor, field = a.Before, "before_id"
	}
	agg, cmp, anchorKey := "min", "", ""
	if anchor != nil {
		if *anchor == moved {
			return "", listProblem(field, "a list cannot be placed next to itself")
		}
		k, err := sidebarPlace(ctx, x, user, *anchor)
		if err != nil {
			return "", err
		}
		anchorKey, cmp = k, " WHERE k.sort_key > ?"
		if a.Before != nil {
			agg, cmp = "max", " WHERE k.sort_key < ?"
		}
	}
	s := x.sql().add("SELECT "+agg+"(k.sort_key) FROM "+sidebarKeysSQL, string(user), int64(own), string(user), int64(shared))
	if cmp != "" {
		s.add(cmp, anchorKey)
	}
	var k sql.NullString
	if err := x.idb().QueryRowContext(ctx, s.String(), s.args...).Scan(&k); err != nil {
		return "", fmt.Errorf("read neighbours: %w", err)
	}
	lower, upper := "", k.String
	switch {
	case a.After != nil:
		lower, upper = anchorKey, k.String
	case a.Before != nil:
		lower, upper = k.String, anchorKey
	}
	key, err := position.Between(lower, upper)
	if err != nil {
		return "", fmt.Errorf("place list: %w", err)
	}
	return key, nil
}

// sidebarBottom returns the key after every one of user's sidebar.
func sidebarBottom(ctx context.Context, x runner, user auth.UserID) (string, error) {
	var k sql.NullString
	s := x.sql().add("SELECT max(k.sort_key) FROM "+sidebarKeysSQL, string(user), 0, string(user), 0)
	if err := x.idb().QueryRowContext(ctx, s.String(), s.args...).Scan(&k); err != nil {
		return "", fmt.Errorf("read sidebar: %w", err)
	}
	return position.Between(k.String, "")
}

// lockSidebar locks, on PostgreSQL, every row a re-key of user's sidebar
// (rebalanceSidebar) writes: their own lists, then their memberships,
// each in id order. A transaction that may re-key runs it before its first
// write, under user's scope lock: its writes take user's change head (the
// feed's triggers), and waiting for a membership row while holding that
// head deadlocked with a removal, which holds the list owner's scope lock,
// then the membership row, then wants the member's head
// (TestRebalanceWhileRemoved); waiting for a list row held FOR KEY SHARE by
// a create in the list, which wants the head too, would as well.
func lockSidebar(ctx context.Context, x runner, user auth.UserID) error {
	if !x.sql().pg {
		return nil // the transaction holds SQLite's write lock
	}
	for _, q := range []string{
		"SELECT id FROM lists WHERE user_id = ? ORDER BY id FOR UPDATE",
		"SELECT list_id FROM list_members WHERE user_id = ? ORDER BY list_id FOR UPDATE",
	} {
		if _, err := x.idb().NewRaw(q, string(user)).Exec(ctx); err != nil {
			return fmt.Errorf("lock sidebar: %w", err)
		}
	}
	return nil
}

// rebalanceSidebar re-keys user's sidebar, the trash too, in the same
// order: position.Rebalanced of each one's rank. The ranks are read first
// (a user has a few dozen lists); the lists are then written as
// ListRepository's rebalance always did, in two steps because of the
// unique index of their keys (see tree.go's rebalance), the memberships
// one by one. x holds user's scope lock and the rows (lockSidebar),
// taken before its first write.
func rebalanceSidebar(ctx context.Context, x runner, user auth.UserID) error {
	type item struct {
		ID     int64  `bun:"id"`
		Key    string `bun:"sort_key"`
		Shared bool   `bun:"shared"`
	}
	var items []item
	if err := x.idb().NewRaw("SELECT id, sort_key, false AS shared FROM lists WHERE user_id = ?"+
		" UNION ALL SELECT list_id, sort_key, true FROM list_members WHERE user_id = ?", string(user), string(user)).
		Scan(ctx, &items); err != nil {
		return fmt.Errorf("read sidebar: %w", err)
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(a.ID, b.ID)) })
	for rank, it := range items {
		key := position.Rebalanced(int64(rank))
		q, args := "UPDATE lists SET position = ? WHERE id = ?", []any{strings.TrimSuffix(key, "V") + "0", it.ID}
		if it.Shared {
			q, args = "UPDATE list_members SET position = ? WHERE list_id = ? AND user_id = ?", []any{key, it.ID, string(user)}
		}
		if _, err := x.idb().NewRaw(q, args...).Exec(ctx); err != nil {
			return fmt.Errorf("rebalance sidebar: %w", err)
		}
	}
	if _, err := x.idb().NewRaw("UPDATE lists SET position = substr(position, 1, 11) || 'V' WHERE user_id = ?", string(user)).Exec(ctx); err != nil {
		return fmt.Errorf("rebalance sidebar: %w", err)
	}
	return nil
}

// sharedList reads live list id as member user sees it; lock locks the
// membership (FOR UPDATE on PostgreSQL).
func (r *MemberRepository) sharedList(ctx context.Context, x runner, user auth.UserID, id list.ID, lock bool) (list.Shared, error) {
	q := "SELECT " + memberListColumns + ", m.role" + listFrom + " JOIN list_members AS m ON m.list_id = l.id" +
		" WHERE m.list_id = ? AND m.user_id = ? AND l.deleted_at IS NULL"
	if lock && r.pg {
		q += " FOR UPDATE OF m"
	}
	var rows []sharedRow
	if err := x.idb().NewRaw(q, int64(id), string(user)).Scan(ctx, &rows); err != nil {
		return list.Shared{}, fmt.Errorf("read shared list: %w", err)
	}
	if len(rows) == 0 {
		return list.Shared{}, list.ErrNotFound
	}
	return rows[0].shared()
}

// SharedList reads live list id as member user sees it.
func (r *MemberRepository) SharedList(ctx context.Context, user auth.UserID, id list.ID) (list.Shared, error) {
	return r.sharedList(ctx, r.on(ctx), user, id, false)
}

// Place gives user's membership of list id a new key, in a transaction,
// in the lock order of shared lists (members.go): the list owner's scope
// lock, then the membership row (FOR UPDATE), then (the feed's trigger)
// user's change head, as SetRole writes the row. It does not take user's
// own scope lock, which would be a second scope lock in an order that
// another member's move of another list could reverse: two moves of one
// user at the same instant may then make equal keys, which order by list
// id and which any later move puts apart (the neighbours are read with
// strict bounds). A rebalance, which rewrites user's own lists too, takes
// user's scope lock as well (rare: keys past position.RebalanceLen).
func (r *MemberRepository) Place(ctx context.Context, user auth.UserID, id list.ID, expect list.Version, a list.Anchor) (list.Shared, error) {
	if err := a.Check(); err != nil {
		return list.Shared{}, err
	}
	var out list.Shared
	rekey := false // the move re-keys user's sidebar: take its locks first
	place := func(ctx context.Context) error {
		x := r.on(ctx)
		owner, ok, err := ownerOf(ctx, x, id, true)
		if err != nil {
			return err
		}
		if !ok {
			return list.ErrNotFound
		}
		if r.locking(ctx) {
			// A re-key writes user's own lists and memberships too:
			// user's scope lock as well, with the owner's in id order,
			// then every row it writes, before the first write.
			scopes := []auth.UserID{owner}
			if rekey {
				scopes = append(scopes, user)
			}
			if err := lockScopes(ctx, x, scopes...); err != nil {
				return err
			}
			if now, ok, err := ownerOf(ctx, x, id, true); err != nil {
				return err
			} else if !ok {
				return list.ErrNotFound
			} else if now != owner {
				return errHandedOver
			}
		}
		cur, err := r.sharedList(ctx, x, user, id, true)
		if err != nil {
			return err
		}
		if err := list.Conflict(cur.Summary, expect); err != nil {
			return err
		}
		key, err := sidebarKey(ctx, x, user, 0, id, a)
		if err != nil {
			return err
		}
		if position.NeedsRebalance(key) && r.locking(ctx) {
			if !rekey {
				return errRekey // again, with the locks of a re-key up front
			}
			if err := lockSidebar(ctx, x, user); err != nil {
				return err
			}
		}
		if _, err := x.idb().NewRaw("UPDATE list_members SET position = ? WHERE list_id = ? AND user_id = ?",
			key, int64(id), string(user)).Exec(ctx); err != nil {
			return fmt.Errorf("place list: %w", err)
		}
		if position.NeedsRebalance(key) {
			if err := lockScope(ctx, x, user); err != nil { // held already on PostgreSQL (re-entrant)
				return err
			}
			if err := rebalanceSidebar(ctx, x, user); err != nil {
				return err
			}
		}
		out, err = r.sharedList(ctx, x, user, id, false)
		return err
	}
	// A list handed over while its owner's lock was awaited: again, from
	// the start, rather than take the new owner's lock while holding the
	// old one's (the new owner may hold theirs and wait for the old one's:
	// a transfer back).
	for range 4 {
		err := inTx(ctx, r.db, place)
		if errors.Is(err, errRekey) {
			rekey = true
			err = inTx(ctx, r.db, place)
		}
		if !errors.Is(err, errHandedOver) {
			return out, err
		}
	}
	return list.Shared{}, fmt.Errorf("place list %d: it changed owner 4 times while its lock was awaited", id)
}

// errHandedOver is a list whose owner changed while Place awaited the
// owner's lock.
var errHandedOver = errors.New("list handed over meanwhile")

// errRekey is a Place that found it re-keys the sidebar before it took the
// locks of a re-key: it is rolled back and run again with them.
var errRekey = errors.New("the move re-keys the sidebar")
