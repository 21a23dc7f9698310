// Package list holds the List (a user's named group of tasks, shown in the
// sidebar in an order the user drags), its rules, and the port through which
// the application stores lists. A task names its list (task.Task.ListID);
// a task in no list is in the user's inbox.
package list

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/position"
)

// MaxNameLen bounds a list's name, in Unicode code points after trimming.
const MaxNameLen = 100

// ID identifies a list. The store assigns it; it is always positive.
type ID int64

// Inbox is the ID that stands for "no list" where a filter or a move names a
// list: the inbox, where tasks without a list are. No list has it.
const Inbox ID = 0

// Version counts the writes of a stored list, as task.Version does for
// tasks: 1 when it is added, one more on every change (a rename, a new
// color, a move); trashing and restoring do not count.
type Version int64

// AnyVersion asks a write to skip the version check.
const AnyVersion Version = 0

var (
	// ErrNotFound means the list does not exist or belongs to someone else;
	// the two are deliberately indistinguishable.
	ErrNotFound = errors.New("list not found")
	// ErrNameTaken means another live list of the one who names a list
	// (creates, renames or restores it) has the same name, ignoring case:
	// see NameKey.
	ErrNameTaken = errors.New("list name already exists")
	// ErrVersionMismatch means a write expected a version the list no
	// longer has. The error carrying it is a *ConflictError.
	ErrVersionMismatch = errors.New("list version does not match")
)

// ConflictError is a write refused because the list is no longer at the
// expected version; nothing was written. Current is the list as it is now.
type ConflictError struct {
	Expected Version
	Current  Summary
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("list %d is at version %d, not %d", e.Current.List.ID(), e.Current.List.Version(), e.Expected)
}

// Is makes errors.Is(err, ErrVersionMismatch) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrVersionMismatch }

// Conflict returns the ConflictError of a write that expected version want
// of current, or nil when the versions agree (or want is AnyVersion).
func Conflict(current Summary, want Version) error {
	if want == AnyVersion || current.List.Version() == want {
		return nil
	}
	return &ConflictError{Expected: want, Current: current}
}

// List is a named group of one user's tasks. Its fields are private so that
// every change goes through a method that keeps the rules.
type List struct {
	id        ID
	owner     auth.UserID
	name      string
	color     string // "#rrggbb" in lower case, "" for none
	position  string // "" until it is moved: position.Implicit(id)
	version   Version
	createdAt time.Time
	updatedAt time.Time
}

// New makes a list for owner, not yet stored (its ID is zero, its Version
// 1). A new list goes to the bottom of the owner's lists.
func New(owner auth.UserID, name string, color *string, now time.Time) (*List, error) {
	var v validator
	if strings.TrimSpace(string(owner)) == "" {
		v.add("user_id", "must not be empty", "missing")
	}
	now = clean(now)
	l := &List{owner: owner, name: v.name(name), color: v.color(color), createdAt: now, updatedAt: now, version: 1}
	if err := v.err(); err != nil {
		return nil, err
	}
	return l, nil
}

// Edit sets the name and the color (nil: none). On error the list is
// unchanged.
func (l *List) Edit(name string, color *string, now time.Time) error {
	var v validator
	n, c := v.name(name), v.color(color)
	if err := v.err(); err != nil {
		return err
	}
	l.name, l.color = n, c
	l.touch(now)
	return nil
}

// MoveTo puts the list at key in its owner's order (a key the position
// package made between its new neighbours').
func (l *List) MoveTo(key string, now time.Time) {
	l.position = key
	l.touch(now)
}

// Stored is a list as a store keeps it.
type Stored struct {
	ID       ID
	Owner    auth.UserID
	Name     string
	Color    *string
	Position string // "" or position.Implicit(ID): never moved
	// Version is the list's version; 0 means 1.
	Version   Version
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Stored is the list as a store keeps it, the inverse of Stored.Restore.
func (l *List) Stored() Stored {
	return Stored{
		ID: l.id, Owner: l.owner, Name: l.name, Color: l.Color(), Position: l.explicitPosition(),
		Version: l.version, CreatedAt: l.createdAt, UpdatedAt: l.updatedAt,
	}
}

// Restore rebuilds the list, re-checking the rules, so that a corrupt row
// never becomes a List.
func (s Stored) Restore() (*List, error) {
	var v validator
	if strings.TrimSpace(string(s.Owner)) == "" {
		v.add("user_id", "must not be empty", "missing")
	}
	if s.ID <= 0 {
		v.add("id", "must be a positive integer", "greater_than")
	}
	l := &List{
		id: s.ID, owner: s.Owner, name: v.name(s.Name), color: v.color(s.Color),
		version: s.Version, createdAt: clean(s.CreatedAt), updatedAt: clean(s.UpdatedAt),
	}
	switch {
	case s.Version == 0:
		l.version = 1
	case s.Version < 0:
		v.add("version", "must be a positive integer", "greater_than")
	}
	if s.Position != "" && s.Position != position.Implicit(int64(s.ID)) {
		if !position.Valid(s.Position) {
			v.add("position", "must be a position key", "value_error")
		}
		l.position = s.Position
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return l, nil
}

// WithID returns a copy of the list carrying the ID its store assigned.
func (l *List) WithID(id ID) *List {
	c := *l
	c.id = id
	return &c
}

// WithVersion returns a copy of the list at version v.
func (l *List) WithVersion(v Version) *List {
	c := *l
	c.version = v
	return &c
}

// WithPosition returns a copy of the list at key, nothing else changed:
// what a rebalance does, which re-keys a user's lists in the same order.
func (l *List) WithPosition(key string) *List {
	c := *l
	c.position = key
	return &c
}

// ID returns the store-assigned id, zero before the list is stored.
func (l *List) ID() ID { return l.id }

// Owner returns the user the list belongs to.
func (l *List) Owner() auth.UserID { return l.owner }

// Name returns the trimmed name.
func (l *List) Name() string { return l.name }

// NameKey returns what the name is unique by (see NameKey).
func (l *List) NameKey() string { return NameKey(l.name) }

// Color returns the color as #rrggbb in lower case, nil when there is none.
func (l *List) Color() *string {
	if l.color == "" {
		return nil
	}
	c := l.color
	return &c
}

// Position returns the list's key in its owner's order: the key it was
// moved to, or position.Implicit(id) when it never was (lists created
// later come after it).
func (l *List) Position() string {
	if l.position == "" && l.id > 0 {
		return position.Implicit(int64(l.id))
	}
	return l.position
}

// explicitPosition is the key a move gave the list, "" when none.
func (l *List) explicitPosition() string { return l.position }

// Version returns how many times the stored list was written.
func (l *List) Version() Version { return l.version }

// CreatedAt returns when the list was created, in UTC.
func (l *List) CreatedAt() time.Time { return l.createdAt }

// UpdatedAt returns when the list last changed, in UTC.
func (l *List) UpdatedAt() time.Time { return l.updatedAt }

// NameKey is what list names are compared by: the name folded as every
// text key of the domain is (check.Fold), so "Work" and "work" are one
// name.
//
// The naming rule (issue 19): whoever names a list (creates it, renames
// it, restores it from the trash) must give it a name none of the other
// live lists THEY OWN has, else ErrNameTaken. The check looks at the
// namer's own lists and nothing else: an admin renaming a shared list is
// checked against the admin's lists, never the owner's (which they cannot
// see: a refusal would tell them the owner's private list names), and a
// hand-over (Members.Transfer) or an accepted invitation never fails on a
// name (a refusal would tell the old owner the new one's). So a sidebar
// may show two lists of one name, one of them someone else's doing; they
// differ by owner, as a shared project or list does next to your own in
// Todoist or Microsoft To Do. Stores check it under the namer's scope
// lock, not with a unique index, since a list's owner may now hold two
// lists of one name.
func NameKey(name string) string { return check.Fold(strings.TrimSpace(name)) }

// Summary is a list as the sidebar shows it: the list and how many of its
// tasks (not in the trash, subtasks included) are open and completed. The
// counts are a read model the store keeps beside the list.
type Summary struct {
	List      *List
	Open      int
	Completed int
}

// Trashed is a deleted list, kept with the tasks deleted with it until it is
// restored or purged.
type Trashed struct {
	List      *List
	DeletedAt time.Time
}

// touch moves updatedAt forward, strictly (see task.Task's).
func (l *List) touch(now time.Time) {
	now = clean(now)
	if !now.After(l.updatedAt) {
		now = l.updatedAt.Add(time.Microsecond)
	}
	l.updatedAt = now
}

// clean puts a time in UTC at microsecond precision, as the stores keep it.
func clean(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// validator collects every broken rule of one operation.
type validator struct{ problems []check.Problem }

func (v *validator) add(field, msg, typ string) {
	v.problems = append(v.problems, check.Problem{Field: field, Msg: msg, Type: typ})
}

func (v *validator) name(s string) string {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		v.add("name", "must be valid UTF-8", "string_unicode")
	case strings.ContainsRune(s, 0):
		v.add("name", "must not contain a NUL character", "string_nul")
	case n == 0:
		v.add("name", "must not be empty", "string_too_short")
	case n > MaxNameLen:
		v.add("name", fmt.Sprintf("must be at most %d characters", MaxNameLen), "string_too_long")
	}
	return s
}

// color reads #rrggbb in either case; it is kept in lower case.
func (v *validator) color(p *string) string {
	if p == nil {
		return ""
	}
	c := strings.ToLower(*p)
	ok := len(c) == 7 && c[0] == '#'
	for i := 1; ok && i < len(c); i++ {
		ok = '0' <= c[i] && c[i] <= '9' || 'a' <= c[i] && c[i] <= 'f'
	}
	if !ok {
		v.add("color", "must be a color as #rrggbb", "string_pattern_mismatch")
		return ""
	}
	return c
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &check.ValidationError{Problems: v.problems}
}

// WithOwner returns a copy of the list belonging to owner, nothing else
// changed: what a transfer of a shared list stores.
func (l *List) WithOwner(owner auth.UserID) *List {
	c := *l
	c.owner = owner
	return &c
}
