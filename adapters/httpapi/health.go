package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

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

func (h *handlers) healthz(context.Context, *struct{}) (*statusOutput, error) {
	out := &statusOutput{}
	out.Body.Status = "ok"
	return out, nil
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
