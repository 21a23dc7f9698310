package task

import (
	"encoding/json"
	"slices"
	"time"
)

// A Revision is what one write changed of a task's content (issue 17):
// the version it made, when, and per field its value before and after.
// Every store records one per write that changes content, in the write's
// transaction; version and updated_at are not content. The fields are
// named as in the API: title, description, completed, priority, due,
// recurrence, reminders, tags, list_id, parent_id, position.
type Revision struct {
	Version Version
	At      time.Time
	Changed map[string]FieldChange
}

// FieldChange is one field's value before and after a revision, as JSON.
// title, description, completed, priority, tags, list_id and parent_id
// hold their API values; due, recurrence, reminders and position hold the
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
	add("position", old.Position(), new.Position())
	if len(out) == 0 {
		return nil
	}
	return out
}

func dueForm(d Due) any {
	if d.IsZero() {
		return nil
	}
	return map[string]any{"at": d.Time().UTC(), "all_day": d.AllDay(), "tz": d.ZoneName(), "floating": d.Floating()}
}

func recurrenceForm(t *Task) any {
	if !t.Recurring() {
		return nil
	}
	return t.Recurrence().Rule().String()
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
