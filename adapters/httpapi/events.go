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
// makes it read again).

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

// Streams counts the open streams of live events per user, against a cap,
// and ends them all at shutdown: Close before the HTTP server's Shutdown
// (which waits for every handler) so that it need not wait for streams
// that would never end by themselves (http.Server.RegisterOnShutdown).
type Streams struct {
	wg sync.WaitGroup // streams served on connections taken over
	// The keepalive beat: a channel closed, and replaced, every interval.
	beatOnce sync.Once
	beatMu   sync.Mutex
	beatCh   chan struct{}
	max      int
	mu       sync.Mutex
	open     map[auth.UserID]int
	closing  chan struct{}
	once     sync.Once
}

// NewStreams returns a registry allowing maxPerUser streams to each user
// (0 means DefaultEventsMaxPerUser).
func NewStreams(maxPerUser int) *Streams {
	if maxPerUser <= 0 {
		maxPerUser = DefaultEventsMaxPerUser
	}
	return &Streams{max: maxPerUser, open: map[auth.UserID]int{}, closing: make(chan struct{})}
}

// Close ends every open stream, cleanly, and refuses new ones (503). It
// returns at once; safe to call more than once.
func (s *Streams) Close() { s.once.Do(func() { close(s.closing) }) }

// beat returns the channel the next beat closes; the first call starts
// the ticker (every), which Close stops.
func (s *Streams) beat(every time.Duration) <-chan struct{} {
	s.beatOnce.Do(func() {
		s.beatCh = make(chan struct{})
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-s.closing:
					return
				case <-t.C:
					s.beatMu.Lock()
					close(s.beatCh)
					s.beatCh = make(chan struct{})
					s.beatMu.Unlock()
				}
			}
		}()
	})
	s.beatMu.Lock()
	defer s.beatMu.Unlock()
	return s.beatCh
}

// Wait waits until the streams served on connections taken over have
// ended (after Close), or ctx ends. http.Server.Shutdown does not wait for
// them: it no longer knows those connections.
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
		return s.open[u]
	}
	n := 0
	for _, c := range s.open {
		n += c
	}
	return n
}

// acquire takes one of u's stream slots; errStreamsFull when none is free,
// errStreamsClosed after Close.
func (s *Streams) acquire(u auth.UserID) (func(), error) {
	select {
	case <-s.closing:
		return nil, errStreamsClosed
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[u] >= s.max {
		return nil, errStreamsFull
	}
	s.open[u]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.open[u]--; s.open[u] <= 0 {
				delete(s.open, u)
			}
		})
	}, nil
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
	release, err := h.streams.acquire(a.Owner())
	switch {
	case errors.Is(err, errStreamsFull):
		return nil, newHTTPError(http.StatusTooManyRequests, msgTooManyStreams).with("Retry-After", streamsRetryAfter)
	case err != nil:
		return nil, newHTTPError(http.StatusServiceUnavailable, msgShuttingDown).with("Retry-After", streamsRetryAfter)
	}
	s := &stream{h: h, a: a, release: release}
	s.wakes, s.stop = h.events.Watch(a) // before the first read: nothing falls between
	ok := false
	defer func() {
		if !ok {
			s.stop()
			release()
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
		// the stream's goroutine starts without a database call.
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

// stream is one open stream of live events.
type stream struct {
	h        *handlers
	a        application.Actor
	last     application.Seq // the last Seq sent (or the start)
	first    application.ChangePage
	hasFirst bool
	expires  time.Time // the token's (or ticket's session's) end; zero: none
	wakes    <-chan application.Wake
	stop     func()
	release  func()

	out         io.Writer
	setDeadline func(time.Time) error // for each write
	flushOut    func() error
	buf         []byte
}

// run serves the stream. On HTTP/1.1 it takes the connection over
// (Hijack) and serves it from a goroutine of its own, so that the handler
// returns: an idle stream then costs a small goroutine stack, a timer and a
// few buffers, not the request's deep stack (chi, huma, the database calls
// that opened it) and net/http's per-request buffers: 10,000 idle streams
// fit in a few hundred MiB less (docs/PERFORMANCE.md). The access log line
// is written then, at the start of the stream. Where the connection cannot
// be taken over (HTTP/2) it streams through the ResponseWriter.
func (s *stream) run(hctx huma.Context) {
	r, w := humachi.Unwrap(hctx)
	// The request's context ends when the handler returns; the stream
	// keeps its values (the request id, for the logs) and its own end.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	hd := w.Header()
	hd.Set("Content-Type", eventStreamType)
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	hd.Del("Content-Length")
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		defer cancel()
		stopWith := context.AfterFunc(r.Context(), cancel)
		defer stopWith()
		s.serveWriter(ctx, w)
		return
	}
	s.h.streams.wg.Add(1)
	go func() {
		defer s.h.streams.wg.Done()
		defer cancel()
		s.serveConn(ctx, cancel, conn, hd)
	}()
}

// serveConn serves the stream on a connection taken over: the response is
// written raw, with Connection: close and no length, so that the body runs
// until the connection closes.
func (s *stream) serveConn(ctx context.Context, cancel context.CancelFunc, conn net.Conn, hd http.Header) {
	defer conn.Close()
	// The server's READ_TIMEOUT and WRITE_TIMEOUT deadlines are still on
	// the connection: a stream lives past them (each write sets its own).
	_ = conn.SetDeadline(time.Time{})
	// The client leaving shows as the end of what it sends.
	go func() {
		var b [64]byte
		for {
			if _, err := conn.Read(b[:]); err != nil {
				cancel()
				return
			}
		}
	}()
	s.out = conn
	s.setDeadline = conn.SetWriteDeadline
	s.flushOut = func() error { return nil }
	hd.Set("Connection", "close")
	s.buf = append(s.buf, "HTTP/1.1 200 OK\r\n"...)
	b := bytes.NewBuffer(s.buf)
	_ = hd.Write(b)
	s.buf = append(b.Bytes(), "\r\n"...)
	s.serve(ctx)
}

// serveWriter serves the stream through w.
func (s *stream) serveWriter(ctx context.Context, w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	// The server's read timeout would end the connection (net/http's
	// background read times out and cancels the request's context).
	_ = rc.SetReadDeadline(time.Time{})
	s.out = w
	s.setDeadline = rc.SetWriteDeadline
	s.flushOut = rc.Flush
	w.WriteHeader(http.StatusOK)
	s.serve(ctx)
}

// serve writes the stream until its end.
func (s *stream) serve(ctx context.Context) {
	defer s.release()
	defer s.stop()
	s.buf = append(s.buf, "retry: "...)
	s.buf = strconv.AppendInt(s.buf, eventsRetryMillis, 10)
	s.buf = append(s.buf, "\n\n"...)
	// The headers and the retry field go out with the first page: once a
	// client has them, the stream has read the feed once and is live.

	log := s.h.errs.log
	// One ticker for every stream (Streams.beat): an idle stream holds no
	// timer of its own. The token's expiry is checked at each beat, so a
	// stream ends at most one keepalive interval after it.
	every := s.h.eventsCfg.Keepalive
	beat := s.h.streams.beat(every)
	if !s.catchUp(ctx, false) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.h.streams.closing:
			s.buf = append(s.buf, "event: shutdown\ndata: {}\n\n"...)
			s.flush()
			return
		case wk := <-s.wakes:
			if len(wk.Reminders) > 0 {
				// A reminder falling due (issue 18): event: reminder, its
				// data the task.reminder message; no id, so that a
				// reconnect's last_event_id stays the feed's.
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
					return
				}
				if !wk.Resync && wk.Head == 0 {
					continue
				}
			}
			if !wk.Resync && wk.Head != 0 && wk.Head <= s.last {
				continue // a change this stream has sent already
			}
			if !s.catchUp(ctx, wk.Resync) {
				return
			}
		case <-beat:
			beat = s.h.streams.beat(every)
			if !s.expires.IsZero() && !time.Now().Before(s.expires) {
				// The token is no longer good: end cleanly. A ticket
				// client asks for a new ticket and reconnects with
				// last_event_id.
				s.buf = append(s.buf, "event: expired\ndata: {}\n\n"...)
				s.flush()
				return
			}
			s.buf = append(s.buf, ": keepalive\n\n"...)
			if !s.flush() {
				log.Debug("event stream dropped: keepalive write failed", mw.RequestIDField(ctx))
				return
			}
		}
	}
}

// catchUp sends every change after s.last, page by page, and reports
// whether the stream goes on. resync first tells the client that wakes may
// have been lost (a client that keeps state from GET /changes re-reads it).
func (s *stream) catchUp(ctx context.Context, resync bool) bool {
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
				if ctx.Err() == nil {
					if errors.Is(err, application.ErrChangesExpired) {
						s.buf = append(s.buf, "event: expired-history\ndata: {}\n\n"...)
						s.flush()
					} else {
						s.h.errs.log.Warn("event stream: read changes", zap.Error(err), mw.RequestIDField(ctx))
					}
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
// connection is dropped).
func (s *stream) flush() bool {
	_ = s.setDeadline(time.Now().Add(s.h.eventsCfg.WriteTimeout))
	if len(s.buf) > 0 {
		if _, err := s.out.Write(s.buf); err != nil {
			return false
		}
		s.buf = s.buf[:0]
	}
	return s.flushOut() == nil
}

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
