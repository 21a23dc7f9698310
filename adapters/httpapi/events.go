package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// Live events (issue 16): GET /api/{user_id}/events is a stream of
// Server-Sent Events, one per change of the user's data, read from the
// change feed. The stream keeps no queue of its own: on connect and on every
// wake of the ChangeWatcher it reads the feed from the last Seq it sent, in
// pages, so that a replay after Last-Event-ID and the live part are one path
// and no change is skipped, whatever wakes were merged or lost (a Resync
// makes it read again). A wake that carries the feed's entries from at or
// below the last Seq sent up to its head (application.KeyRun: PostgreSQL's
// notifications) is sent as it is, without the read.

const (
	eventsPath = "/api/{user_id}/events"

	// DefaultEventsMaxPerUser is how many streams one user may hold open on
	// one instance (EVENTS_MAX_PER_USER).
	DefaultEventsMaxPerUser = 8
	// DefaultEventsKeepalive is how often an idle stream sends a comment, so
	// that proxies do not close it.
	DefaultEventsKeepalive = 15 * time.Second
	// DefaultEventsWriteTimeout bounds each write to a stream: a reader that
	// takes longer is too far behind and is dropped (it resumes with
	// Last-Event-ID).
	DefaultEventsWriteTimeout = 10 * time.Second
	// eventsPage is how many changes a stream reads from the feed at once.
	eventsPage = 500
	// eventsRetryMillis is the reconnection delay a stream asks of
	// EventSource (its retry field).
	eventsRetryMillis = 2000
	// ticketParam is the query parameter that carries a ticket.
	ticketParam = "ticket"
)

// The events' detail texts.
const (
	msgTooManyStreams  = "Too many open event streams for this user; close one or retry later"
	msgEventsOff       = "Live events are not available on this server"
	msgEventsExpired   = "Last-Event-ID is older than the retained change history; take a snapshot (GET /changes without since) and reconnect"
	msgShuttingDown    = "Server is shutting down, reconnect shortly"
	streamsRetryAfter  = "5"
	eventStreamType    = "text/event-stream"
	eventStreamExample = "retry: 2000\n\nid: 42\ndata: {\"seq\":42,\"entity\":\"task\",\"op\":\"upsert\",\"id\":7}\n\n: keepalive\n\n"
)

// EventsConfig tunes the streams of live events.
type EventsConfig struct {
	// Keepalive is how often an idle stream sends a comment line; 0 means
	// DefaultEventsKeepalive.
	Keepalive time.Duration
	// WriteTimeout bounds each write to a stream; 0 means
	// DefaultEventsWriteTimeout.
	WriteTimeout time.Duration
}

// Streams holds the open streams of live events: it counts them per user,
// against a cap, sends their keepalives, and ends them all at shutdown:
// Close before the HTTP server's Shutdown so that it need not wait for
// streams that would never end by themselves.
//
// An idle stream has no goroutine (docs/PERFORMANCE.md, "Live events"):
// with 10,000 streams open, 20,000 parked goroutines cost every garbage
// collection a scan of their stacks. A stream's goroutine runs only while
// it has something to write (a wake of the ChangeWatcher, a keepalive, its
// token's expiry, shutdown) and ends when that is written. The keepalives
// come from one goroutine over all streams, which kicks a sixteenth of
// them every sixteenth of the interval; a client that left is found then
// (the connection reads end-of-file without blocking, or the write fails),
// or at once when its user is at the cap and opens another.
type Streams struct {
	wg      sync.WaitGroup // open streams
	max     int
	mu      sync.Mutex
	users   map[auth.UserID]map[*stream]struct{}
	wheel   [keepaliveSlots]map[*stream]struct{} // keepalive slots
	next    int                                  // the slot of the next stream
	closed  bool
	closing chan struct{}
	once    sync.Once
	beat    sync.Once
}

// keepaliveSlots is how many parts the keepalive goroutine splits the
// streams into, one part each Keepalive/keepaliveSlots: no burst of
// 10,000 writes (and goroutines) at once.
const keepaliveSlots = 16

// NewStreams returns a registry allowing maxPerUser streams to each user
// (0 means DefaultEventsMaxPerUser).
func NewStreams(maxPerUser int) *Streams {
	if maxPerUser <= 0 {
		maxPerUser = DefaultEventsMaxPerUser
	}
	s := &Streams{max: maxPerUser, users: map[auth.UserID]map[*stream]struct{}{}, closing: make(chan struct{})}
	for i := range s.wheel {
		s.wheel[i] = map[*stream]struct{}{}
	}
	return s
}

// Close ends every open stream, cleanly, and refuses new ones (503). It
// returns at once; safe to call more than once.
func (s *Streams) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closing)
		var all []*stream
		for _, set := range s.users {
			for st := range set {
				all = append(all, st)
			}
		}
		s.mu.Unlock()
		for _, st := range all {
			st.kick(kickShutdown)
		}
	})
}

// keepalives starts, once, the goroutine that kicks each stream every
// interval; Close stops it.
func (s *Streams) keepalives(every time.Duration) {
	s.beat.Do(func() {
		go func() {
			t := time.NewTicker(max(every/keepaliveSlots, time.Millisecond))
			defer t.Stop()
			var batch []*stream
			for i := 0; ; i = (i + 1) % keepaliveSlots {
				select {
				case <-s.closing:
					return
				case <-t.C:
				}
				s.mu.Lock()
				for st := range s.wheel[i] {
					batch = append(batch, st)
				}
				s.mu.Unlock()
				for _, st := range batch {
					st.beat()
				}
				clear(batch)
				batch = batch[:0]
			}
		}()
	})
}

// Wait waits until the open streams have ended (after Close), or ctx
// ends. http.Server.Shutdown does not wait for those served on
// connections taken over: it no longer knows them.
func (s *Streams) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Open is how many streams are open (all users' when u is empty).
func (s *Streams) Open(u auth.UserID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u != "" {
		return len(s.users[u])
	}
	n := 0
	for _, set := range s.users {
		n += len(set)
	}
	return n
}

// acquire takes one of u's stream slots for st; errStreamsFull when none
// is free, errStreamsClosed after Close. At the cap it first looks for
// streams of u whose client has left (a reload, a closed tab: found at the
// next keepalive otherwise) and frees theirs.
func (s *Streams) acquire(u auth.UserID, st *stream) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStreamsClosed
	}
	set := s.users[u]
	if len(set) >= s.max {
		for old := range set {
			if old.departed() {
				s.remove(u, old)
				old.kick(kickGone)
			}
		}
		if len(set) >= s.max {
			return errStreamsFull
		}
	}
	if set == nil {
		set = map[*stream]struct{}{}
		s.users[u] = set
	}
	set[st] = struct{}{}
	st.slot = s.next
	s.next = (s.next + 1) % keepaliveSlots
	s.wheel[st.slot][st] = struct{}{}
	st.held = true
	s.wg.Add(1)
	return nil
}

// release gives st's slot back; safe to call more than once.
func (s *Streams) release(u auth.UserID, st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(u, st)
}

// remove is release with s.mu held.
func (s *Streams) remove(u auth.UserID, st *stream) {
	if !st.held {
		return
	}
	st.held = false
	set := s.users[u]
	delete(set, st)
	if len(set) == 0 {
		delete(s.users, u)
	}
	delete(s.wheel[st.slot], st)
	s.wg.Done()
}

var (
	errStreamsFull   = errors.New("events: too many streams for this user")
	errStreamsClosed = errors.New("events: shutting down")
)

// IsEventStream reports whether r asks for a stream of live events, which
// the request deadline and the response holding of the common middleware
// must leave alone (see mw.Deadline). It matches the path alone: the router
// has not routed the request yet.
func IsEventStream(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	rest, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return false
	}
	user, tail, ok := strings.Cut(rest, "/")
	return ok && user != "" && tail == "events"
}

type eventsInput struct {
	UserID      string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	LastEventID string `header:"Last-Event-ID" pattern:"^[0-9]{1,19}$" doc:"The id of the last event the client has; EventSource sends it when it reconnects. The stream first replays the changes after it. Without it (and without last_event_id) the stream starts with the next change." example:"42"`
	After       string `query:"last_event_id" pattern:"^[0-9]{1,19}$" doc:"As the Last-Event-ID header, for a new EventSource, which cannot set it: the seq of the last change the client has (an event's id). The header wins when both are set." example:"42"`
	Ticket      string `query:"ticket" doc:"A ticket from POST /api/{user_id}/events/ticket, for clients that cannot send an Authorization header (EventSource): good once, within 60 s. Never put a JWT in the URL." example:"Yb2vJ1d6yQ9aH8s4Z0kq3mO7tLx2cV5nB1pR6wE9uT0"`
}

type ticketInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
}

// TicketJSON is a ticket for GET /api/{user_id}/events.
type TicketJSON struct {
	_         struct{}  `json:"-" additionalProperties:"false"`
	Ticket    string    `json:"ticket" doc:"Put it in the events URL as ?ticket=. Good for one connection, on any instance." example:"Yb2vJ1d6yQ9aH8s4Z0kq3mO7tLx2cV5nB1pR6wE9uT0"`
	ExpiresAt time.Time `json:"expires_at" doc:"Unused after this, the ticket is refused (401): 60 s from now, or the token's expiry when sooner." example:"2026-01-05T10:01:00Z"`
}

type ticketOutput struct {
	Body TicketJSON
}

// createTicket issues a ticket for the caller's stream.
func (h *handlers) createTicket(ctx context.Context, in *ticketInput) (*ticketOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if h.events == nil {
		return nil, newHTTPError(http.StatusServiceUnavailable, msgEventsOff)
	}
	id, _ := identityOf(ctx)
	t, err := h.events.IssueTicket(ctx, a, id)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "path")
	}
	return &ticketOutput{Body: TicketJSON{Ticket: t.Ticket, ExpiresAt: t.Expires.UTC()}}, nil
}

// streamEvents opens the caller's stream: it checks what can be answered
// with a status (the cap, a Last-Event-ID past the retained history), then
// hands over to stream.
func (h *handlers) streamEvents(ctx context.Context, in *eventsInput) (*huma.StreamResponse, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if h.events == nil {
		return nil, newHTTPError(http.StatusServiceUnavailable, msgEventsOff)
	}
	s := &stream{h: h, a: a, done: make(chan struct{})}
	err = h.streams.acquire(a.Owner(), s)
	switch {
	case errors.Is(err, errStreamsFull):
		return nil, newHTTPError(http.StatusTooManyRequests, msgTooManyStreams).with("Retry-After", streamsRetryAfter)
	case err != nil:
		return nil, newHTTPError(http.StatusServiceUnavailable, msgShuttingDown).with("Retry-After", streamsRetryAfter)
	}
	h.streams.keepalives(h.eventsCfg.Keepalive)
	// Before the first read: nothing falls between.
	s.wakes, s.stop = h.events.Watch(a, func() { s.kick(kickWake) })
	ok := false
	defer func() {
		if !ok {
			s.stop()
			h.streams.release(a.Owner(), s)
		}
	}()
	if id, _ := identityOf(ctx); !id.Expires.IsZero() {
		s.expires = id.Expires
	}
	since := in.LastEventID
	if since == "" {
		since = in.After
	}
	if since == "" {
		head, err := h.events.Head(ctx, a)
		if err != nil {
			return nil, h.errs.toResponse(ctx, err, "header")
		}
		// Nothing after head yet (the watch started before the read, so
		// what comes later wakes the stream): the first page is empty, and
		// the stream starts without a database call.
		s.last, s.first, s.hasFirst = head, application.ChangePage{Next: head}, true
	} else {
		n, err := strconv.ParseUint(since, 10, 64)
		if err != nil { // the pattern lets through only numbers past uint64
			return nil, h.errs.toResponse(ctx, err, "header")
		}
		s.last = application.Seq(n)
		// The first page now, so that a cursor past retention is a 410
		// that EventSource does not retry, not a stream that ends.
		if s.first, err = h.events.Changes(ctx, a, s.last, eventsPage); err != nil {
			if errors.Is(err, application.ErrChangesExpired) {
				return nil, newHTTPError(http.StatusGone, msgEventsExpired)
			}
			return nil, h.errs.toResponse(ctx, err, "header")
		}
		s.hasFirst = true
	}
	ok = true
	return &huma.StreamResponse{Body: s.run}, nil
}

// kick is what a stream's goroutine has to do, as bits: several kicks
// before it runs are one run.
type kick uint8

const (
	kickStart    kick = 1 << iota // the headers, the retry field and the first page
	kickWake                      // the ChangeWatcher put a Wake in the channel
	kickBeat                      // a keepalive is due
	kickExpired                   // the token expired
	kickShutdown                  // Streams.Close
	kickGone                      // the client left
	kickFlush                     // s.buf holds what beat could not write
)

// keepaliveLine is the comment an idle stream sends.
const keepaliveLine = ": keepalive\n\n"

// stream is one open stream of live events. It has no goroutine while
// idle: kick starts one when there is something to do, which ends when
// it is done (see Streams).
type stream struct {
	h        *handlers
	a        application.Actor
	slot     int             // its keepalive slot (under Streams.mu)
	held     bool            // it holds a slot of its user (under Streams.mu)
	last     application.Seq // the last Seq sent (or the start)
	first    application.ChangePage
	hasFirst bool
	expires  time.Time // the token's (or ticket's session's) end; zero: none
	wakes    <-chan application.Wake
	stop     func()

	logID  zap.Field   // the request's id, for the stream's log lines
	expiry *time.Timer // ends the stream at expires
	done   chan struct{}

	conn        net.Conn        // the connection taken over; nil through a ResponseWriter
	raw         syscall.RawConn // conn's socket; nil when it cannot be had
	out         io.Writer
	setDeadline func(time.Time) error // for each write
	flushOut    func() error
	buf         []byte

	mu      sync.Mutex
	pending kick
	live    bool // run has set the stream up: a kick may start the goroutine
	running bool // its goroutine runs
	ended   bool
}

// kick asks the stream's goroutine to do k, starting it unless it runs.
// It never blocks (the hub calls it as it publishes).
func (s *stream) kick(k kick) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.pending |= k
	start := s.live && !s.running
	if start {
		s.running = true
	}
	s.mu.Unlock()
	if start {
		go s.work()
	}
}

// start makes the stream live, once its output is set, and runs its
// goroutine for the first page (and whatever was kicked meanwhile).
func (s *stream) start() {
	if !s.expires.IsZero() {
		// The token is no longer good at expires: end then, cleanly. A
		// ticket client asks for a new ticket and reconnects with
		// last_event_id.
		s.expiry = time.AfterFunc(time.Until(s.expires), func() { s.kick(kickExpired) })
	}
	s.mu.Lock()
	s.live, s.running = true, true
	s.pending |= kickStart
	s.mu.Unlock()
	go s.work()
}

// work does what was kicked until nothing is left, then returns: an idle
// stream has no goroutine.
func (s *stream) work() {
	for {
		s.mu.Lock()
		k := s.pending
		s.pending = 0
		if k == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if !s.do(k) {
			s.end()
			return
		}
	}
}

// end closes the stream and frees what it holds.
func (s *stream) end() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	if s.expiry != nil {
		s.expiry.Stop()
	}
	s.stop()
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.h.streams.release(s.a.Owner(), s)
	close(s.done)
}

// departed reports whether the client has certainly left: its connection
// reads end-of-file (or an error) without blocking. False when that
// cannot be told (a stream through a ResponseWriter, TLS): the next write
// tells.
func (s *stream) departed() bool {
	s.mu.Lock()
	rc := s.raw
	s.mu.Unlock()
	return rc != nil && peerClosed(rc)
}

// beat sends a keepalive. An idle stream on a socket is served here, on
// the keepalive goroutine, with two system calls that never wait (a peek
// for the client's departure, the write): no goroutine, no deadline, no
// timer. Anything else (a stream busy, a write that the socket does not
// take at once) is its goroutine's.
func (s *stream) beat() {
	s.mu.Lock()
	if s.ended || !s.live || s.running || s.raw == nil {
		s.mu.Unlock()
		s.kick(kickBeat)
		return
	}
	s.running = true // held: a kick meanwhile waits for the end below
	rc := s.raw
	s.mu.Unlock()
	var k kick
	if peerClosed(rc) {
		k = kickGone
	} else if n, failed := writeNow(rc, []byte(keepaliveLine)); failed {
		k = kickGone
	} else if n < len(keepaliveLine) {
		s.buf = append(s.buf, keepaliveLine[n:]...)
		k = kickFlush
	}
	s.mu.Lock()
	s.pending |= k
	start := s.pending != 0
	if !start {
		s.running = false
	}
	s.mu.Unlock()
	if start {
		go s.work()
	}
}

// run serves the stream. On HTTP/1.1 it takes the connection over
// (Hijack) and returns: an idle stream then costs a few buffers and a
// place in Streams, not the request's deep stack (chi, huma, the database
// calls that opened it), net/http's per-request buffers, nor any goroutine
// (docs/PERFORMANCE.md). The access log line is written then, at the
// start of the stream. Where the connection cannot be taken over (HTTP/2)
// the stream is written through the ResponseWriter, and the handler waits
// for its end.
func (s *stream) run(hctx huma.Context) {
	r, w := humachi.Unwrap(hctx)
	// The stream keeps nothing of the request but its id, for the logs:
	// its context holds the request, chi's and huma's contexts, the
	// connection's buffers, which 10,000 streams would have the collector
	// mark on every cycle.
	s.logID = mw.RequestIDField(r.Context())
	hd := w.Header()
	hd.Set("Content-Type", eventStreamType)
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	hd.Del("Content-Length")
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		rc := http.NewResponseController(w)
		// The server's read timeout would end the connection (net/http's
		// background read times out and cancels the request's context).
		_ = rc.SetReadDeadline(time.Time{})
		s.out = w
		s.setDeadline = rc.SetWriteDeadline
		s.flushOut = rc.Flush
		w.WriteHeader(http.StatusOK)
		s.start()
		select {
		case <-s.done:
		case <-r.Context().Done(): // the client left
			s.kick(kickGone)
			<-s.done
		}
		return
	}
	// The server's READ_TIMEOUT and WRITE_TIMEOUT deadlines are still on
	// the connection: a stream lives past them (each write sets its own).
	_ = conn.SetDeadline(time.Time{})
	// The response is written raw, with Connection: close and no length,
	// so that the body runs until the connection closes.
	s.mu.Lock()
	s.conn, s.raw = conn, rawOf(conn)
	s.mu.Unlock()
	s.out = conn
	s.setDeadline = conn.SetWriteDeadline
	s.flushOut = func() error { return nil }
	hd.Set("Connection", "close")
	s.buf = append(s.buf, "HTTP/1.1 200 OK\r\n"...)
	b := bytes.NewBuffer(s.buf)
	_ = hd.Write(b)
	s.buf = append(b.Bytes(), "\r\n"...)
	s.start()
}

// do does what was kicked, and reports whether the stream goes on.
func (s *stream) do(k kick) bool {
	if k&kickStart != 0 {
		s.buf = append(s.buf, "retry: "...)
		s.buf = strconv.AppendInt(s.buf, eventsRetryMillis, 10)
		s.buf = append(s.buf, "\n\n"...)
		// The headers and the retry field go out with the first page:
		// once a client has them, the stream has read the feed once and
		// is live.
		if !s.catchUp(false) {
			return false
		}
	}
	switch {
	case k&kickGone != 0:
		return false
	case k&kickShutdown != 0:
		s.buf = append(s.buf, "event: shutdown\ndata: {}\n\n"...)
		s.flush()
		return false
	case k&kickExpired != 0:
		s.buf = append(s.buf, "event: expired\ndata: {}\n\n"...)
		s.flush()
		return false
	}
	if k&kickWake != 0 {
		select {
		case wk := <-s.wakes:
			if !s.wake(wk) {
				return false
			}
		default: // taken by an earlier run
		}
	}
	if k&kickBeat != 0 {
		if s.departed() {
			return false
		}
		s.buf = append(s.buf, keepaliveLine...)
	}
	if k&(kickBeat|kickFlush) != 0 && len(s.buf) > 0 {
		if !s.flush() {
			s.h.errs.log.Debug("event stream dropped: keepalive write failed", s.logID)
			return false
		}
	}
	return true
}

// wake sends what wk announces: its reminders, then the changes after
// s.last.
func (s *stream) wake(wk application.Wake) bool {
	if len(wk.Reminders) > 0 {
		// A reminder falling due (issue 18): event: reminder, its data
		// the task.reminder message; no id, so that a reconnect's
		// last_event_id stays the feed's.
		for _, m := range wk.Reminders {
			b, err := json.Marshal(m)
			if err != nil {
				continue
			}
			s.buf = append(s.buf, "event: reminder\ndata: "...)
			s.buf = append(s.buf, b...)
			s.buf = append(s.buf, "\n\n"...)
		}
		if !s.flush() {
			return false
		}
		if !wk.Resync && !wk.Read && wk.Head == 0 {
			return true // reminders alone
		}
	}
	if !wk.Resync && !wk.Read && wk.Head != 0 && wk.Head <= s.last {
		return true // a change this stream has sent already
	}
	if k := wk.Keys; k != nil && !wk.Resync && !wk.Read && k.From <= s.last && s.last < wk.Head {
		// The wake carries every change after k.From up to its head, and
		// the stream has sent everything up to s.last: the rest of them
		// is what a read of the feed would send now.
		last := s.last
		for _, c := range k.Changes {
			if c.Seq > last {
				s.appendEvent(c)
				last = c.Seq
			}
		}
		s.last = max(last, wk.Head)
		return len(s.buf) == 0 || s.flush()
	}
	return s.catchUp(wk.Resync)
}

// catchUp sends every change after s.last, page by page, and reports
// whether the stream goes on. resync first tells the client that wakes may
// have been lost (a client that keeps state from GET /changes re-reads it).
func (s *stream) catchUp(resync bool) bool {
	// The reads end by their statement deadline; a stream's goroutine is
	// the only one to end it, so nothing cancels them.
	ctx := context.Background()
	if resync {
		s.buf = append(s.buf, "event: resync\ndata: {}\n\n"...)
	}
	for {
		var page application.ChangePage
		if s.hasFirst {
			page, s.hasFirst = s.first, false
			s.first = application.ChangePage{}
		} else {
			var err error
			if page, err = s.h.events.Changes(ctx, s.a, s.last, eventsPage); err != nil {
				if errors.Is(err, application.ErrChangesExpired) {
					s.buf = append(s.buf, "event: expired-history\ndata: {}\n\n"...)
					s.flush()
				} else {
					s.h.errs.log.Warn("event stream: read changes", zap.Error(err), s.logID)
				}
				// The client reconnects with Last-Event-ID.
				return false
			}
		}
		for _, c := range page.Changes {
			s.appendEvent(c)
			s.last = c.Seq
		}
		s.last = max(s.last, page.Next)
		if len(s.buf) > 0 && !s.flush() {
			return false
		}
		if !page.More {
			return true
		}
	}
}

// appendEvent writes c as an event: id: <seq>, data: {"seq","entity","op","id"}.
func (s *stream) appendEvent(c application.Change) {
	b := append(s.buf, "id: "...)
	b = strconv.AppendUint(b, uint64(c.Seq), 10)
	b = append(b, "\ndata: {\"seq\":"...)
	b = strconv.AppendUint(b, uint64(c.Seq), 10)
	b = append(b, `,"entity":`...)
	b = strconv.AppendQuote(b, string(c.Entity))
	b = append(b, `,"op":`...)
	b = strconv.AppendQuote(b, string(c.Op))
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, c.ID, 10)
	s.buf = append(b, "}\n\n"...)
}

// flush writes what is buffered and flushes it to the client within the
// write timeout; false when the client is gone or too slow (then the
// connection is dropped). The deadline is lifted after the write: an idle
// stream keeps no timer armed.
func (s *stream) flush() bool {
	_ = s.setDeadline(time.Now().Add(s.h.eventsCfg.WriteTimeout))
	if len(s.buf) > 0 {
		if _, err := s.out.Write(s.buf); err != nil {
			return false
		}
		if cap(s.buf) > idleBuffer {
			s.buf = nil // a replay's buffer is not kept while idle
		} else {
			s.buf = s.buf[:0]
		}
	}
	if s.flushOut() != nil {
		return false
	}
	_ = s.setDeadline(time.Time{})
	return true
}

// idleBuffer is the most a stream's buffer keeps between writes.
const idleBuffer = 4 << 10

// ticketAuth marks an operation whose token may come as a ticket
// (authenticate reads it).
func ticketAuth(_ huma.API, op *huma.Operation) {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[ticketParam] = true
}

// eventStream documents the operation's 200 as text/event-stream, and its
// 410.
func eventStream(api huma.API, op *huma.Operation) {
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	gone := *errorResponses(api, http.StatusInternalServerError)[httpCode(http.StatusInternalServerError)]
	gone.Description = "Last-Event-ID is older than the retained change history: take a snapshot (GET /changes without since), then reconnect."
	gone.Content = map[string]*huma.MediaType{"application/json": {
		Schema:  gone.Content["application/json"].Schema,
		Example: map[string]any{"detail": msgEventsExpired},
	}}
	op.Responses[httpCode(http.StatusGone)] = &gone
	op.Responses["200"] = &huma.Response{
		Description: "A stream of Server-Sent Events (sent at once, then as changes come). Each change is an event with " +
			"`id: <seq>` and `data: {\"seq\", \"entity\": \"task\"|\"list\", \"op\": \"upsert\"|\"delete\", \"id\"}`; " +
			"fetch GET /changes for the data. Other events: `resync` (notifications may have been lost: re-read " +
			"the feed), `expired` (the token or ticket expired: reconnect with a new one), `shutdown` (the " +
			"server is stopping: reconnect), `expired-history` (the position is past the retained history: take a " +
			"snapshot). A `: keepalive` comment comes every 15 s.",
		Content: map[string]*huma.MediaType{eventStreamType: {
			Schema:  &huma.Schema{Type: "string"},
			Example: eventStreamExample,
		}},
	}
}

// ticketFrom authenticates a request of an operation marked ticketAuth
// that carries no Authorization header but ?ticket=: it takes the ticket
// (once) and returns the identity it stands for. ok is false when the
// request has no ticket to try.
func (h *handlers) ticketFrom(ctx huma.Context) (auth.Identity, bool, error) {
	op := ctx.Operation()
	if op == nil || op.Metadata[ticketParam] != true || ctx.Header("Authorization") != "" {
		return auth.Identity{}, false, nil
	}
	t := ctx.Query(ticketParam)
	if t == "" {
		return auth.Identity{}, false, nil
	}
	if h.events == nil {
		return auth.Identity{}, true, application.ErrNoTicket
	}
	id, err := h.events.RedeemTicket(ctx.Context(), t)
	return id, true, err
}
