package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// fakeFeed is an application.ChangeLog in memory that publishes to a hub
// after each append, as the memory and SQLite stores do: enough to drive
// the streams until the stores carry the feed.
type fakeFeed struct {
	hub   *application.Hub
	mu    sync.Mutex
	log   map[auth.UserID][]application.Change
	floor application.Seq // reads from below it are ErrChangesExpired
	reads int             // calls of Changes
}

func newFakeFeed(hub *application.Hub) *fakeFeed {
	return &fakeFeed{hub: hub, log: map[auth.UserID][]application.Change{}}
}

var _ application.ChangeLog = (*fakeFeed)(nil)

// add appends n task upserts to owner's feed and publishes the head.
func (f *fakeFeed) add(owner string, n int) application.Seq {
	head := f.write(owner, n)
	f.hub.Publish(auth.UserID(owner), head)
	return head
}

// write appends n task upserts to owner's feed and publishes nothing.
func (f *fakeFeed) write(owner string, n int) application.Seq {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := auth.UserID(owner)
	for range n {
		s := application.Seq(len(f.log[u]) + 1)
		f.log[u] = append(f.log[u], application.Change{Seq: s, Entity: application.EntityTask, Op: application.OpUpsert, ID: int64(100 + s)})
	}
	return application.Seq(len(f.log[u]))
}

// keys is owner's entries after from up to head, as a KeyRun.
func (f *fakeFeed) keys(owner string, from, head application.Seq) *application.KeyRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &application.KeyRun{From: from, Changes: append([]application.Change{}, f.log[auth.UserID(owner)][from:head]...)}
}

// readCount is how many times Changes was called.
func (f *fakeFeed) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *fakeFeed) Changes(_ context.Context, owner auth.UserID, since application.Seq, limit int, _ bool) (application.ChangePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if since < f.floor {
		return application.ChangePage{}, application.ErrChangesExpired
	}
	all := f.log[owner]
	p := application.ChangePage{Changes: []application.Change{}, Next: application.Seq(len(all))}
	if int(since) < len(all) {
		rest := all[since:]
		if len(rest) > limit {
			rest, p.More = rest[:limit], true
		}
		p.Changes = append(p.Changes, rest...)
		p.Next = rest[len(rest)-1].Seq
	}
	return p, nil
}

func (f *fakeFeed) Head(_ context.Context, owner auth.UserID) (application.Seq, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return application.Seq(len(f.log[owner])), nil
}

func (f *fakeFeed) Prune(context.Context, time.Time) (int, error) { return 0, nil }

func (f *fakeFeed) Read(ctx context.Context, owner auth.UserID, r application.ChangeRead, limit int) (application.ChangePage, error) {
	return f.Changes(ctx, owner, r.Since, limit, false)
}

// eventsEnv is a router with live events on a fake feed, served by a real
// server (a recorder cannot show a stream as it goes).
type eventsEnv struct {
	*env
	feed    *fakeFeed
	hub     *application.Hub
	streams *httpapi.Streams
	srv     *httptest.Server
	clock   func() time.Time
	mu      sync.Mutex
	skew    time.Duration // added to the tickets' clock
}

func newEventsEnv(t *testing.T, maxPerUser int, opts ...func(*httpapi.Deps)) *eventsEnv {
	t.Helper()
	ee := &eventsEnv{hub: application.NewHub(), streams: httpapi.NewStreams(maxPerUser)}
	ee.feed = newFakeFeed(ee.hub)
	ee.clock = func() time.Time {
		ee.mu.Lock()
		defer ee.mu.Unlock()
		return time.Now().Add(ee.skew)
	}
	ee.env = newEnv(t, append([]func(*httpapi.Deps){func(d *httpapi.Deps) {
		d.Events = application.NewEvents(ee.feed, ee.hub, memory.NewTicketStore(), ee.clock)
		d.Streams = ee.streams
		d.Config.Events.Keepalive = time.Hour // tests that want one set it
	}}, opts...)...)
	// Short server timeouts, as READ_TIMEOUT and WRITE_TIMEOUT but
	// shorter: a stream must outlive them (TestEventsOutliveTimeouts).
	ee.srv = httptest.NewUnstartedServer(ee.handler)
	ee.srv.Config.ReadTimeout, ee.srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	ee.srv.Start()
	t.Cleanup(func() {
		ee.streams.Close() // else Close below waits for the streams
		ee.srv.Close()
	})
	return ee
}

// sse is an event as a client sees it.
type sse struct {
	id, event, data, retry string
	comment                bool
}

// client is one open stream.
type client struct {
	res    *http.Response
	events chan sse
	cancel context.CancelFunc
}

// open starts a stream with the header (when token is set) and the query,
// and fails the test unless it is 200 with text/event-stream.
func (ee *eventsEnv) open(t *testing.T, u user, token, query string, header http.Header) *client {
	t.Helper()
	c, res := ee.try(t, u, token, query, header)
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET events = %d %s, want 200", res.StatusCode, b)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q, want text/event-stream", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if res.Header.Get("X-Request-ID") == "" {
		t.Errorf("no X-Request-ID on the stream")
	}
	if ev := c.next(t); ev != (sse{retry: "2000"}) {
		t.Fatalf("first block = %+v, want the retry field alone", ev)
	}
	return c
}

// try sends the request and returns what came; the stream is read by a
// goroutine when it is one.
func (ee *eventsEnv) try(t *testing.T, u user, token, query string, header http.Header) (*client, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ee.srv.URL+"/api/"+u.id+"/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := ee.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET events: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	c := &client{res: res, events: make(chan sse, 1000), cancel: cancel}
	if res.StatusCode == http.StatusOK {
		go c.read(res.Body)
	}
	return c, res
}

// read parses the stream into c.events, closing it at the end.
func (c *client) read(r io.Reader) {
	defer close(c.events)
	br := bufio.NewReader(r)
	var ev sse
	seen := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if seen {
				c.events <- ev
			}
			ev, seen = sse{}, false
			continue
		case strings.HasPrefix(line, ":"):
			ev.comment = true
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "retry: "):
			ev.retry = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
		seen = true
	}
}

// next returns the next event or comment; it fails the test if the stream
// ends or nothing comes in 10 s (a broken stream must not hang the test).
func (c *client) next(t *testing.T) sse {
	t.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			t.Fatalf("the stream ended, want an event")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no event in 10 s")
	}
	return sse{}
}

// eventData is a change event's data.
type eventData struct {
	Seq    uint64 `json:"seq"`
	Entity string `json:"entity"`
	Op     string `json:"op"`
	ID     int64  `json:"id"`
}

// nextEvent skips comments and named events and returns the next change
// event with its data, whose seq must be the event's id.
func (c *client) nextEvent(t *testing.T) (sse, eventData) {
	t.Helper()
	for {
		ev := c.next(t)
		if ev.comment || ev.event != "" {
			continue
		}
		var d eventData
		if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
			t.Fatalf("event data %q: %v", ev.data, err)
		}
		if fmt.Sprint(d.Seq) != ev.id {
			t.Fatalf("event %+v: id is not its seq", ev)
		}
		return ev, d
	}
}

// nextChange returns the next change event, checked against the changes
// these tests make (task 100+seq, upserted).
func (c *client) nextChange(t *testing.T) sse {
	t.Helper()
	ev, d := c.nextEvent(t)
	if d.Entity != "task" || d.Op != "upsert" || d.ID != int64(100+d.Seq) {
		t.Fatalf("event %+v: data does not match its id or the change", ev)
	}
	return ev
}

// ended waits for the stream to end, skipping what comes before, and
// returns the named events it saw.
func (c *client) ended(t *testing.T) []string {
	t.Helper()
	var names []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return names
			}
			if ev.event != "" {
				names = append(names, ev.event)
			}
		case <-deadline:
			t.Fatalf("the stream did not end in 10 s (events so far %v)", names)
		}
	}
}

func wantIDs(t *testing.T, c *client, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if ev := c.nextChange(t); ev.id != id {
			t.Fatalf("event id %s, want %s", ev.id, id)
		}
	}
}

// TestEventsLiveAndReplay: the headers come before any change; a change
// becomes an event with its seq as id; a reconnect with Last-Event-ID (or
// last_event_id) replays what came after it, in order, across pages, then
// goes live; another user's changes never show.
func TestEventsLiveAndReplay(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice, bob := ee.newUser(t), ee.newUser(t)
	c := ee.open(t, alice, alice.token, "", nil) // headers came with no change yet
	ee.feed.add(bob.id, 3)
	ee.feed.add(alice.id, 2)
	wantIDs(t, c, "1", "2")
	ee.feed.add(alice.id, 1)
	wantIDs(t, c, "3")

	ee.feed.add(alice.id, 1200) // more than two pages
	r := ee.open(t, alice, alice.token, "", http.Header{"Last-Event-Id": {"2"}})
	for s := 3; s <= 1203; s++ {
		wantIDs(t, r, fmt.Sprint(s))
	}
	ee.feed.add(alice.id, 1)
	wantIDs(t, r, "1204")

	q := ee.open(t, alice, alice.token, "?last_event_id=1202", nil)
	wantIDs(t, q, "1203", "1204")
}

// TestEventsResync: a Resync (the listener lost its connection) tells the
// client and re-reads the feed: a change whose wake was lost still comes.
func TestEventsResync(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice := ee.newUser(t)
	c := ee.open(t, alice, alice.token, "", nil)
	ee.feed.mu.Lock() // a change no wake announces
	ee.feed.log[auth.UserID(alice.id)] = append(ee.feed.log[auth.UserID(alice.id)],
		application.Change{Seq: 1, Entity: application.EntityTask, Op: application.OpUpsert, ID: 101})
	ee.feed.mu.Unlock()
	ee.hub.Resync()
	if ev := c.next(t); ev.event != "resync" {
		t.Fatalf("after Resync got %+v, want event resync", ev)
	}
	wantIDs(t, c, "1")
}

// TestEventsKeys: a wake that carries the feed's entries from at or below
// what the stream sent up to its head (PostgreSQL's notifications) is sent
// as it is, without reading the feed, the entries the stream sent already
// left out; a wake whose keys start above what the stream sent (a gap) or
// a head above its keys read the feed, and nothing is skipped or sent
// twice (a Resync drops the keys: TestHubMergesKeys).
func TestEventsKeys(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice := ee.newUser(t)
	a := auth.UserID(alice.id)
	c := ee.open(t, alice, alice.token, "", nil) // at head 0, read with Head
	reads := ee.feed.readCount()

	head := ee.feed.write(alice.id, 2)
	ee.hub.PublishKeys(a, head, ee.feed.keys(alice.id, 0, head))
	wantIDs(t, c, "1", "2")
	head = ee.feed.write(alice.id, 3)
	ee.hub.PublishKeys(a, head, ee.feed.keys(alice.id, 1, head)) // from below what was sent
	wantIDs(t, c, "3", "4", "5")
	ee.hub.PublishKeys(a, head, ee.feed.keys(alice.id, 4, head)) // sent already
	if n := ee.feed.readCount() - reads; n != 0 {
		t.Errorf("%d reads of the feed for wakes with keys that continue the stream, want 0", n)
	}

	// A gap: keys from 6 while the stream sent up to 5.
	ee.feed.write(alice.id, 1)
	head = ee.feed.write(alice.id, 2)
	ee.hub.PublishKeys(a, head, ee.feed.keys(alice.id, 6, head))
	wantIDs(t, c, "6", "7", "8")
	if n := ee.feed.readCount() - reads; n != 1 {
		t.Errorf("%d reads of the feed after a gap in the keys, want 1", n)
	}
	// A head without keys above the keys' (another publisher's): read.
	ee.feed.write(alice.id, 1)
	head = ee.feed.write(alice.id, 1)
	ee.hub.PublishKeys(a, head-1, ee.feed.keys(alice.id, 8, head-1))
	ee.hub.Publish(a, head)
	wantIDs(t, c, "9", "10")
	if n := ee.feed.readCount() - reads; n != 2 {
		t.Errorf("%d reads of the feed after the gap and a head without keys, want 2", n)
	}
	// Keys of heads the stream sent: nothing; then nothing twice.
	ee.hub.PublishKeys(a, 9, ee.feed.keys(alice.id, 7, 9))
	ee.feed.add(alice.id, 1)
	wantIDs(t, c, "11")
}

// TestEventsKeepalive: an idle stream sends a comment line.
func TestEventsKeepalive(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0, func(d *httpapi.Deps) { d.Config.Events.Keepalive = 20 * time.Millisecond })
	alice := ee.newUser(t)
	c := ee.open(t, alice, alice.token, "", nil)
	if ev := c.next(t); !ev.comment {
		t.Fatalf("idle stream sent %+v, want a keepalive comment", ev)
	}
}

// TestEventsClientGone: a client that leaves is found at the next
// keepalive, and its stream ends and frees its slot.
func TestEventsClientGone(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0, func(d *httpapi.Deps) { d.Config.Events.Keepalive = 20 * time.Millisecond })
	alice := ee.newUser(t)
	c := ee.open(t, alice, alice.token, "", nil)
	if ev := c.next(t); !ev.comment {
		t.Fatalf("idle stream sent %+v, want a keepalive comment", ev)
	}
	c.cancel()
	c.ended(t)
	for i := 0; ee.streams.Open(auth.UserID(alice.id)) != 0; i++ {
		if i == 1000 {
			t.Fatalf("the stream of a client that left is still open after 1000 keepalives")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEventsOutliveTimeouts: neither the request deadline
// (REQUEST_TIMEOUT) nor the server's read and write timeouts end a
// stream: a change long after them still comes.
func TestEventsOutliveTimeouts(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0, func(d *httpapi.Deps) { d.Config.RequestTimeout = 20 * time.Millisecond })
	alice := ee.newUser(t)
	c := ee.open(t, alice, alice.token, "", nil)
	time.Sleep(time.Second) // 50 request deadlines, 3 server timeouts
	ee.feed.add(alice.id, 1)
	wantIDs(t, c, "1")
}

// TestEventsTicket: a ticket opens one stream, without a header, and only
// once; an unknown or expired ticket is 401; a ticket is for its user's
// URL only (403); the ticket route answers 201 with ticket and expires_at.
func TestEventsTicket(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice, bob := ee.newUser(t), ee.newUser(t)
	ticket := func() httpapi.TicketJSON {
		res := ee.do(t, request{method: http.MethodPost, path: "/api/" + alice.id + "/events/ticket", token: alice.token})
		if res.status != http.StatusCreated {
			t.Fatalf("POST ticket = %s, want 201", res)
		}
		var tk httpapi.TicketJSON
		if err := json.Unmarshal(res.body, &tk); err != nil || tk.Ticket == "" {
			t.Fatalf("ticket body %s: %v", res.body, err)
		}
		if d := time.Until(tk.ExpiresAt); d <= 0 || d > 61*time.Second {
			t.Errorf("ticket expires in %v, want within 60 s", d)
		}
		return tk
	}

	tk := ticket()
	c := ee.open(t, alice, "", "?ticket="+tk.Ticket, nil)
	ee.feed.add(alice.id, 1)
	wantIDs(t, c, "1")
	if _, res := ee.try(t, alice, "", "?ticket="+tk.Ticket, nil); res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("second use of a ticket = %d, want 401 with WWW-Authenticate", res.StatusCode)
	}
	if _, res := ee.try(t, alice, "", "?ticket=nope", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown ticket = %d, want 401", res.StatusCode)
	}
	if _, res := ee.try(t, alice, "", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no ticket, no token = %d, want 401", res.StatusCode)
	}
	other := ticket()
	if _, res := ee.try(t, bob, "", "?ticket="+other.Ticket, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("alice's ticket on bob's URL = %d, want 403", res.StatusCode)
	}
	if res := ee.do(t, request{method: http.MethodPost, path: "/api/" + alice.id + "/events/ticket", token: bob.token}); res.status != http.StatusForbidden {
		t.Errorf("ticket for another user = %s, want 403", res)
	}
	if res := ee.do(t, request{method: http.MethodGet, path: "/api/" + alice.id + "/tasks?ticket=" + other.Ticket, outsideDoc: true}); res.status != http.StatusUnauthorized {
		t.Errorf("a ticket on another route = %s, want 401", res)
	}

	late := ticket()
	ee.mu.Lock()
	ee.skew = application.TicketTTL
	ee.mu.Unlock()
	if _, res := ee.try(t, alice, "", "?ticket="+late.Ticket, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("ticket after 60 s = %d, want 401", res.StatusCode)
	}
}

// TestEventsCap: past EVENTS_MAX_PER_USER streams the next is 429 with
// Retry-After and the contract's body; closing one frees its slot; other
// users are not counted.
func TestEventsCap(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 2)
	alice, bob := ee.newUser(t), ee.newUser(t)
	first := ee.open(t, alice, alice.token, "", nil)
	ee.open(t, alice, alice.token, "", nil)
	_, res := ee.try(t, alice, alice.token, "", nil)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"detail":"Too many open event streams`) {
		t.Fatalf("third stream = %d %s (Retry-After %q), want 429 with Retry-After", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	ee.open(t, bob, bob.token, "", nil)

	// A client that left is found at the next keepalive (an hour here),
	// or at once when its user, at the cap, opens another stream.
	first.cancel()
	first.ended(t)
	for i := 0; ; i++ {
		c, res := ee.try(t, alice, alice.token, "", nil)
		if res.StatusCode == http.StatusOK {
			if ev := c.next(t); ev != (sse{retry: "2000"}) {
				t.Fatalf("first block = %+v, want the retry field alone", ev)
			}
			break
		}
		if res.StatusCode != http.StatusTooManyRequests || i == 100 {
			t.Fatalf("a stream after one of two closed = %d, want 200", res.StatusCode)
		}
		time.Sleep(10 * time.Millisecond) // the client's FIN on its way
	}
	if n := ee.streams.Open(auth.UserID(alice.id)); n != 2 {
		t.Errorf("alice holds %d streams, want 2", n)
	}
}

// TestEventsEndWithToken: a stream ends, cleanly and with an expired
// event, when the token it was opened with expires, at its expiry (a
// timer: the keepalive, which could tell too, comes once an hour here),
// and so does one opened with a ticket of that token.
func TestEventsEndWithToken(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice := ee.newUser(t)
	contracts(t) // loaded now, not within the short token's life
	issued := time.Now()
	short, err := jwks.SignHS256(secret, auth.Identity{UserID: auth.UserID(alice.id), Email: alice.id + "@example.com"}, 4*time.Second, issued, "", "")
	if err != nil {
		t.Fatal(err)
	}
	ee.remember(short)
	res := ee.do(t, request{method: http.MethodPost, path: "/api/" + alice.id + "/events/ticket", token: short})
	var tk httpapi.TicketJSON
	if err := json.Unmarshal(res.body, &tk); err != nil || res.status != http.StatusCreated {
		t.Fatalf("POST ticket = %s", res)
	}
	byTicket := ee.open(t, alice, "", "?ticket="+tk.Ticket, nil)
	c := ee.open(t, alice, short, "", nil)
	for _, s := range []*client{c, byTicket} {
		if names := s.ended(t); len(names) != 1 || names[0] != "expired" {
			t.Errorf("a stream whose token expired ended after %v, want [expired]", names)
		}
	}
	// The token's exp is a whole second, at most 1 s before issued+4s:
	// a stream may end only after it.
	if d := time.Since(issued); d < 3*time.Second {
		t.Errorf("the streams ended %v after the token was issued, before its expiry", d)
	}
}

// TestEventsShutdown: closing the streams (before the server's Shutdown)
// ends every stream with a shutdown event, Shutdown then returns at once,
// and a new stream is 503.
func TestEventsShutdown(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice := ee.newUser(t)
	var clients []*client
	for range 3 {
		clients = append(clients, ee.open(t, alice, alice.token, "", nil))
	}
	ee.srv.Config.RegisterOnShutdown(ee.streams.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ee.srv.Config.Shutdown(ctx) }()
	for _, c := range clients {
		if names := c.ended(t); len(names) != 1 || names[0] != "shutdown" {
			t.Errorf("stream ended after %v, want [shutdown]", names)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v (it waited for the streams)", err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/"+alice.id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+alice.token)
	ee.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("a stream after Close = %d, want 503 with Retry-After", rec.Code)
	}
}

// TestEventsExpiredHistory: a Last-Event-ID below the retained history is
// 410 with a body saying to take a snapshot (EventSource does not retry it).
func TestEventsExpiredHistory(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice := ee.newUser(t)
	ee.feed.add(alice.id, 5)
	ee.feed.mu.Lock()
	ee.feed.floor = 3
	ee.feed.mu.Unlock()
	res := ee.do(t, request{method: http.MethodGet, path: "/api/" + alice.id + "/events", token: alice.token, header: http.Header{"Last-Event-ID": {"2"}}})
	if res.status != http.StatusGone || !strings.Contains(string(res.body), "snapshot") {
		t.Errorf("stale Last-Event-ID = %s, want 410 saying to take a snapshot", res)
	}
	res = ee.do(t, request{method: http.MethodGet, path: "/api/" + alice.id + "/events?last_event_id=x", token: alice.token, outsideDoc: true})
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("last_event_id=x = %s, want 422", res)
	}
}

// TestEventsSlowReaderDropped: a client that stops reading while changes
// pile up is dropped once a write waits past the write timeout, and its
// slot is freed; it would resume with Last-Event-ID.
func TestEventsSlowReaderDropped(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0, func(d *httpapi.Deps) { d.Config.Events.WriteTimeout = 50 * time.Millisecond })
	alice := ee.newUser(t)
	req, _ := http.NewRequest(http.MethodGet, ee.srv.URL+"/api/"+alice.id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+alice.token)
	res, err := ee.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close() // never read: the socket buffers fill
	for ee.streams.Open(auth.UserID(alice.id)) == 1 {
		ee.feed.add(alice.id, 5000)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEventsCORS: a page of an allowed origin may open a stream with the
// Authorization and Last-Event-ID headers (a fetch-based client sends
// both; EventSource sends Last-Event-ID when it reconnects), and the stream
// answers with the origin allowed.
func TestEventsCORS(t *testing.T) {
	t.Parallel()
	ee := newEventsEnv(t, 0)
	alice := ee.newUser(t)
	req := httptest.NewRequest(http.MethodOptions, "/api/"+alice.id+"/events", nil)
	req.Header.Set("Origin", frontend)
	req.Header.Set("Access-Control-Request-Method", http.MethodGet)
	req.Header.Set("Access-Control-Request-Headers", "authorization, last-event-id")
	rec := httptest.NewRecorder()
	ee.handler.ServeHTTP(rec, req)
	allowed := strings.ToLower(strings.Join(rec.Header().Values("Access-Control-Allow-Headers"), ","))
	if rec.Code/100 != 2 || !strings.Contains(allowed, "last-event-id") || !strings.Contains(allowed, "authorization") {
		t.Errorf("preflight = %d, Access-Control-Allow-Headers %q; want 2xx allowing authorization and last-event-id", rec.Code, allowed)
	}
	c := ee.open(t, alice, alice.token, "", http.Header{"Origin": {frontend}})
	if got := c.res.Header.Get("Access-Control-Allow-Origin"); got != frontend {
		t.Errorf("stream's Access-Control-Allow-Origin = %q, want %q", got, frontend)
	}
}
