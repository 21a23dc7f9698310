package application

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

// The change feed's use case and its cursors (issue 16).

// WithChanges gives the service the change feed, which Changes needs
// (ErrNoChanges without).
func WithChanges(c ChangeLog) Option { return func(s *Service) { s.changes = c } }

// ErrNoChanges is a feed use case on a service built without WithChanges.
var ErrNoChanges = errors.New("changes: the service has no change feed")

// ErrBadCursor is a cursor that is not one of the actor's: made for
// another user, of another version, or not a cursor at all.
var ErrBadCursor = errors.New("changes: not a cursor of this user's changes")

// SinceNow is the cursor that asks for no changes, only the current cursor.
const SinceNow = "now"

// DefaultChangesLimit is a page's size when the client gives none.
const DefaultChangesLimit = 100

// MaxChangesLimit is the largest page a client may ask for.
const MaxChangesLimit = 1000

// FeedPage is a page of the feed as a client gets it.
type FeedPage struct {
	Changes []Change // oldest first, never nil
	Cursor  string   // where to continue from
	More    bool     // more changes wait after Cursor
}

// Cursor is a position in one user's feed: the number of the last change
// the client has (Seq), and, while it pages through a snapshot, the head
// the snapshot began at (Floor, 0 otherwise; see ChangeRead).
//
// As a string it is URL-safe base64 of a version byte, the two numbers as
// varints and the first 4 bytes of the SHA-256 of the user's id: it grants
// nothing (every read is the actor's own), needs no key shared between
// instances, and another user's cursor, or anything not made by String, is
// refused (ErrBadCursor), not taken for a position.
type Cursor struct {
	Seq   Seq
	Floor Seq
}

const cursorVersion = 1

// String encodes c as owner's cursor.
func (c Cursor) String(owner auth.UserID) string {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+4)
	b = append(b, cursorVersion)
	b = binary.AppendUvarint(b, uint64(c.Seq))
	b = binary.AppendUvarint(b, uint64(c.Floor))
	b = append(b, userTag(owner)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ChangeCursor is owner's cursor after change seq: what a command that
// wrote returns, so that its client reads the feed from there.
func ChangeCursor(owner auth.UserID, seq Seq) string { return Cursor{Seq: seq}.String(owner) }

func userTag(owner auth.UserID) []byte {
	h := sha256.Sum256([]byte(owner))
	return h[:4]
}

// ParseCursor decodes owner's cursor s; ErrBadCursor for anything String
// did not make for owner.
func ParseCursor(owner auth.UserID, s string) (Cursor, error) {
	if len(s) == 0 || len(s) > 64 {
		return Cursor{}, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < 1+2+4 || b[0] != cursorVersion {
		return Cursor{}, ErrBadCursor
	}
	rest := b[1:]
	seq, n := binary.Uvarint(rest)
	if n <= 0 || seq > uint64(MaxSeq) {
		return Cursor{}, ErrBadCursor
	}
	rest = rest[n:]
	floor, n := binary.Uvarint(rest)
	if n <= 0 || floor > uint64(MaxSeq) {
		return Cursor{}, ErrBadCursor
	}
	rest = rest[n:]
	if len(rest) != 4 || string(rest) != string(userTag(owner)) {
		return Cursor{}, ErrBadCursor
	}
	c := Cursor{Seq: Seq(seq), Floor: Seq(floor)}
	if c.String(owner) != s { // one encoding only
		return Cursor{}, ErrBadCursor
	}
	return c, nil
}

// Changes returns a page of the actor's feed after cursor: "" for a
// snapshot of everything live (paged; its cursor continues the snapshot,
// then the feed), SinceNow for no changes and the current cursor, or a
// cursor the feed returned. limit is the page's size (1 to
// MaxChangesLimit; 0: DefaultChangesLimit). A cursor older than the
// retained history is ErrChangesExpired: the client takes a snapshot.
func (s *Service) Changes(ctx context.Context, a Actor, cursor string, limit int) (FeedPage, error) {
	if s.changes == nil {
		return FeedPage{}, ErrNoChanges
	}
	if limit == 0 {
		limit = DefaultChangesLimit
	}
	limit = min(max(limit, 1), MaxChangesLimit)
	out := FeedPage{Changes: []Change{}}
	if cursor == SinceNow {
		h, err := s.changes.Head(ctx, a.owner)
		if err != nil {
			return FeedPage{}, err
		}
		out.Cursor = Cursor{Seq: h}.String(a.owner)
		return out, nil
	}
	r := ChangeRead{Floor: MaxSeq} // a snapshot's first page
	if cursor != "" {
		c, err := ParseCursor(a.owner, cursor)
		if err != nil {
			return FeedPage{}, err
		}
		r = ChangeRead{Since: c.Seq, Floor: max(c.Floor, c.Seq)}
	}
	p, err := s.changes.Read(ctx, a.owner, r, limit)
	if err != nil {
		return FeedPage{}, err
	}
	next := Cursor{Seq: p.Next}
	if p.More && r.Floor > p.Next {
		// A snapshot's pages go on at the head it began at.
		next.Floor = min(r.Floor, p.Head)
	}
	out.Changes, out.Cursor, out.More = p.Changes, next.String(a.owner), p.More
	return out, nil
}

// PruneChanges forgets the tombstones of entities purged before
// now - retention (for a scheduler, as PurgeTrash); a cursor from before
// them is then ErrChangesExpired. Without a feed it does nothing.
func (s *Service) PruneChanges(ctx context.Context, retention time.Duration) (int, error) {
	if s.changes == nil {
		return 0, nil
	}
	return s.changes.Prune(ctx, s.now().Add(-retention))
}
