package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/todo-backend/todo/application"
)

// Reminder delivery targets (issue 18): webhooks and Web Push
// subscriptions.

const (
	webhooksPath = "/api/{user_id}/webhooks"
	pushPath     = "/api/{user_id}/push-subscriptions"

	msgTargetNotFound = "Webhook or push subscription not found"
)

// NewWebhook is a webhook as registered: its secret is shown this once.
type NewWebhook struct {
	ID        string    `json:"id" example:"wh_0123456789abcdef01234567"`
	URL       string    `json:"url" example:"https://example.com/hooks/todo"`
	Secret    string    `json:"secret" doc:"The Standard Webhooks signing secret, whsec_ and base64: shown only in this answer." example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookOut is a registered webhook, without its secret.
type WebhookOut struct {
	ID        string    `json:"id" example:"wh_0123456789abcdef01234567"`
	URL       string    `json:"url" example:"https://example.com/hooks/todo"`
	CreatedAt time.Time `json:"created_at"`
}

// PushSubscriptionOut is a registered browser, without its keys.
type PushSubscriptionOut struct {
	ID        string    `json:"id" example:"ps_0123456789abcdef01234567"`
	Endpoint  string    `json:"endpoint" example:"https://fcm.googleapis.com/fcm/send/abc"`
	CreatedAt time.Time `json:"created_at"`
}

type webhookBody struct {
	URL string `json:"url" minLength:"1" maxLength:"2048" doc:"Where reminders are posted: https, on a public address." example:"https://example.com/hooks/todo"`
}

type createWebhookInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Body   webhookBody
}

type pushKeys struct {
	P256dh string `json:"p256dh" minLength:"1" maxLength:"200" doc:"The browser's P-256 public key, base64url." example:"BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"`
	Auth   string `json:"auth" minLength:"1" maxLength:"100" doc:"The browser's 16-byte authentication secret, base64url." example:"tBHItJI5svbpez7KI4CCXg"`
}

type pushBody struct {
	Endpoint string   `json:"endpoint" minLength:"1" maxLength:"2048" doc:"The push service's URL for this browser (https)." example:"https://fcm.googleapis.com/fcm/send/abc"`
	Keys     pushKeys `json:"keys"`
}

type createPushInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Body   pushBody
}

type webhookIDInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     string `path:"webhook_id" pattern:"^wh_[0-9a-f]{24}$" doc:"The webhook's id." example:"wh_0123456789abcdef01234567"`
}

type pushIDInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     string `path:"subscription_id" pattern:"^ps_[0-9a-f]{24}$" doc:"The subscription's id." example:"ps_0123456789abcdef01234567"`
}

type newWebhookOutput struct{ Body NewWebhook }
type webhooksOutput struct {
	Body []WebhookOut `maxItems:"10" nullable:"false"`
}
type pushOutput struct{ Body PushSubscriptionOut }
type pushesOutput struct {
	Body []PushSubscriptionOut `maxItems:"20" nullable:"false"`
}

// targetError maps the delivery targets' errors, then the common ones.
func (h *handlers) targetError(ctx context.Context, err error) error {
	if te, ok := errors.AsType[*application.DeliveryTargetError](err); ok {
		return &ValidationProblem{Detail: []ValidationItem{{Loc: problemLoc([]any{"body"}, te.Field), Msg: te.Reason, Type: "value_error"}}}
	}
	if errors.Is(err, application.ErrPushDisabled) {
		return &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"body", "endpoint"}, Msg: err.Error(), Type: "value_error"}}}
	}
	if errors.Is(err, application.ErrTargetNotFound) {
		return newHTTPError(http.StatusNotFound, msgTargetNotFound)
	}
	return h.errs.toResponse(ctx, err, "body")
}

// reminders admits the caller to pathUser's delivery targets and returns
// the use cases that keep them (503 when the service runs without them).
func (h *handlers) reminders(ctx context.Context, pathUser string) (application.Actor, *application.Reminders, error) {
	a, err := h.actor(ctx, pathUser)
	if err != nil {
		return application.Actor{}, nil, err
	}
	if h.rem == nil {
		return application.Actor{}, nil, h.errs.toResponse(ctx, application.ErrUnavailable, "body")
	}
	return a, h.rem, nil
}

func (h *handlers) createWebhook(ctx context.Context, in *createWebhookInput) (*newWebhookOutput, error) {
	a, r, err := h.reminders(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	w, err := r.AddWebhook(ctx, a.Owner(), in.Body.URL)
	if err != nil {
		return nil, h.targetError(ctx, err)
	}
	hooks, err := r.Webhooks(ctx, a.Owner())
	if err != nil {
		return nil, h.targetError(ctx, err)
	}
	out := &newWebhookOutput{Body: NewWebhook{ID: w.ID, URL: w.URL, Secret: w.Secret}}
	for _, s := range hooks {
		if s.ID == w.ID {
			out.Body.CreatedAt = s.CreatedAt
		}
	}
	return out, nil
}

func (h *handlers) listWebhooks(ctx context.Context, in *ownerInput) (*webhooksOutput, error) {
	a, r, err := h.reminders(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	hooks, err := r.Webhooks(ctx, a.Owner())
	if err != nil {
		return nil, h.targetError(ctx, err)
	}
	out := &webhooksOutput{Body: make([]WebhookOut, len(hooks))}
	for i, w := range hooks {
		out.Body[i] = WebhookOut{ID: w.ID, URL: w.URL, CreatedAt: w.CreatedAt}
	}
	return out, nil
}

func (h *handlers) deleteWebhook(ctx context.Context, in *webhookIDInput) (*struct{}, error) {
	a, r, err := h.reminders(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if err := r.DeleteWebhook(ctx, a.Owner(), in.ID); err != nil {
		return nil, h.targetError(ctx, err)
	}
	return nil, nil
}

func (h *handlers) createPush(ctx context.Context, in *createPushInput) (*pushOutput, error) {
	a, r, err := h.reminders(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	p, err := r.AddPushSubscription(ctx, a.Owner(), application.PushSubscription{Endpoint: in.Body.Endpoint, P256dh: in.Body.Keys.P256dh, Auth: in.Body.Keys.Auth})
	if err != nil {
		return nil, h.targetError(ctx, err)
	}
	return &pushOutput{Body: PushSubscriptionOut{ID: p.ID, Endpoint: p.Endpoint, CreatedAt: p.CreatedAt}}, nil
}

func (h *handlers) listPush(ctx context.Context, in *ownerInput) (*pushesOutput, error) {
	a, r, err := h.reminders(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	ps, err := r.PushSubscriptions(ctx, a.Owner())
	if err != nil {
		return nil, h.targetError(ctx, err)
	}
	out := &pushesOutput{Body: make([]PushSubscriptionOut, len(ps))}
	for i, p := range ps {
		out.Body[i] = PushSubscriptionOut{ID: p.ID, Endpoint: p.Endpoint, CreatedAt: p.CreatedAt}
	}
	return out, nil
}

func (h *handlers) deletePush(ctx context.Context, in *pushIDInput) (*struct{}, error) {
	a, r, err := h.reminders(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if err := r.DeletePushSubscription(ctx, a.Owner(), in.ID); err != nil {
		return nil, h.targetError(ctx, err)
	}
	return nil, nil
}
