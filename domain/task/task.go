// Package task holds the Task, the rules every task obeys, and the port
// through which the application stores tasks.
package task

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-backend/todo/domain/auth"
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
	createdAt   time.Time
	updatedAt   time.Time
}

// New makes a task for owner, not yet stored (its ID is zero).
func New(owner auth.UserID, title string, description *string, now time.Time) (*Task, error) {
	var v validator
	v.owner(owner)
	title = v.title(title)
	description = v.description(description)
	if err := v.err(); err != nil {
		return nil, err
	}
	now = clean(now)
	return &Task{
		owner:       owner,
		title:       title,
		description: description,
		createdAt:   now,
		updatedAt:   now,
	}, nil
}

// Restore rebuilds a stored task. It re-checks the rules so that a corrupt row
// never becomes a Task.
func Restore(id ID, owner auth.UserID, title string, description *string, completed bool, createdAt, updatedAt time.Time) (*Task, error) {
	var v validator
	v.owner(owner)
	if id <= 0 {
		v.add("id", "must be a positive integer", "greater_than")
	}
	t := v.title(title)
	d := v.description(description)
	if err := v.err(); err != nil {
		return nil, err
	}
	return &Task{
		id:          id,
		owner:       owner,
		title:       t,
		description: d,
		completed:   completed,
		createdAt:   clean(createdAt),
		updatedAt:   clean(updatedAt),
	}, nil
}

// Edit replaces the title and description. On error the task is unchanged.
func (t *Task) Edit(title string, description *string, now time.Time) error {
	var v validator
	title = v.title(title)
	description = v.description(description)
	if err := v.err(); err != nil {
		return err
	}
	t.title = title
	t.description = description
	t.touch(now)
	return nil
}

// SetCompleted marks the task done or not done.
func (t *Task) SetCompleted(completed bool, now time.Time) {
	t.completed = completed
	t.touch(now)
}

// ToggleCompleted flips the task between done and not done.
func (t *Task) ToggleCompleted(now time.Time) {
	t.SetCompleted(!t.completed, now)
}

// WithID returns a copy of the task carrying the ID its store assigned.
func (t *Task) WithID(id ID) *Task {
	c := *t
	c.id = id
	return &c
}

// touch moves updatedAt forward, strictly, even when two changes fall in the
// same microsecond, so that clients can order versions by it.
func (t *Task) touch(now time.Time) {
	now = clean(now)
	if !now.After(t.updatedAt) {
		now = t.updatedAt.Add(time.Microsecond)
	}
	t.updatedAt = now
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

// CreatedAt returns when the task was created, in UTC.
func (t *Task) CreatedAt() time.Time { return t.createdAt }

// UpdatedAt returns when the task last changed, in UTC.
func (t *Task) UpdatedAt() time.Time { return t.updatedAt }

// clean puts a time in UTC at microsecond precision: what PostgreSQL keeps,
// so that every store hands back exactly what it was given.
func clean(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// validator collects every broken rule of one operation, so that a client
// learns of all its mistakes at once.
type validator struct {
	problems []Problem
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

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}
