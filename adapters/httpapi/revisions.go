package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/domain/task"
)

// Revision is one write's changes to a task's content (issue 17).
type Revision struct {
	_       struct{}                  `json:"-" additionalProperties:"false"`
	Version int64                     `json:"version" doc:"The version the write made." example:"3"`
	Changed map[string]RevisionChange `json:"changed" doc:"The fields it changed (title, description, completed, priority, due, recurrence, reminders, tags, list_id, parent_id, assignee_id, position), each with its value before and after."`
	At      time.Time                 `json:"at" doc:"When, RFC 3339 in UTC."`
	By      string                    `json:"by" doc:"The user whose request made the write (the owner, or a member of a shared list)." example:"u_123"`
	Created bool                      `json:"created" doc:"true for the task's creation (version 1), whose changed fields hold the values it was created with, each from null. Tasks created before creations were recorded have no such entry."`
}

// RevisionChange is one field's value before and after a write.
type RevisionChange struct {
	_    struct{}      `json:"-" additionalProperties:"false"`
	From revisionValue `json:"from" doc:"The value before (null: none; every field of the creation)."`
	To   revisionValue `json:"to" doc:"The value after (null: none)."`
}

// revisionValue is a field's value in a revision: any JSON value, null
// included.
type revisionValue json.RawMessage

func (v revisionValue) MarshalJSON() ([]byte, error) {
	if len(v) == 0 {
		return []byte("null"), nil
	}
	return v, nil
}

// Schema documents the value as any JSON value or null (huma would make a
// nullable schema without a type an invalid type list).
func (revisionValue) Schema(huma.Registry) *huma.Schema {
	s := &huma.Schema{}
	for _, t := range []string{huma.TypeString, huma.TypeNumber, huma.TypeBoolean, huma.TypeObject, huma.TypeArray} {
		e := &huma.Schema{Type: t, Nullable: t == huma.TypeString} // null: through the first
		if t == huma.TypeArray {
			e.Items = &huma.Schema{}
		}
		s.AnyOf = append(s.AnyOf, e)
	}
	return s
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
			changed[f] = RevisionChange{From: revisionValue(c.From), To: revisionValue(c.To)}
		}
		out[i] = Revision{Version: int64(r.Version), Changed: changed, At: r.At, By: string(r.By), Created: r.Creation()}
	}
	return &taskHistoryOutput{Body: out}, nil
}
