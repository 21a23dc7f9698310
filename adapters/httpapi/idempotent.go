package httpapi

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
)

// IdempotencyParam is the Idempotency-Key parameter of a POST, embedded in
// the inputs of the operations that honour it. The middleware reads it; the
// field documents it.
type IdempotencyParam struct {
	IdempotencyKey string `header:"Idempotency-Key" minLength:"1" maxLength:"255" pattern:"^[ -~]+$" doc:"A key the client makes up for one logical request (a UUID), sent again on every retry of it: 1 to 255 printable ASCII characters. Kept 24 hours, per user."`
}

// idempotent makes op honour Idempotency-Key and documents what that adds.
func (h *handlers) idempotent(_ huma.API, op *huma.Operation) {
	h.idempotentWith(h.keys, op)
}

// importIdempotent is idempotent for imports, whose bodies go up to
// IMPORT_MAX_BYTES.
func (h *handlers) importIdempotent(_ huma.API, op *huma.Operation) {
	h.idempotentWith(h.importKeys, op)
}

func (h *handlers) idempotentWith(keys *mw.Idempotency, op *huma.Operation) {
	op.Middlewares = append(op.Middlewares, keys.Middleware)
	status := httpCode(op.DefaultStatus)
	if op.Responses[status] == nil {
		op.Responses[status] = &huma.Response{}
	}
	if op.Responses[status].Headers == nil {
		op.Responses[status].Headers = map[string]*huma.Param{}
	}
	op.Responses[status].Headers[mw.HeaderReplayed] = &huma.Param{
		Description: replayedDoc,
		Schema:      &huma.Schema{Type: huma.TypeString, Enum: []any{"true"}},
	}
	if r := op.Responses[httpCode(http.StatusConflict)]; r != nil {
		r.Description = keyConflictDoc
		r.Headers = map[string]*huma.Param{"Retry-After": {
			Description: keyRetryAfterDoc,
			Schema:      &huma.Schema{Type: huma.TypeString},
		}}
	}
	if r := op.Responses[httpCode(http.StatusUnprocessableEntity)]; r != nil {
		r.Description += keyProblemDoc
	}
}
