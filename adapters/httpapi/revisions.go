package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/todo-backend/todo/domain/task"
)

// Revision is one write's changes to a task's content (issue 17).
type Revision struct {
	_       struct{}                  `json:"-" additionalProperties:"false"`
	Version int64                     `json:"version" doc:"The version the write made." example:"3"`
	Changed map[string]RevisionChange `json:"changed" doc:"The fields it changed (title, description, completed, priority, due, recurrence, reminders, tags, list_id, parent_id, position), each with its value before and after."`
	At      time.Time                 `json:"at" doc:"When, RFC 3339 in UTC."`
}

// RevisionChange is one field's value before and after a write.
type RevisionChange struct {
	_    struct{}        `json:"-" additionalProperties:"false"`
	From json.RawMessage `json:"from" doc:"The value before (null: none)."`
	To   json.RawMessage `json:"to" doc:"The value after (null: none)."`
}

type taskHistoryInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
}

type taskHistoryOutput struct {
	Body []Revision `maxItems:"50" nullable:"false"`
}

func (h *handlers) taskHistory(ctx context.Context, in *taskHistoryInput) (*taskHistoryOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	revs, err := h.svc.TaskHistory(ctx, a, task.ID(in.ID))
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := make([]Revision, len(revs))
	for i, r := range revs {
		changed := make(map[string]RevisionChange, len(r.Changed))
		for f, c := range r.Changed {
			changed[f] = RevisionChange{From: c.From, To: c.To}
		}
		out[i] = Revision{Version: int64(r.Version), Changed: changed, At: r.At}
	}
	return &taskHistoryOutput{Body: out}, nil
}
