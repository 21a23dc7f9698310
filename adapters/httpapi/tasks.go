package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

const bearerScheme = "bearer"

func httpCode(c int) string { return strconv.Itoa(c) }

// Task is a task as the API shows it.
type Task struct {
	_           struct{}  `json:"-" additionalProperties:"false"`
	ID          int64     `json:"id" doc:"Assigned by the server." example:"1"`
	UserID      string    `json:"user_id" doc:"The owner: the token's user id." example:"u_123"`
	Title       string    `json:"title" example:"Buy milk"`
	Description *string   `json:"description" example:"2 litres"`
	Completed   bool      `json:"completed" example:"false"`
	CreatedAt   time.Time `json:"created_at" doc:"RFC 3339, UTC. Never changes."`
	UpdatedAt   time.Time `json:"updated_at" doc:"RFC 3339, UTC. Moves on every change."`
}

func taskOut(t *task.Task) Task {
	return Task{
		ID:          int64(t.ID()),
		UserID:      string(t.Owner()),
		Title:       t.Title(),
		Description: t.Description(),
		Completed:   t.Completed(),
		CreatedAt:   t.CreatedAt(),
		UpdatedAt:   t.UpdatedAt(),
	}
}

var (
	titleDoc       = fmt.Sprintf("1 to %d characters (Unicode code points) after trimming surrounding white space; no NUL.", task.MaxTitleLen)
	descriptionDoc = fmt.Sprintf("At most %d characters (Unicode code points); no NUL. null or absent means none.", task.MaxDescriptionLen)
)

// StatusParam is the status filter of a list. Its allowed values come from
// the domain, so the document and the rules cannot disagree.
type StatusParam string

// Schema documents the filter's values.
func (StatusParam) Schema(huma.Registry) *huma.Schema {
	enum := []any{}
	for _, s := range task.Statuses() {
		enum = append(enum, string(s))
	}
	return &huma.Schema{Type: huma.TypeString, Enum: enum, Default: string(task.StatusAll),
		Description: "Which tasks to list by completion."}
}

type listInput struct {
	UserID string      `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Status StatusParam `query:"status"`
}

// Resolve refuses an empty ?status=: huma would take it as absent, FastAPI
// (and the contract) as a value that is not allowed.
func (in *listInput) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	if q := u.Query(); q.Has("status") && q.Get("status") == "" {
		return []error{&huma.ErrorDetail{Location: "query.status", Message: statusEnumMsg(), Value: ""}}
	}
	return nil
}

func statusEnumMsg() string {
	names := make([]string, 0, len(task.Statuses()))
	for _, s := range task.Statuses() {
		names = append(names, string(s))
	}
	return fmt.Sprintf(validation.MsgExpectedOneOf, strings.Join(names, ", "))
}

type createBody struct {
	Title       string  `json:"title" doc:"See the task rules." example:"Buy milk"`
	Description *string `json:"description,omitempty" nullable:"true" example:"2 litres"`
}

type createInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Body   createBody
}

type replaceBody struct {
	Title       string  `json:"title" example:"Buy oat milk"`
	Description *string `json:"description,omitempty" nullable:"true" doc:"Absent or null clears the description (PUT replaces)."`
	Completed   *bool   `json:"completed,omitempty" doc:"Absent leaves completion as it is."`
}

type replaceInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	Body   replaceBody
}

type completeBody struct {
	Completed *bool `json:"completed,omitempty" doc:"Set to this value instead of toggling."`
}

type completeInput struct {
	UserID string        `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64         `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	Body   *completeBody `required:"false"`
}

type taskInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
}

type taskOutput struct {
	Body Task
}

type listOutput struct {
	Body []Task `nullable:"false"` // never null: `[]` when there are none
}

type handlers struct {
	svc      *application.Service
	verifier auth.Verifier
	errs     errorMapper
	api      huma.API
	ready    []ReadyCheck
	maxBody  int64
}

func (h *handlers) register(api huma.API) {
	secured := []map[string][]string{{bearerScheme: {}}}
	tags := []string{"tasks"}
	op := func(id, method, path, summary, desc string, status int, codes ...int) huma.Operation {
		return huma.Operation{
			OperationID:   id,
			Method:        method,
			Path:          path,
			Summary:       summary,
			Description:   desc,
			Tags:          tags,
			Security:      secured,
			DefaultStatus: status,
			MaxBodyBytes:  h.maxBody + 1, // huma refuses a body of exactly its limit
			Responses:     errorResponses(api, append([]int{401, 403, 409, 422, 500, 503}, codes...)...),
		}
	}
	const tasksPath = "/api/{user_id}/tasks"
	const taskPath = "/api/{user_id}/tasks/{id}"

	huma.Register(api, op("list-tasks", http.MethodGet, tasksPath, "List tasks",
		"The caller's tasks, oldest first (creation time, then id). `[]` when there are none.", http.StatusOK), h.list)
	huma.Register(api, op("create-task", http.MethodPost, tasksPath, "Create a task",
		"Creates a task for the caller. "+titleDoc+" Description: "+descriptionDoc, http.StatusCreated, 413), h.create)
	huma.Register(api, op("get-task", http.MethodGet, taskPath, "Get a task",
		"One of the caller's tasks. Another user's task is 404, as if it did not exist.", http.StatusOK, 404), h.get)
	huma.Register(api, op("replace-task", http.MethodPut, taskPath, "Replace a task",
		"Sets title and description (absent description clears it); completed changes only when given.", http.StatusOK, 404, 413), h.replace)
	huma.Register(api, op("delete-task", http.MethodDelete, taskPath, "Delete a task",
		"Deletes one of the caller's tasks.", http.StatusNoContent, 404), h.delete)
	huma.Register(api, op("complete-task", http.MethodPatch, taskPath+"/complete", "Toggle or set completion",
		"Without a body, toggles `completed`. With `{\"completed\": bool}`, sets it.", http.StatusOK, 404, 413), h.complete)

	h.registerHealth(api)
}

func (h *handlers) actor(ctx context.Context, pathUser string) (application.Actor, error) {
	id, _ := ctx.Value(identityKey).(auth.Identity)
	a, err := h.svc.Authorize(ctx, id, pathUser)
	if err != nil {
		return a, h.errs.toResponse(ctx, err, "body")
	}
	return a, nil
}

func (h *handlers) list(ctx context.Context, in *listInput) (*listOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	status, err := task.ParseStatus(string(in.Status))
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	ts, err := h.svc.ListTasks(ctx, a, task.Filter{Status: status})
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := &listOutput{Body: make([]Task, len(ts))}
	for i, t := range ts {
		out.Body[i] = taskOut(t)
	}
	return out, nil
}

func (h *handlers) create(ctx context.Context, in *createInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.CreateTask(ctx, a, in.Body.Title, in.Body.Description)
	return h.one(ctx, t, err)
}

func (h *handlers) get(ctx context.Context, in *taskInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.GetTask(ctx, a, task.ID(in.ID))
	return h.one(ctx, t, err)
}

func (h *handlers) replace(ctx context.Context, in *replaceInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.ReplaceTask(ctx, a, task.ID(in.ID), in.Body.Title, in.Body.Description, in.Body.Completed)
	return h.one(ctx, t, err)
}

func (h *handlers) complete(ctx context.Context, in *completeInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	var set *bool
	if in.Body != nil {
		set = in.Body.Completed
	}
	t, err := h.svc.CompleteTask(ctx, a, task.ID(in.ID), set)
	return h.one(ctx, t, err)
}

func (h *handlers) delete(ctx context.Context, in *taskInput) (*struct{}, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if err := h.svc.DeleteTask(ctx, a, task.ID(in.ID)); err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return nil, nil
}

func (h *handlers) one(ctx context.Context, t *task.Task, err error) (*taskOutput, error) {
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &taskOutput{Body: taskOut(t)}, nil
}

// authenticate checks the bearer token of every operation that declares a
// security requirement, before huma reads parameters or body: as in FastAPI,
// a bad token is 401 even when the request is also malformed.
func (h *handlers) authenticate(ctx huma.Context, next func(huma.Context)) {
	if op := ctx.Operation(); op == nil || len(op.Security) == 0 {
		next(ctx)
		return
	}
	scheme, token, ok := strings.Cut(ctx.Header("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		h.writeError(ctx, newHTTPError(http.StatusUnauthorized, msgNotAuthenticated).with("WWW-Authenticate", "Bearer"))
		return
	}
	id, err := h.verifier.Verify(ctx.Context(), token)
	if err != nil {
		h.writeError(ctx, h.errs.toResponse(ctx.Context(), err, "header"))
		return
	}
	if ri := infoFrom(ctx.Context()); ri != nil {
		ri.userID = string(id.UserID)
	}
	next(huma.WithValue(ctx, identityKey, id))
}

// writeError renders a mapped error outside a handler (in middleware).
func (h *handlers) writeError(ctx huma.Context, err error) {
	status := http.StatusInternalServerError
	if se, ok := err.(huma.StatusError); ok {
		status = se.GetStatus()
	}
	if he, ok := err.(huma.HeadersError); ok {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				ctx.AppendHeader(k, v)
			}
		}
	}
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetStatus(status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(err)
}
