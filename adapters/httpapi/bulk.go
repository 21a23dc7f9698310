package httpapi

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

type bulkCreateInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	IdempotencyParam
	Body []createBody `minItems:"1" maxItems:"100" nullable:"false"`
}

type tasksOutput struct {
	Body []Task `nullable:"false"`
}

// bulkSet is what a bulk change sets on every task; what it leaves out
// stays as it is.
type bulkSet struct {
	Completed *bool             `json:"completed,omitempty" doc:"Done or not; completed_at follows."`
	Priority  *string           `json:"priority,omitempty" enum:"low,medium,high,LOW,MEDIUM,HIGH" doc:"low, medium or high, in lower or upper case."`
	Tags      *[]string         `json:"tags,omitempty" maxItems:"100" doc:"Replaces the tags (same rules as on create); [] removes them."`
	DueDate   optional[dueDate] `json:"due_date,omitempty" doc:"A date (YYYY-MM-DD: an all-day task) or an RFC 3339 date-time (kept in UTC); null clears it; absent leaves it as it is." example:"2026-03-01"`
}

type bulkUpdateBody struct {
	IDs []int64 `json:"ids" minItems:"1" maxItems:"100" nullable:"false" doc:"The tasks to change (repeats count once). One that is not the caller's makes the whole call 404."`
	Set bulkSet `json:"set" doc:"What to set on each: at least one of completed, priority, tags, due_date."`
}

type bulkUpdateInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Body   bulkUpdateBody
}

type bulkDeleteBody struct {
	IDs []int64 `json:"ids" minItems:"1" maxItems:"100" nullable:"false" doc:"The tasks to move to the trash (repeats count once). One that is not the caller's makes the whole call 404."`
}

type bulkDeleteInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	IdempotencyParam
	Body bulkDeleteBody
}

type clearInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	IdempotencyParam
}

// TrashCount says how many tasks went to the trash.
type TrashCount struct {
	Trashed int `json:"trashed" doc:"How many tasks went to the trash." example:"3"`
}

type trashCountOutput struct {
	Body TrashCount
}

func (h *handlers) createTasks(ctx context.Context, in *bulkCreateInput) (*tasksOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	items := make([]application.NewTask, len(in.Body))
	for i, b := range in.Body {
		items[i] = application.NewTask{Title: b.Title, Description: b.Description, Options: b.options()}
		items[i].Home, _ = b.home()
	}
	ts, err := h.svc.CreateTasks(ctx, a, items)
	return h.many(ctx, ts, err)
}

// newTaskProblems is the itemRules of a bulk create: the domain's problems
// with the items of body (the JSON huma got) that the schema accepted, at
// their index in body.
func (h *handlers) newTaskProblems(ctx context.Context, body []byte, bad map[int]bool) []ValidationItem {
	a, ok := ctx.Value(actorKey{}).(application.Actor)
	var raws []json.RawMessage
	if !ok || json.Unmarshal(body, &raws) != nil {
		return nil
	}
	var items []application.NewTask
	var at []int // the index in body of each of items
	for i, raw := range raws {
		var b createBody
		if bad[i] || json.Unmarshal(raw, &b) != nil {
			continue
		}
		items = append(items, application.NewTask{Title: b.Title, Description: b.Description, Options: b.options()})
		at = append(at, i)
	}
	berr, ok := errors.AsType[*task.BatchError](h.svc.CheckNewTasks(ctx, a, items))
	if !ok {
		return nil
	}
	var out []ValidationItem
	for _, it := range berr.Items {
		for _, pr := range it.Problems {
			out = append(out, ValidationItem{Loc: problemLoc([]any{"body", at[it.Index]}, pr.Field), Msg: pr.Msg, Type: pr.Type})
		}
	}
	return out
}

func (h *handlers) updateTasks(ctx context.Context, in *bulkUpdateInput) (*tasksOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	s := &in.Body.Set
	ts, err := h.svc.UpdateTasks(ctx, a, taskIDs(in.Body.IDs), application.BulkSet{
		Completed: s.Completed,
		Options:   options(s.Priority, s.DueDate, s.Tags),
	})
	return h.many(ctx, ts, err)
}

func (h *handlers) deleteTasks(ctx context.Context, in *bulkDeleteInput) (*trashCountOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.TrashTasks(ctx, a, taskIDs(in.Body.IDs))
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &trashCountOutput{Body: TrashCount{Trashed: n}}, nil
}

func (h *handlers) clearCompleted(ctx context.Context, in *clearInput) (*trashCountOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.ClearCompleted(ctx, a)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &trashCountOutput{Body: TrashCount{Trashed: n}}, nil
}

func (h *handlers) many(ctx context.Context, ts []*task.Task, err error) (*tasksOutput, error) {
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &tasksOutput{Body: tasksOut(ts)}, nil
}

func taskIDs(raw []int64) []task.ID {
	out := make([]task.ID, len(raw))
	for i, id := range raw {
		out[i] = task.ID(id)
	}
	return out
}
