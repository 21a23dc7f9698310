// Package task holds the Task, the rules every task obeys, and the port
// through which the application stores tasks.
package task

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/recur"
)

// Limits on a task's text, counted in Unicode code points.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 1000
)

// ID identifies a task. The store assigns it; it is always positive.
type ID int64

// ErrNotFound means the task does not exist or belongs to someone else; the
// two are deliberately indistinguishable.
var ErrNotFound = errors.New("task not found")

// Task is one item on a user's list. Its fields are private so that every
// change goes through a method that keeps the rules.
type Task struct {
	id          ID
	owner       auth.UserID
	title       string
	description *string
	completed   bool
	priority    Priority
	due         Due
	tags        []string
	completedAt *time.Time
	createdAt   time.Time
	updatedAt   time.Time
	version     Version
	// listID is the task's list, nil for the inbox; parentID its parent,
	// nil at the top level; position its key among its siblings, "" until
	// it is moved (Position: position.Implicit(id)).
	listID   *list.ID
	parentID *ID
	position string
	// recurrence is how the task repeats (zero: it does not);
	// recurrencePassed how many of its occurrences were passed since it
	// was set, which its COUNT counts.
	recurrence       *recur.Recurrence // nil: none (a pointer: Rule is large, and tasks are copied)
	recurrencePassed int
	// reminders are when to remind the user (none: nil).
	reminders []Reminder
	// createdBy is who created the task, "" for its owner (and for tasks
	// stored before shared lists, issue 19); assignee is the owner or a
	// member of the task's list it is assigned to (nil: nobody).
	createdBy auth.UserID
	assignee  *auth.UserID
	// changed says that a method changed the task since it was restored
	// or stored (Changed).
	changed bool
}

// Option sets one of a task's optional attributes in New or Edit. Options
// are checked in the same pass as the title and description, so a client
// learns of every broken rule at once.
type Option func(*validator, *Task)

// WithPriority sets the priority: low, medium or high, in lower or upper case.
func WithPriority(p string) Option {
	return func(v *validator, t *Task) {
		if pr, err := ParsePriority(p); err != nil {
			v.problems = append(v.problems, priorityProblem("priority", p))
		} else {
			t.priority = pr
		}
	}
}

// WithTags replaces the tags (see NormalizeTags for the rules); none clears them.
func WithTags(tags []string) Option {
	return func(v *validator, t *Task) {
		t.tags = v.tags(tags)
	}
}

// InList puts a new task in a list (nil: the inbox, where a task goes by
// default). Only New takes it: a stored task changes lists by a move, which
// takes its subtasks along (an edit with it is a ValidationError).
func InList(id *list.ID) Option {
	return func(v *validator, t *Task) {
		switch {
		case t.id != 0:
			v.add("list_id", "changes by a move, not an edit", "value_error")
		case id != nil && *id <= 0:
			v.add("list_id", "must be a positive integer", "greater_than")
		default:
			t.listID = clonePtr(id)
		}
	}
}

// Under makes a new task a subtask of parent (nil: top level, the
// default); it must then be in the parent's list (InList), which the store
// checks with the depth (CheckPlacement). Only New takes it, as InList.
func Under(parent *ID) Option {
	return func(v *validator, t *Task) {
		switch {
		case t.id != 0:
			v.add("parent_id", "changes by a move, not an edit", "value_error")
		case parent != nil && *parent <= 0:
			v.add("parent_id", "must be a positive integer", "greater_than")
		default:
			t.parentID = clonePtr(parent)
		}
	}
}

// CreatedBy records who creates a new task when it is not its owner: a
// member of a shared list creating a task there (the task is the list
// owner's). Only New takes it; an edit ignores it.
func CreatedBy(who auth.UserID) Option {
	return func(v *validator, t *Task) {
		if t.id == 0 {
			t.createdBy = who
		}
	}
}

// AssignTo assigns the task to a user (nil: to nobody). That the user is the
// owner or a member of the task's list is the application's to check, since
// it depends on the list's members.
func AssignTo(who *auth.UserID) Option {
	return func(v *validator, t *Task) {
		if who != nil && strings.TrimSpace(string(*who)) == "" {
			v.add("assignee_id", "must be a user id or null", "value_error")
			return
		}
		t.assignee = clonePtr(who)
	}
}

// New makes a task for owner, not yet stored (its ID is zero, its Version
// 1). Without options its priority is DefaultPriority and it has no due date
// and no tags.
func New(owner auth.UserID, title string, description *string, now time.Time, opts ...Option) (*Task, error) {
	var v validator
	v.owner(owner)
	now = clean(now)
	t := &Task{
		owner:       owner,
		title:       v.title(title),
		description: v.description(description),
		priority:    DefaultPriority,
		tags:        []string{},
		createdAt:   now,
		updatedAt:   now,
		version:     1,
		changed:     true, // not stored yet
	}
	for _, o := range opts {
		o(&v, t)
	}
	v.finish(t)
	if err := v.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// CheckOptions checks options on their own, by the rules New and Edit
// apply: a change of many tasks checks what it sets once, before it reads
// any of them.
func CheckOptions(opts ...Option) error {
	var v validator
	var scratch Task // what the options set is not kept
	for _, o := range opts {
		o(&v, &scratch)
	}
	v.finishOptions(&scratch)
	return v.err()
}

// Restore rebuilds a stored task. It re-checks the rules so that a corrupt row
// never becomes a Task. The attributes it has no parameter for take their
// defaults; stores use Stored.Restore.
func Restore(id ID, owner auth.UserID, title string, description *string, completed bool, createdAt, updatedAt time.Time) (*Task, error) {
	return Stored{
		ID: id, Owner: owner, Title: title, Description: description, Completed: completed,
		CreatedAt: createdAt, UpdatedAt: updatedAt,
	}.Restore()
}

// Stored is a task as a store keeps it.
type Stored struct {
	ID          ID
	Owner       auth.UserID
	Title       string
	Description *string
	Completed   bool
	Priority    Priority // "" means DefaultPriority
	Due         Due
	Tags        []string
	CompletedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Version is the task's version; 0 means 1 (a store that does not
	// count versions).
	Version Version
	// ListID is the task's list, nil for the inbox; ParentID its parent,
	// nil at the top level.
	ListID   *list.ID
	ParentID *ID
	// Position is the task's key among its siblings (Task.Position): ""
	// or position.Implicit(ID) for a task never moved, which stores keep
	// as no key at all.
	Position string
	// RecurrenceRule is the canonical RRULE ("" when the task does not
	// repeat), RecurrenceFrom "due" or "completion", RecurrencePassed the
	// occurrences passed since it was set (Task.RecurrencePassed).
	RecurrenceRule   string
	RecurrenceFrom   string
	RecurrencePassed int
	// Reminders are the task's reminders (Task.Reminders).
	Reminders []Reminder
	// By is the user whose request writes this version, which its
	// revision records (Revision.By): a store sets it from the user its
	// write was called with; "" means the owner. Not part of the task:
	// Task.Stored leaves it empty and Restore ignores it.
	By auth.UserID
	// CreatedBy is who created the task ("" or Owner: its owner);
	// Assignee who it is assigned to (nil: nobody).
	CreatedBy auth.UserID
	Assignee  *auth.UserID
}

// Stored is the task as a store keeps it, the inverse of Stored.Restore:
// a store writes every field from it, so that a field added to Stored is
// written by every store that names it. It shares no memory with the task.
func (t *Task) Stored() Stored {
	return Stored{
		ID:          t.id,
		Owner:       t.owner,
		Title:       t.title,
		Description: t.Description(),
		Completed:   t.completed,
		Priority:    t.priority,
		Due:         t.due,
		Tags:        slices.Clone(t.tags),
		CompletedAt: t.CompletedAt(),
		CreatedAt:   t.createdAt,
		UpdatedAt:   t.updatedAt,
		Version:     t.version,
		ListID:      t.ListID(),
		ParentID:    t.ParentID(),
		Position:    t.Position(),

		RecurrenceRule:   t.Recurrence().Rule().String(),
		RecurrenceFrom:   string(t.Recurrence().From()),
		RecurrencePassed: t.recurrencePassed,
		Reminders:        t.Reminders(),
		CreatedBy:        t.createdBy,
		Assignee:         t.Assignee(),
	}
}

// Restore rebuilds the task, re-checking the rules. A completed_at on a task
// that is not completed is dropped (a reopened task has none); a completed
// task may lack one (completed before tasks recorded it).
func (s Stored) Restore() (*Task, error) {
	var v validator
	v.owner(s.Owner)
	if s.ID <= 0 {
		v.add("id", "must be a positive integer", "greater_than")
	}
	t := &Task{
		id:          s.ID,
		owner:       s.Owner,
		title:       v.title(s.Title),
		description: v.description(s.Description),
		completed:   s.Completed,
		priority:    DefaultPriority,
		due:         s.Due,
		tags:        v.tags(s.Tags),
		createdAt:   clean(s.CreatedAt),
		updatedAt:   clean(s.UpdatedAt),
		version:     s.Version,
		listID:      clonePtr(s.ListID),
		parentID:    clonePtr(s.ParentID),
		assignee:    clonePtr(s.Assignee),
	}
	if s.CreatedBy != s.Owner {
		t.createdBy = s.CreatedBy
	}
	if s.ListID != nil && *s.ListID <= 0 {
		v.add("list_id", "must be a positive integer", "greater_than")
	}
	if s.ParentID != nil && (*s.ParentID <= 0 || *s.ParentID == s.ID) {
		v.add("parent_id", "must be the positive id of another task", "greater_than")
	}
	if s.Position != "" && s.Position != position.Implicit(int64(s.ID)) {
		if !position.Valid(s.Position) {
			v.add("position", "must be a position key", "value_error")
		}
		t.position = s.Position
	}
	switch {
	case s.Version == 0:
		t.version = 1
	case s.Version < 0:
		v.add("version", "must be a positive integer", "greater_than")
	}
	if s.Priority != "" {
		if s.Priority.Rank() == 0 {
			v.problems = append(v.problems, priorityProblem("priority", string(s.Priority)))
		}
		t.priority = s.Priority
	}
	if s.Completed && s.CompletedAt != nil {
		at := clean(*s.CompletedAt)
		t.completedAt = &at
	}
	if s.RecurrenceRule != "" {
		WithRecurrence(s.RecurrenceRule, s.RecurrenceFrom)(&v, t)
		t.recurrencePassed = s.RecurrencePassed
		if s.RecurrencePassed < 0 {
			v.add("recurrence_passed", "must not be negative", "greater_than_equal")
		}
	}
	if !t.Recurrence().IsZero() && t.due.IsZero() {
		v.add("recurrence", "a repeating task needs a due_date", "missing")
	}
	if len(s.Reminders) > MaxReminders {
		v.add("reminders", "too many reminders", "too_long")
	}
	t.reminders = append([]Reminder(nil), s.Reminders...)
	v.remindersNeedDue(t)
	if err := v.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// Edit replaces the title and description and applies opts; attributes no
// option names stay as they are. On error the task is unchanged. An edit
// that gives every attribute the value it has is no change: updated_at
// stays, and Changed does not turn true for it (stores then write nothing).
func (t *Task) Edit(title string, description *string, now time.Time, opts ...Option) error {
	var v validator
	next := *t
	next.title = v.title(title)
	next.description = v.description(description)
	for _, o := range opts {
		o(&v, &next)
	}
	v.finish(&next)
	if err := v.err(); err != nil {
		return err
	}
	if next.sameContent(t) {
		return nil
	}
	*t = next
	t.touch(now)
	return nil
}

// SetCompleted marks the task done or not done, and reports whether that
// changed it: setting the value it has is no change (updated_at and
// completed_at stay). A task that becomes done records when (completed_at,
// equal to its updated_at); one that is reopened forgets it.
func (t *Task) SetCompleted(completed bool, now time.Time) bool {
	if completed == t.completed {
		return false
	}
	t.completed = completed
	t.touch(now)
	if completed {
		at := t.updatedAt
		t.completedAt = &at
	} else {
		t.completedAt = nil
	}
	return true
}

// ToggleCompleted flips the task between done and not done: always a
// change.
func (t *Task) ToggleCompleted(now time.Time) {
	t.SetCompleted(!t.completed, now)
}

// Place puts the task in a list (nil: the inbox), under a parent (nil: top
// level), at key among its new siblings: what a move does, once the store
// has checked the placement (CheckPlacement) and made the key between the
// new neighbours' (see Placement).
func (t *Task) Place(listID *list.ID, parentID *ID, key string, now time.Time) {
	t.listID, t.parentID, t.position = clonePtr(listID), clonePtr(parentID), key
	t.touch(now)
}

// SetList moves the task to another list with its parent and key: what
// happens to the subtasks of a task moved to another list.
func (t *Task) SetList(listID *list.ID, now time.Time) {
	t.listID = clonePtr(listID)
	t.touch(now)
}

// WithList returns a copy of the task in another list, nothing else
// changed: a subtask in the trash follows its ancestor to another list
// without a write of its own, so that it is restored where its parent is.
func (t *Task) WithList(listID *list.ID) *Task {
	c := t.WithID(t.id)
	c.listID = clonePtr(listID)
	return c
}

// WithOwner returns a copy of the task belonging to owner, nothing else
// changed: a shared list's tasks go with it to its new owner (a transfer).
func (t *Task) WithOwner(owner auth.UserID) *Task {
	c := t.WithID(t.id)
	c.createdBy = t.CreatedBy()
	c.owner = owner
	return c
}

// WithPosition returns a copy of the task at key and nothing else changed:
// what a rebalance does, which re-keys a scope without changing its order.
func (t *Task) WithPosition(key string) *Task {
	c := t.WithID(t.id)
	c.position = key
	return c
}

// Changed reports whether a method changed the task since it was restored
// from its store or stored (New's task is not stored yet: true). A store
// given a task to change writes it only when it changed, so that a write
// that changes nothing moves neither the version nor updated_at, and other
// clients' If-Match still holds.
func (t *Task) Changed() bool { return t.changed }

// sameContent reports whether t and o hold the same attributes, all but
// the store's bookkeeping (id, owner, times, version): an edit leaving
// every one as it was is no change. TestSameContentCoversEveryField holds
// it to Task's fields.
func (t *Task) sameContent(o *Task) bool {
	return t.title == o.title &&
		equalPtr(t.description, o.description) &&
		t.completed == o.completed &&
		t.priority == o.priority &&
		t.due.Equal(o.due) &&
		slices.Equal(t.tags, o.tags) &&
		equalTime(t.completedAt, o.completedAt) &&
		equalPtr(t.listID, o.listID) &&
		equalPtr(t.parentID, o.parentID) &&
		t.position == o.position &&
		sameRecurrence(t.recurrence, o.recurrence) &&
		t.recurrencePassed == o.recurrencePassed &&
		equalReminders(t.reminders, o.reminders) &&
		equalPtr(t.assignee, o.assignee)
}

func sameRecurrence(a, b *recur.Recurrence) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.From() == b.From() && a.Rule().String() == b.Rule().String()
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// WithID returns a copy of the task carrying the ID its store assigned.
func (t *Task) WithID(id ID) *Task {
	c := *t
	c.id = id
	c.tags = slices.Clone(t.tags)
	c.reminders = slices.Clone(t.reminders)
	c.listID, c.parentID = clonePtr(t.listID), clonePtr(t.parentID)
	c.assignee = clonePtr(t.assignee)
	return &c
}

// CreatedBy returns who created the task: its owner, or the member of its
// shared list who did.
func (t *Task) CreatedBy() auth.UserID {
	if t.createdBy == "" {
		return t.owner
	}
	return t.createdBy
}

// Assignee returns who the task is assigned to, nil when nobody.
func (t *Task) Assignee() *auth.UserID { return clonePtr(t.assignee) }

// WithVersion returns a copy of the task at version v, as stored: stores
// set it, one more on every write (see Repository.Update). The copy has
// not Changed since.
func (t *Task) WithVersion(v Version) *Task {
	c := t.WithID(t.id)
	c.version = v
	c.changed = false
	return c
}

// touch moves updatedAt forward, strictly, even when two changes fall in the
// same microsecond, so that clients can order versions by it, and marks the
// task Changed. Every change calls it, and only a change.
func (t *Task) touch(now time.Time) {
	now = clean(now)
	if !now.After(t.updatedAt) {
		now = t.updatedAt.Add(time.Microsecond)
	}
	t.updatedAt = now
	t.changed = true
}

// ID returns the store-assigned id, zero before the task is stored.
func (t *Task) ID() ID { return t.id }

// Owner returns the user the task belongs to.
func (t *Task) Owner() auth.UserID { return t.owner }

// Title returns the trimmed title.
func (t *Task) Title() string { return t.title }

// Description returns the description, nil when there is none.
func (t *Task) Description() *string {
	if t.description == nil {
		return nil
	}
	d := *t.description
	return &d
}

// Completed reports whether the task is done.
func (t *Task) Completed() bool { return t.completed }

// Priority returns how much the task matters.
func (t *Task) Priority() Priority { return t.priority }

// Due returns when the task is due; the zero Due when it is not.
func (t *Task) Due() Due { return t.due }

// Tags returns the task's tags in the order given; never nil.
func (t *Task) Tags() []string {
	if t.tags == nil {
		return []string{}
	}
	return slices.Clone(t.tags)
}

// CompletedAt returns when the task was completed, nil when it is not (or
// when it was completed before tasks recorded this).
func (t *Task) CompletedAt() *time.Time {
	if t.completedAt == nil {
		return nil
	}
	at := *t.completedAt
	return &at
}

// CreatedAt returns when the task was created, in UTC.
func (t *Task) CreatedAt() time.Time { return t.createdAt }

// UpdatedAt returns when the task last changed, in UTC. It moves on every
// change, strictly, and on nothing else.
func (t *Task) UpdatedAt() time.Time { return t.updatedAt }

// Version returns how many times the stored task was written: 1 when it was
// added, one more on every change.
func (t *Task) Version() Version { return t.version }

// ListID returns the task's list, nil when it is in the inbox.
func (t *Task) ListID() *list.ID { return clonePtr(t.listID) }

// ParentID returns the task's parent, nil when it is at the top level.
func (t *Task) ParentID() *ID { return clonePtr(t.parentID) }

// Position returns the task's key among its siblings (same list, same
// parent), which sort byte-wise in the order the user gave them: the key
// of its last move, or position.Implicit(id) when it never moved, so that
// new tasks come last. "" before the task is stored.
func (t *Task) Position() string {
	if t.position == "" && t.id > 0 {
		return position.Implicit(int64(t.id))
	}
	return t.position
}

// AppendPosition appends Position() to b, without making a string when the
// key is implicit: what a list writes for each of its tasks.
func (t *Task) AppendPosition(b []byte) []byte {
	if t.position == "" && t.id > 0 {
		return position.AppendImplicit(b, int64(t.id))
	}
	return append(b, t.position...)
}

// Scope returns where the task is among its siblings.
func (t *Task) Scope() Scope { return ScopeOf(t.listID, t.parentID) }

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// clean puts a time in UTC at microsecond precision: what PostgreSQL keeps,
// so that every store hands back exactly what it was given.
func clean(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// validator collects every broken rule of one operation, so that a client
// learns of all its mistakes at once.
type validator struct {
	problems []Problem
	due      *dueInput // what the options said about the due, read by finish
}

// finish reads what the options said about the due (dueInput.resolve) and
// checks the rules that span options: a repeating task needs a due.
func (v *validator) finish(t *Task) {
	if v.due != nil {
		v.due.resolve(v, t)
	}
	if t.Recurring() && t.due.IsZero() {
		v.add("recurrence", "a repeating task needs a due_date: its first occurrence", "missing")
	}
	v.remindersNeedDue(t)
}

// remindersNeedDue: a reminder before the due needs a due.
func (v *validator) remindersNeedDue(t *Task) {
	if !t.due.IsZero() {
		return
	}
	for i, r := range t.reminders {
		if r.relative {
			v.add("reminders."+strconv.Itoa(i)+".before", "a reminder before the due needs a due_date", "missing")
		}
	}
}

// finishOptions is finish for options checked on their own (CheckOptions):
// only what they say, against no task.
func (v *validator) finishOptions(t *Task) {
	if v.due != nil {
		v.due.resolve(v, t)
	}
}

func (v *validator) add(field, msg, typ string) {
	v.problems = append(v.problems, Problem{Field: field, Msg: msg, Type: typ})
}

func (v *validator) owner(o auth.UserID) {
	if strings.TrimSpace(string(o)) == "" {
		v.add("user_id", "must not be empty", "missing")
	}
}

func (v *validator) title(s string) string {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		v.add("title", "must be valid UTF-8", "string_unicode")
	case strings.ContainsRune(s, 0):
		v.add("title", "must not contain a NUL character", "string_nul")
	case n == 0:
		v.add("title", "must not be empty", "string_too_short")
	case n > MaxTitleLen:
		v.add("title", "must be at most 200 characters", "string_too_long")
	}
	return s
}

func (v *validator) description(p *string) *string {
	if p == nil {
		return nil
	}
	s := *p
	switch {
	case !utf8.ValidString(s):
		v.add("description", "must be valid UTF-8", "string_unicode")
	case strings.ContainsRune(s, 0):
		v.add("description", "must not contain a NUL character", "string_nul")
	case utf8.RuneCountInString(s) > MaxDescriptionLen:
		v.add("description", "must be at most 1000 characters", "string_too_long")
	}
	return &s
}

// merge adds the problems of a ValidationError.
func (v *validator) merge(err error) {
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		v.problems = append(v.problems, ve.Problems...)
	}
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}
