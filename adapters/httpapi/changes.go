package httpapi

import (
	"context"
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/list"
)

// The change feed (issue 16): GET /api/{user_id}/changes.

const (
	changesPath = "/api/{user_id}/changes"

	msgChangesExpired = "The cursor is older than the retained history of changes: take a snapshot (GET .../changes without since)"
	msgBadCursor      = "Not a cursor of this user's changes"
)

type changesInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Since  string `query:"since" maxLength:"64" doc:"A cursor a previous page returned: the changes after it. 'now': no changes, only the current cursor. Absent: a snapshot of everything live (not the trash), paged, whose cursor continues it and then follows the changes." example:"now"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" doc:"At most this many changes; default 100."`
}

// Change is one entry of the feed.
type Change struct {
	_      struct{}   `json:"-" additionalProperties:"false"`
	Seq    uint64     `json:"seq" minimum:"1" doc:"The change's number in the user's sequence: it grows with every change, in commit order. An entity appears once, at its last change." example:"42"`
	Entity string     `json:"entity" enum:"task,list" doc:"What changed." example:"task"`
	Op     string     `json:"op" enum:"upsert,delete" doc:"upsert: the entity is as data says (a trashed one with deleted_at); delete: it was deleted for good (a tombstone, no data)." example:"upsert"`
	ID     int64      `json:"id" minimum:"1" doc:"The task's or list's id." example:"7"`
	Data   changeData `json:"data,omitempty,omitzero" doc:"The entity as a GET returns it now: a task as GET .../tasks/{id}, a list as GET .../lists/{list_id} with its counts; one in the trash as the trash lists it, with deleted_at. Absent for a delete."`
}

// Changes is a page of the feed.
type Changes struct {
	_       struct{} `json:"-" additionalProperties:"false"`
	Changes []Change `json:"changes" nullable:"false" doc:"Oldest first."`
	Cursor  string   `json:"cursor" doc:"Where to continue: pass it as since. URL-safe; valid on every instance; only for this user." example:"AQEAvT9z1A"`
	HasMore bool     `json:"has_more" doc:"More changes wait after cursor: ask again at once."`
}

type changesOutput struct {
	Body Changes
}

// changeData is a change's data: a Task, TrashedTask, List or TrashedList.
type changeData struct{ v any }

func (d changeData) MarshalJSON() ([]byte, error) { return json.Marshal(d.v) }

// IsZero leaves data out of a delete (omitempty).
func (d changeData) IsZero() bool { return d.v == nil }

// Schema documents data as one of the four shapes.
func (changeData) Schema(r huma.Registry) *huma.Schema {
	s := &huma.Schema{}
	for _, t := range []reflect.Type{reflect.TypeFor[Task](), reflect.TypeFor[TrashedTask](), reflect.TypeFor[List](), reflect.TypeFor[TrashedList]()} {
		s.OneOf = append(s.OneOf, r.Schema(t, true, ""))
	}
	return s
}

func changeOut(c application.Change) Change {
	out := Change{Seq: uint64(c.Seq), Entity: string(c.Entity), Op: string(c.Op), ID: c.ID}
	if c.Op != application.OpUpsert {
		return out
	}
	switch {
	case c.Task != nil && c.Deleted != nil:
		out.Data = changeData{TrashedTask{Task: taskOut(c.Task), DeletedAt: *c.Deleted}}
	case c.Task != nil:
		out.Data = changeData{taskOut(c.Task)}
	case c.List != nil && c.Deleted != nil:
		// As the trash lists it: without counts, its tasks are in the trash with it.
		out.Data = changeData{TrashedList{List: listOut(list.Summary{List: c.List.List}), DeletedAt: *c.Deleted}}
	case c.List != nil:
		out.Data = changeData{listOut(*c.List)}
	}
	return out
}

func (h *handlers) changes(ctx context.Context, in *changesInput) (*changesOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Changes(ctx, a, in.Since, in.Limit)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := &changesOutput{Body: Changes{Changes: make([]Change, len(p.Changes)), Cursor: p.Cursor, HasMore: p.More}}
	for i, c := range p.Changes {
		out.Body.Changes[i] = changeOut(c)
	}
	return out, nil
}
