package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
)

// MemberRepository is a list.Members in PostgreSQL or SQLite: the
// list_members and list_invitations tables (migration
// 20261211000001_list_members). Who reaches a list is decided by
// accessSQL (access.go) for tasks and by Access here for the list itself;
// both read list_members the same way.
type MemberRepository struct {
	db      *bun.DB
	pg      bool
	sharers *Sharers // nil: nobody to tell (RecordSharers)
}

var _ list.Members = (*MemberRepository)(nil)

// MemberOption adds to a MemberRepository what NewMemberRepository does
// not require.
type MemberOption func(*MemberRepository)

// RecordSharers has the repository add to s each user it makes a member
// (Accept, Transfer's old owner), before it writes the row: s may
// then say true for a while too early, or for a membership rolled back,
// which is harmless, and never false once the row can be read.
func RecordSharers(s *Sharers) MemberOption { return func(r *MemberRepository) { r.sharers = s } }

// NewMemberRepository returns a repository on a migrated db.
func NewMemberRepository(db *bun.DB, opts ...MemberOption) *MemberRepository {
	r := &MemberRepository{db: db, pg: db.Dialect().Name() == dialect.PG}
	for _, o := range opts {
		o(r)
	}
	return r
}

// sharing records that user may be a member from now on (see
// RecordSharers), after it took the sharers lock in ctx's transaction,
// held to its commit: a sweep of any instance's set (Sharers.Sweep) waits
// for the row it writes next.
func (r *MemberRepository) sharing(ctx context.Context, user auth.UserID) error {
	if err := lockSharers(ctx, r.on(ctx)); err != nil {
		return err
	}
	if r.sharers != nil {
		r.sharers.Add(user)
	}
	return nil
}

func (r *MemberRepository) on(ctx context.Context) runner {
	return bunRunner{db: conn(ctx, r.db), pg: r.pg}
}

// locking reports whether reads in ctx lock what they read: on PostgreSQL
// in a transaction (SQLite's transaction holds the one write lock).
func (r *MemberRepository) locking(ctx context.Context) bool {
	_, ok := txOf(ctx, r.db)
	return r.pg && ok
}

// The lock order of shared lists (PostgreSQL): the list owner's scope lock
// (lockScope), then the membership rows, then the task rows (tree.go).
// Every transaction that reads a membership to decide on a write (Access,
// Members) takes the owner's scope lock first, and so does every write of
// a membership (SetRole, Remove, Transfer). Because a member's write holds
// the scope lock before it reads its membership, a removal waits in the
// scope lock's queue (first come, first served) behind the writes queued
// before it, not behind an endless chain of FOR SHARE lockers: the row's
// share lock, taken while holding the scope lock, no longer lets
// newcomers jump the queue ahead of the DELETE.

// ownerOf reads the owner of list id (live only when live is set); ok
// false when there is none.
func ownerOf(ctx context.Context, x runner, id list.ID, live bool) (auth.UserID, bool, error) {
	q := "SELECT user_id FROM lists WHERE id = ?"
	if live {
		q += " AND deleted_at IS NULL"
	}
	var owners []string
	if err := x.idb().NewRaw(q, int64(id)).Scan(ctx, &owners); err != nil {
		return "", false, fmt.Errorf("read list owner: %w", err)
	}
	if len(owners) == 0 {
		return "", false, nil
	}
	return auth.UserID(owners[0]), true, nil
}

// lockedOwner reads the owner of list id and, in a PostgreSQL transaction,
// takes their scope lock, then reads the owner again: a transfer that
// committed while the lock was awaited has moved the list, whose new
// owner's lock is taken in turn (a transfer holds both owners' locks, so
// the owner read under the lock holds until the transaction ends).
func (r *MemberRepository) lockedOwner(ctx context.Context, x runner, id list.ID, live bool) (auth.UserID, bool, error) {
	owner, ok, err := ownerOf(ctx, x, id, live)
	if err != nil || !ok || !r.locking(ctx) {
		return owner, ok, err
	}
	for range 4 {
		if err := lockScope(ctx, x, owner); err != nil {
			return "", false, err
		}
		now, ok, err := ownerOf(ctx, x, id, live)
		if err != nil || !ok || now == owner {
			return now, ok, err
		}
		owner = now
	}
	return "", false, fmt.Errorf("read list owner: list %d changed owner 4 times while its lock was awaited", id)
}

// Access reads the owner of live list id and caller's membership. In a
// transaction on PostgreSQL it first takes the owner's scope lock (see the
// lock order above), then reads the membership FOR SHARE, so that what a
// write was allowed on holds until it commits: a removal, a role change or
// a transfer waits for the write, or the write sees it.
func (r *MemberRepository) Access(ctx context.Context, caller auth.UserID, id list.ID) (list.Access, error) {
	x := r.on(ctx)
	lock := ""
	if r.locking(ctx) {
		lock = " FOR SHARE"
	}
	owner, ok, err := r.lockedOwner(ctx, x, id, true)
	if err != nil {
		return list.Access{}, err
	}
	if !ok {
		return list.Access{}, list.ErrNotFound
	}
	if owner == caller {
		return list.Access{Owner: owner, Role: list.RoleOwner}, nil
	}
	var roles []string
	if err := x.idb().NewRaw("SELECT role FROM list_members WHERE list_id = ? AND user_id = ?"+lock, int64(id), string(caller)).
		Scan(ctx, &roles); err != nil {
		return list.Access{}, fmt.Errorf("read membership: %w", err)
	}
	if len(roles) == 0 {
		return list.Access{}, list.ErrNotFound
	}
	return list.Access{Owner: owner, Role: list.Role(roles[0])}, nil
}

// memberRow is one person of a list as Members reads them.
type memberRow struct {
	UserID    string    `bun:"user_id"`
	Role      string    `bun:"role"`
	Email     string    `bun:"email"`
	Name      string    `bun:"name"`
	InvitedBy string    `bun:"invited_by"`
	Since     time.Time `bun:"since"`
}

func (m memberRow) member() list.Member {
	return list.Member{
		UserID: auth.UserID(m.UserID), Role: list.Role(m.Role), Email: m.Email, Name: m.Name,
		InvitedBy: auth.UserID(m.InvitedBy), Since: m.Since.UTC(),
	}
}

// Members reads the owner and the members of live list id, with their
// emails and names from users.
func (r *MemberRepository) Members(ctx context.Context, id list.ID) ([]list.Member, error) {
	// In a transaction, under the owner's scope lock: the members read
	// stay members until it ends (an assignee checked against them).
	if _, _, err := r.lockedOwner(ctx, r.on(ctx), id, true); err != nil {
		return nil, err
	}
	var rows []memberRow
	if err := r.on(ctx).idb().NewRaw(
		"SELECT l.user_id, 'owner' AS role, coalesce(u.email, '') AS email, coalesce(u.name, '') AS name, '' AS invited_by, l.created_at AS since"+
			" FROM lists AS l LEFT JOIN users AS u ON u.id = l.user_id WHERE l.id = ? AND l.deleted_at IS NULL", int64(id)).
		Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read list owner: %w", err)
	}
	if len(rows) == 0 {
		return nil, list.ErrNotFound
	}
	var ms []memberRow
	if err := r.on(ctx).idb().NewRaw(
		"SELECT m.user_id, m.role, coalesce(u.email, '') AS email, coalesce(u.name, '') AS name, m.invited_by, m.created_at AS since"+
			" FROM list_members AS m LEFT JOIN users AS u ON u.id = m.user_id WHERE m.list_id = ? ORDER BY m.created_at, m.user_id", int64(id)).
		Scan(ctx, &ms); err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	out := make([]list.Member, 0, 1+len(ms))
	for _, m := range append(rows[:1], ms...) {
		out = append(out, m.member())
	}
	return out, nil
}

// invitationRow is a list_invitations row with its list's name.
type invitationRow struct {
	ID        int64     `bun:"id"`
	ListID    int64     `bun:"list_id"`
	ListName  string    `bun:"list_name"`
	Email     string    `bun:"email"`
	Role      string    `bun:"role"`
	InvitedBy string    `bun:"invited_by"`
	CreatedAt time.Time `bun:"created_at"`
}

func (i invitationRow) invitation() list.Invitation {
	return list.Invitation{
		ID: list.InvitationID(i.ID), ListID: list.ID(i.ListID), ListName: i.ListName, Email: i.Email,
		Role: list.Role(i.Role), InvitedBy: auth.UserID(i.InvitedBy), CreatedAt: i.CreatedAt.UTC(),
	}
}

const invitationColumns = "i.id, i.list_id, l.name AS list_name, i.email, i.role, i.invited_by, i.created_at"

// Invite inserts inv, or sets the role and inviter of the list's invitation
// for its email, in one statement after checking that the email is nobody's
// on the list.
func (r *MemberRepository) Invite(ctx context.Context, inv list.Invitation) (list.Invitation, error) {
	var out list.Invitation
	err := inTx(ctx, r.db, func(ctx context.Context) error {
		x := r.on(ctx)
		var n int64
		s := x.sql().add("SELECT count(*) FROM lists AS l WHERE l.id = ? AND l.deleted_at IS NULL", int64(inv.ListID))
		if err := x.ints(ctx, s, &n); err != nil {
			return fmt.Errorf("read list: %w", err)
		}
		if n == 0 {
			return list.ErrNotFound
		}
		s = x.sql().add("SELECT count(*) FROM users AS u WHERE u.email = ? AND (u.id = (SELECT l.user_id FROM lists AS l WHERE l.id = ?)"+
			" OR u.id IN (SELECT m.user_id FROM list_members AS m WHERE m.list_id = ?))", inv.Email, int64(inv.ListID), int64(inv.ListID))
		if err := x.ints(ctx, s, &n); err != nil {
			return fmt.Errorf("read members' emails: %w", err)
		}
		if n > 0 {
			return list.ErrAlreadyMember
		}
		var id int64
		if err := x.idb().NewRaw("INSERT INTO list_invitations (list_id, email, role, invited_by, created_at) VALUES (?, ?, ?, ?, ?)"+
			" ON CONFLICT (list_id, email) DO UPDATE SET role = EXCLUDED.role, invited_by = EXCLUDED.invited_by RETURNING id",
			int64(inv.ListID), inv.Email, string(inv.Role), string(inv.InvitedBy), inv.CreatedAt.UTC()).Scan(ctx, &id); err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		rows, err := r.readInvitations(ctx, false, "i.id = ?", id)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return list.ErrNotFound
		}
		out = rows[0]
		return nil
	})
	return out, err
}

// readInvitations reads the invitations to live lists that match where,
// by id, locking them (FOR UPDATE) on PostgreSQL when lock is set.
func (r *MemberRepository) readInvitations(ctx context.Context, lock bool, where string, args ...any) ([]list.Invitation, error) {
	var rows []invitationRow
	suffix := ""
	if lock && r.pg {
		suffix = " FOR UPDATE OF i"
	}
	if err := r.on(ctx).idb().NewRaw("SELECT "+invitationColumns+" FROM list_invitations AS i JOIN lists AS l ON l.id = i.list_id"+
		" WHERE l.deleted_at IS NULL AND "+where+" ORDER BY i.id"+suffix, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read invitations: %w", err)
	}
	out := make([]list.Invitation, len(rows))
	for i, row := range rows {
		out[i] = row.invitation()
	}
	return out, nil
}

// SetRole updates the membership row, under the owner's scope lock (see
// the lock order above).
func (r *MemberRepository) SetRole(ctx context.Context, id list.ID, user auth.UserID, role list.Role) error {
	return inTx(ctx, r.db, func(ctx context.Context) error { return r.setRole(ctx, id, user, role) })
}

// setRole makes nobody a member: it changes a row that exists (none is
// list.ErrMemberNotFound), whose user is in every instance's Sharers
// already, and a sweep, which drops only users in no row, keeps them. So
// it takes no sharers lock (it took it shared, a statement of its own, and
// held it while it waited for the owner's scope lock).
func (r *MemberRepository) setRole(ctx context.Context, id list.ID, user auth.UserID, role list.Role) error {
	if _, _, err := r.lockedOwner(ctx, r.on(ctx), id, false); err != nil {
		return err
	}
	n, err := affected(r.on(ctx).idb().NewRaw("UPDATE list_members SET role = ? WHERE list_id = ? AND user_id = ?",
		string(role), int64(id), string(user)).Exec(ctx))
	if err != nil {
		return fmt.Errorf("update membership: %w", err)
	}
	if n == 0 {
		return list.ErrMemberNotFound
	}
	return nil
}

// Remove deletes the membership row, under the owner's scope lock: on
// PostgreSQL it waits in that lock's queue for the member's writes queued
// before it (see the lock order above), then finds the row free.
func (r *MemberRepository) Remove(ctx context.Context, id list.ID, user auth.UserID) error {
	return inTx(ctx, r.db, func(ctx context.Context) error { return r.remove(ctx, id, user) })
}

func (r *MemberRepository) remove(ctx context.Context, id list.ID, user auth.UserID) error {
	if _, _, err := r.lockedOwner(ctx, r.on(ctx), id, false); err != nil {
		return err
	}
	n, err := affected(r.on(ctx).idb().NewRaw("DELETE FROM list_members WHERE list_id = ? AND user_id = ?",
		int64(id), string(user)).Exec(ctx))
	if err != nil {
		return fmt.Errorf("delete membership: %w", err)
	}
	if n == 0 {
		return list.ErrMemberNotFound
	}
	return nil
}

// Transfer moves the list and every row of its tasks (tags, occurrences,
// revisions) to member to, under both owners' scope locks (in id order),
// and swaps the memberships. Nobody's sidebar changes: the list takes the
// key of the new owner's membership (in their key space, sidebar.go), the
// old owner's new membership the list's key.
func (r *MemberRepository) Transfer(ctx context.Context, id list.ID, to auth.UserID, at time.Time) error {
	return inTx(ctx, r.db, func(ctx context.Context) error {
		x := r.on(ctx)
		var owners []string
		if err := x.idb().NewRaw("SELECT user_id FROM lists WHERE id = ? AND deleted_at IS NULL", int64(id)).Scan(ctx, &owners); err != nil {
			return fmt.Errorf("read list owner: %w", err)
		}
		if len(owners) == 0 {
			return list.ErrNotFound
		}
		from := auth.UserID(owners[0])
		// Both owners' scope locks first, in id order (the lock order
		// above: a member's write holds the owner's before it reads its
		// membership), then the new owner's membership row, locked (FOR
		// UPDATE) and deleted after the owner moved: the row's triggers
		// (the change feed, migration 20261211000010) take the readers'
		// change heads, which a transaction takes only after its scope
		// locks, and the new owner, by then the owner, reads the list on
		// and gets no tombstones.
		if err := lockScopes(ctx, x, from, to); err != nil {
			return err
		}
		if now, ok, err := ownerOf(ctx, x, id, true); err != nil {
			return err
		} else if !ok || now != from {
			return list.ErrNotFound // handed over meanwhile: the caller's access is gone
		}
		lock := ""
		if r.pg {
			lock = " FOR UPDATE"
		}
		var members []string
		if err := x.idb().NewRaw("SELECT user_id FROM list_members WHERE list_id = ? AND user_id = ?"+lock, int64(id), string(to)).Scan(ctx, &members); err != nil {
			return fmt.Errorf("lock membership: %w", err)
		}
		if len(members) == 0 {
			return list.ErrMemberNotFound
		}
		// No name check (list.NameKey): to may own a list of this name.
		if _, err := readList(ctx, x, from, id, true, true); err != nil {
			return err
		}
		// Nobody's sidebar changes: the list takes the new owner's key (of
		// their membership; the implicit one should a list of theirs have
		// it, see Place), the old owner's membership the list's.
		var kept sql.NullString
		s := x.sql().add("SELECT position FROM lists WHERE id = ?", int64(id))
		if err := x.idb().QueryRowContext(ctx, s.String(), s.args...).Scan(&kept); err != nil {
			return fmt.Errorf("read list position: %w", err)
		}
		if _, err := x.idb().NewRaw("UPDATE lists SET user_id = ?,"+
			" position = (SELECT m.position FROM list_members AS m WHERE m.list_id = lists.id AND m.user_id = ?"+
			" AND NOT EXISTS (SELECT 1 FROM lists AS o WHERE o.user_id = ? AND o.sort_key = m.sort_key)) WHERE id = ?",
			string(to), string(to), string(to), int64(id)).Exec(ctx); err != nil {
			return fmt.Errorf("transfer list: %w", err)
		}
		for _, q := range []string{
			"UPDATE tasks SET user_id = ?, created_by = coalesce(created_by, user_id) WHERE list_id = ?",
			"UPDATE task_tags SET user_id = ? WHERE task_id IN (SELECT t.id FROM tasks AS t WHERE t.list_id = ?)",
			"UPDATE task_occurrences SET user_id = ? WHERE task_id IN (SELECT t.id FROM tasks AS t WHERE t.list_id = ?)",
			"UPDATE task_revisions SET user_id = ? WHERE task_id IN (SELECT t.id FROM tasks AS t WHERE t.list_id = ?)",
		} {
			if _, err := x.idb().NewRaw(q, string(to), int64(id)).Exec(ctx); err != nil {
				return fmt.Errorf("transfer list: %w", err)
			}
		}
		if _, err := x.idb().NewRaw("DELETE FROM list_members WHERE list_id = ? AND user_id = ?", int64(id), string(to)).Exec(ctx); err != nil {
			return fmt.Errorf("delete membership: %w", err)
		}
		if err := r.sharing(ctx, from); err != nil {
			return err
		}
		if _, err := x.idb().NewRaw("INSERT INTO list_members (list_id, user_id, role, invited_by, created_at, position) VALUES (?, ?, ?, ?, ?, ?)",
			int64(id), string(from), string(list.RoleAdmin), string(to), at.UTC(), kept).Exec(ctx); err != nil {
			return fmt.Errorf("insert membership: %w", err)
		}
		return nil
	})
}

// Invitations reads the invitations to user's email.
func (r *MemberRepository) Invitations(ctx context.Context, user auth.UserID) ([]list.Invitation, error) {
	out, err := r.readInvitations(ctx, false, "i.email = (SELECT u.email FROM users AS u WHERE u.id = ?)", string(user))
	if out == nil && err == nil {
		out = []list.Invitation{}
	}
	return out, err
}

// invitationOf reads invitation id when it is addressed to user's email
// and its list is live, locking it on PostgreSQL.
func (r *MemberRepository) invitationOf(ctx context.Context, user auth.UserID, id list.InvitationID) (list.Invitation, error) {
	where := "i.id = ? AND i.email = (SELECT u.email FROM users AS u WHERE u.id = ?)"
	rows, err := r.readInvitations(ctx, true, where, int64(id), string(user))
	if err != nil {
		return list.Invitation{}, err
	}
	if len(rows) == 0 {
		return list.Invitation{}, list.ErrInvitationNotFound
	}
	return rows[0], nil
}

// Accept deletes the invitation and inserts the membership (nothing when
// user is the owner or a member already), in one transaction.
func (r *MemberRepository) Accept(ctx context.Context, user auth.UserID, id list.InvitationID, at time.Time) (list.Invitation, error) {
	var out list.Invitation
	err := inTx(ctx, r.db, func(ctx context.Context) error {
		inv, err := r.invitationOf(ctx, user, id)
		if err != nil {
			return err
		}
		out = inv
		x := r.on(ctx)
		if _, err := x.idb().NewRaw("DELETE FROM list_invitations WHERE id = ?", int64(id)).Exec(ctx); err != nil {
			return fmt.Errorf("delete invitation: %w", err)
		}
		// At the bottom of the user's sidebar (read without their scope
		// lock, see Place: a move of theirs at the same instant may make
		// an equal key, which orders by id).
		bottom, err := sidebarBottom(ctx, x, user)
		if err != nil {
			return err
		}
		if err := r.sharing(ctx, user); err != nil {
			return err
		}
		if _, err := x.idb().NewRaw("INSERT INTO list_members (list_id, user_id, role, invited_by, created_at, position)"+
			" SELECT l.id, ?, ?, ?, ?, ? FROM lists AS l WHERE l.id = ? AND l.user_id <> ?"+
			" ON CONFLICT (list_id, user_id) DO NOTHING",
			string(user), string(inv.Role), string(inv.InvitedBy), at.UTC(), bottom, int64(inv.ListID), string(user)).Exec(ctx); err != nil {
			return fmt.Errorf("insert membership: %w", err)
		}
		return nil
	})
	return out, err
}

// Decline deletes the invitation.
func (r *MemberRepository) Decline(ctx context.Context, user auth.UserID, id list.InvitationID) error {
	return inTx(ctx, r.db, func(ctx context.Context) error {
		if _, err := r.invitationOf(ctx, user, id); err != nil {
			return err
		}
		if _, err := r.on(ctx).idb().NewRaw("DELETE FROM list_invitations WHERE id = ?", int64(id)).Exec(ctx); err != nil {
			return fmt.Errorf("delete invitation: %w", err)
		}
		return nil
	})
}

// sharedRow is a list a member reads, with their role.
type sharedRow struct {
	listRow
	Role string `bun:"role"`
}

func (row sharedRow) shared() (list.Shared, error) {
	s, err := row.summary()
	if err != nil {
		return list.Shared{}, err
	}
	return list.Shared{Summary: s, Role: list.Role(row.Role)}, nil
}

// SharedWith reads the live lists user is a member of with their counters,
// each at user's place (sidebar.go): one range of list_members_user_idx.
func (r *MemberRepository) SharedWith(ctx context.Context, user auth.UserID) ([]list.Shared, error) {
	var rows []sharedRow
	if err := r.on(ctx).idb().NewRaw("SELECT "+memberListColumns+", m.role"+listFrom+" JOIN list_members AS m ON m.list_id = l.id"+
		" WHERE m.user_id = ? AND l.deleted_at IS NULL ORDER BY m.sort_key, l.id", string(user)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list shared lists: %w", err)
	}
	out := make([]list.Shared, len(rows))
	for i, row := range rows {
		s, err := row.shared()
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
