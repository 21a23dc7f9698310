package httpapi

import (
	"cmp"
	"context"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
)

const (
	tasksPath = "/api/{user_id}/tasks"
	taskPath  = "/api/{user_id}/tasks/{id}"
	trashPath = "/api/{user_id}/trash"
)

// routes are the API's operations, one line each. Their prose is
// opDocs[id] (docs.go); what an operation honours beyond the common (a
// conditional write, Idempotency-Key, the list's parameters) is in with.
func (h *handlers) routes() []route {
	return []route{
		{id: "list-tasks", method: http.MethodGet, path: tasksPath, status: http.StatusOK, handle: handle(h.list), with: opts(listParameters)},
		{id: "task-stats", method: http.MethodGet, path: tasksPath + "/stats", status: http.StatusOK, handle: handle(h.stats)},
		{id: "list-tags", method: http.MethodGet, path: "/api/{user_id}/tags", status: http.StatusOK, handle: handle(h.tags)},
		{id: "create-task", method: http.MethodPost, path: tasksPath, status: http.StatusCreated, codes: codes(404, 413), handle: handle(h.create), with: opts(h.idempotent, namesList)},
		{id: "get-task", method: http.MethodGet, path: taskPath, status: http.StatusOK, codes: codes(404), handle: handle(h.get), with: opts(notModified)},
		{id: "replace-task", method: http.MethodPut, path: taskPath, status: http.StatusOK, codes: codes(404, 413), handle: handle(h.replace), with: opts(conditional)},
		{id: "patch-task", method: http.MethodPatch, path: taskPath, status: http.StatusOK, codes: codes(404, 413), handle: handle(h.patch), with: opts(conditional, mergePatch, namesList, merging)},
		{id: "delete-task", method: http.MethodDelete, path: taskPath, status: http.StatusNoContent, codes: codes(404), handle: handle(h.delete), with: opts(conditional)},
		{id: "complete-task", method: http.MethodPatch, path: taskPath + "/complete", status: http.StatusOK, codes: codes(404, 413), handle: handle(h.complete), with: opts(conditional)},
		{id: "skip-occurrence", method: http.MethodPost, path: taskPath + "/skip", status: http.StatusOK, codes: codes(404, 413), handle: handle(h.skip), with: opts(conditional)},
		{id: "occurrence-history", method: http.MethodGet, path: taskPath + "/occurrences/history", status: http.StatusOK, codes: codes(404), handle: handle(h.history)},
		{id: "task-history", method: http.MethodGet, path: taskPath + "/history", status: http.StatusOK, codes: codes(404), handle: handle(h.taskHistory)},
		{id: "revert-revision", method: http.MethodPost, path: taskPath + "/history/{version}/revert", status: http.StatusOK, codes: codes(404), handle: handle(h.revert), with: opts(merging)},
		{id: "list-occurrences", method: http.MethodGet, path: taskPath + "/occurrences", status: http.StatusOK, codes: codes(404), handle: handle(h.occurrences)},
		{id: "list-trash", method: http.MethodGet, path: trashPath, status: http.StatusOK, handle: handle(h.listTrash)},
		{id: "empty-trash", method: http.MethodDelete, path: trashPath, status: http.StatusOK, handle: handle(h.emptyTrash)},
		{id: "restore-task", method: http.MethodPost, path: taskPath + "/restore", status: http.StatusOK, codes: codes(404), handle: handle(h.restore), with: opts(h.idempotent)},
		{id: "create-tasks", method: http.MethodPost, path: tasksPath + "/bulk", status: http.StatusCreated, codes: codes(404, 413), handle: handle(h.createTasks), with: opts(h.idempotent, namesList), itemRules: h.newTaskProblems},
		{id: "update-tasks", method: http.MethodPatch, path: tasksPath + "/bulk", status: http.StatusOK, codes: codes(404, 413), handle: handle(h.updateTasks)},
		{id: "delete-tasks", method: http.MethodPost, path: tasksPath + "/bulk-delete", status: http.StatusOK, codes: codes(404, 413), handle: handle(h.deleteTasks), with: opts(h.idempotent)},
		{id: "clear-completed", method: http.MethodPost, path: tasksPath + "/clear-completed", status: http.StatusOK, handle: handle(h.clearCompleted), with: opts(h.idempotent)},
		{id: "move-task", method: http.MethodPost, path: taskPath + "/move", status: http.StatusOK, codes: codes(404, 413), handle: handle(h.moveTask), with: opts(conditional, h.idempotent, namesList)},
		{id: "move-tasks", method: http.MethodPost, path: tasksPath + "/move", status: http.StatusOK, codes: codes(404, 413), handle: handle(h.moveTasks), with: opts(h.idempotent, namesList)},
		{id: "list-lists", method: http.MethodGet, path: listsPath, status: http.StatusOK, handle: handle(h.listLists), with: opts(aboutLists)},
		{id: "create-list", method: http.MethodPost, path: listsPath, status: http.StatusCreated, codes: codes(413), handle: handle(h.createList), with: opts(aboutLists, h.idempotent, nameTaken)},
		{id: "get-list", method: http.MethodGet, path: listPath, status: http.StatusOK, codes: codes(404), handle: handle(h.getList), with: opts(aboutLists, listNotModified)},
		{id: "patch-list", method: http.MethodPatch, path: listPath, status: http.StatusOK, codes: codes(404, 413), handle: handle(h.patchList), with: opts(aboutLists, listConditional, listMergePatch, nameTaken)},
		{id: "delete-list", method: http.MethodDelete, path: listPath, status: http.StatusNoContent, codes: codes(404), handle: handle(h.deleteList), with: opts(aboutLists, listConditional)},
		{id: "restore-list", method: http.MethodPost, path: listPath + "/restore", status: http.StatusOK, codes: codes(404), handle: handle(h.restoreList), with: opts(aboutLists, h.idempotent, nameTaken)},
		{id: "move-list", method: http.MethodPost, path: listPath + "/move", status: http.StatusOK, codes: codes(404, 413), handle: handle(h.moveList), with: opts(aboutLists, listConditional, h.idempotent)},
		{id: "list-members", method: http.MethodGet, path: membersPath, status: http.StatusOK, codes: codes(404), handle: handle(h.listMembers), with: opts(aboutLists)},
		{id: "invite-member", method: http.MethodPost, path: membersPath, status: http.StatusCreated, codes: codes(404, 413), handle: handle(h.inviteMember), with: opts(aboutLists)},
		{id: "set-member-role", method: http.MethodPatch, path: memberPath, status: http.StatusOK, codes: codes(404, 413), handle: handle(h.setMemberRole), with: opts(aboutLists)},
		{id: "remove-member", method: http.MethodDelete, path: memberPath, status: http.StatusNoContent, codes: codes(404), handle: handle(h.removeMember), with: opts(aboutLists)},
		{id: "list-invitations", method: http.MethodGet, path: invitationsPath, status: http.StatusOK, handle: handle(h.listInvitations), with: opts(aboutLists)},
		{id: "accept-invitation", method: http.MethodPost, path: invitationPath + "/accept", status: http.StatusOK, codes: codes(404), handle: handle(h.acceptInvitation), with: opts(aboutLists)},
		{id: "decline-invitation", method: http.MethodPost, path: invitationPath + "/decline", status: http.StatusNoContent, codes: codes(404), handle: handle(h.declineInvitation), with: opts(aboutLists)},
		{id: "list-trashed-lists", method: http.MethodGet, path: trashPath + "/lists", status: http.StatusOK, handle: handle(h.listTrashedLists), with: opts(aboutLists)},
		{id: "run-commands", method: http.MethodPost, path: commandsPath, status: http.StatusOK, codes: codes(413), handle: handle(h.commands)},
		{id: "list-changes", method: http.MethodGet, path: changesPath, status: http.StatusOK, codes: codes(400, 410), handle: handle(h.changes)},
		{id: "stream-events", method: http.MethodGet, path: eventsPath, status: http.StatusOK, handle: handle(h.streamEvents), with: opts(ticketAuth, eventStream)},
		{id: "create-event-ticket", method: http.MethodPost, path: eventsPath + "/ticket", status: http.StatusCreated, handle: handle(h.createTicket)},
		{id: "export-tasks", method: http.MethodGet, path: exportPath, status: http.StatusOK, handle: handle(h.export), with: opts(exportResponses)},
		{id: "import-tasks", method: http.MethodPost, path: importsPath, status: http.StatusCreated, codes: codes(413), handle: handle(h.importFile), with: opts(h.importIdempotent), raw: true},
		{id: "create-webhook", method: http.MethodPost, path: webhooksPath, status: http.StatusCreated, codes: codes(413), handle: handle(h.createWebhook)},
		{id: "list-webhooks", method: http.MethodGet, path: webhooksPath, status: http.StatusOK, handle: handle(h.listWebhooks)},
		{id: "delete-webhook", method: http.MethodDelete, path: webhooksPath + "/{webhook_id}", status: http.StatusNoContent, codes: codes(404), handle: handle(h.deleteWebhook)},
		{id: "create-push-subscription", method: http.MethodPost, path: pushPath, status: http.StatusCreated, codes: codes(413), handle: handle(h.createPush)},
		{id: "list-push-subscriptions", method: http.MethodGet, path: pushPath, status: http.StatusOK, handle: handle(h.listPush)},
		{id: "delete-push-subscription", method: http.MethodDelete, path: pushPath + "/{subscription_id}", status: http.StatusNoContent, codes: codes(404), handle: handle(h.deletePush)},
		{id: "create-calendar-feed", method: http.MethodPost, path: calendarFeedsPath, status: http.StatusCreated, codes: codes(413), handle: handle(h.createCalendarFeed)}, // no Idempotency-Key: a replay record would keep the secret

		{id: "list-calendar-feeds", method: http.MethodGet, path: calendarFeedsPath, status: http.StatusOK, handle: handle(h.listCalendarFeeds)},
		{id: "revoke-calendar-feed", method: http.MethodDelete, path: calendarFeedPath, status: http.StatusNoContent, codes: codes(404), handle: handle(h.revokeCalendarFeed)},
		{id: "calendar-feed", method: http.MethodGet, path: calendarPath, status: http.StatusOK, codes: codes(404, 429, 500, 503), public: true, tag: "calendar", handle: handle(h.calendar), with: opts(calendarResponses)},
		{id: "healthz", method: http.MethodGet, path: "/healthz", status: http.StatusOK, codes: codes(500), public: true, handle: handle(h.healthz)},
		{id: "readyz", method: http.MethodGet, path: "/readyz", status: http.StatusOK, codes: codes(500, 503), public: true, handle: handle(h.readyz)},
	}
}

// securedCodes are the error statuses of every operation that needs a
// token, besides its own (route.codes); 429 is added to all of them by
// documentRateLimits.
var securedCodes = []int{
	http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity,
	http.StatusInternalServerError, http.StatusServiceUnavailable,
}

// route is one operation: what registering it takes, but its prose.
type route struct {
	id     string // operation id, and its key in opDocs
	method string
	path   string
	status int   // on success
	codes  []int // its error statuses: beyond securedCodes, or all of them when public
	// public operations (health checks) need no token and take no body.
	public bool
	tag    string // a public operation's tag: "health" when none
	// raw operations read their body themselves, as a stream (imports):
	// no bodyFilter, and IMPORT_MAX_BYTES rather than the JSON bodies' bound.
	raw    bool
	handle func(huma.API, huma.Operation) // huma.Register with the handler
	with   []opOption
	// itemRules, for a body that is an array of items, runs the domain's
	// rules on the items the schema accepted when it refused others
	// (bad), so that the 422 names every bad item, as FastAPI's does:
	// huma refuses such a body before the handler could check the rest.
	itemRules func(ctx context.Context, body []byte, bad map[int]bool) []ValidationItem
}

// opOption adds to an operation, before it is registered, what it honours
// beyond the common and the responses that come with it.
type opOption func(huma.API, *huma.Operation)

func opts(o ...opOption) []opOption { return o }
func codes(c ...int) []int          { return c }

// handle registers f as the operation's handler.
func handle[I, O any](f func(context.Context, *I) (*O, error)) func(huma.API, huma.Operation) {
	return func(api huma.API, op huma.Operation) { huma.Register(api, op, f) }
}

// register registers every route, then documents the rate limits.
func (h *handlers) register(api huma.API) {
	for _, rt := range h.routes() {
		rt.handle(api, h.operation(api, rt))
		if rt.raw {
			// Documented once registered: huma reads a body its operation
			// declares, and a raw operation reads its own.
			importRequestBody(api, api.OpenAPI().Paths[rt.path].Post)
		}
	}
	documentRateLimits(api)
}

// operation is the huma.Operation of rt.
func (h *handlers) operation(api huma.API, rt route) huma.Operation {
	doc := opDocs[rt.id]
	op := huma.Operation{
		OperationID: rt.id,
		Method:      rt.method,
		Path:        rt.path,
		Summary:     doc.summary,
		Description: doc.description,
	}
	op.DefaultStatus = rt.status
	if rt.public {
		op.Tags = []string{cmp.Or(rt.tag, "health")}
		op.Responses = errorResponses(api, rt.codes...)
	} else {
		op.Tags = []string{"tasks"}
		op.Security = []map[string][]string{{bearerScheme: {}}}
		// bodyFilter refuses a body over maxBody; huma reads what it
		// keeps, which integers written out (1e18) can make a little
		// longer than what came.
		op.MaxBodyBytes = 2*h.maxBody + 1
		op.Responses = errorResponses(api, append(append([]int(nil), securedCodes...), rt.codes...)...)
	}
	for _, o := range rt.with {
		o(api, &op)
	}
	if rt.raw {
		op.MaxBodyBytes = h.importMax + 1
		op.Middlewares = append(op.Middlewares, importBody)
	} else if !rt.public {
		// After Idempotency-Key's middleware, which keeps the body as it
		// came to recognise a retry.
		op.Middlewares = append(op.Middlewares, h.bodyFilter(rt.itemRules))
	}
	return op
}

// listParameters documents the list's query parameters (listParams).
func listParameters(_ huma.API, op *huma.Operation) { op.Parameters = listParamDocs() }

// mergePatch documents application/merge-patch+json beside
// application/json for the body, with the same schema: huma reads the
// +json type as JSON.
func mergePatch(api huma.API, op *huma.Operation) { mergePatchOf[patchBody](api, op) }

// mergePatchOf is mergePatch for the body B.
func mergePatchOf[B any](api huma.API, op *huma.Operation) {
	s := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[B](), true, "")
	op.RequestBody = &huma.RequestBody{Content: map[string]*huma.MediaType{
		"application/json": {Schema: s},
		mergePatchType:     {Schema: s},
	}}
}
