package reliability

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestTwoInstances runs two binaries on one PostgreSQL database and sends
// the concurrency cases of the contract suite alternately to each: the
// service keeps nothing of its own between requests, so two (or ten)
// instances behind a load balancer behave as one.
func TestTwoInstances(t *testing.T) {
	heavy(t)
	t.Parallel()
	dbURL := testenv.PostgresDatabase(t)
	a, b := startTwoReady(t, "DATABASE_URL="+dbURL)
	clients := []*client{newClient(a.URL, 15*time.Second), newClient(b.URL, 15*time.Second)}
	defer clients[0].close()
	defer clients[1].close()
	ctx := context.Background()
	u := newUser(t)

	// Ten concurrent toggles of one task, alternating instances: all land.
	// Serialised, they answer true, false, true, ... five of each, and the
	// task ends where it began; a lost update breaks one or the other.
	o := clients[0].do(ctx, http.MethodPost, u.tasks(), u.token, map[string]string{"title": "toggled ten times"})
	tk, err := o.task()
	if o.status != http.StatusCreated || err != nil {
		t.Fatalf("create: %v", o)
	}
	const toggles = 10
	answers := make([]outcome, toggles)
	var wg sync.WaitGroup
	for i := range toggles {
		wg.Go(func() { answers[i] = clients[i%2].do(ctx, http.MethodPatch, u.toggle(tk.ID), u.token, nil) })
	}
	wg.Wait()
	trues := 0
	for _, o := range answers {
		got, err := o.task()
		if o.status != http.StatusOK || err != nil {
			t.Fatalf("toggle: %v", o)
		}
		if got.Completed {
			trues++
		}
	}
	for i, c := range clients {
		o := c.do(ctx, http.MethodGet, u.task(tk.ID), u.token, nil)
		got, err := o.task()
		if err != nil || got.Completed {
			t.Errorf("instance %d: after %d toggles the task is %v, want completed false", i, toggles, o)
		}
	}
	if trues != toggles/2 {
		t.Errorf("%d toggles answered completed=true %d times, want %d (a toggle was lost)", toggles, trues, toggles/2)
	}

	// Fifty concurrent creates, alternating instances: fifty distinct ids,
	// and both instances list all of them.
	const creates = 50
	v := newUser(t)
	ids := make([]int64, creates)
	for i := range creates {
		wg.Go(func() {
			o := clients[i%2].do(ctx, http.MethodPost, v.tasks(), v.token, map[string]string{"title": fmt.Sprintf("create %d", i)})
			if got, err := o.task(); o.status == http.StatusCreated && err == nil {
				ids[i] = got.ID
			} else {
				t.Errorf("create %d: %v", i, o)
			}
		})
	}
	wg.Wait()
	distinct := map[int64]bool{}
	for _, id := range ids {
		if id > 0 {
			distinct[id] = true
		}
	}
	if len(distinct) != creates {
		t.Errorf("%d concurrent creates on two instances gave %d distinct ids, want %d", creates, len(distinct), creates)
	}
	for i, c := range clients {
		o := c.do(ctx, http.MethodGet, v.tasks()+"?limit=100", v.token, nil)
		ts, err := o.tasks()
		if o.status == http.StatusUnprocessableEntity { // no limit parameter in this version
			o = c.do(ctx, http.MethodGet, v.tasks(), v.token, nil)
			ts, err = o.tasks()
		}
		if err != nil || len(ts) != creates {
			t.Errorf("instance %d lists %d tasks (%v), want %d", i, len(ts), err, creates)
		}
		for _, x := range ts {
			if !distinct[x.ID] {
				t.Errorf("instance %d lists task %d, which no create returned", i, x.ID)
			}
		}
	}
	// A change through one is what the other reads next.
	o = clients[0].do(ctx, http.MethodPut, v.task(ids[0]), v.token, map[string]any{"title": "renamed on A", "completed": true})
	if o.status != http.StatusOK {
		t.Fatalf("PUT on A: %v", o)
	}
	if got, err := clients[1].do(ctx, http.MethodGet, v.task(ids[0]), v.token, nil).task(); err != nil || got.Title != "renamed on A" || !got.Completed {
		t.Errorf("GET on B after PUT on A = %+v (%v), want the new title, completed", got, err)
	}
	t.Logf("figures: two instances on one database: %d concurrent toggles (alternating) all landed (%d true, %d false); %d concurrent creates gave %d distinct ids, listed whole by both",
		toggles, trues, toggles-trues, creates, len(distinct))
}
