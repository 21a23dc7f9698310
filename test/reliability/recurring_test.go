package reliability

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestRecurringTwoInstances is issue 18's drill: two devices complete the
// same occurrence of "every other Friday at 17:00 Europe/Paris" at once,
// through two instances on one PostgreSQL database, twenty times over:
// the task moves on exactly once (one version up, the next Friday), and
// every answer is that task.
func TestRecurringTwoInstances(t *testing.T) {
	heavy(t)
	t.Parallel()
	dbURL := testenv.PostgresDatabase(t)
	a, b := startTwoReady(t, "DATABASE_URL="+dbURL)
	clients := []*client{newClient(a.URL, 15*time.Second), newClient(b.URL, 15*time.Second)}
	defer clients[0].close()
	defer clients[1].close()
	ctx := context.Background()
	u := newUser(t)

	type recurring struct {
		ID      int64  `json:"id"`
		DueDate string `json:"due_date"`
		Version int64  `json:"version"`
	}
	read := func(o outcome) recurring {
		t.Helper()
		var r recurring
		if o.status != http.StatusOK && o.status != http.StatusCreated || json.Unmarshal(o.body, &r) != nil {
			t.Fatalf("answer: %v", o)
		}
		return r
	}
	tk := read(clients[0].do(ctx, http.MethodPost, u.tasks(), u.token, map[string]any{
		"title": "review", "due_date": "2026-10-16T17:00:00", "due_tz": "Europe/Paris",
		"recurrence": map[string]string{"rule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"},
	}))
	const devices = 20
	answers := make([]outcome, devices)
	var wg sync.WaitGroup
	for i := range devices {
		wg.Go(func() {
			answers[i] = clients[i%2].do(ctx, http.MethodPatch, u.toggle(tk.ID), u.token, map[string]string{"occurrence": tk.DueDate})
		})
	}
	wg.Wait()
	for _, o := range answers {
		if got := read(o); got.Version != 2 || got.DueDate != "2026-10-30T16:00:00Z" {
			t.Errorf("a completion answered version %d due %s, want version 2 due 2026-10-30T16:00:00Z (17:00 in Paris)", got.Version, got.DueDate)
		}
	}
	for i, c := range clients {
		if got := read(c.do(ctx, http.MethodGet, u.task(tk.ID), u.token, nil)); got.Version != 2 || got.DueDate != "2026-10-30T16:00:00Z" {
			t.Errorf("instance %d: after %d completions of one occurrence the task is version %d due %s", i, devices, got.Version, got.DueDate)
		}
	}
}
