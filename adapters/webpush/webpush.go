// Package webpush delivers messages to browsers by Web Push: the message
// is encrypted to the browser's keys (RFC 8291, aes128gcm), signed for the
// push service with this server's VAPID key (RFC 8292), and posted to the
// subscription's endpoint (RFC 8030). The protocol work is done by
// github.com/SherClockHolmes/webpush-go; this package checks what it is
// given, works around its known faults, and classifies the answers.
//
// The endpoint comes from the browser, through a user's request, so it is
// requested through internal/egress: public addresses only, no redirects.
package webpush

import (
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	webpushgo "github.com/SherClockHolmes/webpush-go"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/internal/egress"
)

// MaxPayload is the longest message (its JSON envelope) that fits: a push
// service need not take more than 4096 bytes of body (RFC 8030 §7.2), and
// the aes128gcm header (86 bytes), the padding delimiter (1) and the
// authentication tag (16) take their share (RFC 8291 §4). The library
// pads every message up to this size, so that its length tells nothing
// about its content.
const MaxPayload = 4096 - 86 - 1 - 16

// Defaults for Options.
const (
	DefaultTTL     = 24 * time.Hour
	DefaultUrgency = "high"
)

// maxRetryAfter caps a push service's Retry-After.
const maxRetryAfter = 24 * time.Hour

// Options configure New.
type Options struct {
	// Client sends the requests; nil means an egress client (public
	// addresses only unless AllowPrivate, Timeout, Resolver).
	Client *http.Client
	// AllowPrivate lets pushes reach a push service on a loopback or
	// private address (WEBHOOK_ALLOW_PRIVATE), for tests with a local push
	// service. Never in production.
	AllowPrivate bool
	Timeout      time.Duration
	Resolver     egress.Resolver
	// TTL is how long the push service keeps a message for a browser that
	// is offline (RFC 8030 §5.2): a reminder a day late is still worth
	// seeing, one a week late is not. Default DefaultTTL.
	TTL time.Duration
	// Urgency tells the push service whether to wake a device on low
	// battery (RFC 8030 §5.3: very-low, low, normal, high). A reminder is
	// a time-sensitive alert the user asked for: default "high".
	Urgency string
	// Now tells the time, to read a Retry-After date (default time.Now).
	Now func() time.Time
}

// Sender pushes messages to browsers. It is safe for concurrent use.
type Sender struct {
	vapid        VAPID
	subscriber   string
	client       *http.Client
	allowPrivate bool
	ttl          int
	urgency      webpushgo.Urgency
	now          func() time.Time
}

var _ application.PushSender = (*Sender)(nil)

// New returns a Sender signing with v, which it checks as ParseVAPID does.
func New(v VAPID, o Options) (*Sender, error) {
	v, err := ParseVAPID(v.PublicKey, v.PrivateKey, v.Subject)
	if err != nil {
		return nil, err
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.TTL < 0 || o.TTL > 28*24*time.Hour {
		return nil, fmt.Errorf("push TTL must be between 0 and 28 days, got %s", o.TTL)
	}
	if o.Urgency == "" {
		o.Urgency = DefaultUrgency
	}
	switch webpushgo.Urgency(o.Urgency) {
	case webpushgo.UrgencyVeryLow, webpushgo.UrgencyLow, webpushgo.UrgencyNormal, webpushgo.UrgencyHigh:
	default:
		return nil, fmt.Errorf("push urgency must be very-low, low, normal or high, got %q", o.Urgency)
	}
	if o.Client == nil {
		o.Client = egress.NewClient(egress.Options{AllowPrivate: o.AllowPrivate, Timeout: o.Timeout, Resolver: o.Resolver})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sender{
		vapid: v,
		// webpush-go v1.4.0 puts "mailto:" before any subject that does
		// not start with "https:", so "mailto:a@b" would become
		// "mailto:mailto:a@b", which Apple's push service refuses (403
		// BadJwtToken). Give it the bare address.
		subscriber:   strings.TrimPrefix(v.Subject, "mailto:"),
		client:       o.Client,
		allowPrivate: o.AllowPrivate,
		ttl:          int(o.TTL / time.Second),
		urgency:      webpushgo.Urgency(o.Urgency),
		now:          o.Now,
	}, nil
}

// PublicKey is the applicationServerKey browsers subscribe with.
func (s *Sender) PublicKey() string { return s.vapid.PublicKey }

// CheckSubscription returns a *application.DeliveryTargetError when sub
// could never be delivered to: its endpoint is not an https URL on a
// public host, p256dh is not an uncompressed P-256 point, or auth is not
// 16 bytes.
func (s *Sender) CheckSubscription(sub application.PushSubscription) error {
	if err := checkEndpoint(sub.Endpoint, s.allowPrivate); err != nil {
		return &application.DeliveryTargetError{Field: "endpoint", Reason: err.Error()}
	}
	if _, err := parseKeys(sub); err != nil {
		return err
	}
	return nil
}

func checkEndpoint(raw string, allowPrivate bool) error {
	u, err := egress.CheckURL(raw, allowPrivate)
	if err != nil {
		return err
	}
	if u.Scheme != "https" {
		return errors.New("must use https")
	}
	return nil
}

// parseKeys decodes a subscription's keys, or says which one is wrong.
func parseKeys(sub application.PushSubscription) (*ecdh.PublicKey, error) {
	p, err := decodeKey(sub.P256dh)
	if err != nil {
		return nil, &application.DeliveryTargetError{Field: "keys.p256dh", Reason: "must be base64url"}
	}
	pub, err := ecdh.P256().NewPublicKey(p)
	if err != nil {
		return nil, &application.DeliveryTargetError{Field: "keys.p256dh", Reason: "must be an uncompressed P-256 public key (65 bytes)"}
	}
	if a, err := decodeKey(sub.Auth); err != nil || len(a) != 16 {
		return nil, &application.DeliveryTargetError{Field: "keys.auth", Reason: "must be 16 bytes, base64url"}
	}
	return pub, nil
}

// Send encrypts m to sub and posts it to sub's push service once. 2xx is
// delivered; 404 and 410 mean the browser unsubscribed (gone: remove the
// subscription), and so do keys that cannot be used; 408, 429, 5xx,
// timeouts and connection errors are worth a retry (after Retry-After when
// the push service sent one); other answers (400, 401 and 403 when the
// VAPID key is refused, 413) and an address that is not public are
// failures.
func (s *Sender) Send(ctx context.Context, sub application.PushSubscription, m application.Message) application.DeliveryResult {
	if err := checkEndpoint(sub.Endpoint, s.allowPrivate); err != nil {
		return failed(fmt.Errorf("push endpoint %w", err))
	}
	if _, err := parseKeys(sub); err != nil {
		return application.DeliveryResult{Outcome: application.DeliveryGone, Err: fmt.Errorf("push subscription: %w", err)}
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return failed(fmt.Errorf("encode message: %w", err))
	}
	if len(payload) > MaxPayload {
		return failed(fmt.Errorf("push message is %d bytes, more than the %d that fit", len(payload), MaxPayload))
	}
	resp, err := webpushgo.SendNotificationWithContext(ctx, payload,
		&webpushgo.Subscription{Endpoint: sub.Endpoint, Keys: webpushgo.Keys{P256dh: sub.P256dh, Auth: sub.Auth}},
		&webpushgo.Options{
			HTTPClient:      s.client,
			Subscriber:      s.subscriber,
			Topic:           topic(m.ID),
			TTL:             s.ttl,
			Urgency:         s.urgency,
			VAPIDPublicKey:  s.vapid.PublicKey,
			VAPIDPrivateKey: s.vapid.PrivateKey,
		})
	if err != nil {
		var ue *url.Error
		switch {
		case !errors.As(err, &ue):
			// Encryption or signing refused what it was given; the
			// library's errors quote no key.
			return failed(fmt.Errorf("encrypt push message: %w", err))
		case egress.Refused(err):
			return failed(egress.Redact(err))
		}
		return application.DeliveryResult{Outcome: application.DeliveryRetry, Err: egress.Redact(err)}
	}
	defer egress.Drain(resp)
	return classify(resp, s.now())
}

func classify(resp *http.Response, now time.Time) application.DeliveryResult {
	code := resp.StatusCode
	r := application.DeliveryResult{Status: code}
	switch {
	case code >= 200 && code < 300:
		r.Outcome = application.DeliveryOK
	case code == http.StatusNotFound, code == http.StatusGone:
		r.Outcome, r.Err = application.DeliveryGone, fmt.Errorf("push service answered %d: the subscription is gone", code)
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		r.Outcome, r.Err = application.DeliveryRetry, fmt.Errorf("push service answered %d", code)
		r.RetryAfter = egress.RetryAfter(resp.Header, now, maxRetryAfter)
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		r.Outcome, r.Err = application.DeliveryFailed, fmt.Errorf("push service answered %d: it refused the VAPID signature (a key pair other than the one the browser subscribed with?)", code)
	case code == http.StatusRequestEntityTooLarge:
		r.Outcome, r.Err = application.DeliveryFailed, errors.New("push service answered 413: message too large")
	case code >= 300 && code < 500:
		r.Outcome, r.Err = application.DeliveryFailed, fmt.Errorf("push service answered %d", code)
	default:
		r.Outcome, r.Err = application.DeliveryRetry, fmt.Errorf("push service answered %d", code)
	}
	return r
}

func failed(err error) application.DeliveryResult {
	return application.DeliveryResult{Outcome: application.DeliveryFailed, Err: err}
}

// topic is the Topic header (RFC 8030 §5.4) for a message: while a copy is
// still waiting at the push service (the browser offline), a retry of the
// same message replaces it instead of adding a second. At most 32
// characters of base64url, hence a digest of the ID.
func topic(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:32]
}
