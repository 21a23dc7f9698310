package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/internal/egress"
)

// reminder is the message most tests send.
var reminder = application.Message{
	ID:        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
	Type:      application.TaskReminder,
	Timestamp: time.Date(2026, 3, 6, 16, 45, 0, 0, time.FixedZone("CET", 3600)),
	Data:      json.RawMessage(`{"task":{"id":7,"title":"Pay rent"},"reminder":{"before":"PT15M"}}`),
}

// reminderBody is reminder's body, byte for byte: the time in UTC.
const reminderBody = `{"type":"task.reminder","timestamp":"2026-03-06T15:45:00Z","data":{"task":{"id":7,"title":"Pay rent"},"reminder":{"before":"PT15M"}}}`

// delivery is what the receiver saw of one request.
type delivery struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint: it records each request and answers
// with answer (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{r.Header.Clone(), body})
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSendSignedDelivery: the receiver gets the Standard Webhooks headers
// and body, and the specification's own library verifies the signature
// with the webhook's secret (and refuses it with another secret, or with
// the body changed).
func TestSendSignedDelivery(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	secret := newSecret(t)
	s := New(Options{AllowPrivate: true})
	res := s.Send(t.Context(), application.Webhook{ID: "wh_1", URL: rc.URL + "/hooks/todo?k=v", Secret: secret}, reminder)
	if res.Outcome != application.DeliveryOK || res.Status != http.StatusNoContent || res.Err != nil {
		t.Fatalf("Send = %+v, want delivered with 204", res)
	}
	got := rc.deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	d := got[0]
	if string(d.body) != reminderBody {
		t.Errorf("body = %s\nwant  %s", d.body, reminderBody)
	}
	for k, want := range map[string]string{
		"Content-Type":      "application/json",
		"webhook-id":        reminder.ID,
		"webhook-signature": "v1,",
	} {
		if v := d.header.Get(k); !strings.HasPrefix(v, want) {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(d.body, d.header); err != nil {
		t.Errorf("Verify with the webhook's secret: %v", err)
	}
	other, err := standardwebhooks.NewWebhook(newSecret(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Verify(d.body, d.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("Verify with another secret = %v, want ErrNoMatchingSignature", err)
	}
	tampered := []byte(strings.Replace(string(d.body), "Pay rent", "Pay more", 1))
	if err := wh.Verify(tampered, d.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("Verify of a changed body = %v, want ErrNoMatchingSignature", err)
	}
}

// TestSendSignsEachAttemptAnew: a retry keeps the webhook-id (receivers
// drop duplicates by it) and is signed at its own time (receivers refuse
// an old timestamp).
func TestSendSignsEachAttemptAnew(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	now := time.Unix(1_772_000_000, 0)
	s := New(Options{AllowPrivate: true, Now: func() time.Time { return now }})
	w := application.Webhook{ID: "wh_1", URL: rc.URL, Secret: newSecret(t)}
	for range 2 {
		if res := s.Send(t.Context(), w, reminder); res.Outcome != application.DeliveryOK {
			t.Fatalf("Send = %+v, want delivered", res)
		}
		now = now.Add(time.Hour)
	}
	got := rc.deliveries()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	wh, _ := standardwebhooks.NewWebhook(w.Secret)
	for i, d := range got {
		if id := d.header.Get("webhook-id"); id != reminder.ID {
			t.Errorf("attempt %d: webhook-id = %q, want %q", i+1, id, reminder.ID)
		}
		if ts, want := d.header.Get("webhook-timestamp"), []string{"1772000000", "1772003600"}[i]; ts != want {
			t.Errorf("attempt %d: webhook-timestamp = %q, want %q", i+1, ts, want)
		}
		if err := wh.VerifyIgnoringTimestamp(d.body, d.header); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	if got[0].header.Get("webhook-signature") == got[1].header.Get("webhook-signature") {
		t.Error("both attempts carry the same signature; the timestamp is not signed")
	}
}

// TestSendClassifiesAnswers: each answer of a receiver maps to what the
// outbox does next.
func TestSendClassifiesAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status     int
		header     map[string]string
		want       application.DeliveryOutcome
		retryAfter time.Duration
	}{
		{200, nil, application.DeliveryOK, 0},
		{202, nil, application.DeliveryOK, 0},
		{410, nil, application.DeliveryGone, 0},
		{404, nil, application.DeliveryFailed, 0},
		{400, nil, application.DeliveryFailed, 0},
		{401, nil, application.DeliveryFailed, 0},
		{422, nil, application.DeliveryFailed, 0},
		{301, map[string]string{"Location": "http://127.0.0.1:1/elsewhere"}, application.DeliveryFailed, 0},
		{307, map[string]string{"Location": "/elsewhere"}, application.DeliveryFailed, 0},
		{408, nil, application.DeliveryRetry, 0},
		{429, map[string]string{"Retry-After": "120"}, application.DeliveryRetry, 2 * time.Minute},
		{429, nil, application.DeliveryRetry, 0},
		{500, nil, application.DeliveryRetry, 0},
		{502, nil, application.DeliveryRetry, 0},
		{503, map[string]string{"Retry-After": "30"}, application.DeliveryRetry, 30 * time.Second},
		{503, map[string]string{"Retry-After": "31536000"}, application.DeliveryRetry, 24 * time.Hour},
	} {
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tc.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(tc.status)
		})
		res := New(Options{AllowPrivate: true}).Send(t.Context(), application.Webhook{URL: rc.URL, Secret: newSecret(t)}, reminder)
		if res.Outcome != tc.want || res.Status != tc.status || res.RetryAfter != tc.retryAfter {
			t.Errorf("answer %d %v: Send = %v, status %d, retry after %v; want %v, %d, %v",
				tc.status, tc.header, res.Outcome, res.Status, res.RetryAfter, tc.want, tc.status, tc.retryAfter)
		}
		if (res.Err == nil) != (tc.want == application.DeliveryOK) {
			t.Errorf("answer %d: Err = %v", tc.status, res.Err)
		}
		if n := len(rc.deliveries()); n != 1 {
			t.Errorf("answer %d: receiver got %d requests, want 1 (no redirect followed, no retry inside Send)", tc.status, n)
		}
	}
}

// TestSendRetriesTransportFailures: no answer in time, or no listener, is
// worth another try later.
func TestSendRetriesTransportFailures(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	s := New(Options{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	res := s.Send(t.Context(), application.Webhook{URL: slow.URL, Secret: newSecret(t)}, reminder)
	if res.Outcome != application.DeliveryRetry || res.Status != 0 || res.Err == nil {
		t.Errorf("receiver too slow: Send = %+v, want retry with no status", res)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	res = s.Send(t.Context(), application.Webhook{URL: closed, Secret: newSecret(t)}, reminder)
	if res.Outcome != application.DeliveryRetry || res.Err == nil {
		t.Errorf("nothing listening: Send = %+v, want retry", res)
	}
}

// resolver answers every name with addrs, and counts its lookups.
type resolver struct {
	addrs   []netip.Addr
	lookups atomic.Int32
}

func (r *resolver) LookupNetIP(_ context.Context, _, _ string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	return r.addrs, nil
}

// TestSendRefusesNonPublicAddresses: without AllowPrivate no request leaves
// for loopback, private, link-local or other non-public addresses, whether
// the URL names the address or a name resolves to it when dialing (a name
// that passed CheckURL at registration and was re-pointed since: DNS
// rebinding). The receiver listens on 127.0.0.1 and hears nothing.
func TestSendRefusesNonPublicAddresses(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
	secret := newSecret(t)
	loopback := &resolver{addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	s := New(Options{Resolver: loopback})
	for _, u := range []string{
		rc.URL, // http://127.0.0.1:port
		"https://127.0.0.1:" + port + "/hook",
		"https://[::1]:" + port + "/hook",
		"https://[::ffff:127.0.0.1]:" + port + "/hook",
		"https://10.0.0.1/hook",
		"https://192.168.1.10/hook",
		"https://169.254.169.254/latest/meta-data/",
		"https://[fd00::1]/hook",
		"https://100.64.0.1/hook",
		"https://localhost:" + port + "/hook",
	} {
		res := s.Send(t.Context(), application.Webhook{URL: u, Secret: secret}, reminder)
		if res.Outcome != application.DeliveryFailed || res.Err == nil {
			t.Errorf("Send to %s = %+v, want failed", u, res)
		}
		if err := s.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%s) = nil, want refused", u)
		}
	}
	if n := loopback.lookups.Load(); n != 0 {
		t.Errorf("%d lookups for URLs refused before dialing", n)
	}

	// A public-looking name passes registration, then resolves to loopback.
	rebound := "https://hooks.example.com:" + port + "/hook"
	if err := s.CheckURL(rebound); err != nil {
		t.Fatalf("CheckURL(%s) = %v, want accepted (nothing says it is local until it is resolved)", rebound, err)
	}
	res := s.Send(t.Context(), application.Webhook{URL: rebound, Secret: secret}, reminder)
	var ae *egress.AddressError
	if res.Outcome != application.DeliveryFailed || !errors.As(res.Err, &ae) || ae.Host != "hooks.example.com" || ae.Kind != "loopback" {
		t.Errorf("Send to %s (resolving to 127.0.0.1) = %+v, want failed with an AddressError for the loopback", rebound, res)
	}
	if loopback.lookups.Load() == 0 {
		t.Error("the name was never resolved: refused for another reason")
	}
	mixed := &resolver{addrs: []netip.Addr{netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("::1")}}
	res = New(Options{Resolver: mixed}).Send(t.Context(), application.Webhook{URL: rebound, Secret: secret}, reminder)
	if res.Outcome != application.DeliveryFailed || !errors.As(res.Err, &ae) {
		t.Errorf("Send to a name resolving to 10.1.1.1 and ::1 = %+v, want failed", res)
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("receiver on 127.0.0.1 got %d requests", n)
	}

	// AllowPrivate (tests) lets the same receiver through, by address and
	// by a name resolving to it.
	open := New(Options{AllowPrivate: true, Resolver: loopback})
	for _, u := range []string{rc.URL + "/hook", "http://hooks.example.com:" + port + "/hook"} {
		if res := open.Send(t.Context(), application.Webhook{URL: u, Secret: secret}, reminder); res.Outcome != application.DeliveryOK {
			t.Errorf("with AllowPrivate, Send to %s = %+v, want delivered", u, res)
		}
	}
	if n := len(rc.deliveries()); n != 2 {
		t.Errorf("with AllowPrivate the receiver got %d requests, want 2", n)
	}
}

// TestErrorsHoldNoURLPath: a webhook URL's path and query can be a
// credential (https://hooks.example.com/T0/B0/XXXX), so a result's error,
// which gets logged, names the origin only.
func TestErrorsHoldNoURLPath(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/T0/B0/SECRETPATH?token=SECRETQUERY"
	ln.Close()
	res := New(Options{AllowPrivate: true}).Send(t.Context(), application.Webhook{URL: u, Secret: newSecret(t)}, reminder)
	if res.Err == nil || strings.Contains(res.Err.Error(), "SECRET") {
		t.Errorf("Send's error = %v, want one without the URL's path and query", res.Err)
	}
}

// TestSendRefusesBadInput: a message or webhook that cannot be signed
// properly is never sent.
func TestSendRefusesBadInput(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	s := New(Options{AllowPrivate: true})
	good := application.Webhook{URL: rc.URL, Secret: newSecret(t)}
	dotted := reminder
	dotted.ID = "msg.1"
	badData := reminder
	badData.Data = json.RawMessage(`{"task":`)
	for name, tc := range map[string]struct {
		w application.Webhook
		m application.Message
	}{
		"ID with a dot":    {good, dotted},
		"no ID":            {good, application.Message{Type: application.TaskReminder}},
		"data not JSON":    {good, badData},
		"secret not b64":   {application.Webhook{URL: rc.URL, Secret: "whsec_%%%"}, reminder},
		"empty secret":     {application.Webhook{URL: rc.URL, Secret: ""}, reminder},
		"ftp URL":          {application.Webhook{URL: "ftp://127.0.0.1/x", Secret: good.Secret}, reminder},
		"URL with userpwd": {application.Webhook{URL: "http://u:p@" + strings.TrimPrefix(rc.URL, "http://"), Secret: good.Secret}, reminder},
	} {
		if res := s.Send(t.Context(), tc.w, tc.m); res.Outcome != application.DeliveryFailed || res.Err == nil {
			t.Errorf("%s: Send = %+v, want failed", name, res)
		}
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("receiver got %d requests, want 0", n)
	}
}

func TestCheckURLNamesTheField(t *testing.T) {
	t.Parallel()
	err := New(Options{}).CheckURL("http://hooks.example.com/in")
	var te *application.DeliveryTargetError
	if !errors.As(err, &te) || te.Field != "url" || !strings.Contains(te.Reason, "https") {
		t.Errorf("CheckURL(http://...) = %v, want a DeliveryTargetError on url asking for https", err)
	}
	if err := New(Options{}).CheckURL("https://hooks.example.com/in"); err != nil {
		t.Errorf("CheckURL(https://hooks.example.com/in) = %v, want nil", err)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		s := newSecret(t)
		raw, ok := strings.CutPrefix(s, SecretPrefix)
		if !ok {
			t.Fatalf("secret %q lacks %q", s, SecretPrefix)
		}
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(b) < 24 || len(b) > 64 {
			t.Fatalf("secret %q: %d bytes, %v; want 24 to 64 bytes in standard base64", s, len(b), err)
		}
		if seen[s] {
			t.Fatalf("secret %q made twice", s)
		}
		seen[s] = true
		if _, err := standardwebhooks.NewWebhook(s); err != nil {
			t.Fatalf("standardwebhooks.NewWebhook(%q): %v", s, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{ // Standard Webhooks' example schedule
		5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
	}
	if MaxAttempts != len(want)+1 {
		t.Errorf("MaxAttempts = %d, want %d (the first attempt and one per step)", MaxAttempts, len(want)+1)
	}
	step := func(attempt int) time.Duration { return want[min(max(attempt, 1), len(want))-1] }
	for attempt := -1; attempt <= 12; attempt++ {
		d := step(attempt)
		lo, hi := d-d/5, d+d/5
		varied := false
		first := Backoff(attempt)
		for range 200 {
			got := Backoff(attempt)
			if got < lo || got > hi {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", attempt, got, lo, hi)
			}
			varied = varied || got != first
		}
		if !varied {
			t.Errorf("Backoff(%d) returned %v 201 times: no jitter", attempt, first)
		}
	}
	var total time.Duration
	for attempt := 1; attempt < MaxAttempts; attempt++ {
		total += step(attempt)
	}
	if total < 72*time.Hour {
		t.Errorf("the schedule spans %v, want about 3 days", total)
	}
}

// TestRequestURLUnchanged: the URL is requested as registered (query
// included), not re-encoded.
func TestRequestURLUnchanged(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { got.Store(r.URL.RequestURI()) })
	u := rc.URL + "/in/a%2Fb?x=1&y=%20"
	if res := New(Options{AllowPrivate: true}).Send(t.Context(), application.Webhook{URL: u, Secret: newSecret(t)}, reminder); res.Outcome != application.DeliveryOK {
		t.Fatalf("Send = %+v", res)
	}
	want, _ := url.Parse(u)
	if got.Load() != want.RequestURI() {
		t.Errorf("requested %v, want %v", got.Load(), want.RequestURI())
	}
}

// TestSendConcurrently: one Sender serves many deliveries at once (the
// outbox's workers share it).
func TestSendConcurrently(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	s := New(Options{AllowPrivate: true})
	w := application.Webhook{URL: rc.URL, Secret: newSecret(t)}
	const n = 16
	results := make([]application.DeliveryResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = s.Send(t.Context(), w, reminder) })
	}
	wg.Wait()
	for i, res := range results {
		if res.Outcome != application.DeliveryOK {
			t.Errorf("delivery %d: %+v", i, res)
		}
	}
	if got := len(rc.deliveries()); got != n {
		t.Errorf("receiver got %d requests, want %d", got, n)
	}
}
