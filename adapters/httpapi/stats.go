package httpapi

import (
	"context"

	// Time zone names must resolve in a container without /usr/share/zoneinfo
	// (the image is scratch): embed the database (about 450 KB).
	_ "time/tzdata"

	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// Stats are the counts of the caller's tasks.
type Stats struct {
	Total      int            `json:"total" doc:"Every task." example:"12"`
	Completed  int            `json:"completed" example:"5"`
	Pending    int            `json:"pending" example:"7"`
	Overdue    int            `json:"overdue" doc:"Pending tasks due before now." example:"2"`
	DueToday   int            `json:"due_today" doc:"Pending tasks due on the user's today." example:"3"`
	ByPriority PriorityCounts `json:"by_priority" doc:"Pending tasks by priority."`
	TimeZone   string         `json:"tz" doc:"The time zone the counts were made in." example:"Europe/Paris"`
	_          struct{}       `json:"-" additionalProperties:"false"`
}

// PriorityCounts counts tasks per priority.
type PriorityCounts struct {
	Low    int `json:"low" example:"1"`
	Medium int `json:"medium" example:"4"`
	High   int `json:"high" example:"2"`
}

type statsInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	TZ     string `query:"tz" doc:"The user's IANA time zone; default UTC." example:"Europe/Paris"`
	ListID string `query:"list_id" doc:"Count the tasks of this list (its id), or of the inbox (inbox); absent: all of the caller's tasks." example:"inbox"`
}

type statsOutput struct {
	Body Stats
}

func (h *handlers) stats(ctx context.Context, in *statsInput) (*statsOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	zone, err := task.ParseTimeZone(in.TZ)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	var s task.Stats
	if in.ListID != "" {
		var id int64
		if id, err = parseIDOr("list_id", in.ListID, inboxWord); err == nil {
			s, err = h.svc.TaskStatsIn(ctx, a, list.ID(id), zone)
		}
	} else {
		s, err = h.svc.TaskStats(ctx, a, zone)
	}
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	return &statsOutput{Body: Stats{
		Total:     s.Total,
		Completed: s.Completed,
		Pending:   s.Pending,
		Overdue:   s.Overdue,
		DueToday:  s.DueToday,
		ByPriority: PriorityCounts{
			Low:    s.ByPriority[task.PriorityLow],
			Medium: s.ByPriority[task.PriorityMedium],
			High:   s.ByPriority[task.PriorityHigh],
		},
		TimeZone: zone.String(),
	}}, nil
}

// Tag is one of the caller's tags.
type Tag struct {
	Name  string `json:"name" doc:"The tag, in one of the spellings in use." example:"home"`
	Count int    `json:"count" doc:"How many of the caller's tasks carry it." example:"3"`
}

type tagsInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
}

type tagsOutput struct {
	Body []Tag `nullable:"false"` // never null: `[]` when there are none
}

func (h *handlers) tags(ctx context.Context, in *tagsInput) (*tagsOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	tags, err := h.svc.ListTags(ctx, a)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := &tagsOutput{Body: make([]Tag, len(tags))}
	for i, t := range tags {
		out.Body[i] = Tag{Name: t.Name, Count: t.Count}
	}
	return out, nil
}
