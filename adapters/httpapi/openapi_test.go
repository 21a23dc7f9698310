package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/todo-backend/todo/adapters/httpapi"
)

// TestServeDocument: both documents are served without auth, as JSON,
// cacheable, with an ETag that a conditional request turns into 304.
func TestServeDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/openapi.json", "/openapi-3.0.json"} {
		res := e.call(t, http.MethodGet, path, "", "")
		wantStatus(t, "GET "+path, res, http.StatusOK)
		if !json.Valid(res.body) {
			t.Errorf("GET %s: body is not JSON", path)
		}
		cc := strings.ToLower(res.header.Get("Cache-Control"))
		if !cacheable(cc) {
			t.Errorf("GET %s: Cache-Control = %q, want it cacheable (public or max-age > 0, no no-store/no-cache/private)", path, cc)
		}
		etag := res.header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET %s: no ETag", path)
		}

		again := e.do(t, request{method: http.MethodGet, path: path, header: http.Header{"If-None-Match": {etag}}})
		if again.status != http.StatusNotModified || len(again.body) != 0 {
			t.Errorf("GET %s with If-None-Match: %s = %s, want 304 without a body", path, etag, again)
		}
		stale := e.do(t, request{method: http.MethodGet, path: path, header: http.Header{"If-None-Match": {`"stale"`}}})
		if stale.status != http.StatusOK || string(stale.body) != string(res.body) {
			t.Errorf("GET %s with a stale If-None-Match = %d, want 200 and the document", path, stale.status)
		}
	}
}

func cacheable(cc string) bool {
	if cc == "" {
		return false
	}
	ok := false
	for _, d := range strings.Split(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch name {
		case "no-store", "no-cache", "private":
			return false
		case "public":
			ok = true
		case "max-age", "s-maxage":
			if n, err := strconv.Atoi(value); err == nil && n > 0 {
				ok = true
			}
		}
	}
	return ok
}

// TestOpenAPIFunc: the document the binary can print is the one it serves.
func TestOpenAPIFunc(t *testing.T) {
	t.Parallel()
	printed, err := httpapi.OpenAPI("dev")
	if err != nil {
		t.Fatalf("OpenAPI(dev): %v", err)
	}
	e := newEnv(t)
	served := e.call(t, http.MethodGet, "/openapi.json", "", "")
	var a, b any
	if err := json.Unmarshal(printed, &a); err != nil {
		t.Fatalf("OpenAPI(dev) is not JSON: %v", err)
	}
	if err := json.Unmarshal(served.body, &b); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("OpenAPI(\"dev\") differs from the served /openapi.json")
	}
	var doc struct {
		Info struct{ Version string } `json:"info"`
	}
	printed, err = httpapi.OpenAPI("1.2.3")
	if err != nil {
		t.Fatalf("OpenAPI(1.2.3): %v", err)
	}
	if err := json.Unmarshal(printed, &doc); err != nil || doc.Info.Version != "1.2.3" {
		t.Errorf("OpenAPI(\"1.2.3\") info.version = %q, want 1.2.3 (%v)", doc.Info.Version, err)
	}
}

// taskOp is what the contract says of one task operation.
type taskOp struct {
	id, method, path string
	success          int
	body             string // "" none, "required", "optional"
	codes            []int  // error statuses it can answer
}

var taskOps = []taskOp{
	{"list-tasks", http.MethodGet, "/api/{user_id}/tasks", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"create-task", http.MethodPost, "/api/{user_id}/tasks", 201, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"get-task", http.MethodGet, "/api/{user_id}/tasks/{id}", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"replace-task", http.MethodPut, "/api/{user_id}/tasks/{id}", 200, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"delete-task", http.MethodDelete, "/api/{user_id}/tasks/{id}", 204, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"complete-task", http.MethodPatch, "/api/{user_id}/tasks/{id}/complete", 200, "optional", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"task-stats", http.MethodGet, "/api/{user_id}/tasks/stats", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"list-tags", http.MethodGet, "/api/{user_id}/tags", 200, "", []int{401, 403, 409, 422, 500, 503}},
	// Issue 6.
	{"patch-task", http.MethodPatch, "/api/{user_id}/tasks/{id}", 200, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"list-trash", http.MethodGet, "/api/{user_id}/trash", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"empty-trash", http.MethodDelete, "/api/{user_id}/trash", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"restore-task", http.MethodPost, "/api/{user_id}/tasks/{id}/restore", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"create-tasks", http.MethodPost, "/api/{user_id}/tasks/bulk", 201, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"update-tasks", http.MethodPatch, "/api/{user_id}/tasks/bulk", 200, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"delete-tasks", http.MethodPost, "/api/{user_id}/tasks/bulk-delete", 200, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"clear-completed", http.MethodPost, "/api/{user_id}/tasks/clear-completed", 200, "", []int{401, 403, 409, 422, 500, 503}},
	// Issue 15.
	{"move-task", http.MethodPost, "/api/{user_id}/tasks/{id}/move", 200, "optional", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"move-tasks", http.MethodPost, "/api/{user_id}/tasks/move", 200, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"list-lists", http.MethodGet, "/api/{user_id}/lists", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"create-list", http.MethodPost, "/api/{user_id}/lists", 201, "required", []int{401, 403, 409, 413, 422, 500, 503}},
	{"get-list", http.MethodGet, "/api/{user_id}/lists/{list_id}", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"patch-list", http.MethodPatch, "/api/{user_id}/lists/{list_id}", 200, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"delete-list", http.MethodDelete, "/api/{user_id}/lists/{list_id}", 204, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"restore-list", http.MethodPost, "/api/{user_id}/lists/{list_id}/restore", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"move-list", http.MethodPost, "/api/{user_id}/lists/{list_id}/move", 200, "optional", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"list-trashed-lists", http.MethodGet, "/api/{user_id}/trash/lists", 200, "", []int{401, 403, 409, 422, 500, 503}},
	// Issue 18.
	{"skip-occurrence", http.MethodPost, "/api/{user_id}/tasks/{id}/skip", 200, "optional", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"list-occurrences", http.MethodGet, "/api/{user_id}/tasks/{id}/occurrences", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"occurrence-history", http.MethodGet, "/api/{user_id}/tasks/{id}/occurrences/history", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"task-history", http.MethodGet, "/api/{user_id}/tasks/{id}/history", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"revert-revision", http.MethodPost, "/api/{user_id}/tasks/{id}/history/{version}/revert", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	// Issue 16.
	{"list-changes", http.MethodGet, "/api/{user_id}/changes", 200, "", []int{400, 401, 403, 409, 410, 422, 500, 503}},
	{"stream-events", http.MethodGet, "/api/{user_id}/events", 200, "", []int{401, 403, 409, 410, 422, 429, 500, 503}},
	{"create-event-ticket", http.MethodPost, "/api/{user_id}/events/ticket", 201, "", []int{401, 403, 409, 422, 429, 500, 503}},
	// Issue 17.
	{"run-commands", http.MethodPost, "/api/{user_id}/commands", 200, "required", []int{401, 403, 409, 413, 422, 500, 503}},
	// Issue 20.
	{"export-tasks", http.MethodGet, "/api/{user_id}/export", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"import-tasks", http.MethodPost, "/api/{user_id}/imports", 201, "required", []int{401, 403, 409, 413, 422, 500, 503}},
	{"create-webhook", http.MethodPost, "/api/{user_id}/webhooks", 201, "required", []int{401, 403, 409, 413, 422, 500, 503}},
	{"list-webhooks", http.MethodGet, "/api/{user_id}/webhooks", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"delete-webhook", http.MethodDelete, "/api/{user_id}/webhooks/{webhook_id}", 204, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"create-push-subscription", http.MethodPost, "/api/{user_id}/push-subscriptions", 201, "required", []int{401, 403, 409, 413, 422, 500, 503}},
	{"list-push-subscriptions", http.MethodGet, "/api/{user_id}/push-subscriptions", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"delete-push-subscription", http.MethodDelete, "/api/{user_id}/push-subscriptions/{subscription_id}", 204, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"create-calendar-feed", http.MethodPost, "/api/{user_id}/calendar-feeds", 201, "optional", []int{401, 403, 409, 413, 422, 500, 503}},
	{"list-calendar-feeds", http.MethodGet, "/api/{user_id}/calendar-feeds", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"revoke-calendar-feed", http.MethodDelete, "/api/{user_id}/calendar-feeds/{id}", 204, "", []int{401, 403, 404, 409, 422, 500, 503}},
	// Issue 19.
	{"list-members", http.MethodGet, "/api/{user_id}/lists/{list_id}/members", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"invite-member", http.MethodPost, "/api/{user_id}/lists/{list_id}/members", 201, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"set-member-role", http.MethodPatch, "/api/{user_id}/lists/{list_id}/members/{member_user_id}", 200, "required", []int{401, 403, 404, 409, 413, 422, 500, 503}},
	{"remove-member", http.MethodDelete, "/api/{user_id}/lists/{list_id}/members/{member_user_id}", 204, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"list-invitations", http.MethodGet, "/api/{user_id}/invitations", 200, "", []int{401, 403, 409, 422, 500, 503}},
	{"accept-invitation", http.MethodPost, "/api/{user_id}/invitations/{invitation_id}/accept", 200, "", []int{401, 403, 404, 409, 422, 500, 503}},
	{"decline-invitation", http.MethodPost, "/api/{user_id}/invitations/{invitation_id}/decline", 204, "", []int{401, 403, 404, 409, 422, 500, 503}},
}

// conditionalOps take If-Match and answer 412 with the current task.
var conditionalOps = []string{"replace-task", "patch-task", "delete-task", "complete-task", "move-task", "skip-occurrence"}

// listConditionalOps take If-Match and answer 412 with the current list.
var listConditionalOps = []string{"patch-list", "delete-list", "move-list"}

// idempotentOps are the POSTs that honour Idempotency-Key.
var idempotentOps = []string{"create-task", "create-tasks", "delete-tasks", "clear-completed", "restore-task",
	"move-task", "move-tasks", "create-list", "restore-list", "move-list"}

// listParams are every query parameter of list-tasks, peer spellings
// included: the document must describe each.
var listParams = []string{
	"status", "status_filter", "status_param", "completed", "priority", "tags", "tags_match",
	"search", "q", "due_from", "due_date_from", "due_start", "due_to", "due_date_to", "due_end",
	"overdue", "is_overdue", "sort", "sort_by", "sortBy", "order", "sort_order", "sortOrder",
	"limit", "cursor", "offset", "tz", "list_id", "parent_id",
}

// TestDocument holds both served documents (3.1 and its 3.0 downgrade) to
// the contract: versions, operations, parameters, bodies, responses and
// the security scheme.
func TestDocument(t *testing.T) {
	t.Parallel()
	for _, c := range contracts(t) {
		t.Run(strings.TrimPrefix(c.name, "/"), func(t *testing.T) {
			t.Parallel()
			doc := c.doc
			wantVersion := "3.1."
			if c.name == "/openapi-3.0.json" {
				wantVersion = "3.0."
			}
			if !strings.HasPrefix(doc.OpenAPI, wantVersion) {
				t.Errorf("openapi = %q, want %sx", doc.OpenAPI, wantVersion)
			}
			if doc.Info == nil || doc.Info.Title == "" || doc.Info.Version == "" {
				t.Errorf("info = %+v, want a title and a version", doc.Info)
			}
			checkOperations(t, doc)
			checkSecurity(t, doc)
			for _, op := range taskOps {
				checkTaskOp(t, doc, op)
			}
			checkSchemas(t, doc)
			for _, path := range []string{"/healthz", "/readyz"} {
				item := doc.Paths.Value(path)
				if item == nil || item.Get == nil {
					t.Errorf("no GET %s", path)
					continue
				}
				if item.Get.Security != nil && len(*item.Get.Security) > 0 {
					t.Errorf("GET %s requires %v, want no auth", path, *item.Get.Security)
				}
				if item.Get.Responses.Status(200) == nil {
					t.Errorf("GET %s declares no 200", path)
				}
			}
			if r := doc.Paths.Value("/readyz"); r != nil && r.Get != nil && r.Get.Responses.Status(503) == nil {
				t.Errorf("GET /readyz declares no 503")
			}
		})
	}
}

func checkOperations(t *testing.T, doc *openapi3.T) {
	t.Helper()
	seen := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := seen[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", where, other, op.OperationID)
			}
			seen[op.OperationID] = where
			if strings.TrimSpace(op.Summary) == "" {
				t.Errorf("%s (%s) has no summary", where, op.OperationID)
			}
		}
	}
	if len(seen) != len(taskOps)+3 {
		t.Errorf("operations = %v, want the %d task operations, healthz, readyz and calendar-feed", seen, len(taskOps))
	}
	// The calendar feed is public: its secret is in the URL, no token.
	item := doc.Paths.Value("/calendar/{secret}.ics")
	if item == nil || item.Get == nil {
		t.Fatal("no GET /calendar/{secret}.ics")
	}
	op := item.Get
	if op.Security != nil && len(*op.Security) > 0 {
		t.Errorf("calendar-feed has security %v, want none", *op.Security)
	}
	for _, code := range []int{200, 304, 404, 429} {
		if op.Responses.Status(code) == nil {
			t.Errorf("calendar-feed does not document %d", code)
		}
	}
	if ok := op.Responses.Status(200); ok != nil && ok.Value.Content.Get("text/calendar; charset=utf-8") == nil {
		t.Errorf("calendar-feed's 200 is not text/calendar")
	}
}

func checkSecurity(t *testing.T, doc *openapi3.T) {
	t.Helper()
	ref := doc.Components.SecuritySchemes["bearer"]
	if ref == nil || ref.Value == nil {
		t.Fatalf("no security scheme \"bearer\" (have %v)", doc.Components.SecuritySchemes)
	}
	if s := ref.Value; s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		t.Errorf("security scheme bearer = type %q scheme %q, want http/bearer", s.Type, s.Scheme)
	}
}

func checkTaskOp(t *testing.T, doc *openapi3.T, want taskOp) {
	t.Helper()
	item := doc.Paths.Value(want.path)
	if item == nil {
		t.Errorf("no path %s", want.path)
		return
	}
	op := item.GetOperation(want.method)
	if op == nil {
		t.Errorf("no %s %s", want.method, want.path)
		return
	}
	where := want.method + " " + want.path
	if op.OperationID != want.id {
		t.Errorf("%s operationId = %q, want %q", where, op.OperationID, want.id)
	}
	if op.Security == nil || !slices.ContainsFunc(*op.Security, func(r openapi3.SecurityRequirement) bool { _, ok := r["bearer"]; return ok }) {
		t.Errorf("%s does not require the bearer scheme", where)
	}

	// Parameters.
	params := map[string]*openapi3.Parameter{}
	for _, p := range op.Parameters {
		params[p.Value.Name] = p.Value
	}
	for _, p := range item.Parameters {
		params[p.Value.Name] = p.Value
	}
	if p := params["user_id"]; p == nil || p.In != "path" || !p.Required || !p.Schema.Value.Type.Is("string") {
		t.Errorf("%s: user_id parameter = %+v, want a required string in the path", where, p)
	}
	for _, id := range []string{"id", "list_id"} {
		if !strings.Contains(want.path, "{"+id+"}") {
			continue
		}
		p := params[id]
		if p == nil || p.In != "path" || !p.Required {
			t.Errorf("%s: %s parameter = %+v, want required in the path", where, id, p)
		} else if s := p.Schema.Value; strings.HasPrefix(want.path, "/api/{user_id}/calendar-feeds/") {
			if !s.Type.Is("string") || s.Pattern == "" {
				t.Errorf("%s: %s schema = type %v pattern %q, want a string with a pattern (cf_...)", where, id, s.Type, s.Pattern)
			}
		} else if !s.Type.Is("integer") || s.Min == nil || *s.Min != 1 {
			t.Errorf("%s: %s schema = type %v minimum %v, want integer with minimum 1", where, id, s.Type, s.Min)
		}
	}
	if strings.Contains(want.path, "{list_id}") {
		r := op.Responses.Status(http.StatusNotFound)
		if c := r.Value.Content.Get("application/json"); c == nil || fmt.Sprint(c.Example) != fmt.Sprint(map[string]any{"detail": "List not found"}) {
			t.Errorf("%s: 404 example is not List not found", where)
		}
	}
	if want.id == "list-tasks" {
		p := params["status"]
		if p == nil || p.In != "query" || p.Required {
			t.Errorf("%s: status parameter = %+v, want optional in the query", where, p)
		} else {
			s := p.Schema.Value
			var enum []string
			for _, v := range s.Enum {
				enum = append(enum, v.(string))
			}
			slices.Sort(enum)
			if !s.Type.Is("string") || !slices.Equal(enum, []string{"all", "completed", "pending"}) {
				t.Errorf("%s: status schema = type %v enum %v, want a string enum of all, pending, completed (the base contract's)", where, s.Type, s.Enum)
			}
			if s.Default != "all" {
				t.Errorf("%s: status default = %v, want all", where, s.Default)
			}
		}
	}

	if want.id == "list-tasks" {
		for _, name := range listParams {
			if p := params[name]; p == nil || p.In != "query" || p.Required || p.Schema == nil || p.Description == "" {
				t.Errorf("%s: query parameter %s = %+v, want it documented, optional, with a schema and a description", where, name, p)
			}
		}
		for _, name := range []string{"priority", "tags"} {
			if p := params[name]; p != nil && (!p.Schema.Value.Type.Is("array") || p.Explode == nil || !*p.Explode) {
				t.Errorf("%s: %s is not an exploded array (repeatable)", where, name)
			}
		}
		if p := params["limit"]; p != nil {
			if s := p.Schema.Value; !s.Type.Is("integer") || s.Min == nil || *s.Min != 1 || s.Max == nil || *s.Max != 200 {
				t.Errorf("%s: limit schema = %v min %v max %v, want an integer 1..200", where, s.Type, s.Min, s.Max)
			}
		}
		if ok := op.Responses.Status(http.StatusOK); ok != nil {
			for _, h := range []string{"X-Total-Count", "Link"} {
				if hd := ok.Value.Headers[h]; hd == nil || hd.Value == nil || hd.Value.Description == "" && hd.Value.Schema.Value.Description == "" {
					t.Errorf("%s: 200 does not declare and describe the %s header", where, h)
				}
			}
		}
	}
	if want.id == "task-stats" {
		for _, name := range []string{"tz", "list_id"} {
			if p := params[name]; p == nil || p.In != "query" || p.Required {
				t.Errorf("%s: %s parameter = %+v, want optional in the query", where, name, p)
			}
		}
	}

	// Request body.
	rb := op.RequestBody
	switch want.body {
	case "":
		if rb != nil {
			t.Errorf("%s declares a request body", where)
		}
	default:
		if rb == nil || rb.Value == nil || rb.Value.Content.Get("application/json") == nil {
			t.Errorf("%s: no JSON request body", where)
			break
		}
		if got := rb.Value.Required; got != (want.body == "required") {
			t.Errorf("%s: request body required = %v, want %v", where, got, want.body == "required")
		}
		s := rb.Value.Content.Get("application/json").Schema.Value
		switch want.id {
		case "create-task", "replace-task":
			if !slices.Contains(s.Required, "title") || s.Properties["title"] == nil || !s.Properties["title"].Value.Type.Is("string") {
				t.Errorf("%s: body schema does not require a string title", where)
			}
			if d := s.Properties["description"]; d == nil || !allowsNull(d.Value) || !d.Value.Type.Includes("string") || slices.Contains(s.Required, "description") {
				t.Errorf("%s: body description is not an optional string or null", where)
			}
			for name, typ := range map[string]string{"priority": "string", "due_date": "string", "tags": "array"} {
				p := s.Properties[name]
				if p == nil || !p.Value.Type.Includes(typ) || slices.Contains(s.Required, name) || p.Value.Description == "" {
					t.Errorf("%s: body %s is not an optional, described %s", where, name, typ)
					continue
				}
				if nullable := allowsNull(p.Value); nullable != (name == "due_date") {
					t.Errorf("%s: body %s nullable = %v, want %v", where, name, nullable, name == "due_date")
				}
			}
			if p := s.Properties["priority"]; p != nil && len(p.Value.Enum) != 6 {
				t.Errorf("%s: body priority enum = %v, want low, medium, high in lower and upper case", where, p.Value.Enum)
			}
		}
		if want.id == "patch-task" || want.id == "patch-list" {
			if item.Patch.RequestBody.Value.Content.Get("application/merge-patch+json") == nil {
				t.Errorf("%s: no application/merge-patch+json request body", where)
			}
		}
		if want.id == "patch-list" {
			for name, null := range map[string]bool{"name": false, "color": true} {
				if p := s.Properties[name]; p == nil || allowsNull(p.Value) != null || slices.Contains(s.Required, name) {
					t.Errorf("%s: body %s is not an optional member with nullable %v", where, name, null)
				}
			}
		}
		if want.id == "create-task" || want.id == "patch-task" || want.id == "move-task" || want.id == "move-tasks" {
			names := []string{"list_id", "parent_id"}
			if want.id == "patch-task" {
				names = names[:1]
			}
			for _, name := range names {
				if p := s.Properties[name]; p == nil || !allowsNull(p.Value) || !p.Value.Type.Includes("integer") || slices.Contains(s.Required, name) {
					t.Errorf("%s: body %s is not an optional integer or null", where, name)
				}
			}
		}
		if want.id == "patch-task" {
			for name, null := range map[string]bool{"title": false, "completed": false, "description": true, "due_date": true, "priority": true, "tags": true} {
				if p := s.Properties[name]; p == nil || allowsNull(p.Value) != null || slices.Contains(s.Required, name) {
					t.Errorf("%s: body %s is not an optional member with nullable %v", where, name, null)
				}
			}
		}
		if want.id == "replace-task" || want.id == "complete-task" || want.id == "patch-task" {
			if c := s.Properties["completed"]; c == nil || !c.Value.Type.Includes("boolean") || slices.Contains(s.Required, "completed") {
				t.Errorf("%s: body completed is not an optional boolean", where)
			}
		}
	}

	// Responses.
	ok := op.Responses.Status(want.success)
	if ok == nil {
		t.Errorf("%s declares no %d", where, want.success)
	} else {
		content := ok.Value.Content.Get("application/json")
		switch {
		case want.id == "stream-events":
			if ok.Value.Content.Get("text/event-stream") == nil || len(ok.Value.Content) != 1 {
				t.Errorf("%s: 200 is not text/event-stream alone", where)
			}
			for name, in := range map[string]string{"Last-Event-ID": "header", "last_event_id": "query", "ticket": "query"} {
				if p := params[name]; p == nil || p.In != in || p.Required || p.Description == "" {
					t.Errorf("%s: parameter %s = %+v, want optional and described in the %s", where, name, p, in)
				}
			}
		case want.id == "create-event-ticket":
			if content == nil || content.Schema == nil || content.Schema.Ref != "#/components/schemas/TicketJSON" {
				t.Errorf("%s: 201 body is not the TicketJSON schema", where)
			} else if v := content.Schema.Value; !slices.Contains(v.Required, "ticket") || !slices.Contains(v.Required, "expires_at") {
				t.Errorf("%s: TicketJSON does not require ticket and expires_at", where)
			}
		}
		switch {
		case want.id == "stream-events" || want.id == "create-event-ticket":
		case want.success == http.StatusNoContent:
			if len(ok.Value.Content) != 0 {
				t.Errorf("%s: 204 declares content", where)
			}
		default:
			if want.id == "export-tasks" { // a file, in three types
				for _, mt := range []string{"application/json", "text/csv; charset=utf-8", "text/calendar; charset=utf-8"} {
					if ok.Value.Content.Get(mt) == nil {
						t.Errorf("%s: 200 does not declare %s", where, mt)
					}
				}
				break
			}
			if content == nil || content.Schema == nil {
				t.Errorf("%s: %d has no JSON schema", where, want.success)
				break
			}
			s := content.Schema
			schema := "#/components/schemas/Task"
			switch want.id {
			case "task-stats":
				schema = "#/components/schemas/Stats"
			case "list-tags":
				schema = "#/components/schemas/Tag"
			case "list-trash":
				schema = "#/components/schemas/TrashedTask"
			case "empty-trash":
				schema = "#/components/schemas/Deleted"
			case "delete-tasks", "clear-completed":
				schema = "#/components/schemas/TrashCount"
			case "list-lists":
				schema = "#/components/schemas/SidebarList"
			case "create-list", "get-list", "patch-list", "restore-list", "move-list":
				schema = "#/components/schemas/List"
			case "list-trashed-lists":
				schema = "#/components/schemas/TrashedList"
			case "list-occurrences":
				schema = "#/components/schemas/Occurrence"
			case "occurrence-history":
				schema = "#/components/schemas/PassedOccurrence"
			case "task-history":
				schema = "#/components/schemas/Revision"
			case "list-changes":
				schema = "#/components/schemas/Changes"
			case "run-commands":
				schema = "#/components/schemas/CommandsResponse"
			case "import-tasks":
				schema = "#/components/schemas/ImportResult"
			case "create-webhook":
				schema = "#/components/schemas/NewWebhook"
			case "list-webhooks":
				schema = "#/components/schemas/WebhookOut"
			case "create-push-subscription", "list-push-subscriptions":
				schema = "#/components/schemas/PushSubscriptionOut"
			case "create-calendar-feed":
				schema = "#/components/schemas/CreatedCalendarFeedJSON"
			case "list-calendar-feeds":
				schema = "#/components/schemas/CalendarFeedJSON"
			case "list-members", "set-member-role":
				schema = "#/components/schemas/MemberJSON"
			case "invite-member", "list-invitations", "accept-invitation":
				schema = "#/components/schemas/InvitationJSON"
			}
			switch want.id {
			case "get-task", "create-task", "replace-task", "patch-task", "complete-task", "restore-task", "move-task", "skip-occurrence",
				"create-list", "get-list", "patch-list", "restore-list", "move-list":
				if h := ok.Value.Headers["ETag"]; h == nil || h.Value == nil {
					t.Errorf("%s: %d does not declare ETag", where, want.success)
				}
			}
			if slices.Contains([]string{"list-tasks", "list-tags", "list-trash", "create-tasks", "update-tasks", "move-tasks", "list-lists", "list-trashed-lists", "list-occurrences", "occurrence-history",
				"list-webhooks", "list-push-subscriptions", "list-calendar-feeds", "task-history", "list-members", "list-invitations"}, want.id) {
				if !s.Value.Type.Includes("array") || allowsNull(s.Value) {
					t.Errorf("%s: 200 schema type %v nullable %v, want an array that is never null (`[]` when none)", where, s.Value.Type.Slice(), s.Value.Nullable)
				}
				s = s.Value.Items
			}
			if s == nil || s.Ref != schema {
				t.Errorf("%s: %d body is not the %s schema", where, want.success, schema)
			}
		}
	}
	for _, code := range want.codes {
		r := op.Responses.Status(code)
		if r == nil {
			t.Errorf("%s declares no %d", where, code)
			continue
		}
		schema := "#/components/schemas/HTTPError"
		if code == http.StatusUnprocessableEntity {
			schema = "#/components/schemas/ValidationProblem"
		}
		if code == http.StatusConflict && (want.id == "patch-task" || want.id == "revert-revision") {
			schema = "#/components/schemas/MergeConflict" // Prefer: merge (issue 17)
		}
		if c := r.Value.Content.Get("application/json"); c == nil || c.Schema == nil || c.Schema.Ref != schema {
			t.Errorf("%s: %d body is not %s", where, code, schema)
		}
		if code == http.StatusUnauthorized && r.Value.Headers["WWW-Authenticate"] == nil {
			t.Errorf("%s: 401 does not declare WWW-Authenticate", where)
		}
	}

	// Issue 6: conditional writes, conditional reads, idempotency keys.
	if slices.Contains(conditionalOps, want.id) {
		if p := params["If-Match"]; p == nil || p.In != "header" || p.Required {
			t.Errorf("%s: If-Match = %+v, want an optional header", where, p)
		}
		r := op.Responses.Status(http.StatusPreconditionFailed)
		if r == nil {
			t.Errorf("%s declares no 412", where)
		} else if c := r.Value.Content.Get("application/json"); c == nil || c.Schema == nil || c.Schema.Ref != "#/components/schemas/PreconditionFailed" || r.Value.Headers["ETag"] == nil {
			t.Errorf("%s: 412 is not PreconditionFailed with an ETag", where)
		}
	}
	if slices.Contains(listConditionalOps, want.id) {
		if p := params["If-Match"]; p == nil || p.In != "header" || p.Required {
			t.Errorf("%s: If-Match = %+v, want an optional header", where, p)
		}
		r := op.Responses.Status(http.StatusPreconditionFailed)
		if r == nil {
			t.Errorf("%s declares no 412", where)
		} else if c := r.Value.Content.Get("application/json"); c == nil || c.Schema == nil || c.Schema.Ref != "#/components/schemas/ListPreconditionFailed" || r.Value.Headers["ETag"] == nil {
			t.Errorf("%s: 412 is not ListPreconditionFailed with an ETag", where)
		}
	}
	if want.id == "get-task" || want.id == "get-list" {
		if p := params["If-None-Match"]; p == nil || p.In != "header" || p.Required {
			t.Errorf("%s: If-None-Match = %+v, want an optional header", where, p)
		}
		if r := op.Responses.Status(http.StatusNotModified); r == nil || len(r.Value.Content) != 0 || r.Value.Headers["ETag"] == nil {
			t.Errorf("%s: no 304 with an ETag and no content", where)
		}
	}
	if slices.Contains(idempotentOps, want.id) {
		if p := params["Idempotency-Key"]; p == nil || p.In != "header" || p.Required || p.Schema.Value.MaxLength == nil || *p.Schema.Value.MaxLength != 255 {
			t.Errorf("%s: Idempotency-Key = %+v, want an optional header of at most 255 characters", where, p)
		}
		if ok := op.Responses.Status(want.success); ok != nil && ok.Value.Headers["Idempotent-Replayed"] == nil {
			t.Errorf("%s: %d does not declare Idempotent-Replayed", where, want.success)
		}
		if r := op.Responses.Status(http.StatusConflict); r == nil || r.Value.Headers["Retry-After"] == nil {
			t.Errorf("%s: 409 does not declare Retry-After", where)
		}
	} else if p := params["Idempotency-Key"]; p != nil {
		t.Errorf("%s takes Idempotency-Key, which only POSTs honour", where)
	}
}

func allowsNull(s *openapi3.Schema) bool {
	return s.Nullable || s.Type.IncludesNull()
}

func checkSchemas(t *testing.T, doc *openapi3.T) {
	t.Helper()
	schema := func(name string) *openapi3.Schema {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			t.Fatalf("no schema %s", name)
		}
		return ref.Value
	}

	task := schema("Task")
	required := slices.Clone(task.Required)
	slices.Sort(required)
	if want := []string{"assignee_id", "completed", "completed_at", "created_at", "created_by", "description", "due_date", "due_floating", "due_tz", "id", "list_id", "parent_id", "position", "priority", "recurrence", "reminders", "tags", "title", "updated_at", "user_id", "version"}; !slices.Equal(required, want) {
		t.Errorf("Task requires %v, want %v", required, want)
	}
	props := map[string]string{"id": "integer", "user_id": "string", "title": "string", "description": "string", "completed": "boolean", "created_at": "string", "updated_at": "string",
		"priority": "string", "due_date": "string", "tags": "array", "completed_at": "string", "version": "integer",
		"list_id": "integer", "parent_id": "integer", "position": "string"}
	nullable := map[string]bool{"description": true, "due_date": true, "completed_at": true, "list_id": true, "parent_id": true}
	for name, typ := range props {
		p := task.Properties[name]
		if p == nil || !p.Value.Type.Includes(typ) {
			t.Errorf("Task.%s is not a %s", name, typ)
			continue
		}
		if got := allowsNull(p.Value); got != nullable[name] {
			t.Errorf("Task.%s nullable = %v, want %v", name, got, nullable[name])
		}
	}
	if p := task.Properties["priority"]; p != nil && len(p.Value.Enum) != 3 {
		t.Errorf("Task.priority enum = %v, want low, medium, high", p.Value.Enum)
	}
	if p := task.Properties["due_date"]; p != nil && p.Value.Pattern == "" {
		t.Errorf("Task.due_date has no pattern (date or date-time)")
	}
	lst := schema("List")
	required = slices.Clone(lst.Required)
	slices.Sort(required)
	if want := []string{"color", "completed_count", "created_at", "id", "name", "open_count", "position", "updated_at", "user_id", "version"}; !slices.Equal(required, want) {
		t.Errorf("List requires %v, want %v", required, want)
	}
	if p := lst.Properties["color"]; p == nil || !allowsNull(p.Value) || p.Value.Pattern == "" {
		t.Errorf("List.color is not a nullable #rrggbb")
	}
	side := schema("SidebarList")
	for _, name := range []string{"role", "owner", "id", "name"} {
		if !slices.Contains(side.Required, name) {
			t.Errorf("SidebarList does not require %q", name)
		}
	}
	stats := schema("Stats")
	for _, name := range []string{"total", "completed", "pending", "overdue", "due_today", "by_priority", "tz"} {
		if !slices.Contains(stats.Required, name) {
			t.Errorf("Stats does not require %q", name)
		}
	}
	tag := schema("Tag")
	for _, name := range []string{"name", "count"} {
		if !slices.Contains(tag.Required, name) {
			t.Errorf("Tag does not require %q", name)
		}
	}
	for _, name := range []string{"created_at", "updated_at", "completed_at"} {
		if p := task.Properties[name]; p != nil && p.Value.Format != "date-time" {
			t.Errorf("Task.%s format = %q, want date-time", name, p.Value.Format)
		}
	}

	plain := schema("HTTPError")
	if d := plain.Properties["detail"]; d == nil || !d.Value.Type.Is("string") || !slices.Contains(plain.Required, "detail") {
		t.Errorf("HTTPError is not {\"detail\": string}")
	}

	list := schema("ValidationProblem")
	d := list.Properties["detail"]
	if d == nil || !d.Value.Type.Is("array") || !slices.Contains(list.Required, "detail") || d.Value.Items == nil {
		t.Fatalf("ValidationProblem is not {\"detail\": [...]}")
	}
	item := d.Value.Items.Value
	for _, name := range []string{"loc", "msg", "type"} {
		if !slices.Contains(item.Required, name) || item.Properties[name] == nil {
			t.Errorf("ValidationProblem item does not require %q", name)
		}
	}
	if loc := item.Properties["loc"]; loc != nil && (!loc.Value.Type.Includes("array") || allowsNull(loc.Value)) {
		t.Errorf("ValidationProblem item loc type %v nullable %v, want an array that is never null", loc.Value.Type.Slice(), loc.Value.Nullable)
	}
}
