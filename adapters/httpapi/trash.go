package httpapi

import (
	"context"
	"time"

	"github.com/todo-backend/todo/domain/task"
)

// TrashedTask is a task in the trash: the task as it was deleted, and when.
type TrashedTask struct {
	_ struct{} `json:"-" additionalProperties:"false"`
	Task
	DeletedAt time.Time `json:"deleted_at" doc:"RFC 3339, UTC: when the task went to the trash. It is deleted for good after the retention period (30 days by default)."`
}

type trashInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" doc:"At most this many tasks; default the server's list ceiling (1000)."`
	Offset int    `query:"offset" minimum:"0" doc:"Skip this many tasks first."`
}

type trashOutput struct {
	TotalCount int           `header:"X-Total-Count" doc:"How many tasks are in the trash, whatever the page."`
	Body       []TrashedTask `nullable:"false"` // never null: `[]` when empty
}

type restoreInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IdempotencyParam
}

type ownerInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
}

// Deleted says how many tasks were deleted for good.
type Deleted struct {
	Deleted int `json:"deleted" doc:"How many tasks were deleted for good." example:"3"`
}

type deletedOutput struct {
	Body Deleted
}

func (h *handlers) listTrash(ctx context.Context, in *trashInput) (*trashOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	limit := in.Limit
	if limit == 0 {
		limit = h.listMax
		if limit <= 0 {
			limit = DefaultListMax
		}
	}
	page, err := h.svc.ListTrash(ctx, a, limit, in.Offset)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := &trashOutput{TotalCount: page.Total, Body: make([]TrashedTask, len(page.Items))}
	for i, it := range page.Items {
		out.Body[i] = TrashedTask{Task: taskOut(it.Task), DeletedAt: it.DeletedAt}
	}
	return out, nil
}

func (h *handlers) emptyTrash(ctx context.Context, in *ownerInput) (*deletedOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.EmptyTrash(ctx, a)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &deletedOutput{Body: Deleted{Deleted: n}}, nil
}

func (h *handlers) restore(ctx context.Context, in *restoreInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.RestoreTask(ctx, a, task.ID(in.ID))
	return h.one(ctx, t, err)
}
