package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/todo-backend/todo/internal/testenv"
)

// receiver is a local webhook receiver: it verifies each delivery's
// Standard Webhooks signature with its user's secret and counts deliveries
// by webhook-id, and by reminder (task and fires_at), noting how late each
// came.
type receiver struct {
	mu       sync.Mutex
	secrets  map[string]*standardwebhooks.Webhook // by user id, the path's last part
	byID     map[string]int
	byRem    map[string]map[string]bool // reminder -> its webhook-ids
	late     []time.Duration
	bad      []string
	arrivals int
}

func newReceiver() *receiver {
	return &receiver{secrets: map[string]*standardwebhooks.Webhook{}, byID: map[string]int{}, byRem: map[string]map[string]bool{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	// A receiver that takes 250 ms to answer: every instance has
	// deliveries in flight at any moment, so the kill interrupts some.
	defer time.Sleep(250 * time.Millisecond)
	userID := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.arrivals++
	wh := rc.secrets[userID]
	if wh == nil || wh.Verify(body, r.Header) != nil {
		rc.bad = append(rc.bad, "signature of a delivery to "+userID)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var m struct {
		Type string `json:"type"`
		Data struct {
			Task struct {
				ID int64 `json:"id"`
			} `json:"task"`
			Reminder struct {
				FiresAt time.Time `json:"fires_at"`
			} `json:"reminder"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Type != "task.reminder" {
		rc.bad = append(rc.bad, fmt.Sprintf("body %.200s", body))
	}
	id := r.Header.Get("webhook-id")
	rc.byID[id]++
	rem := fmt.Sprint(m.Data.Task.ID, m.Data.Reminder.FiresAt.UnixMicro())
	if rc.byRem[rem] == nil {
		rc.byRem[rem] = map[string]bool{}
	}
	rc.byRem[rem][id] = true
	if rc.byID[id] == 1 {
		// Processed: the first arrival of its webhook-id; a repeat is
		// dropped as a receiver must.
		rc.late = append(rc.late, at.Sub(m.Data.Reminder.FiresAt))
	}
	w.WriteHeader(http.StatusNoContent)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestRemindersExactlyOnce is issue 18's delivery drill: three instances
// on one PostgreSQL database, REMINDER_DRILL_N reminders (1,000) falling
// due within REMINDER_DRILL_SPAN seconds (10), a local webhook receiver
// counting deliveries by webhook-id, and one instance killed (SIGKILL) in
// the middle: every reminder is delivered once, not zero times, not
// twice (processed once: a delivery the killed instance had sent but not
// marked done comes again with the same webhook-id, which the receiver
// drops, as Standard Webhooks asks), each within 2 s of its time (the bound, so measured
// here: REMINDERS_POLL=200ms, REMINDERS_LEASE=1s, so a delivery the killed
// instance held is taken over within about 1.2 s).
func TestRemindersExactlyOnce(t *testing.T) {
	heavy(t)
	n := envInt("REMINDER_DRILL_N", 1000)
	span := time.Duration(envInt("REMINDER_DRILL_SPAN", 10)) * time.Second
	dbURL := testenv.PostgresDatabase(t)
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()

	env := []string{"DATABASE_URL=" + dbURL, "WEBHOOK_ALLOW_PRIVATE=true", "REMINDERS_POLL=200ms", "REMINDERS_LEASE=1s"}
	apis := make([]*api, 3)
	for i := range apis {
		apis[i] = start(t, fmt.Sprintf("todo-api-%d", i), env...)
	}
	var starting sync.WaitGroup
	for _, a := range apis {
		starting.Go(func() { a.waitStatus(t, "/readyz", http.StatusOK, startTimeout) })
	}
	starting.Wait()
	if t.Failed() {
		t.FailNow()
	}
	c := newClient(apis[0].URL, 30*time.Second)
	defer c.close()
	ctx := context.Background()

	// Ten users, each with a webhook; their tasks share the reminders.
	users := make([]user, 10)
	for i := range users {
		users[i] = newUser(t)
		o := c.do(ctx, http.MethodPost, "/api/"+users[i].id+"/webhooks", users[i].token, map[string]string{"url": srv.URL + "/hook/" + users[i].id})
		var w struct{ Secret string }
		if o.status != http.StatusCreated || json.Unmarshal(o.body, &w) != nil {
			t.Fatalf("register webhook: %v", o)
		}
		wh, err := standardwebhooks.NewWebhook(w.Secret)
		if err != nil {
			t.Fatal(err)
		}
		rc.mu.Lock()
		rc.secrets[users[i].id] = wh
		rc.mu.Unlock()
	}
	// The reminders fall due evenly over span, from a few seconds on:
	// time to create them all, which a loaded machine (CI with other
	// work) stretched past 4 s. A bulk create of 100 tasks without
	// reminders first measures what a batch takes here; the lead is twice
	// the n/100 batches at that pace, at least 4 s.
	probe := time.Now()
	if o := c.do(ctx, http.MethodPost, users[0].tasks()+"/bulk", users[0].token, probeItems(100)); o.status != http.StatusCreated {
		t.Fatalf("create probe tasks: %v", o)
	}
	lead := max(4*time.Second, 2*time.Duration((n+99)/100)*time.Since(probe))
	t.Logf("a bulk create of 100 took %s: the first reminder falls due %s after the creates begin", time.Since(probe).Round(time.Millisecond), lead.Round(time.Millisecond))
	first := time.Now().Add(lead).Truncate(time.Second)
	step := span / time.Duration(n)
	for b := 0; b < n; b += 100 {
		u := users[(b/100)%len(users)]
		var items []map[string]any
		for i := b; i < min(b+100, n); i++ {
			at := first.Add(time.Duration(i) * step).UTC().Format(time.RFC3339Nano)
			items = append(items, map[string]any{"title": fmt.Sprintf("reminder %d", i), "reminders": []map[string]string{{"at": at}}})
		}
		if o := c.do(ctx, http.MethodPost, u.tasks()+"/bulk", u.token, items); o.status != http.StatusCreated {
			t.Fatalf("create tasks: %v", o)
		}
	}
	if time.Now().After(first) {
		t.Fatalf("creating %d reminders took past the first one's time", n)
	}
	// Kill one instance in the middle of the span.
	time.Sleep(time.Until(first.Add(span / 2)))
	if _, err := apis[1].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	atKill := rc.arrivals
	rc.mu.Unlock()
	// Wait for every delivery, and a little more for any duplicate.
	deadline := first.Add(span + 10*time.Second)
	for time.Now().Before(deadline) {
		rc.mu.Lock()
		got := len(rc.byRem)
		rc.mu.Unlock()
		if got >= n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	// How many deliveries were claimed more than once: the killed
	// instance's, taken over after their lease.
	var retaken int
	conn := connect(t, dbURL)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM reminder_deliveries WHERE attempts > 1").Scan(&retaken); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.bad {
		t.Errorf("bad delivery: %s", b)
	}
	dupIDs, dupRems := 0, 0
	for _, k := range rc.byID {
		if k > 1 {
			dupIDs++
		}
	}
	for _, ids := range rc.byRem {
		if len(ids) > 1 {
			dupRems++ // one reminder under two webhook-ids: enqueued twice
		}
	}
	late := slices.Clone(rc.late)
	slices.Sort(late)
	var p50, p99, worst time.Duration
	if len(late) > 0 {
		p50, p99, worst = late[len(late)/2], late[min(len(late)-1, len(late)*99/100)], late[len(late)-1]
	}
	over := 0
	for _, l := range late {
		if l > 2*time.Second {
			over++
		}
	}
	t.Logf("reminders %d, deliveries received %d (%d before the kill), distinct webhook-ids %d, distinct reminders %d, "+
		"webhook-ids that arrived more than once %d (dropped by the receiver), reminders under more than one webhook-id %d; lateness p50 %v, p99 %v, max %v; later than 2 s: %d; claimed more than once (taken over) %d",
		n, rc.arrivals, atKill, len(rc.byID), len(rc.byRem), dupIDs, dupRems,
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), worst.Round(time.Millisecond), over, retaken)
	// Processed once each: every reminder arrived, under one webhook-id.
	// A webhook-id may arrive twice only when the killed instance's claim
	// was taken over (it died after sending, before marking it done).
	if len(rc.byRem) != n || len(rc.byID) != n || dupRems != 0 {
		t.Errorf("want each of %d reminders processed exactly once (one webhook-id each); got %d reminders, %d webhook-ids, %d reminders under two ids",
			n, len(rc.byRem), len(rc.byID), dupRems)
	}
	if dupIDs > retaken {
		t.Errorf("%d webhook-ids arrived more than once, but only %d deliveries were taken over after the kill: repeats in normal operation", dupIDs, retaken)
	}
	// Lateness is a timing, which a loaded machine stretches: the issue's
	// 2 s bound fails the drill only when asked (REMINDER_DRILL_STRICT=1,
	// as docs/RELIABILITY.md's runs do); otherwise the figure is reported
	// above and only a reminder held far past any takeover (a stuck claim)
	// fails it.
	if over > 0 && os.Getenv("REMINDER_DRILL_STRICT") == "1" {
		t.Errorf("%d reminders came later than 2 s after their time (the issue's bound)", over)
	}
	if worst > 15*time.Second {
		t.Errorf("a reminder came %v after its time: a claim was stuck far past its lease", worst)
	}
}

// probeItems is a bulk create's body of n tasks without reminders.
func probeItems(n int) []map[string]any {
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{"title": fmt.Sprintf("probe %d", i)}
	}
	return items
}
