package task

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/recur"
)

// TestSameContentCoversEveryField: every field of Task is either compared
// by sameContent or the store's bookkeeping, and changing a compared field
// alone makes it differ. A field added to Task but not to sameContent would
// make an edit of only that field look like no change, and stores would
// not write it.
func TestSameContentCoversEveryField(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	d := "d"
	base := Task{id: 1, owner: "u", title: "t", description: &d, priority: DefaultPriority,
		due: DueAt(t0), tags: []string{"a"}, createdAt: t0, updatedAt: t0, version: 1}
	// Each compared field, and a change of it alone.
	changes := map[string]func(*Task){
		"title":       func(c *Task) { c.title = "other" },
		"description": func(c *Task) { c.description = nil },
		"completed":   func(c *Task) { c.completed = true },
		"priority":    func(c *Task) { c.priority = PriorityHigh },
		"due":         func(c *Task) { c.due = DueOn(t0) },
		"tags":        func(c *Task) { c.tags = []string{"b"} },
		"completedAt": func(c *Task) { at := t0; c.completedAt = &at },
		"listID":      func(c *Task) { l := list.ID(3); c.listID = &l },
		"parentID":    func(c *Task) { p := ID(2); c.parentID = &p },
		"position":    func(c *Task) { c.position = "V" },
		"recurrence": func(c *Task) {
			r, _ := recur.NewRecurrence("FREQ=WEEKLY", "due")
			c.recurrence = &r
		},
		"recurrencePassed": func(c *Task) { c.recurrencePassed = 2 },
		"reminders":        func(c *Task) { c.reminders = []Reminder{ReminderBefore(time.Minute)} },
		"assignee":         func(c *Task) { u := auth.UserID("u2"); c.assignee = &u },
	}
	bookkeeping := []string{"id", "owner", "createdBy", "createdAt", "updatedAt", "version", "changed"}

	typ := reflect.TypeFor[Task]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if _, ok := changes[name]; !ok && !slices.Contains(bookkeeping, name) {
			t.Errorf("Task.%s is neither compared by sameContent (a change listed here) nor bookkeeping", name)
		}
	}
	for name, change := range changes {
		if _, ok := typ.FieldByName(name); !ok {
			t.Errorf("changes lists %s, which Task does not have", name)
		}
		c := base
		change(&c)
		if c.sameContent(&base) || base.sameContent(&c) {
			t.Errorf("a task with another %s has the same content", name)
		}
	}
	c := base
	c.id, c.owner, c.createdAt, c.updatedAt, c.version, c.changed = 2, "v", t0.Add(time.Hour), t0.Add(time.Hour), 7, true
	if !c.sameContent(&base) {
		t.Errorf("bookkeeping alone made the content differ")
	}
}
