package application

import (
	"context"
	"encoding/json"
	"time"
)

// The ports below deliver an event (today only a reminder falling due) out
// of the service: to a user's browsers by Web Push, and to the URLs they
// registered as webhooks. Each attempt answers with a DeliveryResult, so
// that the caller (the outbox) alone decides what to store: done, dropped,
// subscription removed, or tried again later. Senders never retry by
// themselves; a retry inside a sender would hide attempts from the outbox
// that counts them.

// TaskReminder is the Message.Type of a reminder falling due.
const TaskReminder = "task.reminder"

// Message is one event to deliver. Both channels carry the same JSON
// envelope (MarshalJSON), so a service worker and a webhook receiver read
// one shape.
type Message struct {
	// ID names the event, and stays the same on every retry: receivers use
	// it to drop duplicates (the webhook-id header; the Web Push Topic, so
	// a retry replaces a copy still waiting at the push service). Letters,
	// digits, '-' and '_' only: Standard Webhooks signs "id.timestamp.body",
	// so an ID must not hold a '.'.
	ID string
	// Type is what happened, such as TaskReminder.
	Type string
	// Timestamp is when the event happened (the reminder's time), not when
	// this attempt is made.
	Timestamp time.Time
	// Data is the event's JSON object, for a reminder
	// {"task": {...}, "reminder": {...}}. Nil is sent as {}.
	Data json.RawMessage
}

// MarshalJSON writes the Standard Webhooks envelope:
// {"type": ..., "timestamp": RFC 3339 in UTC, "data": {...}}.
func (m Message) MarshalJSON() ([]byte, error) {
	data := m.Data
	if data == nil {
		data = json.RawMessage("{}")
	}
	return json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{m.Type, m.Timestamp.UTC().Format(time.RFC3339Nano), data})
}

// PushSubscription is one browser's Web Push subscription, as the browser's
// PushSubscription.toJSON() gives it: {"endpoint", "keys": {"p256dh",
// "auth"}}. The keys are what the message is encrypted to (RFC 8291).
type PushSubscription struct {
	// Endpoint is the push service's URL for this browser (https). It holds
	// the capability to push to it: keep it out of logs.
	Endpoint string
	// P256dh is the browser's P-256 public key, base64url.
	P256dh string
	// Auth is the browser's 16-byte authentication secret, base64url.
	Auth string
}

// Webhook is one URL a user registered to receive events, with the secret
// its deliveries are signed with (Standard Webhooks: "whsec_" + base64).
type Webhook struct {
	ID     string
	URL    string
	Secret string
}

// DeliveryOutcome is what the caller does next with a message and its
// target.
type DeliveryOutcome int

const (
	// DeliveryOK: the receiver took the message (a 2xx answer).
	DeliveryOK DeliveryOutcome = iota + 1
	// DeliveryRetry: the failure may pass (5xx, 408, 429, a timeout, a
	// connection error, ctx ending); try again after RetryAfter, or after
	// the channel's backoff when RetryAfter is zero. Without an answer the
	// receiver may have the message already: a webhook receiver drops the
	// repeat by its webhook-id; a push retry replaces a copy still waiting
	// at the push service, and one already shown is replaced only if the
	// service worker tags its notification (with the task and reminder).
	DeliveryRetry
	// DeliveryFailed: this message will never get through as it is (for
	// example a webhook answering 400 or 403, a redirect, an address that
	// is not public); drop it. The target stays.
	DeliveryFailed
	// DeliveryGone: the target will never take a message again: a push
	// service answered 404 or 410 (the browser unsubscribed), a
	// subscription's keys are unusable, or a webhook answered 410. The
	// caller removes the subscription or disables the webhook.
	DeliveryGone
)

// String names the outcome for logs.
func (o DeliveryOutcome) String() string {
	switch o {
	case DeliveryOK:
		return "delivered"
	case DeliveryRetry:
		return "retry"
	case DeliveryFailed:
		return "failed"
	case DeliveryGone:
		return "gone"
	}
	return "unknown"
}

// DeliveryResult says how one attempt went. A sender classifies every
// failure, so the caller never guesses from an error.
type DeliveryResult struct {
	Outcome DeliveryOutcome
	// Status is the receiver's HTTP status, 0 when none came (no
	// connection, a timeout, a message refused before sending).
	Status int
	// RetryAfter is the delay the receiver asked for (Retry-After on a 429
	// or 503), zero when it named none. Only set with DeliveryRetry.
	RetryAfter time.Duration
	// Err says why, for every outcome but DeliveryOK. It holds no secret,
	// payload or full URL (push endpoints and webhook paths carry
	// capabilities), so it can be logged as is.
	Err error
}

// DeliveryTargetError says why a push subscription or webhook URL cannot
// be registered; the route answers 422 naming Field.
type DeliveryTargetError struct {
	// Field is the request field at fault: "url", "endpoint",
	// "keys.p256dh" or "keys.auth".
	Field  string
	Reason string
}

func (e *DeliveryTargetError) Error() string { return e.Field + ": " + e.Reason }

// PushSender delivers messages to browsers by Web Push.
type PushSender interface {
	// CheckSubscription returns a *DeliveryTargetError when s could never be
	// delivered to (not https, keys that do not decode to a P-256 point and
	// a 16-byte secret), so that the route refuses it up front.
	CheckSubscription(s PushSubscription) error
	// Send encrypts m to s and hands it to s's push service, once.
	Send(ctx context.Context, s PushSubscription, m Message) DeliveryResult
}

// WebhookSender delivers messages to webhooks, signed as Standard Webhooks
// says.
type WebhookSender interface {
	// CheckURL returns a *DeliveryTargetError when rawURL may not be
	// registered (not https, userinfo, a name or address that is not
	// public). Send checks again where it matters, when it dials.
	CheckURL(rawURL string) error
	// NewSecret makes the signing secret of a new webhook, shown to its
	// user once.
	NewSecret() (string, error)
	// Send signs m with w's secret and posts it to w's URL, once.
	Send(ctx context.Context, w Webhook, m Message) DeliveryResult
}
