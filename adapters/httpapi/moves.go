package httpapi

import (
	"context"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// Moves (issue 15): where a task is (its list, its parent, its place among
// its siblings) changes by a move, never by an edit. The client names
// neighbours; the server makes the key.

// PlaceMembers are the members that say where tasks go, in a move's body:
// an absent list or parent keeps the one the tasks have, null is the inbox
// or the top level. (Exported: the bulk move's body embeds them, and huma
// documents an embedded struct's fields only when it is exported.)
type PlaceMembers struct {
	ListID   optional[int64] `json:"list_id,omitempty" minimum:"1" doc:"The list to move to; null: the inbox; absent: the list the tasks are in (or the new parent's). Tasks moved to another list take their subtasks along; a task (or subtask) whose assignee is neither the owner nor a member of that list loses its assignee (assignee_id null)." example:"3"`
	ParentID optional[int64] `json:"parent_id,omitempty" minimum:"1" doc:"The new parent, a task of the caller's; null: the top level; absent: the parent the tasks have. A subtask lives in its parent's list, at most 4 levels deep." example:"12"`
	AfterID  *int64          `json:"after_id,omitempty" minimum:"1" nullable:"true" doc:"Put the tasks right after this sibling in the place they go to. Without after_id or before_id (or null), they go to the top." example:"7"`
	BeforeID *int64          `json:"before_id,omitempty" minimum:"1" nullable:"true" doc:"Put the tasks right before this sibling. Not with after_id."`
}

// placement is the domain's reading of the members.
func (m *PlaceMembers) placement() task.Placement {
	return task.Placement{
		List: idOf(m.ListID, list.Inbox), Parent: idOf(m.ParentID, task.TopLevel),
		After: (*task.ID)(m.AfterID), Before: (*task.ID)(m.BeforeID),
	}
}

// idOf reads an id member: nil when absent, none (the inbox, the top level)
// when null.
func idOf[ID ~int64](m optional[int64], none ID) *ID {
	if !m.set {
		return nil
	}
	id := none
	if !m.null {
		id = ID(m.value)
	}
	return &id
}

type moveTaskInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IfMatchParam
	IdempotencyParam
	Body *PlaceMembers `required:"false"`
}

type moveTasksBody struct {
	IDs []int64 `json:"ids" minItems:"1" maxItems:"100" nullable:"false" doc:"The tasks to move, in the order they are to have there (repeats count once). One that is not the caller's makes the whole call 404." example:"[4, 9]"`
	PlaceMembers
}

type moveTasksInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	IdempotencyParam
	Body moveTasksBody
}

func (h *handlers) moveTask(ctx context.Context, in *moveTaskInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	var to task.Placement
	if in.Body != nil {
		to = in.Body.placement()
	}
	t, err := h.svc.MoveTask(ctx, a, task.ID(in.ID), in.expect(in.ID), to)
	return h.one(ctx, t, err)
}

func (h *handlers) moveTasks(ctx context.Context, in *moveTasksInput) (*tasksOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	ts, err := h.svc.MoveTasks(ctx, a, taskIDs(in.Body.IDs), in.Body.placement())
	return h.many(ctx, ts, err)
}

// HomeMembers are where a new task goes, in a create body: a list (null:
// the inbox) and a parent (null: the top level); absent, the inbox at the
// top level, or the parent's list. (Exported and embedded, as
// PlaceMembers.)
type HomeMembers struct {
	ListID   optional[int64] `json:"list_id,omitempty" minimum:"1" doc:"The list to put the task in, one of the caller's (404 otherwise); null or absent: the inbox, or the parent's list when parent_id names one (another list is then a 422)." example:"3"`
	ParentID optional[int64] `json:"parent_id,omitempty" minimum:"1" doc:"The task to put it under, one of the caller's (404 otherwise), at most at level 3; null or absent: the top level." example:"12"`
}

// home is the use case's reading of the members, and whether they name
// anything.
func (m *HomeMembers) home() (application.Home, bool) {
	h := application.Home{List: idOf(m.ListID, list.Inbox), Parent: idOf(m.ParentID, task.TopLevel)}
	return h, h.List != nil || h.Parent != nil
}
