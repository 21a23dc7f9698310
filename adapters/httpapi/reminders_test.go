package httpapi_test

import (
	"encoding/json"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/webhook"
	"github.com/todo-backend/todo/adapters/webpush"
	"github.com/todo-backend/todo/application"
)

// testReminders are the delivery targets' use cases on store, with the
// real senders' checks (public https addresses only) and a VAPID key.
func testReminders(t *testing.T, store *memory.Store) *application.Reminders {
	t.Helper()
	pub, priv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	v, err := webpush.ParseVAPID(pub, priv, "mailto:ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	push, err := webpush.New(v, webpush.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return application.NewReminders(store.Deliveries(), store.Tasks(), push, webhook.New(webhook.Options{}), nil, application.ReminderOptions{})
}

// TestDeliveryTargets: webhooks and push subscriptions over HTTP: the
// secret shown once, lists without secrets or keys, the URL checks' 422s
// (plain http, loopback and private addresses, bad keys), a subscription
// of the same endpoint replaced, deletes and their 404s, another user's
// ids unknown.
func TestDeliveryTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.newUser(t), e.newUser(t)
	hooks := "/api/" + alice.id + "/webhooks"
	res := e.do(t, request{method: http.MethodPost, path: hooks, token: alice.token, body: `{"url":"https://example.com/hooks/todo"}`})
	wantStatus(t, "create webhook", res, http.StatusCreated)
	var w struct{ ID, URL, Secret string }
	decode(t, res, &w)
	if !strings.HasPrefix(w.Secret, "whsec_") || len(w.Secret) < 40 || !strings.HasPrefix(w.ID, "wh_") || w.URL != "https://example.com/hooks/todo" {
		t.Fatalf("created webhook %s", res)
	}
	res = e.do(t, request{method: http.MethodGet, path: hooks, token: alice.token})
	wantStatus(t, "list webhooks", res, http.StatusOK)
	if strings.Contains(string(res.body), "whsec_") || !strings.Contains(string(res.body), w.ID) {
		t.Fatalf("list shows the secret or misses the webhook: %s", res)
	}
	for _, bad := range []string{"http://example.com/x", "https://127.0.0.1/x", "https://10.1.2.3/x", "https://[::1]/x", "https://user:pw@example.com/x", "ftp://example.com"} {
		res = e.do(t, request{method: http.MethodPost, path: hooks, token: alice.token, body: `{"url":"` + bad + `"}`})
		wantProblems(t, "webhook "+bad, res, []any{"body", "url"})
	}
	// bob neither sees nor deletes alice's webhook.
	res = e.do(t, request{method: http.MethodDelete, path: "/api/" + bob.id + "/webhooks/" + w.ID, token: bob.token})
	wantDetail(t, "bob deletes alice's webhook", res, http.StatusNotFound, "Webhook or push subscription not found")
	res = e.do(t, request{method: http.MethodDelete, path: hooks + "/" + w.ID, token: alice.token})
	wantStatus(t, "delete webhook", res, http.StatusNoContent)
	res = e.do(t, request{method: http.MethodDelete, path: hooks + "/" + w.ID, token: alice.token})
	wantStatus(t, "delete webhook again", res, http.StatusNotFound)

	push := "/api/" + alice.id + "/push-subscriptions"
	const keys = `"keys":{"p256dh":"BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM","auth":"tBHItJI5svbpez7KI4CCXg"}`
	res = e.do(t, request{method: http.MethodPost, path: push, token: alice.token, body: `{"endpoint":"https://push.example.com/s/1",` + keys + `,"expirationTime":null}`})
	wantStatus(t, "subscribe", res, http.StatusCreated)
	var p struct{ ID string }
	decode(t, res, &p)
	res = e.do(t, request{method: http.MethodPost, path: push, token: alice.token, body: `{"endpoint":"https://push.example.com/s/1",` + keys + `}`})
	var p2 struct{ ID string }
	decode(t, res, &p2)
	if p2.ID != p.ID {
		t.Fatalf("the same endpoint twice: ids %q and %q", p.ID, p2.ID)
	}
	res = e.do(t, request{method: http.MethodPost, path: push, token: alice.token, body: `{"endpoint":"http://push.example.com/s/1",` + keys + `}`})
	wantProblems(t, "plain http endpoint", res, []any{"body", "endpoint"})
	res = e.do(t, request{method: http.MethodPost, path: push, token: alice.token, body: `{"endpoint":"https://push.example.com/s/2","keys":{"p256dh":"AAAA","auth":"tBHItJI5svbpez7KI4CCXg"}}`})
	wantProblems(t, "bad key", res, []any{"body", "keys", "p256dh"})
	res = e.do(t, request{method: http.MethodGet, path: push, token: alice.token})
	if strings.Contains(string(res.body), "p256dh") || strings.Count(string(res.body), `"id"`) != 1 {
		t.Fatalf("list of subscriptions: %s", res)
	}
	res = e.do(t, request{method: http.MethodDelete, path: push + "/" + p.ID, token: alice.token})
	wantStatus(t, "unsubscribe", res, http.StatusNoContent)
}

func decode(t *testing.T, res *response, v any) {
	t.Helper()
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("decode %s: %v", res, err)
	}
}

// TestCreateWithRemindersOnly: a create (single and bulk) whose only member
// of the time model is reminders keeps them (main dropped them: the create
// body took the time members only with a zone, floating or recurrence).
func TestCreateWithRemindersOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	res := e.do(t, request{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{"title":"x","reminders":[{"at":"2026-12-24T10:00:00Z"}]}`})
	wantStatus(t, "create", res, http.StatusCreated)
	if !strings.Contains(string(res.body), `"fires_at":"2026-12-24T10:00:00Z"`) {
		t.Errorf("create with an at reminder: %s", res)
	}
	res = e.do(t, request{method: http.MethodPost, path: u.tasks() + "/bulk", token: u.token, body: `[{"title":"x","due_date":"2026-12-24T10:00:00Z","reminders":[{"before":"PT1M"}]}]`})
	wantStatus(t, "bulk create", res, http.StatusCreated)
	if !strings.Contains(string(res.body), `"fires_at":"2026-12-24T09:59:00Z"`) {
		t.Errorf("bulk create with a before reminder: %s", res)
	}
}

// TestReminderOnLiveStream: a reminder falling due reaches the user's open
// stream as "event: reminder" with the task.reminder message (no id: the
// feed's last_event_id is untouched), once, through the scheduler's Stream
// hook and the hub.
func TestReminderOnLiveStream(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice := ee.newUser(t)
	c := ee.open(t, alice, alice.token, "", nil)

	store := memory.NewStore()
	clock := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	rems := application.NewReminders(store.Deliveries(), store.Tasks(), nil, webhook.New(webhook.Options{}),
		func() time.Time { return clock }, application.ReminderOptions{Stream: ee.hub.Remind})
	at := "2026-12-24T10:00:00Z"
	tk, err := task.New(auth.UserID(alice.id), "buy the tree", nil, clock, task.WithReminders([]task.ReminderInput{{At: &at}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Tasks().Add(t.Context(), tk); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	for range 2 { // a second tick sends nothing more
		if _, err := rems.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ev := c.next(t)
	if ev.event != "reminder" || ev.id != "" || !strings.Contains(ev.data, `"type":"task.reminder"`) ||
		!strings.Contains(ev.data, `"title":"buy the tree"`) || !strings.Contains(ev.data, `"fires_at":"2026-12-24T10:00:00Z"`) {
		t.Fatalf("stream sent %+v, want event reminder with the message", ev)
	}
	if n := len(c.events); n != 0 {
		t.Errorf("%d more events after the reminder, want none", n)
	}
}

// gatedWatcher is the hub, whose wakes' notifications it holds while
// gated: the wakes published meanwhile merge in the hub (Hub.put) before
// the stream takes them, as when its goroutine is busy.
type gatedWatcher struct {
	hub   *application.Hub
	mu    sync.Mutex
	gated bool
	held  []func()
}

func (g *gatedWatcher) Watch(owner auth.UserID, notify func()) (<-chan application.Wake, func()) {
	return g.hub.Watch(owner, func() {
		g.mu.Lock()
		if g.gated {
			g.held = append(g.held, notify)
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		notify()
	})
}

func (g *gatedWatcher) gate() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gated = true
}

func (g *gatedWatcher) release() {
	g.mu.Lock()
	held := g.held
	g.gated, g.held = false, nil
	g.mu.Unlock()
	for _, n := range held {
		n()
	}
}

// TestUnknownHeadWithReminderReads: a head published as unknown (the
// listener's RaceWindow wake: a write may have committed without a
// notification) merged with a reminder waiting for the stream still makes
// the stream read the feed: it sends the reminder, then the change. The
// merged wake looked like a reminder alone, and the stream sent only the
// reminder (the change waited for the listener's next check).
func TestUnknownHeadWithReminderReads(t *testing.T) {
	t.Parallel()
	hub := application.NewHub()
	feed := newFakeFeed(hub)
	g := &gatedWatcher{hub: hub}
	ee := newEventsEnv(t, 0, func(d *httpapi.Deps) {
		d.Events = application.NewEvents(feed, g, memory.NewTicketStore(), time.Now)
	})
	alice := ee.newUser(t)
	c := ee.open(t, alice, alice.token, "", nil)
	feed.add(alice.id, 1)
	if ev, _ := c.nextEvent(t); ev.id != "1" {
		t.Fatalf("first event %+v, want the change 1", ev)
	}
	g.gate()
	feed.write(alice.id, 1) // committed, not notified
	hub.Remind(auth.UserID(alice.id), application.Message{Type: "task.reminder"})
	hub.Publish(auth.UserID(alice.id), 0)
	g.release()
	if ev := c.next(t); ev.event != "reminder" {
		t.Fatalf("stream sent %+v, want the reminder", ev)
	}
	select {
	case ev := <-c.events:
		if ev.id != "2" {
			t.Errorf("stream sent %+v, want the change 2", ev)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("no change 2 in 2 s: the stream did not read the feed")
	}
}
