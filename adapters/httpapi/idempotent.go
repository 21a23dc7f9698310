package httpapi

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
)

const idempotencyDoc = " Honours `Idempotency-Key`: a repeat of the same request with the same key within 24 hours " +
	"gets the first response again (with `Idempotent-Replayed: true`) and does nothing; the same key with " +
	"another request is 422; a repeat while the first still runs is 409 with `Retry-After`."

// IdempotencyParam is the Idempotency-Key parameter of a POST, embedded in
// the inputs of the operations that honour it. The middleware reads it; the
// field documents it.
type IdempotencyParam struct {
	IdempotencyKey string `header:"Idempotency-Key" minLength:"1" maxLength:"255" pattern:"^[ -~]+$" doc:"A key the client makes up for one logical request (a UUID), sent again on every retry of it: 1 to 255 printable ASCII characters. Kept 24 hours, per user."`
}

// idempotentOp makes op honour Idempotency-Key and documents what that adds.
func (h *handlers) idempotentOp(api huma.API, op *huma.Operation) {
	op.Middlewares = append(op.Middlewares, h.keys.Middleware)
	status := httpCode(op.DefaultStatus)
	if op.Responses[status] == nil {
		op.Responses[status] = &huma.Response{}
	}
	if op.Responses[status].Headers == nil {
		op.Responses[status].Headers = map[string]*huma.Param{}
	}
	op.Responses[status].Headers[mw.HeaderReplayed] = &huma.Param{
		Description: "`true` when this is the stored response of an earlier request with the same Idempotency-Key.",
		Schema:      &huma.Schema{Type: huma.TypeString, Enum: []any{"true"}},
	}
	if r := op.Responses[httpCode(http.StatusConflict)]; r != nil {
		r.Description = "The token's email belongs to another user id; or a request with the same Idempotency-Key " +
			"is still in progress: retry after Retry-After seconds."
		r.Headers = map[string]*huma.Param{"Retry-After": {
			Description: "Seconds to wait before retrying (when the key is in progress).",
			Schema:      &huma.Schema{Type: huma.TypeString},
		}}
	}
	if r := op.Responses[httpCode(http.StatusUnprocessableEntity)]; r != nil {
		r.Description += " Also: an Idempotency-Key that is not 1 to 255 printable characters, or that was used " +
			"for another request (`[\"header\", \"Idempotency-Key\"]`)."
	}
}
