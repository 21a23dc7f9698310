package httpapi

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/domain/task"
)

// Recurrence is how a task repeats, as the API shows it (issue 18).
type Recurrence struct {
	Rule        string `json:"rule"`
	From        string `json:"from"`
	Description string `json:"description"`
}

// Schema documents the member inline and nullable (huma refuses nullable
// on a named struct, which it would make a $ref).
func (Recurrence) Schema(huma.Registry) *huma.Schema {
	str := func(doc, example string, enum ...any) *huma.Schema {
		return &huma.Schema{Type: huma.TypeString, Description: doc, Examples: []any{example}, Enum: enum}
	}
	no := false
	return &huma.Schema{Type: huma.TypeObject, Nullable: true, AdditionalProperties: &no,
		Required: []string{"rule", "from", "description"},
		Properties: map[string]*huma.Schema{
			"rule": str("The RFC 5545 RRULE, in canonical form (parts in a fixed order, defaults left out, upper case).", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
			"from": str("What the next occurrence counts from: the due (a calendar's repeat) or the completion (the rule restarts on the day it was completed).",
				"due", "due", "completion"),
			"description": str("The rule in English.", "every 2 weeks on Friday"),
		}}
}

// recurrenceIn is the recurrence member of a request body.
type recurrenceIn struct {
	Rule string  `json:"rule" maxLength:"1000" doc:"An RFC 5545 RRULE (with or without 'RRULE:'): FREQ DAILY, WEEKLY, MONTHLY or YEARLY with INTERVAL, BYDAY (ordinals such as 2MO or -1FR in monthly and yearly rules), BYMONTHDAY (negative counts from the month's end), BYMONTH, BYSETPOS, COUNT, UNTIL and WKST. Anything else is a 422 naming the part; HOURLY and finer are refused. Occurrences are computed in the due's wall-clock time: 17:00 in its zone stays 17:00 across clock changes; a date that does not exist (31 April) is skipped." example:"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"`
	From *string `json:"from,omitempty" enum:"due,completion" doc:"due (the default) or completion." example:"due"`
}

// TimeMembers are the members of the time model and recurrence, beside
// due_date, in a task's create, replace and patch bodies: absent leaves
// each as it is (or as none, on create).
type TimeMembers struct {
	DueTZ       optional[string]       `json:"due_tz,omitempty" maxLength:"64" doc:"The IANA time zone (Europe/Paris) a timed due lives in; with a due_date without an offset, that local time there. null: none (a plain UTC instant). A whole-day due_date takes none." example:"Europe/Paris"`
	DueFloating *bool                  `json:"due_floating,omitempty" doc:"true: due_date is a floating local date-time, YYYY-MM-DDTHH:MM:SS without an offset or zone (09:00 wherever the user is)." example:"false"`
	Recurrence  optional[recurrenceIn] `json:"recurrence,omitempty" doc:"Makes the task repeat (it needs a due_date: the first occurrence); null stops it. Completing the task (PATCH .../complete) then completes the current occurrence and moves the task on to the next one, open again."`
	Reminders   optional[[]reminderIn] `json:"reminders,omitempty" maxItems:"10" doc:"Replaces the reminders (at most 10): each {\"at\": RFC 3339} or {\"before\": ISO 8601 duration such as PT15M, up to P366D} before the due (which it then needs). When a repeating task moves on, a before reminder follows its due and an at reminder keeps its distance to it. null or [] removes them."`
}

// reminderIn is one reminder of a request body.
type reminderIn struct {
	At     *string `json:"at,omitempty" maxLength:"64" doc:"An RFC 3339 date-time." example:"2026-10-16T14:45:00Z"`
	Before *string `json:"before,omitempty" maxLength:"32" doc:"An ISO 8601 duration before the due: weeks, days, hours, minutes, seconds (PT15M, P1D)." example:"PT15M"`
}

// Reminder is one reminder of a task, as the API shows it.
type Reminder struct {
	_       struct{} `json:"-" additionalProperties:"false"`
	At      *string  `json:"at" doc:"The instant it was set for, RFC 3339 in UTC; null for a reminder before the due." example:"2026-10-16T14:45:00Z"`
	Before  *string  `json:"before" doc:"How long before the due, ISO 8601; null for a reminder at an instant." example:"PT15M"`
	FiresAt *string  `json:"fires_at" doc:"When it fires, RFC 3339 in UTC: at, or the due less before; null for a before reminder of an all-day or floating due (read in the user's zone when delivered)." example:"2026-10-16T14:45:00Z"`
}

func remindersOut(t *task.Task) []Reminder {
	rs := t.Reminders()
	out := make([]Reminder, len(rs))
	for i, r := range rs {
		if at, ok := r.At(); ok {
			s := at.Format(time.RFC3339Nano)
			out[i].At, out[i].FiresAt = &s, &s
			continue
		}
		d, _ := r.Before()
		b := task.FormatDuration(d)
		out[i].Before = &b
		if at, ok := r.FiresAt(t.Due()); ok {
			s := at.Format(time.RFC3339Nano)
			out[i].FiresAt = &s
		}
	}
	return out
}

// options are the domain options of the members present.
func (m *TimeMembers) options() []task.Option {
	var opts []task.Option
	if m.DueTZ.set {
		opts = append(opts, task.WithDueZone(m.DueTZ.value)) // null: "", none
	}
	if m.DueFloating != nil {
		opts = append(opts, task.WithDueFloating(*m.DueFloating))
	}
	if m.Reminders.set {
		in := make([]task.ReminderInput, len(m.Reminders.value)) // null: none
		for i, r := range m.Reminders.value {
			in[i] = task.ReminderInput{At: r.At, Before: r.Before}
		}
		opts = append(opts, task.WithReminders(in))
	}
	if m.Recurrence.set {
		if m.Recurrence.null {
			opts = append(opts, task.WithoutRecurrence())
		} else {
			from := "due"
			if f := m.Recurrence.value.From; f != nil {
				from = *f
			}
			opts = append(opts, task.WithRecurrence(m.Recurrence.value.Rule, from))
		}
	}
	return opts
}

type skipBody struct {
	Occurrence *string `json:"occurrence,omitempty" nullable:"true" doc:"The occurrence this skips, as its due_date was shown (absent or null: the current one). Naming one already passed changes nothing." example:"2026-03-06T16:00:00Z"`
}

type skipInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IfMatchParam
	Body *skipBody `required:"false"`
}

func (h *handlers) skip(ctx context.Context, in *skipInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	var occurrence string
	if in.Body != nil && in.Body.Occurrence != nil {
		occurrence = *in.Body.Occurrence
	}
	t, err := h.svc.SkipOccurrence(ctx, a, task.ID(in.ID), in.expect(in.ID), occurrence)
	return h.one(ctx, t, err)
}

// Occurrence is one occurrence of a task.
type Occurrence struct {
	_       struct{} `json:"-" additionalProperties:"false"`
	DueDate string   `json:"due_date" doc:"The occurrence, in the form of the task's due_date: what PATCH .../complete and POST .../skip take as occurrence." example:"2026-10-30T16:00:00Z"`
	Local   string   `json:"local" doc:"Its wall-clock reading: in due_tz for a zoned due, in UTC for a plain instant, the date or local date-time itself otherwise." example:"2026-10-30T17:00:00"`
}

type occurrencesInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	From   string `query:"from" required:"true" doc:"Start of the window, inclusive: a date (its midnight in tz) or an RFC 3339 date-time." example:"2026-10-01"`
	To     string `query:"to" required:"true" doc:"End of the window, exclusive, after from. The window may hold at most 1000 occurrences (422 beyond: narrow it)." example:"2027-01-01"`
	TZ     string `query:"tz" doc:"The IANA time zone that reads date bounds and all-day or floating occurrences; default UTC." example:"Europe/Paris"`
}

type occurrencesOutput struct {
	Body []Occurrence `maxItems:"1000" nullable:"false"`
}

func (h *handlers) occurrences(ctx context.Context, in *occurrencesInput) (*occurrencesOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	zone, err := task.ParseTimeZone(in.TZ)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	var problems []task.Problem
	bound := func(name, s string) time.Time {
		t, err := task.ParseWindowBound(name, s, zone)
		if ve, ok := err.(*task.ValidationError); ok {
			problems = append(problems, ve.Problems...)
		}
		return t
	}
	from, to := bound("from", in.From), bound("to", in.To)
	if len(problems) > 0 {
		return nil, h.errs.toResponse(ctx, &task.ValidationError{Problems: problems}, "query")
	}
	ds, err := h.svc.TaskOccurrences(ctx, a, task.ID(in.ID), from, to, zone)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := make([]Occurrence, len(ds))
	for i, d := range ds {
		out[i] = Occurrence{DueDate: d.String(), Local: d.Civil().String()}
	}
	return &occurrencesOutput{Body: out}, nil
}

// PassedOccurrence is one entry of a repeating task's history.
type PassedOccurrence struct {
	_          struct{}  `json:"-" additionalProperties:"false"`
	Occurrence string    `json:"occurrence" doc:"The occurrence, as its due_date was shown." example:"2026-10-16T15:00:00Z"`
	Kind       string    `json:"kind" enum:"completed,skipped" doc:"Completed (PATCH .../complete) or skipped (POST .../skip)." example:"completed"`
	At         time.Time `json:"at" doc:"When, RFC 3339 in UTC."`
}

type historyInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"At most this many entries, the latest first." example:"20"`
}

type historyOutput struct {
	Body []PassedOccurrence `maxItems:"1000" nullable:"false"`
}

func (h *handlers) history(ctx context.Context, in *historyInput) (*historyOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	limit := in.Limit
	if limit == 0 {
		limit = 100
	}
	hs, err := h.svc.OccurrenceHistory(ctx, a, task.ID(in.ID), limit)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := make([]PassedOccurrence, len(hs))
	for i, o := range hs {
		out[i] = PassedOccurrence{Occurrence: o.Due.String(), Kind: string(o.Kind), At: o.At}
	}
	return &historyOutput{Body: out}, nil
}
