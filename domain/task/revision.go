package task

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

// A Revision is what one write changed of a task's content (issue 17):
// the version it made, when, and per field its value before and after.
// Every store records one per write that changes content, in the write's
// transaction; version and updated_at are not content. The fields are
// named as in the API: title, description, completed, priority, due,
// recurrence, reminders, tags, list_id, parent_id, assignee_id, position
// (assignee_id since migration 20261213000030).
type Revision struct {
	Version Version
	At      time.Time
	// By is the user whose request wrote it: the user the repository call
	// that made the write was given (the owner today; a member of a shared
	// list once lists are shared), not the task's owner as such.
	By      auth.UserID
	Changed map[string]FieldChange
}

// Creation reports whether r is the task's creation: the revision of
// version 1, whose fields hold the values the task was created with (each
// from null). A revision made before creations were recorded is never
// version 1: an update makes version 2 or later.
func (r Revision) Creation() bool { return r.Version == 1 }

// FieldChange is one field's value before and after a revision, as JSON.
// title, description, completed, priority, tags, list_id, parent_id and
// assignee_id hold their API values; due, recurrence, reminders and position hold the
// stored form, for display.
type FieldChange struct {
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
}

// RevisionsKept bounds a task's history: each store keeps the revisions
// of its last RevisionsKept versions.
const RevisionsKept = 50

// Diff is the revision that turns old into new (the memory store's
// recording; the SQL stores' triggers compare the same fields), or nil
// when no content field differs.
func Diff(old, new *Task) map[string]FieldChange {
	out := map[string]FieldChange{}
	add := func(name string, a, b any) {
		ja, _ := json.Marshal(a) // plain values always marshal
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			out[name] = FieldChange{From: ja, To: jb}
		}
	}
	add("title", old.title, new.title)
	add("description", old.Description(), new.Description())
	add("completed", old.completed, new.completed)
	add("priority", old.priority, new.priority)
	add("due", dueForm(old.due), dueForm(new.due))
	add("recurrence", recurrenceForm(old), recurrenceForm(new))
	add("reminders", reminderForm(old.Reminders()), reminderForm(new.Reminders()))
	add("tags", nonNil(old.Tags()), nonNil(new.Tags()))
	add("list_id", old.listID, new.listID)
	add("parent_id", old.parentID, new.parentID)
	add("assignee_id", old.assignee, new.assignee)
	add("position", old.Position(), new.Position())
	if len(out) == 0 {
		return nil
	}
	return out
}

// Created is the revision of a new task's creation (Revision.Creation):
// each content field that has a value (not null, not an empty array), from
// null; the position, which a new task takes from its id, is left out. The
// SQL stores' insert triggers record the same fields.
func Created(t *Task) map[string]FieldChange {
	out := map[string]FieldChange{}
	add := func(name string, v any) {
		j, _ := json.Marshal(v) // plain values always marshal
		if s := string(j); s != "null" && s != "[]" {
			out[name] = FieldChange{From: json.RawMessage("null"), To: j}
		}
	}
	add("title", t.title)
	add("description", t.Description())
	add("completed", t.completed)
	add("priority", t.priority)
	add("due", dueForm(t.due))
	add("recurrence", recurrenceForm(t))
	add("reminders", reminderForm(t.Reminders()))
	add("tags", nonNil(t.Tags()))
	add("list_id", t.listID)
	add("parent_id", t.parentID)
	add("assignee_id", t.assignee)
	return out
}

func dueForm(d Due) any {
	if d.IsZero() {
		return nil
	}
	return map[string]any{"at": d.Time().UTC(), "all_day": d.AllDay(), "tz": d.ZoneName(), "floating": d.Floating()}
}

// recurrenceForm is the recurrence as history keeps it: the rule and
// how it counts (recurrence_from), or null. Revisions written before
// migration 20261212000010 hold the rule alone, a string.
func recurrenceForm(t *Task) any {
	if !t.Recurring() {
		return nil
	}
	return map[string]string{"rule": t.Recurrence().Rule().String(), "from": string(t.Recurrence().From())}
}

func reminderForm(rs []Reminder) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ChangedSince is the set of fields the revisions after base changed.
func ChangedSince(revs []Revision, base Version) map[string]bool {
	out := map[string]bool{}
	for _, r := range revs {
		if r.Version > base {
			for f := range r.Changed {
				out[f] = true
			}
		}
	}
	return out
}

// SortRevisions puts revs newest first.
func SortRevisions(revs []Revision) {
	slices.SortFunc(revs, func(a, b Revision) int { return int(b.Version - a.Version) })
}

// RevertOption is the option that puts back, on a revert, what a
// revision's field held before (its From), for the fields whose history
// keeps a form of its own rather than the API's value: due (with its zone
// and floating), recurrence (rule and from) and reminders. ok is false for
// any other field. A form it cannot read (a recurrence recorded before its
// from was, as the rule alone) is an error saying why.
func RevertOption(field string, from json.RawMessage) (opt Option, ok bool, err error) {
	null := len(from) == 0 || string(from) == "null"
	switch field {
	case "due":
		if null {
			return WithDue(""), true, nil
		}
		var f struct {
			At       string  `json:"at"`
			AllDay   bool    `json:"all_day"`
			TZ       *string `json:"tz"`
			Floating bool    `json:"floating"`
		}
		if err := json.Unmarshal(from, &f); err != nil {
			return nil, true, fmt.Errorf("the due kept in this revision cannot be read: %w", err)
		}
		at, err := revisionTime(f.At)
		if err != nil {
			return nil, true, err
		}
		zone := ""
		if f.TZ != nil {
			zone = *f.TZ
		}
		d, err := RestoreDue(at, f.AllDay, f.Floating, zone)
		if err != nil {
			return nil, true, err
		}
		return func(v *validator, t *Task) {
			v.due = nil // a due given whole: nothing to resolve
			t.due = d
		}, true, nil
	case "recurrence":
		if null {
			return WithoutRecurrence(), true, nil
		}
		var f struct {
			Rule string `json:"rule"`
			From string `json:"from"`
		}
		if err := json.Unmarshal(from, &f); err != nil {
			return nil, true, errors.New("this revision was recorded before the history kept how a recurrence counts (from due or completion), so it cannot be put back exactly: set recurrence with PATCH")
		}
		return WithRecurrence(f.Rule, f.From), true, nil
	case "reminders":
		var texts []string
		if !null {
			if err := json.Unmarshal(from, &texts); err != nil {
				return nil, true, fmt.Errorf("the reminders kept in this revision cannot be read: %w", err)
			}
		}
		in := make([]ReminderInput, len(texts))
		for i, s := range texts {
			r, err := ParseReminder(s)
			if err != nil {
				return nil, true, err
			}
			if at, ok := r.At(); ok {
				v := at.Format(time.RFC3339Nano)
				in[i].At = &v
			} else {
				d, _ := r.Before()
				v := FormatDuration(d)
				in[i].Before = &v
			}
		}
		return WithReminders(in), true, nil
	}
	return nil, false, nil
}

// revisionTime reads a time a revision keeps: RFC 3339 (PostgreSQL's
// jsonb, the memory store) or SQLite's text form.
func revisionTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("the due kept in this revision has a time that cannot be read: %q", s)
}
