package httpapi

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/list"
)

// Lists (issue 15): a user's named groups of tasks, in the order they drag
// them to in the sidebar, each with its counts. The routes are in routes.go,
// their prose in docs.go; what a list request reads and answers is here.

const (
	listsPath = "/api/{user_id}/lists"
	listPath  = "/api/{user_id}/lists/{list_id}"
)

// The detail texts of list errors.
const (
	msgListNotFound           = "List not found"
	msgListNameTaken          = "List name already exists"
	msgListPreconditionFailed = "The list was changed since the version given in If-Match; current is the list as it is now"
)

// List is a list as the API shows it, with its counts.
type List struct {
	_              struct{}  `json:"-" additionalProperties:"false"`
	ID             int64     `json:"id" minimum:"1" doc:"Assigned by the server." example:"3"`
	UserID         string    `json:"user_id" doc:"The owner: the token's user id." example:"u_123"`
	Name           string    `json:"name" doc:"1 to 100 characters, unique among the owner's lists ignoring case." example:"Groceries"`
	Color          *string   `json:"color" pattern:"^#[0-9a-f]{6}$" doc:"#rrggbb in lower case; null when none." example:"#ff8800"`
	Position       string    `json:"position" doc:"The list's place in the caller's sidebar: an opaque key by which the caller's lists and the lists shared with them sort together byte-wise, in the order the caller gave. Personal: on a shared list each member has their own (a list they accept goes to the bottom), and the owner's is the list's. Set by the server: new lists go to the bottom; POST .../move changes it." example:"z0000000000000000003"`
	OpenCount      int       `json:"open_count" minimum:"0" doc:"Its tasks not completed (subtasks included; the trash left out)." example:"4"`
	CompletedCount int       `json:"completed_count" minimum:"0" doc:"Its completed tasks (subtasks included; the trash left out)." example:"2"`
	CreatedAt      time.Time `json:"created_at" doc:"RFC 3339, UTC. Never changes."`
	UpdatedAt      time.Time `json:"updated_at" doc:"RFC 3339, UTC. Moves on every change (not on a change of its tasks)."`
	Version        int64     `json:"version" minimum:"1" doc:"1 when created, one more on every change (a rename, a color, the owner's move); its tasks do not count, nor a member's move (their own place). The ETag of a response carrying the list names it." example:"1"`
}

// SidebarList is a list of GET /lists: the caller's own, or one shared with
// them, with what they may do there. GET /lists orders both together by
// the caller's keys (position).
type SidebarList struct {
	_ struct{} `json:"-" additionalProperties:"false"`
	List
	Role  string `json:"role" enum:"owner,admin,editor,completer,viewer" doc:"The caller's role on the list: owner for their own lists; for a list shared with them, the role of their membership (admin manages members and the list's name and color; editor changes tasks; completer completes and reopens tasks; viewer reads)." example:"owner"`
	Owner string `json:"owner" doc:"The user id of the list's owner (user_id): the caller for their own lists." example:"u_123"`
}

// TrashedList is a list in the trash: the list as it was deleted, and when.
type TrashedList struct {
	_ struct{} `json:"-" additionalProperties:"false"`
	List
	DeletedAt time.Time `json:"deleted_at" doc:"RFC 3339, UTC: when the list went to the trash with its tasks."`
}

func listOut(s list.Summary) List {
	l := s.List
	return List{
		ID: int64(l.ID()), UserID: string(l.Owner()), Name: l.Name(), Color: l.Color(), Position: l.Position(),
		OpenCount: s.Open, CompletedCount: s.Completed,
		CreatedAt: l.CreatedAt(), UpdatedAt: l.UpdatedAt(), Version: int64(l.Version()),
	}
}

// listETag is the entity tag of a list's current version: "<id>-<version>",
// as a task's.
func listETag(l *list.List) string {
	return `"` + strconv.FormatInt(int64(l.ID()), 10) + "-" + strconv.FormatInt(int64(l.Version()), 10) + `"`
}

// ListIfMatchParam is the If-Match parameter of a write to a list.
type ListIfMatchParam struct {
	IfMatch string `header:"If-Match" doc:"The ETag the change is based on (from a response carrying the list; a W/ prefix is ignored), or *: the change happens only if the list is still at that version, else 412."`
}

// expect is the version the write may change, read as IfMatchParam reads
// a task's.
func (h ListIfMatchParam) expect(id int64) list.Version {
	return list.Version(IfMatchParam(h).expect(id)) // task.AnyVersion is list.AnyVersion, 0
}

// ListPreconditionFailed is the 412 body of a list write: the detail and
// the list as it is now. Its ETag header is the current one.
type ListPreconditionFailed struct {
	_       struct{} `json:"-" additionalProperties:"false"`
	headers http.Header
	Detail  string `json:"detail" doc:"What went wrong, for people." example:"The list was changed since the version given in If-Match; current is the list as it is now"`
	Current List   `json:"current" doc:"The list as it is now."`
}

func (e *ListPreconditionFailed) Error() string { return e.Detail }

// GetStatus tells huma the response status.
func (e *ListPreconditionFailed) GetStatus() int { return http.StatusPreconditionFailed }

// GetHeaders tells huma the ETag of the current version.
func (e *ListPreconditionFailed) GetHeaders() http.Header { return e.headers }

func listPreconditionFailed(current list.Summary) *ListPreconditionFailed {
	return &ListPreconditionFailed{
		headers: http.Header{"Etag": {listETag(current.List)}},
		Detail:  msgListPreconditionFailed,
		Current: listOut(current),
	}
}

// ListIDParam is the {list_id} of a list's URL, embedded in the inputs
// of the operations on one list.
type ListIDParam struct {
	ListID int64 `path:"list_id" minimum:"1" doc:"The list's id, a positive 64-bit integer." example:"3"`
}

type newListBody struct {
	Name  string  `json:"name" doc:"1 to 100 characters after trimming surrounding white space; no NUL; unique among the caller's lists (not in the trash), ignoring case." example:"Groceries"`
	Color *string `json:"color,omitempty" nullable:"true" doc:"#rrggbb, in either case (kept in lower case); absent or null: none." example:"#FF8800"`
}

type createListInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	IdempotencyParam
	Body newListBody
}

// listPatchBody is a JSON Merge Patch of a list.
type listPatchBody struct {
	Name  optional[string] `json:"name,omitempty" nullable:"false" doc:"A new name (same rules as on create); it cannot be removed." example:"Shopping"`
	Color optional[string] `json:"color,omitempty" doc:"A new color, #rrggbb in either case; null removes it." example:"#00aa55"`
}

type patchListInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	ListIfMatchParam
	Body listPatchBody
}

type getListInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	IfNoneMatch string `header:"If-None-Match" doc:"The ETag of the copy the client has (or a comma-separated list, or *): when the list is still at that version the answer is 304 with no body."`
}

type deleteListInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	ListIfMatchParam
	Permanent bool `query:"permanent" doc:"true deletes the list and all its tasks for good, from the sidebar or the trash; otherwise they go to the trash together."`
}

type restoreListInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	IdempotencyParam
}

// listMoveBody says where a list goes: right after one list, right before
// one, or (neither) at the top.
type listMoveBody struct {
	AfterID  *int64 `json:"after_id,omitempty" minimum:"1" nullable:"true" doc:"Put it right after this list of the caller's sidebar (their own, or one shared with them); null or absent: see before_id." example:"4"`
	BeforeID *int64 `json:"before_id,omitempty" minimum:"1" nullable:"true" doc:"Put it right before this list of the caller's sidebar (their own, or one shared with them). Not with after_id. Neither (or null): the top."`
}

type moveListInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	ListIfMatchParam
	IdempotencyParam
	Body *listMoveBody `required:"false"`
}

type oneListOutput struct {
	ETag string `header:"ETag" doc:"The list's version as an entity tag: send it in If-Match to change the list only if it is still this version, or in If-None-Match to get 304 while it is."`
	Body List
}

// getListOutput is oneListOutput, or 304 Not Modified with no body.
type getListOutput struct {
	Status int
	ETag   string `header:"ETag" doc:"The list's version as an entity tag: send it in If-Match to change the list only if it is still this version, or in If-None-Match to get 304 while it is."`
	Body   List
}

type listsOutput struct {
	Body []SidebarList `nullable:"false"` // never null: `[]` when there are none
}

type trashedListsOutput struct {
	Body []TrashedList `nullable:"false"`
}

func (h *handlers) listLists(ctx context.Context, in *ownerInput) (*listsOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	ls, err := h.svc.Sidebar(ctx, a)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := &listsOutput{Body: make([]SidebarList, len(ls))}
	for i, s := range ls {
		out.Body[i] = SidebarList{List: listOut(s.Summary), Role: string(s.Role), Owner: string(s.List.Owner())}
	}
	return out, nil
}

func (h *handlers) createList(ctx context.Context, in *createListInput) (*oneListOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	s, err := h.svc.CreateList(ctx, a, in.Body.Name, in.Body.Color)
	return h.oneList(ctx, s, err)
}

func (h *handlers) getList(ctx context.Context, in *getListInput) (*getListOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	s, err := h.svc.GetList(ctx, a, list.ID(in.ListID))
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	out := &getListOutput{Status: http.StatusOK, ETag: listETag(s.List), Body: listOut(s.Summary)}
	// A member's position is their own and not in the list's version
	// (a member's move leaves it): their copy is never known current.
	if s.Role == list.RoleOwner && noneMatch(in.IfNoneMatch, out.ETag) {
		out.Status = http.StatusNotModified
	}
	return out, nil
}

func (h *handlers) patchList(ctx context.Context, in *patchListInput) (*oneListOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	b := &in.Body
	if b.Name.null {
		return nil, &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"body", "name"},
			Msg: "must not be null: it cannot be removed", Type: "missing"}}}
	}
	var p application.ListPatch
	if b.Name.set {
		p.Name = &b.Name.value
	}
	if b.Color.set {
		p.SetColor = true
		if !b.Color.null {
			p.Color = &b.Color.value
		}
	}
	s, err := h.svc.EditList(ctx, a, list.ID(in.ListID), in.expect(in.ListID), p)
	return h.oneList(ctx, s, err)
}

func (h *handlers) deleteList(ctx context.Context, in *deleteListInput) (*struct{}, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if in.Permanent {
		err = h.svc.DeleteListForGood(ctx, a, list.ID(in.ListID), in.expect(in.ListID))
	} else {
		err = h.svc.DeleteList(ctx, a, list.ID(in.ListID), in.expect(in.ListID))
	}
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return nil, nil
}

func (h *handlers) restoreList(ctx context.Context, in *restoreListInput) (*oneListOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	s, err := h.svc.RestoreList(ctx, a, list.ID(in.ListID))
	return h.oneList(ctx, s, err)
}

func (h *handlers) moveList(ctx context.Context, in *moveListInput) (*oneListOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	var to list.Anchor
	if in.Body != nil {
		to = list.Anchor{After: (*list.ID)(in.Body.AfterID), Before: (*list.ID)(in.Body.BeforeID)}
	}
	s, err := h.svc.MoveList(ctx, a, list.ID(in.ListID), in.expect(in.ListID), to)
	return h.oneList(ctx, s.Summary, err)
}

func (h *handlers) listTrashedLists(ctx context.Context, in *ownerInput) (*trashedListsOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	ls, err := h.svc.ListTrashedLists(ctx, a)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	out := &trashedListsOutput{Body: make([]TrashedList, len(ls))}
	for i, l := range ls {
		// A list in the trash is shown without counts: its tasks are in
		// the trash with it.
		out.Body[i] = TrashedList{List: listOut(list.Summary{List: l.List}), DeletedAt: l.DeletedAt}
	}
	return out, nil
}

func (h *handlers) oneList(ctx context.Context, s list.Summary, err error) (*oneListOutput, error) {
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &oneListOutput{ETag: listETag(s.List), Body: listOut(s)}, nil
}

// The options of the list operations (routes.go), and of the task
// operations that name a list.

// aboutLists files an operation under the lists tag and makes its 404 the
// list's.
func aboutLists(_ huma.API, op *huma.Operation) {
	op.Tags = []string{"lists"}
	if r := op.Responses[httpCode(http.StatusNotFound)]; r != nil {
		r.Description = listNotFoundDoc
		r.Content["application/json"].Example = map[string]any{"detail": msgListNotFound}
	}
}

// namesList adds to a task operation's 404 that a list it names may be
// the one missing.
func namesList(_ huma.API, op *huma.Operation) {
	if r := op.Responses[httpCode(http.StatusNotFound)]; r != nil {
		r.Description += taskOrListNotFoundDoc
	}
}

// nameTaken adds to an operation's 409 that the list's name may be taken.
// (After idempotent, which rewrites the 409's description.)
func nameTaken(_ huma.API, op *huma.Operation) {
	if r := op.Responses[httpCode(http.StatusConflict)]; r != nil {
		r.Description += nameTakenDoc
	}
}

var listETagHeaderDoc = &huma.Param{
	Description: listETagDoc,
	Schema:      &huma.Schema{Type: huma.TypeString, Examples: []any{`"3-2"`}},
}

// listConditional documents the 412 of a list write that takes If-Match.
func listConditional(api huma.API, op *huma.Operation) {
	s := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[ListPreconditionFailed](), true, "ListPreconditionFailed")
	op.Responses[httpCode(http.StatusPreconditionFailed)] = &huma.Response{
		Description: listPreconditionDoc,
		Headers:     map[string]*huma.Param{"ETag": listETagHeaderDoc},
		Content:     map[string]*huma.MediaType{"application/json": {Schema: s}},
	}
}

// listNotModified documents the 304 of GET list with If-None-Match.
func listNotModified(_ huma.API, op *huma.Operation) {
	op.Responses[httpCode(http.StatusNotModified)] = &huma.Response{
		Description: notModifiedDoc,
		Headers:     map[string]*huma.Param{"ETag": listETagHeaderDoc},
	}
}

// listMergePatch documents the list's merge patch body (see mergePatch).
func listMergePatch(api huma.API, op *huma.Operation) { mergePatchOf[listPatchBody](api, op) }
