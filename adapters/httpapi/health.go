package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
)

// readyTimeout bounds how long /readyz waits for a dependency.
const readyTimeout = 2 * time.Second

type statusOutput struct {
	Body struct {
		Status string `json:"status" example:"ok" doc:"ok: the process is alive; ready: it can serve."`
	}
}

func (h *handlers) registerHealth(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "healthz",
		Method:      http.MethodGet,
		Path:        "/healthz",
		Summary:     "Liveness",
		Description: "200 while the process is alive. No auth.",
		Tags:        []string{"health"},
		Responses:   errorResponses(api, 500),
	}, func(context.Context, *struct{}) (*statusOutput, error) {
		out := &statusOutput{}
		out.Body.Status = "ok"
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "readyz",
		Method:      http.MethodGet,
		Path:        "/readyz",
		Summary:     "Readiness",
		Description: "200 when storage (and, in JWKS mode, the signing keys) can be reached; 503 otherwise. No auth.",
		Tags:        []string{"health"},
		Responses:   errorResponses(api, 500, 503),
	}, h.readyz)
}

func (h *handlers) readyz(ctx context.Context, _ *struct{}) (*statusOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var failed []string
	for _, c := range h.ready {
		if err := c.Check(ctx); err != nil {
			h.errs.log.Warn("not ready", zap.String("check", c.Name), zap.Error(err), mw.RequestIDField(ctx))
			failed = append(failed, c.Name)
		}
	}
	if len(failed) > 0 {
		return nil, newHTTPError(http.StatusServiceUnavailable, "Not ready: "+strings.Join(failed, ", ")).with("Retry-After", retryAfterSeconds)
	}
	out := &statusOutput{}
	out.Body.Status = "ready"
	return out, nil
}
