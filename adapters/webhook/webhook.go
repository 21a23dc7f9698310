// Package webhook delivers events to the URLs users register, as the
// Standard Webhooks specification says: a JSON body {"type", "timestamp",
// "data"} posted with webhook-id, webhook-timestamp and webhook-signature
// (v1: HMAC-SHA256 of "id.timestamp.body" with the webhook's whsec_
// secret), so that receivers can verify it with any Standard Webhooks
// library. Signing is done by the specification's own Go library.
//
// A webhook URL is chosen by a user, so requests go through
// internal/egress: public addresses only, checked when dialing, no
// redirects.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/internal/egress"
)

// SecretPrefix marks a Standard Webhooks symmetric secret.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new secret: the specification asks for 24
// to 64 random bytes.
const secretBytes = 32

// maxRetryAfter caps a receiver's Retry-After, the longest step of the
// backoff schedule.
const maxRetryAfter = 24 * time.Hour

// Options configure New.
type Options struct {
	// AllowPrivate lets webhooks reach loopback and private addresses and
	// use plain http (WEBHOOK_ALLOW_PRIVATE), for tests with a local
	// receiver. Never in production.
	AllowPrivate bool
	// Timeout bounds one delivery, answer included (default
	// egress.DefaultTimeout).
	Timeout time.Duration
	// Resolver looks up hosts (default net.DefaultResolver).
	Resolver egress.Resolver
	// Now tells the time of each attempt (default time.Now).
	Now func() time.Time
}

// Sender posts signed messages to webhooks. It is safe for concurrent use,
// and keeps idle connections for the next delivery to the same host.
type Sender struct {
	client       *http.Client
	allowPrivate bool
	now          func() time.Time
}

var _ application.WebhookSender = (*Sender)(nil)

// New returns a Sender whose requests reach public addresses only, unless
// o.AllowPrivate.
func New(o Options) *Sender {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sender{
		client:       egress.NewClient(egress.Options{AllowPrivate: o.AllowPrivate, Timeout: o.Timeout, Resolver: o.Resolver}),
		allowPrivate: o.AllowPrivate,
		now:          o.Now,
	}
}

// CheckURL returns a *application.DeliveryTargetError (field "url") when
// rawURL may not be registered: see egress.CheckURL. https is required
// unless AllowPrivate.
func (s *Sender) CheckURL(rawURL string) error {
	if _, err := egress.CheckURL(rawURL, s.allowPrivate); err != nil {
		return &application.DeliveryTargetError{Field: "url", Reason: err.Error()}
	}
	return nil
}

// NewSecret returns a new signing secret: SecretPrefix and 32 random bytes
// in standard base64, the form Standard Webhooks libraries read.
func (s *Sender) NewSecret() (string, error) { return NewSecret() }

// NewSecret returns a new signing secret (see Sender.NewSecret).
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Send posts m to w.URL once, signed with w.Secret at the current time
// (Standard Webhooks signs each attempt anew: receivers refuse a timestamp
// more than a few minutes old). 2xx is delivered; 410 is gone (disable the
// webhook); 408, 429, 5xx, timeouts and connection errors are worth a
// retry (after Retry-After when the receiver sent one); a redirect, any
// other 4xx, and an address that is not public are failures.
func (s *Sender) Send(ctx context.Context, w application.Webhook, m application.Message) application.DeliveryResult {
	if _, err := egress.CheckURL(w.URL, s.allowPrivate); err != nil {
		return failed(fmt.Errorf("webhook URL %w", err))
	}
	if err := checkID(m.ID); err != nil {
		return failed(err)
	}
	wh, err := standardwebhooks.NewWebhook(w.Secret)
	if err != nil {
		// The library's error quotes nothing of the secret.
		return failed(fmt.Errorf("webhook secret: %w", err))
	}
	body, err := json.Marshal(m)
	if err != nil {
		return failed(fmt.Errorf("encode message: %w", err))
	}
	now := s.now()
	sig, err := wh.Sign(m.ID, now, body)
	if err != nil {
		return failed(fmt.Errorf("sign message: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return failed(errors.New("webhook URL cannot be requested"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "todo-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, m.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		err = egress.Redact(err)
		if egress.Refused(err) {
			return failed(err)
		}
		return application.DeliveryResult{Outcome: application.DeliveryRetry, Err: err}
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
	case code == http.StatusGone:
		r.Outcome, r.Err = application.DeliveryGone, errors.New("receiver answered 410 Gone: it wants no more deliveries")
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		r.Outcome, r.Err = application.DeliveryRetry, fmt.Errorf("receiver answered %d", code)
		r.RetryAfter = egress.RetryAfter(resp.Header, now, maxRetryAfter)
	case code >= 300 && code < 400:
		r.Outcome, r.Err = application.DeliveryFailed, fmt.Errorf("receiver answered %d, a redirect, which is not followed: register the URL it leads to", code)
	case code >= 400 && code < 500:
		r.Outcome, r.Err = application.DeliveryFailed, fmt.Errorf("receiver answered %d", code)
	default:
		r.Outcome, r.Err = application.DeliveryRetry, fmt.Errorf("receiver answered %d", code)
	}
	return r
}

func failed(err error) application.DeliveryResult {
	return application.DeliveryResult{Outcome: application.DeliveryFailed, Err: err}
}

// checkID refuses a message ID that could make two signed strings equal:
// Standard Webhooks signs "id.timestamp.body", so an ID holds no '.', and
// it must fit in a header.
func checkID(id string) error {
	if id == "" || len(id) > 200 {
		return fmt.Errorf("message ID must be 1 to 200 characters, got %d", len(id))
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return fmt.Errorf("message ID %q must hold only letters, digits, '-' and '_'", id)
		}
	}
	return nil
}

// MaxAttempts is how many times a message is tried, the first attempt
// included, before the outbox gives up on it: the first, then one after
// each step of Backoff's schedule (about 3 days in all, as Standard
// Webhooks suggests).
const MaxAttempts = len(schedule) + 1

// schedule is Standard Webhooks' example retry schedule: quick at first,
// for a blip, then spread over days, for an outage of the receiver.
var schedule = [...]time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	14 * time.Hour,
	20 * time.Hour,
	24 * time.Hour,
}

// Backoff returns how long to wait after the attempt-th failed attempt (1
// for the first) before the next: schedule's step, 24 h past its end, each
// moved by up to 20% either way, so that the messages of one outage do not
// all come back at the same instant. When the receiver sent a Retry-After,
// wait the longer of the two.
func Backoff(attempt int) time.Duration {
	d := schedule[min(max(attempt, 1), len(schedule))-1]
	spread := d / 5
	return d - spread + mrand.N(2*spread+1)
}
