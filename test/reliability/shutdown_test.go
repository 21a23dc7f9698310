package reliability

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestGracefulShutdownUnderLoad sends SIGTERM to the binary on PostgreSQL
// while 32 clients create tasks as fast as it answers, and one slow client
// is half-way through sending its body. The service must stop accepting,
// answer every request it had begun (the slow one included: its body ends
// after the drain began), close the database only then, and exit 0.
//
// Every create that got 201 must be in the database. A request the server
// began (its request id is in the service's log) must have had its answer:
// a reset there fails the test. Requests sent after the listener closed get
// "connection refused"; a request that raced the close (queued in the
// kernel's accept backlog, or sent on a keep-alive connection the server
// was closing as idle) is reset without the server having read it; both are
// counted, and none of them may have left a row behind.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	heavy(t)
	t.Parallel()
	dbURL := testenv.PostgresDatabase(t)
	a := startReady(t, "todo-api", "DATABASE_URL="+dbURL, "SHUTDOWN_TIMEOUT=10s")
	c := newClient(a.URL, 15*time.Second)
	defer c.close()

	// The slow client: headers and half the body now, the rest during the drain.
	slowUser := newUser(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue tells when the handler reads the body: from then
	// on the request is in flight for certain.
	slowBody := `{"title": "slow client, in flight at SIGTERM"}`
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"X-Request-ID: slow-client\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", slowUser.tasks(), slowUser.token, len(slowBody))
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("slow client: want 100 Continue, got %q (%v)", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, slowBody[:10])

	const workers = 32
	type result struct {
		user user
		outs []outcome
	}
	results := make([]result, workers)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		results[w].user = newUser(t)
		wg.Go(func() {
			u := results[w].user
			for n := 0; ctx.Err() == nil; n++ {
				o := c.do(ctx, http.MethodPost, u.tasks(), u.token, map[string]string{"title": fmt.Sprintf("w%d-%d", w, n)})
				results[w].outs = append(results[w].outs, o)
				if o.refused() {
					return // the listener is closed: the service is gone
				}
			}
		})
	}

	time.Sleep(1500 * time.Millisecond)
	if err := a.Send(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(a.Stdout(), "shutting down: draining requests") })
	if _, err := io.WriteString(conn, slowBody[10:]); err != nil {
		t.Fatalf("slow client: send the rest of the body during the drain: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("slow client: no answer to the request in flight at SIGTERM: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("slow client: %d, want 201", resp.StatusCode)
	}
	code := a.Wait(t, stopTimeout)
	cancel()
	wg.Wait()
	if code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}

	// What the service began: request ids in its log, and which of those
	// ended after the drain started.
	served := map[string]int{}
	draining, duringDrain := false, 0
	for _, l := range a.logs(t) {
		switch {
		case l.Msg == "shutting down: draining requests":
			draining = true
		case l.Msg == "request" && l.RequestID != "":
			served[l.RequestID] = l.Status
			if draining {
				duringDrain++
			}
		}
	}
	if _, ok := served["slow-client"]; !ok {
		t.Errorf("the slow client's request is not in the service's log")
	}

	dbc := connect(t, dbURL)
	var sent, acked, found, refused, raced, cut int
	for _, r := range results {
		stored := storedTasks(t, dbc, r.user.id)
		ackedTitles := map[string]bool{}
		for _, o := range r.outs {
			sent++
			switch {
			case o.status == http.StatusCreated:
				acked++
				tk, err := o.task()
				if err != nil {
					t.Errorf("201 with a body that is not a task: %v", o)
					continue
				}
				ackedTitles[tk.Title] = true
				if s, ok := stored[tk.ID]; ok && s.Title == tk.Title {
					found++
				} else {
					t.Errorf("acknowledged task %d %q is not in the database", tk.ID, tk.Title)
				}
			case o.status != 0:
				t.Errorf("answer during shutdown: %v, want 201", o)
			case o.refused():
				refused++
			default:
				if status, ok := served[o.requestID]; ok {
					cut++
					t.Errorf("request %s was served (status %d in the log) but its answer was cut: %v", o.requestID, status, o.err)
				} else {
					raced++
				}
			}
		}
		for _, s := range stored {
			if !ackedTitles[s.Title] {
				t.Errorf("task %q is stored but its client got no 201", s.Title)
			}
		}
	}
	if acked == 0 || refused == 0 {
		t.Errorf("%d acknowledged, %d refused: the drill did not run across the shutdown", acked, refused)
	}
	t.Logf("figures: SIGTERM under load: %d creates sent by 32 clients, %d acknowledged, %d found in the database, %d lost; "+
		"%d answered after the drain began (plus the slow client); %d refused after the listener closed; %d reset unread (raced the close, nothing stored); %d cut after being served",
		sent, acked, found, acked-found, duringDrain, refused, raced, cut)
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
	}
}
