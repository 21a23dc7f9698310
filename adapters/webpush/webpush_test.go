package webpush

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/internal/egress"
)

var reminder = application.Message{
	ID:        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
	Type:      application.TaskReminder,
	Timestamp: time.Date(2026, 3, 6, 15, 45, 0, 0, time.UTC),
	Data:      json.RawMessage(`{"task":{"id":7,"title":"Pay rent"},"reminder":{"before":"PT15M"}}`),
}

const reminderJSON = `{"type":"task.reminder","timestamp":"2026-03-06T15:45:00Z","data":{"task":{"id":7,"title":"Pay rent"},"reminder":{"before":"PT15M"}}}`

// newVAPID makes a key pair and a configuration with subject.
func newVAPID(t *testing.T, subject string) VAPID {
	t.Helper()
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVAPID(pub, priv, subject)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// setup returns a push service, a sender trusted by it, and a subscribed
// browser's subscription.
func setup(t *testing.T, subject string, o Options) (*pushService, *Sender, *browser, application.PushSubscription) {
	t.Helper()
	v := newVAPID(t, subject)
	ps := newPushService(t, v.PublicKey, subject)
	if o.Client == nil {
		o.Client = ps.client()
	}
	o.AllowPrivate = true
	s, err := New(v, o)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	return ps, s, b, ps.subscribe("abc", b)
}

// TestSendEndToEnd: the fake push service verifies the VAPID JWT (ES256
// with the subscribed key, aud its origin, exp within 24 h, sub the
// contact as configured: a mailto: subject is not doubled) and decrypts
// the body with the browser's private key to the message's JSON.
func TestSendEndToEnd(t *testing.T) {
	t.Parallel()
	for _, subject := range []string{"mailto:ops@todo.example.com", "https://todo.example.com/contact"} {
		t.Run(subject, func(t *testing.T) {
			t.Parallel()
			ps, s, _, sub := setup(t, subject, Options{TTL: 6 * time.Hour, Urgency: "normal"})
			before := time.Now()
			res := s.Send(t.Context(), sub, reminder)
			if res.Outcome != application.DeliveryOK || res.Status != http.StatusCreated || res.Err != nil {
				t.Fatalf("Send = %+v, want delivered with 201", res)
			}
			got := ps.messages()
			if len(got) != 1 {
				t.Fatalf("push service accepted %d messages, want 1", len(got))
			}
			m := got[0]
			if string(m.plaintext) != reminderJSON {
				t.Errorf("decrypted %s\nwant      %s", m.plaintext, reminderJSON)
			}
			for k, want := range map[string]string{"TTL": "21600", "Urgency": "normal", "Topic": topic(reminder.ID), "Content-Type": "application/octet-stream"} {
				if v := m.header.Get(k); v != want {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
			if m.bodyLen != 4096 || m.rs != 4096 {
				t.Errorf("body %d bytes with rs=%d, want 4096 (padded to the most a push service must take) and 4096", m.bodyLen, m.rs)
			}
			if exp := ps.jwtExpires[0]; exp.Before(before) {
				t.Errorf("JWT expired at %v, before it was sent", exp)
			}
		})
	}
}

// TestSendDefaults: a reminder is kept a day for an offline browser and
// may wake a device on low battery.
func TestSendDefaults(t *testing.T) {
	t.Parallel()
	ps, s, _, sub := setup(t, "mailto:ops@todo.example.com", Options{})
	if res := s.Send(t.Context(), sub, reminder); res.Outcome != application.DeliveryOK {
		t.Fatalf("Send = %+v", res)
	}
	h := ps.messages()[0].header
	if h.Get("TTL") != "86400" || h.Get("Urgency") != "high" {
		t.Errorf("TTL %q, Urgency %q; want 86400 and high", h.Get("TTL"), h.Get("Urgency"))
	}
}

// TestSendTopicPerMessage: a retry of a message carries its Topic again
// (so it replaces a copy still waiting), another message another Topic.
func TestSendTopicPerMessage(t *testing.T) {
	t.Parallel()
	ps, s, _, sub := setup(t, "mailto:ops@todo.example.com", Options{})
	other := reminder
	other.ID = "msg_other"
	for _, m := range []application.Message{reminder, reminder, other} {
		if res := s.Send(t.Context(), sub, m); res.Outcome != application.DeliveryOK {
			t.Fatalf("Send = %+v", res)
		}
	}
	got := ps.messages()
	a, b, c := got[0].header.Get("Topic"), got[1].header.Get("Topic"), got[2].header.Get("Topic")
	if a == "" || a != b || a == c {
		t.Errorf("topics %q, %q, %q: want the first two equal and the third different", a, b, c)
	}
}

// TestSendClassifiesAnswers: each answer of a push service maps to what
// the outbox does next; 404 and 410 mean the browser unsubscribed.
func TestSendClassifiesAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status     int
		header     map[string]string
		want       application.DeliveryOutcome
		retryAfter time.Duration
	}{
		{201, nil, application.DeliveryOK, 0},
		{404, nil, application.DeliveryGone, 0},
		{410, nil, application.DeliveryGone, 0},
		{429, map[string]string{"Retry-After": "90"}, application.DeliveryRetry, 90 * time.Second},
		{429, map[string]string{"Retry-After": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, application.DeliveryRetry, time.Hour},
		{500, nil, application.DeliveryRetry, 0},
		{503, map[string]string{"Retry-After": "5"}, application.DeliveryRetry, 5 * time.Second},
		{408, nil, application.DeliveryRetry, 0},
		{400, nil, application.DeliveryFailed, 0},
		{401, nil, application.DeliveryFailed, 0},
		{403, nil, application.DeliveryFailed, 0},
		{413, nil, application.DeliveryFailed, 0},
		{302, map[string]string{"Location": "https://127.0.0.1:1/"}, application.DeliveryFailed, 0},
	} {
		ps, s, b, sub := setup(t, "mailto:ops@todo.example.com", Options{})
		b.answer = func(w http.ResponseWriter) {
			for k, v := range tc.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(tc.status)
		}
		res := s.Send(t.Context(), sub, reminder)
		retryOK := res.RetryAfter == tc.retryAfter
		if tc.retryAfter >= time.Hour { // an HTTP date: whole seconds, read a moment later
			retryOK = res.RetryAfter > tc.retryAfter-time.Minute && res.RetryAfter <= tc.retryAfter
		}
		if res.Outcome != tc.want || res.Status != tc.status || !retryOK {
			t.Errorf("answer %d %v: Send = %v, status %d, retry after %v; want %v, %d, %v",
				tc.status, tc.header, res.Outcome, res.Status, res.RetryAfter, tc.want, tc.status, tc.retryAfter)
		}
		if (res.Err == nil) != (tc.want == application.DeliveryOK) {
			t.Errorf("answer %d: Err = %v", tc.status, res.Err)
		}
		if n := ps.requestCount(); n != 1 {
			t.Errorf("answer %d: push service got %d requests, want 1", tc.status, n)
		}
	}
}

// TestSendUnknownSubscriptionIsGone: an endpoint the push service does not
// know (expired) is gone, like the answer of a real push service.
func TestSendUnknownSubscriptionIsGone(t *testing.T) {
	t.Parallel()
	ps, s, b, _ := setup(t, "mailto:ops@todo.example.com", Options{})
	res := s.Send(t.Context(), b.subscription(ps.URL+"/push/expired"), reminder)
	if res.Outcome != application.DeliveryGone || res.Status != http.StatusNotFound {
		t.Errorf("Send to an unknown endpoint = %+v, want gone (404)", res)
	}
}

// TestSendRefusesNonPublicEndpoint: with the default client and without
// AllowPrivate, an endpoint on a loopback or private address is refused
// when dialing; the push service hears nothing. A push endpoint comes from
// a user's request, so it is as dangerous as a webhook URL.
func TestSendRefusesNonPublicEndpoint(t *testing.T) {
	t.Parallel()
	v := newVAPID(t, "mailto:ops@todo.example.com")
	ps := newPushService(t, v.PublicKey, v.Subject)
	b := newBrowser(t)
	sub := ps.subscribe("abc", b)
	s, err := New(v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, endpoint := range []string{sub.Endpoint, "https://10.0.0.1/push/abc", "https://169.254.169.254/push/abc", "https://[::1]/push/abc"} {
		res := s.Send(t.Context(), b.subscription(endpoint), reminder)
		if res.Outcome != application.DeliveryFailed || res.Err == nil {
			t.Errorf("Send to %s = %+v, want failed", endpoint, res)
		}
		var te *application.DeliveryTargetError
		if err := s.CheckSubscription(b.subscription(endpoint)); !errors.As(err, &te) || te.Field != "endpoint" {
			t.Errorf("CheckSubscription(%s) = %v, want refused on endpoint", endpoint, err)
		}
	}
	if n := ps.requestCount(); n != 0 {
		t.Errorf("push service got %d requests, want 0", n)
	}
}

// TestSendRefusesHTTPAndUndecodableKeys: a subscription whose endpoint is
// not https is never sent to; one whose keys cannot be used is gone (no
// push can ever reach it).
func TestSendRefusesHTTPAndUndecodableKeys(t *testing.T) {
	t.Parallel()
	ps, s, b, sub := setup(t, "mailto:ops@todo.example.com", Options{})
	plain := sub
	plain.Endpoint = strings.Replace(sub.Endpoint, "https://", "http://", 1)
	if res := s.Send(t.Context(), plain, reminder); res.Outcome != application.DeliveryFailed {
		t.Errorf("Send to http endpoint = %+v, want failed", res)
	}
	badKey := sub
	badKey.P256dh = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{4}, 65)) // not on the curve
	badAuth := sub
	badAuth.Auth = base64.RawURLEncoding.EncodeToString(b.auth[:8])
	for name, bad := range map[string]application.PushSubscription{"p256dh": badKey, "auth": badAuth} {
		if res := s.Send(t.Context(), bad, reminder); res.Outcome != application.DeliveryGone {
			t.Errorf("Send with a bad %s = %+v, want gone", name, res)
		}
	}
	if n := ps.requestCount(); n != 0 {
		t.Errorf("push service got %d requests, want 0", n)
	}
}

// TestPayloadLimit: the largest message that fits in one 4096-byte push is
// delivered; one byte more is refused before sending.
func TestPayloadLimit(t *testing.T) {
	t.Parallel()
	ps, s, _, sub := setup(t, "mailto:ops@todo.example.com", Options{})
	sized := func(n int) application.Message {
		m := reminder
		m.Data = json.RawMessage(`{"x":""}`)
		base, _ := json.Marshal(m)
		m.Data = json.RawMessage(`{"x":"` + strings.Repeat("a", n-len(base)) + `"}`)
		return m
	}
	m := sized(MaxPayload)
	if b, _ := json.Marshal(m); len(b) != MaxPayload {
		t.Fatalf("message is %d bytes, want %d", len(b), MaxPayload)
	}
	if res := s.Send(t.Context(), sub, m); res.Outcome != application.DeliveryOK {
		t.Errorf("Send of %d bytes = %+v, want delivered", MaxPayload, res)
	}
	if got := ps.messages(); len(got) != 1 || got[0].bodyLen != 4096 {
		t.Errorf("push service got %d messages (%v), want one of 4096 bytes", len(got), got)
	}
	if res := s.Send(t.Context(), sub, sized(MaxPayload+1)); res.Outcome != application.DeliveryFailed {
		t.Errorf("Send of %d bytes = %+v, want failed", MaxPayload+1, res)
	}
	if n := ps.requestCount(); n != 1 {
		t.Errorf("push service got %d requests, want 1", n)
	}
}

// TestErrorsHoldNoEndpointPath: an endpoint's path is the capability to
// push to that browser, so errors, which get logged, name its origin only.
func TestErrorsHoldNoEndpointPath(t *testing.T) {
	t.Parallel()
	_, s, b, _ := setup(t, "mailto:ops@todo.example.com", Options{})
	res := s.Send(t.Context(), b.subscription("https://127.0.0.1:1/fcm/send/SECRET-TOKEN"), reminder)
	if res.Outcome != application.DeliveryRetry || res.Err == nil || strings.Contains(res.Err.Error(), "SECRET") {
		t.Errorf("Send to a closed port = %+v, want retry with an error without the endpoint's path", res)
	}
}

func TestCheckSubscription(t *testing.T) {
	t.Parallel()
	_, s, b, sub := setup(t, "mailto:ops@todo.example.com", Options{})
	if err := s.CheckSubscription(sub); err != nil {
		t.Fatalf("CheckSubscription(browser's own) = %v", err)
	}
	padded := sub
	padded.P256dh = base64.URLEncoding.EncodeToString(b.key.PublicKey().Bytes())
	padded.Auth = base64.StdEncoding.EncodeToString(b.auth)
	if err := s.CheckSubscription(padded); err != nil {
		t.Errorf("CheckSubscription(padded keys) = %v, want accepted", err)
	}
	compressed := sub
	compressed.P256dh = base64.RawURLEncoding.EncodeToString(b.key.PublicKey().Bytes()[:33])
	for _, tc := range []struct {
		name  string
		mod   func(*application.PushSubscription)
		field string
	}{
		{"http endpoint", func(p *application.PushSubscription) { p.Endpoint = "http://push.example.com/x" }, "endpoint"},
		{"no endpoint", func(p *application.PushSubscription) { p.Endpoint = "" }, "endpoint"},
		{"userinfo", func(p *application.PushSubscription) { p.Endpoint = "https://u:p@push.example.com/x" }, "endpoint"},
		{"p256dh not base64", func(p *application.PushSubscription) { p.P256dh = "%%%" }, "keys.p256dh"},
		{"p256dh short", func(p *application.PushSubscription) { p.P256dh = compressed.P256dh }, "keys.p256dh"},
		{"p256dh missing", func(p *application.PushSubscription) { p.P256dh = "" }, "keys.p256dh"},
		{"auth 8 bytes", func(p *application.PushSubscription) { p.Auth = "AAAAAAAAAAA" }, "keys.auth"},
		{"auth missing", func(p *application.PushSubscription) { p.Auth = "" }, "keys.auth"},
	} {
		p := sub
		tc.mod(&p)
		var te *application.DeliveryTargetError
		if err := s.CheckSubscription(p); !errors.As(err, &te) || te.Field != tc.field {
			t.Errorf("%s: CheckSubscription = %v, want a DeliveryTargetError on %s", tc.name, err, tc.field)
		}
	}
}

// RFC 8291, Appendix A: the example's keys, salt, plaintext and the body
// it encrypts to.
const (
	rfcPlaintext = "When I grow up, I want to be a watermelon"
	rfcASPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
	rfcASPublic  = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
	rfcUAPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
	rfcUAPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfcSalt      = "DGv6ra1nlYgDCS1FRnbzlw"
	rfcAuth      = "BTBZMqHH6r4Tts7J_aSIgg"
	rfcBody      = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return b
}

// TestDecryptRFC8291Example holds the fake push service's decryption to
// RFC 8291's own example. webpush-go draws its salt and ephemeral key from
// crypto/rand, with no way to fix them, and pads every message to 4096
// bytes where the example pads none, so its output cannot be compared with
// the example's bytes; instead the decryption that checks its output in
// TestSendEndToEnd is checked here against the example.
func TestDecryptRFC8291Example(t *testing.T) {
	t.Parallel()
	ua, err := ecdh.P256().NewPrivateKey(b64(t, rfcUAPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ua.PublicKey().Bytes(), b64(t, rfcUAPublic)) {
		t.Fatal("the example's ua_private does not give its ua_public")
	}
	as, err := ecdh.P256().NewPrivateKey(b64(t, rfcASPrivate))
	if err != nil {
		t.Fatal(err)
	}
	body := b64(t, rfcBody)
	if !bytes.Equal(as.PublicKey().Bytes(), b64(t, rfcASPublic)) || !bytes.Equal(body[21:86], b64(t, rfcASPublic)) {
		t.Fatal("the example's body does not carry its as_public as keyid")
	}
	if !bytes.Equal(body[:16], b64(t, rfcSalt)) {
		t.Fatal("the example's body does not start with its salt")
	}
	pt, rs, err := decrypt(body, ua, b64(t, rfcAuth))
	if err != nil {
		t.Fatalf("decrypt(RFC 8291 example): %v", err)
	}
	if string(pt) != rfcPlaintext || rs != 4096 {
		t.Errorf("decrypt(RFC 8291 example) = %q, rs %d; want %q, 4096", pt, rs, rfcPlaintext)
	}
	// And it refuses what it must: a changed byte, another secret.
	for i, mod := range []func([]byte) []byte{
		func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		func(b []byte) []byte { b[0] ^= 1; return b }, // the salt
	} {
		if _, _, err := decrypt(mod(bytes.Clone(body)), ua, b64(t, rfcAuth)); err == nil {
			t.Errorf("tampered body %d decrypted", i)
		}
	}
	otherAuth := b64(t, rfcAuth)
	otherAuth[0] ^= 1
	if _, _, err := decrypt(body, ua, otherAuth); err == nil {
		t.Error("decrypted with another auth secret")
	}
}

func TestParseVAPID(t *testing.T) {
	t.Parallel()
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b64(t, pub)); n != 65 || b64(t, pub)[0] != 4 {
		t.Errorf("public key is %d bytes, want 65 starting with 0x04", n)
	}
	if n := len(b64(t, priv)); n != 32 {
		t.Errorf("private key is %d bytes, want 32", n)
	}
	otherPub, otherPriv, _ := GenerateVAPIDKeys()
	pad := func(s string) string { return s + strings.Repeat("=", (4-len(s)%4)%4) }
	v, err := ParseVAPID(pad(pub), pad(priv), "mailto:ops@todo.example.com")
	if err != nil || v.PublicKey != pub || v.PrivateKey != priv {
		t.Errorf("ParseVAPID(padded keys) = %v, %v; want the keys unpadded", v, err)
	}
	for _, tc := range []struct {
		name, pub, priv, subject, want string
	}{
		{"pair mismatch", otherPub, priv, "mailto:ops@todo.example.com", "not the private key's"},
		{"private not base64", pub, "%%%", "mailto:ops@todo.example.com", "not base64url"},
		{"private too short", pub, priv[:20], "mailto:ops@todo.example.com", "not a P-256 private key"},
		{"private zero", pub, base64.RawURLEncoding.EncodeToString(make([]byte, 32)), "mailto:ops@todo.example.com", "not a P-256 private key"},
		{"public not a point", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{4}, 65)), priv, "mailto:ops@todo.example.com", "not an uncompressed P-256 point"},
		{"bare address", pub, priv, "ops@todo.example.com", "mailto:ADDRESS or an https URL"},
		{"http subject", pub, priv, "http://todo.example.com", "mailto:ADDRESS or an https URL"},
		{"mailto nothing", pub, priv, "mailto:", "one email address"},
		{"mailto with name", pub, priv, "mailto:Ops <ops@todo.example.com>", "one email address"},
		{"empty subject", pub, priv, "", "mailto:ADDRESS or an https URL"},
	} {
		_, err := ParseVAPID(tc.pub, tc.priv, tc.subject)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseVAPID = %v, want an error naming %q", tc.name, err, tc.want)
			continue
		}
		for _, secret := range []string{priv, otherPriv} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error quotes the private key", tc.name)
			}
		}
	}
	if _, err := New(VAPID{PublicKey: otherPub, PrivateKey: priv, Subject: "mailto:ops@todo.example.com"}, Options{}); err == nil {
		t.Error("New accepted a mismatched VAPID pair")
	}
	if _, err := New(v, Options{Urgency: "urgent"}); err == nil {
		t.Error("New accepted urgency \"urgent\"")
	}
}

// TestVAPIDStringHidesPrivateKey: a VAPID printed into a log, as itself or
// inside a configuration, shows no private key.
func TestVAPIDStringHidesPrivateKey(t *testing.T) {
	t.Parallel()
	v := newVAPID(t, "mailto:ops@todo.example.com")
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, struct{ VAPID VAPID }{v})
		if strings.Contains(out, v.PrivateKey) || !strings.Contains(out, v.PublicKey) {
			t.Errorf("Sprintf(%s) = %s: want the public key and not the private one", f, out)
		}
	}
}

// TestDefaultClientIsGuarded: with no Client, New uses an egress client,
// which refuses loopback unless AllowPrivate.
func TestDefaultClientIsGuarded(t *testing.T) {
	t.Parallel()
	v := newVAPID(t, "mailto:ops@todo.example.com")
	s, err := New(v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.client.Get("https://127.0.0.1:1/")
	if !egress.Refused(err) {
		t.Errorf("default client's GET to 127.0.0.1 = %v, want refused", err)
	}
}
