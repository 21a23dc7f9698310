package application

import (
	"context"
	"errors"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The change feed (issue 16): every write to a user's tasks or lists takes
// the next number of that user's change sequence inside its own
// transaction, so numbers are handed out in commit order: a reader that has
// seen number N never later finds a committed change below N it did not see.
// The feed keeps the latest state of each entity at the number of its last
// change (a later change supersedes an earlier one) and a tombstone for each
// entity purged for good, which retention removes after a while.

// Entity names the kind of thing a change is about.
type Entity string

// The entities the feed carries.
const (
	EntityTask Entity = "task"
	EntityList Entity = "list"
)

// Op says what became of an entity.
type Op string

// The feed's operations: an upsert carries the entity as it is now (a
// trashed one with its deletion time), a delete is a tombstone.
const (
	OpUpsert Op = "upsert"
	OpDelete Op = "delete"
)

// Seq is a position in one user's change sequence; 0 is before the first
// change.
type Seq uint64

// Change is one entry of the feed. For an upsert exactly one of Task and
// List is set (a list with its counts, as a GET answers it); Deleted is the time it went to the trash, when it is there.
type Change struct {
	Seq     Seq
	Entity  Entity
	Op      Op
	ID      int64
	Task    *task.Task
	List    *list.Summary
	Deleted *time.Time
}

// ChangePage is one read of the feed.
type ChangePage struct {
	Changes []Change // oldest first, never nil
	// Next is where the reader continues from: the last change's Seq when
	// More, otherwise the sequence's head at the time of the read.
	Next Seq
	More bool // changes after Next existed when the page was read
	// Head is the number of owner's last change when the page was read
	// (in the same snapshot).
	Head Seq
}

// ErrChangesExpired is a read from before the oldest change still kept:
// tombstones since then may be gone, so the reader must take a snapshot.
var ErrChangesExpired = errors.New("changes: cursor older than the retained history")

// ChangeLog is the port of the feed, implemented by every store.
type ChangeLog interface {
	// Changes returns owner's changes with Seq > since, oldest first, at
	// most limit of them. With live set it is a snapshot: only live
	// entities (no trashed ones, no tombstones), still ordered by Seq, so
	// that a reader can page through it while writes go on. A since below
	// the retained history is ErrChangesExpired.
	Changes(ctx context.Context, owner auth.UserID, since Seq, limit int, live bool) (ChangePage, error)
	// Head returns the number of owner's last change (0: none yet).
	Head(ctx context.Context, owner auth.UserID) (Seq, error)
	// Prune removes tombstones of changes made before cutoff, and records
	// the highest Seq removed so that older cursors are ErrChangesExpired.
	Prune(ctx context.Context, cutoff time.Time) (int, error)
	// Read is Changes with the part of the feed given as a ChangeRead (a
	// snapshot's later pages); Changes(since, limit, live) is
	// Read(ReadFloor(since, live), limit). ErrChangesExpired when
	// r.Expired(the highest number pruned).
	Read(ctx context.Context, owner auth.UserID, r ChangeRead, limit int) (ChangePage, error)
}

// ChangeWatcher wakes the readers of live events (issue 16). Every store
// has one: an in-process hub for memory and SQLite; on PostgreSQL one
// listening connection per instance hears the notifications each instance
// sends after its commits, so a write on any instance wakes streams on all.
type ChangeWatcher interface {
	// Watch returns a channel that receives, coalesced, after every commit
	// that changed owner's data, and a function that stops watching. The
	// channel gets a Resync value when notifications may have been lost
	// (the listening connection dropped): readers then re-read the feed.
	// notify, when not nil, is called after each Wake is put in the
	// channel, so that a reader need not keep a goroutine waiting on it
	// (an idle stream of live events has none); it must not block.
	Watch(owner auth.UserID, notify func()) (<-chan Wake, func())
}

// Wake is what a watcher says: Head is the newest Seq it knows of (0:
// unknown), Resync that some wakes may have been lost.
type Wake struct {
	Head   Seq
	Resync bool
	// Keys, when set, are every entry of the feed after Keys.From up to
	// Head (see KeyRun): a reader that has sent everything up to a Seq
	// between Keys.From and Head sends those above it without reading
	// the feed.
	Keys *KeyRun
	// Reminders are reminders falling due now, for the streams of this
	// instance (Hub.Remind), oldest first; at most MaxWakeReminders wait.
	Reminders []Message
	// Read: a head published as unknown (0: a write may have committed
	// without a notification, sqlstore's ListenOptions.RaceWindow) is in
	// this Wake, merged or not: the reader reads the feed from where it
	// is, whatever Head says, and Keys are none. A Wake of reminders alone
	// has neither a Head nor Read.
	Read bool
}

// KeyRun is what a notification may carry besides a head (PostgreSQL:
// the publisher reads them with the heads, sqlstore's publish.go): the
// entries of the owner's feed numbered above From and up to the Wake's
// Head, oldest first, without data, all of those a read of that part of
// the feed returned in one snapshot taken after their commits (a number
// without an entry was taken again by a later change of the same item,
// which is in the run). Readers share it: never modify it.
type KeyRun struct {
	From    Seq
	Changes []Change
}

// MaxWakeReminders bounds the reminders one waiting Wake holds: a stream
// that does not read for that long loses the oldest.
const MaxWakeReminders = 100

// ChangePublisher is told, after a commit that changed owner's data, the
// newest Seq the writer knows of (0: unknown). The memory and SQLite stores
// call it after their commits; the in-process hub that implements it is
// their ChangeWatcher. On PostgreSQL the writing instance notifies after
// its commits instead (channel ChangeChannel, "<seq> <user id>" a line per
// head, each followed by its changes' keys, read from the database after
// the commit: sqlstore's notice.go), so that other instances hear of every
// commit and of nothing rolled back.
type ChangePublisher interface {
	Publish(owner auth.UserID, head Seq)
}

// ChangeChannel is the PostgreSQL NOTIFY channel of the change feed.
const ChangeChannel = "todo_changes"

// ChangeRead says which part of a feed a read wants: the entries with Seq
// above Since, leaving out those at or below Floor that are not live (in
// the trash, or tombstones). A reader taking a snapshot reads with Floor
// at the head the snapshot began at (or MaxSeq for its first page): what
// was gone before it began is not its business, while whatever changes
// after reaches it in full. A plain read has Floor = Since.
type ChangeRead struct {
	Since Seq
	Floor Seq
}

// MaxSeq is above every number: a Floor that leaves out everything not
// live.
const MaxSeq = Seq(1<<63 - 1)

// ReadFloor is the ChangeRead of ChangeLog.Changes's since and live.
func ReadFloor(since Seq, live bool) ChangeRead {
	if live {
		return ChangeRead{Since: since, Floor: MaxSeq}
	}
	return ChangeRead{Since: since, Floor: since}
}

// Expired says whether the read needs tombstones that retention pruned:
// pruned is the highest number pruned.
func (r ChangeRead) Expired(pruned Seq) bool {
	return pruned > max(r.Since, r.Floor)
}
