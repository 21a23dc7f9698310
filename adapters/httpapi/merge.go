package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

const msgMergeConflict = "Somebody changed these fields since the version given in If-Match (base_version): they were not applied; task is the task as it is now"

// mergedHeader marks a 409 of a merge whose other fields were applied:
// a command that answers it keeps its write (commands.go).
const mergedHeader = "X-Merge-Applied"

// prefersMerge reports whether a Prefer header asks for a merge.
func prefersMerge(prefer string) bool {
	for part := range strings.SplitSeq(prefer, ",") {
		if strings.EqualFold(strings.TrimSpace(part), "merge") {
			return true
		}
	}
	return false
}

// rejectKey marks the context of a command of a batch sent with
// on_conflict "reject": a merge with conflicts applies nothing.
type rejectKey struct{}

// MergeConflict is the 409 of a merge: the fields in conflict and
// the task as it is now (with the other fields applied, unless rejected).
type MergeConflict struct {
	_         struct{} `json:"-" additionalProperties:"false"`
	headers   http.Header
	Detail    string   `json:"detail" doc:"What went wrong, for people." example:"Somebody changed these fields since the version given in If-Match (base_version): they were not applied; task is the task as it is now"`
	Conflicts []string `json:"conflicts" maxItems:"20" nullable:"false" doc:"The fields somebody else changed since the base version, as a task's history names them (title, description, completed, priority, due, recurrence, reminders, tags, list_id, assignee_id)." example:"[\"title\"]"`
	Task      Task     `json:"task" doc:"The task as it is now."`
}

func (e *MergeConflict) Error() string { return e.Detail }

// GetStatus tells huma the response status.
func (e *MergeConflict) GetStatus() int { return http.StatusConflict }

// GetHeaders tells huma the ETag of the current version.
func (e *MergeConflict) GetHeaders() http.Header { return e.headers }

func mergeConflict(t *task.Task, conflicts []string, applied bool) *MergeConflict {
	h := http.Header{"Etag": {etag(t)}}
	if applied {
		h.Set(mergedHeader, "true")
	}
	return &MergeConflict{headers: h, Detail: msgMergeConflict, Conflicts: conflicts, Task: taskOut(t)}
}

// mergePatch is PATCH with If-Match and Prefer: merge (and the commands'
// task.update with base_version): application.MergeTask decides.
func (h *handlers) mergePatch(ctx context.Context, a application.Actor, in *patchInput, base task.Version) (*taskOutput, error) {
	if _, err := in.Body.patch(); err != nil {
		return nil, err
	}
	reject, _ := ctx.Value(rejectKey{}).(bool)
	t, conflicts, err := h.svc.MergeTask(ctx, a, task.ID(in.ID), base, in.Body.carried(), func(conflicts []string) (application.Patch, error) {
		b := in.Body.without(conflicts)
		return b.patch()
	}, reject)
	var mc *application.MergeConflict
	if errors.As(err, &mc) {
		return nil, mergeConflict(mc.Current, mc.Fields, false)
	}
	if err == nil && len(conflicts) > 0 {
		return nil, mergeConflict(t, conflicts, true)
	}
	return h.one(ctx, t, err)
}

// merging documents the 409 of PATCH with Prefer: merge.
func merging(api huma.API, op *huma.Operation) {
	s := api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(MergeConflict{}), true, "MergeConflict")
	op.Responses[httpCode(http.StatusConflict)] = &huma.Response{
		Description: "With If-Match and Prefer: merge, some fields the change carries were changed by somebody else since its version: " +
			"they are named in conflicts and were not applied; the others were (unless the batch said on_conflict: reject). task is the task as it is now. " +
			"A member of a shared list whose role may not make the change gets the 404 of a missing task instead, conflicts or not.",
		Headers: map[string]*huma.Param{"ETag": etagHeaderDoc},
		Content: map[string]*huma.MediaType{"application/json": {Schema: s}},
	}
}

// revertedByPatch are the fields a revert puts back through a PATCH body:
// those whose history holds their API values (task.FieldChange). due,
// recurrence and reminders go through task.RevertOption, from the form
// history keeps them in. parent_id and position are a move's, which POST
// .../move undoes: a revert puts the list back (to the bottom of its top
// level, as a PATCH of list_id does) but no parent or place.
var revertedByPatch = []string{"title", "description", "completed", "priority", "tags", "list_id", "assignee_id"}

// revertPatch is the patch that puts back what rev changed, or a 422
// saying why it cannot be.
func revertPatch(rev task.Revision) (application.Patch, error) {
	bad := func(msg string) error {
		return &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"path", "version"}, Msg: msg, Type: "value_error"}}}
	}
	if rev.Creation() {
		return application.Patch{}, bad("this revision is the task's creation, which a revert cannot undo: delete the task (DELETE .../tasks/{id}) instead")
	}
	body := map[string]json.RawMessage{}
	var opts []task.Option
	var problems []ValidationItem
	fields := slices.Sorted(maps.Keys(rev.Changed))
	for _, f := range fields {
		c := rev.Changed[f]
		if slices.Contains(revertedByPatch, f) {
			body[f] = c.From
			continue
		}
		opt, ok, err := task.RevertOption(f, c.From)
		switch {
		case err != nil:
			problems = append(problems, ValidationItem{Loc: []any{"path", "version"}, Msg: "this revision's " + f + " cannot be put back: " + err.Error(), Type: "value_error"})
		case ok:
			opts = append(opts, opt)
		case f == "position" && rev.Changed["list_id"].From != nil:
			// The list's change moved it: the list goes back, to its bottom.
		case f == "parent_id" && rev.Changed["list_id"].From != nil && string(c.From) == "null":
			// It was at the top level of the other list: it is again.
		default:
			problems = append(problems, ValidationItem{Loc: []any{"path", "version"}, Msg: "this revision moved the task (" + f + "), which a revert cannot put back: move it with POST .../tasks/{id}/move", Type: "value_error"})
		}
	}
	if len(problems) > 0 {
		return application.Patch{}, &ValidationProblem{Detail: problems}
	}
	raw, _ := json.Marshal(body) // raw messages always marshal
	var b patchBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return application.Patch{}, err
	}
	p, err := b.patch()
	if err != nil {
		return p, err
	}
	p.Options = append(p.Options, opts...)
	return p, nil
}

type revertInput struct {
	UserID  string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID      int64  `path:"id" minimum:"1" doc:"The task's id, a positive 64-bit integer." example:"1"`
	Version int64  `path:"version" minimum:"1" doc:"The version of the revision to undo, as GET .../history lists it." example:"3"`
}

// revert is POST .../tasks/{id}/history/{version}/revert.
func (h *handlers) revert(ctx context.Context, in *revertInput) (*taskOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.RevertTask(ctx, a, task.ID(in.ID), task.Version(in.Version), revertPatch)
	var mc *application.MergeConflict
	if errors.As(err, &mc) {
		return nil, mergeConflict(mc.Current, mc.Fields, false)
	}
	var vp *ValidationProblem
	if errors.As(err, &vp) {
		return nil, vp
	}
	return h.one(ctx, t, err)
}
