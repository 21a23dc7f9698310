package httpapi

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/domain/task"
)

// Optimistic concurrency over HTTP: every response carrying one task has an
// ETag naming its id and version, "<id>-<version>". A client sends it back
// in If-Match; the write then happens only if the task is still at that
// version, checked by the store in the statement that writes, and 412 with
// the task as it is otherwise. If-None-Match on GET saves a download.
//
// The tag is strong (the JSON of one version is always the same bytes), as
// If-Match compares strongly. A W/ prefix is nevertheless ignored: proxies
// that compress responses weaken the tags they pass on, and a client then
// sends the weak form back.

const msgPreconditionFailed = "The task was changed since the version given in If-Match; current is the task as it is now"

// etag is the entity tag of a task's current version.
func etag(t *task.Task) string {
	return `"` + strconv.FormatInt(int64(t.ID()), 10) + "-" + strconv.FormatInt(int64(t.Version()), 10) + `"`
}

// noVersion is an expected version no task ever has: an If-Match that
// names no version of the task fails whatever the task's state.
const noVersion task.Version = -1

// IfMatchParam is the If-Match parameter of a write, embedded in the
// inputs of the operations that take it.
type IfMatchParam struct {
	IfMatch string `header:"If-Match" doc:"The ETag the change is based on (from a response carrying the task; a W/ prefix is ignored), or *: the change happens only if the task is still at that version, else 412."`
}

// expect is the version the write may change: task.AnyVersion without
// If-Match (or with *), the version of the first tag naming task id, or
// noVersion when no tag does (the write must fail with 412).
func (h IfMatchParam) expect(id int64) task.Version {
	header := strings.TrimSpace(h.IfMatch)
	if header == "" || header == "*" {
		return task.AnyVersion
	}
	for _, tag := range entityTags(header) {
		idPart, version, ok := strings.Cut(tag, "-")
		if !ok || idPart != strconv.FormatInt(id, 10) {
			continue
		}
		if v, err := strconv.ParseInt(version, 10, 64); err == nil && v >= 1 && strconv.FormatInt(v, 10) == version {
			return task.Version(v)
		}
	}
	return noVersion
}

// entityTags splits an If-Match or If-None-Match value into its opaque
// tags, without quotes or W/.
func entityTags(header string) []string {
	var out []string
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		part = strings.TrimPrefix(part, "W/")
		if len(part) >= 2 && part[0] == '"' && part[len(part)-1] == '"' {
			out = append(out, part[1:len(part)-1])
		}
	}
	return out
}

// noneMatch reports whether If-None-Match names the current tag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is *.
func noneMatch(header, current string) bool {
	header = strings.TrimSpace(header)
	if header == "" {
		return false
	}
	if header == "*" {
		return true
	}
	want := strings.Trim(current, `"`)
	for _, tag := range entityTags(header) {
		if tag == want {
			return true
		}
	}
	return false
}

// PreconditionFailed is the 412 body: the detail and the task as it is
// now, so that the client can show the other change. Its ETag header is
// the current one, to retry with.
type PreconditionFailed struct {
	_       struct{} `json:"-" additionalProperties:"false"`
	headers http.Header
	Detail  string `json:"detail" doc:"What went wrong, for people." example:"The task was changed since the version given in If-Match; current is the task as it is now"`
	Current Task   `json:"current" doc:"The task as it is now."`
}

func (e *PreconditionFailed) Error() string { return e.Detail }

// GetStatus tells huma the response status.
func (e *PreconditionFailed) GetStatus() int { return http.StatusPreconditionFailed }

// GetHeaders tells huma the ETag of the current version.
func (e *PreconditionFailed) GetHeaders() http.Header { return e.headers }

func preconditionFailed(current *task.Task) *PreconditionFailed {
	return &PreconditionFailed{
		headers: http.Header{"Etag": {etag(current)}},
		Detail:  msgPreconditionFailed,
		Current: taskOut(current),
	}
}

var etagHeaderDoc = &huma.Param{
	Description: etagDoc,
	Schema:      &huma.Schema{Type: huma.TypeString, Examples: []any{`"1-3"`}},
}

// conditional documents the 412 of a write that takes If-Match.
func conditional(api huma.API, op *huma.Operation) {
	s := api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(PreconditionFailed{}), true, "PreconditionFailed")
	op.Responses[httpCode(http.StatusPreconditionFailed)] = &huma.Response{
		Description: preconditionDoc,
		Headers:     map[string]*huma.Param{"ETag": etagHeaderDoc},
		Content:     map[string]*huma.MediaType{"application/json": {Schema: s}},
	}
}

// notModified documents the 304 of a GET with If-None-Match.
func notModified(_ huma.API, op *huma.Operation) {
	op.Responses[httpCode(http.StatusNotModified)] = &huma.Response{
		Description: notModifiedDoc,
		Headers:     map[string]*huma.Param{"ETag": etagHeaderDoc},
	}
}
