package httpapi

import (
	"context"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// mergePatchType is RFC 7396's media type. Its +json suffix makes huma read
// it as JSON; the operation documents it next to application/json.
const mergePatchType = "application/merge-patch+json"

// patchBody is a JSON Merge Patch of a task.
type patchBody struct {
	Title       optional[string]   `json:"title,omitempty" nullable:"false" doc:"A new title (same rules as on create); it cannot be removed." example:"Buy oat milk"`
	Description optional[string]   `json:"description,omitempty" doc:"A new description; null removes it."`
	Completed   optional[bool]     `json:"completed,omitempty" nullable:"false" doc:"Done or not; completed_at follows."`
	Priority    patchPriority      `json:"priority,omitempty" doc:"low, medium or high, in lower or upper case; null puts it back to medium."`
	DueDate     optional[dueDate]  `json:"due_date,omitempty" doc:"A date (YYYY-MM-DD: an all-day task) or an RFC 3339 date-time (kept in UTC); null removes it." example:"2026-03-01"`
	Tags        optional[[]string] `json:"tags,omitempty" maxItems:"100" doc:"Replaces the tags (same rules as on create); null or [] removes them." example:"[\"home\"]"`
	TagsAdd     []string           `json:"tags_add,omitempty" maxItems:"100" doc:"Tags to add to those the task has (compared as tags are: case-insensitively); a merge never finds them in conflict." example:"[\"work\"]"`
	TagsRemove  []string           `json:"tags_remove,omitempty" maxItems:"100" doc:"Tags to take off the task, if it has them; a merge never finds them in conflict." example:"[\"home\"]"`
	TimeMembers
	AssigneeID optional[string] `json:"assignee_id,omitempty" maxLength:"255" doc:"Assigns the task to the owner or a member of its list (in the inbox: the owner; with list_id, of that list), else 422; null: to nobody. With Prefer: merge, a field like the others: a conflict on it is named assignee_id." example:"u_456"`
	ListID     optional[int64]  `json:"list_id,omitempty" minimum:"1" doc:"Moves the task, with its subtasks, to the bottom of the top level of this list of the caller's (404 otherwise); null: of the inbox. A subtask becomes a top-level task there. A task already in that list stays where it is. An assignee who is neither the owner nor a member of the new list is cleared, on the task and its subtasks. POST .../move places a task anywhere." example:"3"`
}

// patchPriority is the priority member: its enum names null too, as JSON
// Schema wants of a nullable enum.
type patchPriority struct {
	optional[string]
}

// Schema documents the member.
func (patchPriority) Schema(huma.Registry) *huma.Schema {
	enum := []any{}
	for _, p := range task.Priorities() {
		enum = append(enum, string(p))
	}
	for _, p := range task.Priorities() {
		enum = append(enum, strings.ToUpper(string(p)))
	}
	return &huma.Schema{Type: huma.TypeString, Nullable: true, Enum: append(enum, nil)}
}

// patch turns the body into the use case's Patch. huma lets null through
// for any optional member, so the members that cannot be removed are
// checked here.
func (b *patchBody) patch() (application.Patch, error) {
	var p application.Patch
	var nulls []ValidationItem
	for _, m := range []struct {
		name string
		null bool
	}{{"title", b.Title.null}, {"completed", b.Completed.null}} {
		if m.null {
			nulls = append(nulls, ValidationItem{Loc: []any{"body", m.name}, Msg: "must not be null: it cannot be removed", Type: "missing"})
		}
	}
	if len(nulls) > 0 {
		return p, &ValidationProblem{Detail: nulls}
	}
	if b.Title.set {
		p.Title = &b.Title.value
	}
	if b.Description.set {
		p.SetDescription = true
		if !b.Description.null {
			p.Description = &b.Description.value
		}
	}
	if b.Completed.set {
		p.Completed = &b.Completed.value
	}
	if b.Priority.set {
		prio := string(task.DefaultPriority)
		if !b.Priority.null {
			prio = b.Priority.value
		}
		p.Options = append(p.Options, task.WithPriority(prio))
	}
	if b.DueDate.set {
		p.Options = append(p.Options, task.WithDue(string(b.DueDate.value))) // null: "", which clears it
	}
	if b.Tags.set {
		p.Options = append(p.Options, task.WithTags(b.Tags.value)) // null: none
	}
	if len(b.TagsAdd) > 0 || len(b.TagsRemove) > 0 {
		p.Options = append(p.Options, task.WithTagChanges(b.TagsAdd, b.TagsRemove))
	}
	p.Options = append(p.Options, b.TimeMembers.options()...)
	p.List = idOf(b.ListID, list.Inbox)
	if b.AssigneeID.set {
		p.SetAssignee = true
		if !b.AssigneeID.null {
			who := auth.UserID(b.AssigneeID.value)
			p.Assignee = &who
		}
	}
	return p, nil
}

type patchInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IfMatchParam
	Prefer string `header:"Prefer" doc:"merge, with If-Match: the change was made on that version and merges with what changed since (issue 17): the fields nobody changed since apply, those somebody did are conflicts, answered 409 with the task and their names while the other fields apply. Without it, If-Match is all or nothing (412)."`
	Body   patchBody
}

func (h *handlers) patch(ctx context.Context, in *patchInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if base := in.expect(in.ID); base != task.AnyVersion && base != noVersion && prefersMerge(in.Prefer) {
		return h.mergePatch(ctx, a, in, base)
	}
	p, err := in.Body.patch()
	if err != nil {
		return nil, err
	}
	t, err := h.svc.PatchTask(ctx, a, task.ID(in.ID), in.expect(in.ID), p)
	return h.one(ctx, t, err)
}

// carried are the fields the patch sets, named as in a task's history
// (task.Revision): what a merge checks for conflicts. tags_add and
// tags_remove are not among them: sets merge.
func (b *patchBody) carried() []string {
	var out []string
	for _, m := range []struct {
		name string
		set  bool
	}{
		{"title", b.Title.set}, {"description", b.Description.set}, {"completed", b.Completed.set},
		{"priority", b.Priority.set}, {"due", b.DueDate.set || b.DueTZ.set || b.DueFloating != nil},
		{"tags", b.Tags.set}, {"recurrence", b.Recurrence.set}, {"reminders", b.Reminders.set},
		{"list_id", b.ListID.set}, {"assignee_id", b.AssigneeID.set},
	} {
		if m.set {
			out = append(out, m.name)
		}
	}
	return out
}

// without is the patch without the members of the fields named.
func (b patchBody) without(fields []string) patchBody {
	for _, f := range fields {
		switch f {
		case "title":
			b.Title = optional[string]{}
		case "description":
			b.Description = optional[string]{}
		case "completed":
			b.Completed = optional[bool]{}
		case "priority":
			b.Priority = patchPriority{}
		case "due":
			b.DueDate, b.DueTZ, b.DueFloating = optional[dueDate]{}, optional[string]{}, nil
		case "tags":
			b.Tags = optional[[]string]{}
		case "recurrence":
			b.Recurrence = optional[recurrenceIn]{}
		case "reminders":
			b.Reminders = optional[[]reminderIn]{}
		case "list_id":
			b.ListID = optional[int64]{}
		case "assignee_id":
			b.AssigneeID = optional[string]{}
		}
	}
	return b
}
