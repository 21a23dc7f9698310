package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// The detail texts clients see. They are FastAPI's where FastAPI has one.
const (
	msgNotAuthenticated = "Not authenticated"
	msgInvalidToken     = "Invalid authentication credentials"
	msgForbidden        = "Not authorized to access this user's tasks"
	msgTaskNotFound     = "Task not found"
	msgNotFound         = "Not Found"
	msgMethodNotAllowed = "Method Not Allowed"
	msgEmailTaken       = "Email already registered to another user"
	msgTooLarge         = "Request body too large"
	msgAuthUnavailable  = "Authentication temporarily unavailable, retry shortly"
	msgUnavailable      = "Service temporarily unavailable, retry shortly"
	msgInternal         = "Internal Server Error"
	msgTooManyRequests  = "Too many requests, retry later"
	msgInFlight         = "A request with this Idempotency-Key is still in progress; retry shortly"
)

// inFlightRetryAfter is what a 409 for a key still in progress asks
// clients to wait, in seconds.
const inFlightRetryAfter = "1"

// retryAfterSeconds is what a 503 asks clients to wait.
const retryAfterSeconds = "5"

// HTTPError is the body of every error except 422: {"detail": "..."}.
type HTTPError struct {
	_       struct{} `json:"-" additionalProperties:"false"`
	status  int
	headers http.Header
	Detail  string `json:"detail" doc:"What went wrong, for people." example:"Task not found"`
}

func (e *HTTPError) Error() string { return e.Detail }

// GetStatus tells huma the response status.
func (e *HTTPError) GetStatus() int { return e.status }

// GetHeaders tells huma the extra response headers (WWW-Authenticate, Retry-After).
func (e *HTTPError) GetHeaders() http.Header { return e.headers }

// ValidationItem is one problem in a 422 body, as FastAPI reports it.
type ValidationItem struct {
	_    struct{} `json:"-" additionalProperties:"false"`
	Loc  []any    `json:"loc" doc:"Where the problem is: [\"body\", \"title\"], [\"path\", \"id\"], [\"query\", \"status\"]." example:"[\"body\",\"title\"]" nullable:"false"`
	Msg  string   `json:"msg" doc:"What is wrong, for people." example:"must not be empty"`
	Type string   `json:"type" doc:"A short machine-readable kind of problem." example:"string_too_short"`
}

// ValidationProblem is the 422 body: {"detail": [{"loc", "msg", "type"}, ...]}.
type ValidationProblem struct {
	_      struct{}         `json:"-" additionalProperties:"false"`
	Detail []ValidationItem `json:"detail" doc:"One entry per problem." nullable:"false"`
}

func (e *ValidationProblem) Error() string {
	msgs := make([]string, len(e.Detail))
	for i, d := range e.Detail {
		msgs[i] = d.Msg
	}
	return "validation: " + strings.Join(msgs, "; ")
}

// GetStatus tells huma the response status.
func (e *ValidationProblem) GetStatus() int { return http.StatusUnprocessableEntity }

func newHTTPError(status int, detail string) *HTTPError {
	return &HTTPError{status: status, Detail: detail}
}

func (e *HTTPError) with(key, value string) *HTTPError {
	if e.headers == nil {
		e.headers = http.Header{}
	}
	e.headers.Set(key, value)
	return e
}

// errorMapper is THE table from errors to responses. Everything the service
// answers with an error status passes through toResponse; it is also the one
// place errors are logged.
type errorMapper struct {
	log *zap.Logger
}

// toResponse maps err, as returned by a use case, to the error huma writes.
// loc is where domain validation problems are reported ("body" or "query").
func (m errorMapper) toResponse(ctx context.Context, err error, loc string) error {
	var verr *task.ValidationError
	var berr *task.BatchError
	var conflict *task.ConflictError
	var listConflict *list.ConflictError
	switch {
	case errors.As(err, &verr):
		p := &ValidationProblem{Detail: make([]ValidationItem, len(verr.Problems))}
		for i, pr := range verr.Problems {
			p.Detail[i] = ValidationItem{Loc: problemLoc([]any{loc}, pr.Field), Msg: pr.Msg, Type: pr.Type}
		}
		return p
	case errors.As(err, &berr):
		// One entry per problem of each bad item: ["body", index, field].
		p := &ValidationProblem{Detail: []ValidationItem{}}
		for _, it := range berr.Items {
			for _, pr := range it.Problems {
				p.Detail = append(p.Detail, ValidationItem{Loc: problemLoc([]any{loc, it.Index}, pr.Field), Msg: pr.Msg, Type: pr.Type})
			}
		}
		return p
	case errors.As(err, &conflict):
		// If-Match named a version the task no longer has.
		return preconditionFailed(conflict.Current)
	case errors.As(err, &listConflict):
		return listPreconditionFailed(listConflict.Current)
	case errors.Is(err, mw.ErrPanic):
		// mw.Recoverer logged it, with the stack.
		return newHTTPError(http.StatusInternalServerError, msgInternal)
	case errors.Is(err, mw.ErrTooLarge):
		return newHTTPError(http.StatusRequestEntityTooLarge, msgTooLarge)
	case errors.Is(err, mw.ErrTooManyRequests):
		return newHTTPError(http.StatusTooManyRequests, msgTooManyRequests)
	case errors.Is(err, mw.ErrBadIdempotencyKey):
		return keyProblem("must be 1 to 255 printable ASCII characters, sent once", "value_error")
	case errors.Is(err, application.ErrKeyInFlight):
		return newHTTPError(http.StatusConflict, msgInFlight).with("Retry-After", inFlightRetryAfter)
	case errors.Is(err, application.ErrKeyMismatch):
		return keyProblem("was used for another request (method, path or body) in the last 24 hours", "value_error")
	case errors.Is(err, task.ErrNotFound):
		return newHTTPError(http.StatusNotFound, msgTaskNotFound)
	case errors.Is(err, list.ErrNotFound):
		return newHTTPError(http.StatusNotFound, msgListNotFound)
	case errors.Is(err, list.ErrMemberNotFound):
		return newHTTPError(http.StatusNotFound, msgMemberNotFound)
	case errors.Is(err, list.ErrInvitationNotFound):
		return newHTTPError(http.StatusNotFound, msgInvitationGone)
	case errors.Is(err, list.ErrAlreadyMember):
		return newHTTPError(http.StatusConflict, msgAlreadyMember)
	case errors.Is(err, application.ErrChangesExpired):
		return newHTTPError(http.StatusGone, msgChangesExpired)
	case errors.Is(err, application.ErrBadCursor):
		return newHTTPError(http.StatusBadRequest, msgBadCursor)
	case errors.Is(err, list.ErrNameTaken):
		return newHTTPError(http.StatusConflict, msgListNameTaken)
	case errors.Is(err, auth.ErrUnavailable):
		m.log.Warn("authentication unavailable", zap.Error(err), mw.RequestIDField(ctx))
		mw.SetAuthFailure(ctx, reasonUnavailable)
		return newHTTPError(http.StatusServiceUnavailable, msgAuthUnavailable).with("Retry-After", retryAfterSeconds)
	case errors.Is(err, auth.ErrUnauthenticated):
		m.log.Info("authentication refused", zap.String("reason", reason(err)), mw.RequestIDField(ctx))
		mw.SetAuthFailure(ctx, metricReason(err))
		return newHTTPError(http.StatusUnauthorized, msgInvalidToken).with("WWW-Authenticate", "Bearer")
	case errors.Is(err, application.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		// The database cannot be reached or did not answer within the
		// request's deadline: the client should retry, not give up.
		m.log.Warn("service unavailable", zap.Error(err), mw.RequestIDField(ctx))
		return newHTTPError(http.StatusServiceUnavailable, msgUnavailable).with("Retry-After", retryAfterSeconds)
	case errors.Is(err, auth.ErrForbidden):
		return newHTTPError(http.StatusForbidden, msgForbidden)
	case errors.Is(err, user.ErrEmailTaken):
		return newHTTPError(http.StatusConflict, msgEmailTaken)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		return newHTTPError(499, "Client Closed Request")
	}
	m.log.Error("request failed", zap.Error(err), mw.RequestIDField(ctx))
	return newHTTPError(http.StatusInternalServerError, msgInternal)
}

// keyProblem is a 422 about the Idempotency-Key header.
func keyProblem(msg, typ string) *ValidationProblem {
	return &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"header", "Idempotency-Key"}, Msg: msg, Type: typ}}}
}

// problemLoc is the location of a domain problem: prefix, then the field,
// whose dots separate nested members ("set.priority"); none for a problem
// of the whole input.
func problemLoc(prefix []any, field string) []any {
	if field == "" {
		return prefix
	}
	for part := range strings.SplitSeq(field, ".") {
		prefix = append(prefix, part)
	}
	return prefix
}

// WriteError answers a request a middleware refused, through the table.
// (Middleware errors are never validation problems of the body or query,
// so the location given is not used.)
func (m errorMapper) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, m.toResponse(r.Context(), err, "body"))
}

// writeError renders a mapped error (toResponse's, or one made here)
// outside a handler: its status and headers, and its JSON body.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if se, ok := errors.AsType[huma.StatusError](err); ok {
		status = se.GetStatus()
	}
	if he, ok := errors.AsType[huma.HeadersError](err); ok {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(err)
}

// Auth failure reasons besides the verifier's own (auth.ReasonError), as
// the metrics label them.
const (
	reasonNoToken     = "no bearer token"
	reasonUnavailable = "keys unavailable"
	reasonOther       = "other"
)

// metricReason is the label for a refused token: the verifier's reason,
// which comes from a fixed set, or "other", so that no error text can grow
// the label set.
func metricReason(err error) string {
	if r, ok := errors.AsType[*auth.ReasonError](err); ok {
		return r.Reason
	}
	return reasonOther
}

func reason(err error) string {
	if r, ok := errors.AsType[*auth.ReasonError](err); ok {
		return r.Reason
	}
	return err.Error()
}

// hookHumaErrors makes huma's own errors (bad parameters, bad JSON, body too
// large) take the contract's shapes. huma keeps the constructor in a package
// variable, so it is set once for the process.
func hookHumaErrors() {
	humaErrorsOnce.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return newHumaError(nil, status, msg, errs...)
		}
		huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			return newHumaError(bodyStateOf(ctx), status, msg, errs...)
		}
	})
}

// newHumaError renders an error that huma raised before a handler ran. Request
// problems become FastAPI's 422 list, whatever status huma chose (FastAPI
// answers 422 for unreadable JSON too). st, when bodyFilter read the body,
// says what to report where it put a stand-in value, and adds the domain's
// problems with the items the schema accepted.
func newHumaError(st *bodyState, status int, msg string, errs ...error) huma.StatusError {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		p := &ValidationProblem{Detail: []ValidationItem{}}
		for _, e := range errs {
			if e == nil {
				continue
			}
			p.Detail = append(p.Detail, st.item(status, e))
		}
		if len(p.Detail) == 0 {
			p.Detail = append(p.Detail, bodyItem(msg))
		}
		if status == http.StatusUnprocessableEntity {
			p.Detail = st.withItems(p.Detail)
		}
		return p
	case http.StatusRequestEntityTooLarge:
		return newHTTPError(status, msgTooLarge)
	case http.StatusUnsupportedMediaType:
		// FastAPI answers a non-JSON body with 422 too.
		return &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"body"},
			Msg: "Content-Type must be application/json", Type: "model_attributes_type"}}}
	case http.StatusInternalServerError:
		return newHTTPError(status, msgInternal)
	}
	if status == 0 { // huma asks for an example value to document the model
		return &HTTPError{}
	}
	return newHTTPError(status, http.StatusText(status))
}

// item is humaItem, but where bodyFilter recorded the problem to report
// instead of huma's.
func (st *bodyState) item(status int, e error) ValidationItem {
	it := humaItem(status, e)
	if st == nil || st.problems == nil {
		return it
	}
	if d, ok := errors.AsType[*huma.ErrorDetail](e); ok {
		if p, ok := st.problems[d.Location]; ok {
			it.Msg, it.Type = p.Msg, p.Type
		}
	}
	return it
}

// withItems adds to a 422's items the domain's problems with the items of
// an array body that the schema accepted (st.items), and orders the items'
// problems by index, after the others (parameters, the body as a whole), as
// FastAPI lists them.
func (st *bodyState) withItems(items []ValidationItem) []ValidationItem {
	if st == nil || st.items == nil {
		return items
	}
	bad := map[int]bool{}
	for _, it := range items {
		if i, ok := itemIndex(it); ok {
			bad[i] = true
		}
	}
	more := st.items(bad)
	if len(more) == 0 {
		return items
	}
	items = append(items, more...)
	slices.SortStableFunc(items, func(a, b ValidationItem) int {
		i, _ := itemIndex(a)
		j, _ := itemIndex(b)
		return cmp.Compare(i, j)
	})
	return items
}

// itemIndex is the index of the body's item a problem is about: its
// location is ["body", index, ...]; -1 and false when it is about no item.
func itemIndex(it ValidationItem) (int, bool) {
	if len(it.Loc) >= 2 && it.Loc[0] == "body" {
		if i, ok := it.Loc[1].(int); ok {
			return i, true
		}
	}
	return -1, false
}

func bodyItem(msg string) ValidationItem {
	if strings.Contains(msg, "body is required") {
		return ValidationItem{Loc: []any{"body"}, Msg: "Field required", Type: "missing"}
	}
	return ValidationItem{Loc: []any{"body"}, Msg: msg, Type: "value_error"}
}

func humaItem(status int, e error) ValidationItem {
	d, ok := errors.AsType[*huma.ErrorDetail](e)
	if !ok {
		return ValidationItem{Loc: []any{"body"}, Msg: e.Error(), Type: "value_error"}
	}
	loc := []any{}
	for _, part := range strings.Split(d.Location, ".") {
		loc = append(loc, locParts(part)...)
	}
	if len(loc) == 0 {
		loc = []any{"body"}
	}
	if status == http.StatusBadRequest && len(loc) == 1 && loc[0] == "body" {
		// The body is not JSON at all: no internals, FastAPI's words.
		return ValidationItem{Loc: loc, Msg: "JSON decode error", Type: "json_invalid"}
	}
	if name, ok := requiredProperty(d.Message); ok {
		return ValidationItem{Loc: append(loc, name), Msg: "Field required", Type: "missing"}
	}
	typ := "value_error"
	for _, k := range humaKinds {
		if strings.HasPrefix(d.Message, k.prefix) {
			typ = k.typ
			break
		}
	}
	return ValidationItem{Loc: loc, Msg: d.Message, Type: typ}
}

// humaKinds names huma's validation messages in FastAPI's vocabulary. huma
// (v2.37) gives no error codes: a validation error is a huma.ErrorDetail
// with a message, a location and the value, and the message is made from
// one of the validation package's formats, which are therefore the key.
// (Parameters that do not parse give errors.New("invalid integer").)
var humaKinds = []struct{ prefix, typ string }{
	{prefixOf(validation.MsgExpectedRequiredProperty), "missing"},
	{prefixOf(validation.MsgExpectedOneOf), "enum"},
	{prefixOf(validation.MsgExpectedMinimumNumber), "greater_than_equal"},
	{validation.MsgExpectedInteger, "int_type"},
	{"invalid integer", "int_parsing"},
	{validation.MsgExpectedString, "string_type"},
	{validation.MsgExpectedBoolean, "bool_type"},
	{validation.MsgExpectedObject, "model_attributes_type"},
}

func prefixOf(format string) string {
	before, _, _ := strings.Cut(format, "%")
	return before
}

// locParts splits one dotted part of a huma location into FastAPI's: huma
// writes an array item as name[3], FastAPI as name, 3.
func locParts(part string) []any {
	var out []any
	name, rest, found := strings.Cut(part, "[")
	if name != "" {
		out = append(out, name)
	}
	for found {
		var index string
		index, rest, _ = strings.Cut(rest, "]")
		if n, err := strconv.Atoi(index); err == nil {
			out = append(out, n)
		} else {
			out = append(out, index)
		}
		rest, found = strings.CutPrefix(rest, "[")
	}
	return out
}

// requiredProperty reads the field name out of huma's "required property"
// message, so that the location names the field as FastAPI's does: huma
// reports the error at the object's location, with the object as the
// value, and names the missing property only in the message.
func requiredProperty(msg string) (string, bool) {
	before, after, _ := strings.Cut(validation.MsgExpectedRequiredProperty, "%s")
	if !strings.HasPrefix(msg, before) || !strings.HasSuffix(msg, after) {
		return "", false
	}
	name := strings.TrimSuffix(strings.TrimPrefix(msg, before), after)
	return name, name != ""
}
