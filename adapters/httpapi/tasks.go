package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
)

const bearerScheme = "bearer"

func httpCode(c int) string { return strconv.Itoa(c) }

// Task is a task as the API shows it: the base contract's seven fields,
// then priority, due_date, tags and completed_at, the version, and where
// the task is (list_id, parent_id, position).
type Task struct {
	_           struct{}    `json:"-" additionalProperties:"false"`
	ID          int64       `json:"id" doc:"Assigned by the server." example:"1"`
	UserID      string      `json:"user_id" doc:"The owner: the token's user id." example:"u_123"`
	Title       string      `json:"title" example:"Buy milk"`
	Description *string     `json:"description" example:"2 litres"`
	Completed   bool        `json:"completed" example:"false"`
	CreatedAt   time.Time   `json:"created_at" doc:"RFC 3339, UTC. Never changes."`
	UpdatedAt   time.Time   `json:"updated_at" doc:"RFC 3339, UTC. Moves on every change."`
	Priority    string      `json:"priority" enum:"low,medium,high" doc:"low, medium (the default) or high." example:"medium"`
	DueDate     *string     `json:"due_date" doc:"A date (YYYY-MM-DD: all day) or an RFC 3339 date-time in UTC, as it was given; null when none." example:"2026-03-01"`
	Tags        []string    `json:"tags" nullable:"false" doc:"In the order given, duplicates (ignoring case) dropped; [] when none." example:"[\"home\"]"`
	CompletedAt *time.Time  `json:"completed_at" doc:"RFC 3339, UTC: when the task was last completed; null while it is not (or when it was completed before this was recorded). Set by the server."`
	Version     int64       `json:"version" minimum:"1" doc:"1 when created, one more on every change. The ETag of a response carrying the task names it; send that ETag back in If-Match to change the task only if nobody else did." example:"1"`
	ListID      *int64      `json:"list_id" minimum:"1" doc:"The task's list; null when it is in the inbox. A subtask is always in its parent's list." example:"3"`
	ParentID    *int64      `json:"parent_id" minimum:"1" doc:"The task this one is a subtask of; null for a top-level task. At most 4 levels." example:"12"`
	Position    string      `json:"position" doc:"The task's place among its siblings (same list, same parent): an opaque key, unique among them, by which they sort byte-wise in the order the user gave (sort=position). Set by the server: new tasks go to the bottom; POST .../move changes it." example:"z0000000000000000001"`
	DueTZ       *string     `json:"due_tz" doc:"The IANA time zone a timed due lives in (a repeating task keeps its wall-clock time there across clock changes); null for an all-day, floating or plain UTC due." example:"Europe/Paris"`
	DueFloating bool        `json:"due_floating" doc:"true when due_date is a floating local date-time (no offset, no zone: 09:00 wherever the user is)." example:"false"`
	Recurrence  *Recurrence `json:"recurrence" doc:"How the task repeats; null when it does not."`
	Reminders   []Reminder  `json:"reminders" nullable:"false" maxItems:"10" doc:"When to remind the user, in the order given; [] when none. Kept with the task (delivery is to come)."`
	CreatedBy   string      `json:"created_by" doc:"Who created the task: user_id, or the member of its shared list who did (the task stays the list owner's, user_id)." example:"u_123"`
	AssigneeID  *string     `json:"assignee_id" doc:"Who the task is assigned to: the owner or a member of its list (for a task in the inbox, the owner); null when nobody. A move to a list where they are neither, and their removal from the list, set it to null." example:"u_456"`
}

// TransformSchema gives due_date its pattern (dueUTCPattern), which a tag
// could only copy; TrashedTask, which embeds Task, gets it too.
func (Task) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	if due := s.Properties["due_date"]; due != nil {
		due.Pattern = dueUTCPattern
		due.PrecomputeMessages()
	}
	return s
}

func taskOut(t *task.Task) Task {
	out := taskFields(t)
	out.Description, out.CompletedAt = t.Description(), t.CompletedAt()
	out.ListID, out.ParentID = (*int64)(t.ListID()), (*int64)(t.ParentID())
	out.Position = t.Position()
	return out
}

// tasksOut is taskOut for each task, with the descriptions, completion
// times, list and parent ids that the API's pointers refer to held in one
// block each, and the positions written into one string, rather than one
// allocation per task: lists are the hot path.
func tasksOut(ts []*task.Task) []Task {
	out := make([]Task, len(ts))
	descs := make([]string, len(ts))
	times := make([]time.Time, len(ts))
	places := make([]int64, 3*len(ts)) // list, parent, end of the position in keys
	var keys strings.Builder
	keys.Grow(len(ts) * (position.ImplicitLen + 1))
	var buf [position.MaxLen]byte
	for i, t := range ts {
		out[i] = taskFields(t)
		if d := t.Description(); d != nil {
			descs[i] = *d
			out[i].Description = &descs[i]
		}
		if at := t.CompletedAt(); at != nil {
			times[i] = *at
			out[i].CompletedAt = &times[i]
		}
		if l := t.ListID(); l != nil {
			places[3*i] = int64(*l)
			out[i].ListID = &places[3*i]
		}
		if p := t.ParentID(); p != nil {
			places[3*i+1] = int64(*p)
			out[i].ParentID = &places[3*i+1]
		}
		keys.Write(t.AppendPosition(buf[:0]))
		places[3*i+2] = int64(keys.Len())
	}
	all, start := keys.String(), int64(0)
	for i := range out {
		end := places[3*i+2]
		out[i].Position, start = all[start:end], end
	}
	return out
}

// taskFields is taskOut without the description and completed_at.
func taskFields(t *task.Task) Task {
	out := Task{
		ID:        int64(t.ID()),
		UserID:    string(t.Owner()),
		Title:     t.Title(),
		Completed: t.Completed(),
		CreatedAt: t.CreatedAt(),
		UpdatedAt: t.UpdatedAt(),
		Priority:  string(t.Priority()),
		Tags:      t.Tags(),
		Version:   int64(t.Version()),
	}
	if d := t.Due(); !d.IsZero() {
		s := d.String()
		out.DueDate = &s
		if z := d.ZoneName(); z != "" {
			out.DueTZ = &z
		}
		out.DueFloating = d.Floating()
	}
	if r := t.Recurrence(); !r.IsZero() {
		out.Recurrence = &Recurrence{Rule: r.Rule().String(), From: string(r.From()), Description: r.Describe()}
	}
	out.Reminders = remindersOut(t)
	out.CreatedBy = string(t.CreatedBy())
	if a := t.Assignee(); a != nil {
		id := string(*a)
		out.AssigneeID = &id
	}
	return out
}

type createBody struct {
	Title       string    `json:"title" doc:"See the task rules." example:"Buy milk"`
	Description *string   `json:"description,omitempty" nullable:"true" example:"2 litres"`
	Priority    *string   `json:"priority,omitempty" enum:"low,medium,high,LOW,MEDIUM,HIGH" doc:"low, medium or high, in lower or upper case; absent means medium."`
	DueDate     *dueDate  `json:"due_date,omitempty" nullable:"true" doc:"A date (YYYY-MM-DD: an all-day task) or an RFC 3339 date-time (kept in UTC); absent or null means none." example:"2026-03-01"`
	Tags        *[]string `json:"tags,omitempty" maxItems:"100" doc:"Each trimmed, 1 to 50 characters, no comma or NUL; at most 20 once duplicates (ignoring case) are dropped; order kept." example:"[\"home\"]"`
	AssigneeID  *string   `json:"assignee_id,omitempty" nullable:"true" maxLength:"255" doc:"Who the task is assigned to: the owner or a member of its list (in the inbox: the owner), else 422; absent or null: nobody." example:"u_456"`
	TimeMembers
	HomeMembers
}

type createInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	IdempotencyParam
	Body createBody
}

type replaceBody struct {
	Title       string            `json:"title" example:"Buy oat milk"`
	Description *string           `json:"description,omitempty" nullable:"true" doc:"Absent or null clears the description (PUT replaces)."`
	Completed   *bool             `json:"completed,omitempty" doc:"Absent leaves completion as it is."`
	Priority    *string           `json:"priority,omitempty" enum:"low,medium,high,LOW,MEDIUM,HIGH" doc:"low, medium or high, in lower or upper case; absent leaves it as it is."`
	DueDate     optional[dueDate] `json:"due_date,omitempty" doc:"A date (YYYY-MM-DD: an all-day task) or an RFC 3339 date-time (kept in UTC); null clears it; absent leaves it as it is." example:"2026-03-01"`
	Tags        *[]string         `json:"tags,omitempty" maxItems:"100" doc:"Replaces the tags (same rules as on create); [] removes them; absent leaves them as they are."`
	TimeMembers
}

// options turns the optional attributes of a body into domain options:
// only the ones present.
func options(priority *string, due optional[dueDate], tags *[]string) []task.Option {
	var opts []task.Option
	if priority != nil {
		opts = append(opts, task.WithPriority(*priority))
	}
	if due.set {
		opts = append(opts, task.WithDue(string(due.value))) // null: "", which clears it
	}
	if tags != nil {
		opts = append(opts, task.WithTags(*tags))
	}
	return opts
}

type replaceInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IfMatchParam
	Body replaceBody
}

type completeBody struct {
	Completed  *bool   `json:"completed,omitempty" doc:"Set to this value instead of toggling."`
	Occurrence *string `json:"occurrence,omitempty" nullable:"true" doc:"For a repeating task: the occurrence this completes, as its due_date was shown (absent or null: the current one). Naming one already completed or skipped changes nothing, so a retried or replayed completion never passes two." example:"2026-03-06T16:00:00Z"`
}

type completeInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IfMatchParam
	Body *completeBody `required:"false"`
}

type getInput struct {
	UserID      string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID          int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IfNoneMatch string `header:"If-None-Match" doc:"The ETag of the copy the client has (or a comma-separated list, or *): when the task is still at that version the answer is 304 with no body."`
}

type deleteInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	IfMatchParam
	Permanent bool `query:"permanent" doc:"true deletes for good, from the list or the trash; otherwise the task goes to the trash."`
}

// taskOutput is a response carrying one task, with its ETag.
type taskOutput struct {
	ETag string `header:"ETag" doc:"The task's version as an entity tag: send it in If-Match to change the task only if it is still this version, or in If-None-Match to get 304 while it is."`
	Body Task
}

// getOutput is taskOutput, or 304 Not Modified with no body.
type getOutput struct {
	Status int
	ETag   string `header:"ETag" doc:"The task's version as an entity tag: send it in If-Match to change the task only if it is still this version, or in If-None-Match to get 304 while it is."`
	Body   Task
}

type handlers struct {
	svc      *application.Service
	rem      *application.Reminders // nil: the delivery routes answer 503
	keys     *mw.Idempotency        // Idempotency-Key, for the operations that honour it
	verifier auth.Verifier
	errs     errorMapper
	api      huma.API
	ready    []ReadyCheck
	maxBody  int64
	listMax  int          // tasks a list returns without a limit; 0 means DefaultListMax
	links    links        // how the URLs in Link begin
	router   http.Handler // the whole router, which runs a batch's commands
	// events is the use case of live events; nil answers their routes 503.
	events    *application.Events
	streams   *Streams
	eventsCfg EventsConfig
	// importMax and importRows bound an import (IMPORT_MAX_BYTES,
	// IMPORT_MAX_ROWS); importKeys is Idempotency-Key for its bodies.
	importMax  int64
	importRows int
	importKeys *mw.Idempotency
}

// actor is the caller authorize admitted to pathUser's tasks, the request's
// {user_id}.
func (h *handlers) actor(ctx context.Context, pathUser string) (application.Actor, error) {
	a, ok := ctx.Value(actorKey{}).(application.Actor)
	if !ok || string(a.Owner()) != pathUser {
		// Only an operation registered without a token could get here.
		return application.Actor{}, h.errs.toResponse(ctx, auth.ErrForbidden, "body")
	}
	return a, nil
}

func (h *handlers) create(ctx context.Context, in *createInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	b := &in.Body
	if home, ok := b.home(); ok || b.AssigneeID != nil { // CreateTaskAt checks the assignee
		t, err := h.svc.CreateTaskAt(ctx, a, home, b.Title, b.Description, b.options()...)
		return h.one(ctx, t, err)
	}
	t, err := h.svc.CreateTask(ctx, a, b.Title, b.Description, b.options()...)
	return h.one(ctx, t, err)
}

// options are the domain options of a create body: only what it gives.
func (b createBody) options() []task.Option {
	var due optional[dueDate]
	if b.DueDate != nil { // absent and null both mean none
		due = optional[dueDate]{set: true, value: *b.DueDate}
	}
	opts := options(b.Priority, due, b.Tags)
	if b.DueTZ.set || b.DueFloating != nil || b.Recurrence.set && !b.Recurrence.null || b.Reminders.set {
		opts = append(opts, b.TimeMembers.options()...)
	}
	if b.AssigneeID != nil {
		who := auth.UserID(*b.AssigneeID)
		opts = append(opts, task.AssignTo(&who))
	}
	return opts
}

func (h *handlers) get(ctx context.Context, in *getInput) (*getOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.GetTask(ctx, a, task.ID(in.ID))
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	out := &getOutput{Status: http.StatusOK, ETag: etag(t), Body: taskOut(t)}
	if noneMatch(in.IfNoneMatch, out.ETag) {
		out.Status = http.StatusNotModified
	}
	return out, nil
}

func (h *handlers) replace(ctx context.Context, in *replaceInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	b := &in.Body
	t, err := h.svc.ReplaceTask(ctx, a, task.ID(in.ID), in.expect(in.ID), b.Title, b.Description, b.Completed,
		append(options(b.Priority, b.DueDate, b.Tags), b.TimeMembers.options()...)...)
	return h.one(ctx, t, err)
}

func (h *handlers) complete(ctx context.Context, in *completeInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	var set *bool
	var occurrence string
	if in.Body != nil {
		set = in.Body.Completed
		if in.Body.Occurrence != nil {
			occurrence = *in.Body.Occurrence
		}
	}
	t, err := h.svc.CompleteOccurrence(ctx, a, task.ID(in.ID), in.expect(in.ID), set, occurrence)
	return h.one(ctx, t, err)
}

func (h *handlers) delete(ctx context.Context, in *deleteInput) (*struct{}, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if in.Permanent {
		err = h.svc.DeleteTaskForGood(ctx, a, task.ID(in.ID), in.expect(in.ID))
	} else {
		err = h.svc.DeleteTask(ctx, a, task.ID(in.ID), in.expect(in.ID))
	}
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return nil, nil
}

func (h *handlers) one(ctx context.Context, t *task.Task, err error) (*taskOutput, error) {
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &taskOutput{ETag: etag(t), Body: taskOut(t)}, nil
}

// actorKey is where authorize leaves the application.Actor of a request.
type actorKey struct{}

// identityKey is where authenticate leaves the verified identity in the
// request's context.
type identityKey struct{}

// identityOf is the verified identity of a request, once authenticate has
// run.
func identityOf(ctx context.Context) (auth.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(auth.Identity)
	return id, ok
}

// userOf is the verified user id of a request, for the rate limit.
func userOf(ctx context.Context) (string, bool) {
	id, ok := identityOf(ctx)
	return string(id.UserID), ok
}

// owner is the user a request acts for when its token's user is the URL's
// {user_id}, for Idempotency-Key (keys are per user).
func owner(ctx huma.Context) (auth.UserID, bool) {
	id, ok := identityOf(ctx.Context())
	return id.UserID, ok && id.UserID != "" && string(id.UserID) == ctx.Param("user_id")
}

// authenticate checks the bearer token of every operation that declares a
// security requirement, before huma reads parameters or body: as in FastAPI,
// a bad token is 401 even when the request is also malformed.
func (h *handlers) authenticate(ctx huma.Context, next func(huma.Context)) {
	if op := ctx.Operation(); op == nil || len(op.Security) == 0 {
		next(ctx)
		return
	}
	if id, ok := commandCallOf(ctx.Context()); ok { // a batch's command: the batch was authenticated
		next(huma.WithValue(ctx, identityKey{}, id))
		return
	}
	if id, tried, err := h.ticketFrom(ctx); tried {
		if err != nil {
			_, w := humachi.Unwrap(ctx)
			writeError(w, h.errs.toResponse(ctx.Context(), err, "query"))
			return
		}
		mw.SetUser(ctx.Context(), string(id.UserID))
		next(huma.WithValue(ctx, identityKey{}, id))
		return
	}
	scheme, token, ok := strings.Cut(ctx.Header("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		mw.SetAuthFailure(ctx.Context(), reasonNoToken)
		_, w := humachi.Unwrap(ctx)
		writeError(w, newHTTPError(http.StatusUnauthorized, msgNotAuthenticated).with("WWW-Authenticate", "Bearer"))
		return
	}
	id, err := h.verifier.Verify(ctx.Context(), token)
	if err != nil {
		_, w := humachi.Unwrap(ctx)
		writeError(w, h.errs.toResponse(ctx.Context(), err, "header"))
		return
	}
	mw.SetUser(ctx.Context(), string(id.UserID))
	next(huma.WithValue(ctx, identityKey{}, id))
}

// authorize admits the verified caller to the URL's {user_id} (only their
// own: 403 otherwise) and records the user (409 when their email is
// another user's), before huma reads parameters or body, as FastAPI's
// dependencies run before its validation: whose tasks these are is settled
// once, here, for every operation that needs a token, so that a malformed
// id, query or body on another user's URL is 403 like any other request
// there, not 422. Handlers take the Actor it leaves (actor).
func (h *handlers) authorize(ctx huma.Context, next func(huma.Context)) {
	if op := ctx.Operation(); op == nil || len(op.Security) == 0 {
		next(ctx)
		return
	}
	id, _ := identityOf(ctx.Context())
	a, err := h.svc.Authorize(ctx.Context(), id, ctx.Param("user_id"))
	if err != nil {
		_, w := humachi.Unwrap(ctx)
		writeError(w, h.errs.toResponse(ctx.Context(), err, "path"))
		return
	}
	next(huma.WithValue(ctx, actorKey{}, a))
}
