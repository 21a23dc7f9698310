package webpush

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

type noHooks struct{}

func (noHooks) CheckURL(string) error      { return nil }
func (noHooks) NewSecret() (string, error) { return "whsec_x", nil }
func (noHooks) Send(context.Context, application.Webhook, application.Message) application.DeliveryResult {
	return application.DeliveryResult{Outcome: application.DeliveryFailed}
}

// TestReminderPushEndToEnd: a reminder falling due goes through the
// scheduler (application.Reminders on the memory store) to this sender and
// the fake push service, which checks the VAPID JWT and decrypts the body
// with the browser's private key (RFC 8291): the plaintext is the
// reminder's task.reminder message. A second browser, whose push service
// answers 410, is removed by the same tick.
func TestReminderPushEndToEnd(t *testing.T) {
	t.Parallel()
	ps, s, _, sub := setup(t, "mailto:ops@todo.example.com", Options{})
	gone := newBrowser(t)
	gone.answer = func(w http.ResponseWriter) { w.WriteHeader(http.StatusGone) }
	goneSub := ps.subscribe("gone", gone)

	store := memory.NewStore()
	clock := time.Date(2026, 10, 16, 14, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	rems := application.NewReminders(store.Deliveries(), store.Tasks(), s, noHooks{}, now, application.ReminderOptions{})
	ctx := t.Context()
	owner := auth.UserID("u_push")
	if _, err := rems.AddPushSubscription(ctx, owner, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := rems.AddPushSubscription(ctx, owner, goneSub); err != nil {
		t.Fatal(err)
	}
	before := "PT15M"
	tk, err := task.New(owner, "review", nil, clock, task.WithDue("2026-10-16T17:00:00"), task.WithDueZone("Europe/Paris"),
		task.WithReminders([]task.ReminderInput{{Before: &before}}))
	if err != nil {
		t.Fatal(err)
	}
	if tk, err = store.Tasks().Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
	clock = time.Date(2026, 10, 16, 14, 45, 0, 0, time.UTC) // 16:45 in Paris
	st, err := rems.Tick(ctx)
	if err != nil || st.Delivered != 1 || st.Dropped != 1 {
		t.Fatalf("tick: %+v %v, want one delivered and one gone", st, err)
	}
	var got []pushed
	for _, p := range ps.messages() {
		if p.token == "abc" {
			got = append(got, p)
		}
	}
	if len(got) != 1 {
		t.Fatalf("the live browser got %d messages, want 1", len(got))
	}
	var m struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			Task struct {
				ID      int64  `json:"id"`
				Title   string `json:"title"`
				DueDate string `json:"due_date"`
				DueTZ   string `json:"due_tz"`
			} `json:"task"`
			Reminder struct {
				Before  string `json:"before"`
				FiresAt string `json:"fires_at"`
			} `json:"reminder"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].plaintext, &m); err != nil {
		t.Fatalf("decrypted %q: %v", got[0].plaintext, err)
	}
	if m.Type != "task.reminder" || m.Data.Task.ID != int64(tk.ID()) || m.Data.Task.Title != "review" || m.Data.Task.DueTZ != "Europe/Paris" ||
		m.Data.Reminder.Before != "PT15M" || m.Data.Reminder.FiresAt != "2026-10-16T14:45:00Z" || m.Timestamp != "2026-10-16T14:45:00Z" {
		t.Errorf("decrypted message %s", got[0].plaintext)
	}
	if subs, _ := rems.PushSubscriptions(ctx, owner); len(subs) != 1 || subs[0].Endpoint != sub.Endpoint {
		t.Errorf("after a 410 the subscriptions are %+v, want only the live one", subs)
	}
	// Once: another tick sends nothing.
	if _, err := rems.Tick(ctx); err != nil || len(ps.messages()) != 2 {
		t.Errorf("a second tick: %v, %d messages", err, len(ps.messages()))
	}
}
