package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// Listening for the change feed's notifications (issue 16). Writers on
// every instance run pg_notify(application.ChangeChannel, '<seq> <user id>')
// in their transactions, so PostgreSQL delivers a notification for each
// commit, and none for a rollback, to every connection that listens. Each
// instance holds one such connection, outside the pool (a pooled
// connection goes back to others; a transaction-mode pooler, such as
// Neon's pooled host, cannot LISTEN at all: DATABASE_LISTEN_URL names a
// direct host), and hands what it hears to the in-process hub.

// ListenSink is what a Listener tells: application.Hub.
type ListenSink interface {
	Publish(owner auth.UserID, head application.Seq)
	Resync()
}

// ListenOptions tune a Listener; the zero value is the defaults.
type ListenOptions struct {
	// MinBackoff and MaxBackoff bound the wait before reconnecting, which
	// doubles after each failure (with jitter) and starts again at
	// MinBackoff once LISTEN succeeds. Defaults: 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// Ping is how long the connection may stay silent before it is pinged,
	// so that a dead network is noticed; default 30 s.
	Ping time.Duration
	// OnEvent hears the connection come up (Err nil) and go down (Err
	// set), for the logs.
	OnEvent func(ListenEvent)
}

// ListenEvent is a change of the listening connection's state.
type ListenEvent struct {
	Up  bool
	Err error // why it went down, or why a payload was not understood
}

// Listener holds the listening connection and reconnects it when it drops,
// telling every reader to resync (notifications may have been lost).
type Listener struct {
	cfg    *pgx.ConnConfig
	sink   ListenSink
	opts   ListenOptions
	cancel context.CancelFunc
	done   chan struct{}
	start  sync.Once
	pid    atomic.Uint32
	up     atomic.Bool
}

// NewListener returns a listener on databaseURL (a postgres:// URL) that
// tells sink what it hears; Start starts it.
func NewListener(databaseURL string, sink ListenSink, opts ListenOptions) (*Listener, error) {
	cfg, err := ParsePostgresURL(databaseURL)
	if err != nil {
		return nil, err
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Second, opts.MinBackoff)
	}
	if opts.Ping <= 0 {
		opts.Ping = 30 * time.Second
	}
	if opts.OnEvent == nil {
		opts.OnEvent = func(ListenEvent) {}
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "todo-listen"
	}
	return &Listener{cfg: cfg, sink: sink, opts: opts, done: make(chan struct{})}, nil
}

// Start connects and listens in the background, until Stop. It returns at
// once: a database that cannot be reached yet is retried.
func (l *Listener) Start() {
	l.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		go l.run(ctx)
	})
}

// Stop closes the connection and waits for the listener to end.
func (l *Listener) Stop() {
	l.start.Do(func() { close(l.done) }) // never started
	if l.cancel != nil {
		l.cancel()
	}
	<-l.done
}

// Listening reports whether the connection is up and listening.
func (l *Listener) Listening() bool { return l.up.Load() }

// PID is the server process of the listening connection (0 while none),
// for tests that end it.
func (l *Listener) PID() uint32 { return l.pid.Load() }

func (l *Listener) run(ctx context.Context) {
	defer close(l.done)
	backoff := l.opts.MinBackoff
	for first := true; ; first = false {
		listened, err := l.session(ctx, !first)
		l.up.Store(false)
		l.pid.Store(0)
		if ctx.Err() != nil {
			return
		}
		// What was sent while nobody listened is lost: every reader
		// re-reads the feed now, and again once listening again.
		l.sink.Resync()
		l.opts.OnEvent(ListenEvent{Err: err})
		if listened {
			backoff = l.opts.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, l.opts.MaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// session connects, listens and hands on notifications until the
// connection fails; listened says whether LISTEN succeeded. resync tells
// readers to re-read once listening (a reconnect).
func (l *Listener) session(ctx context.Context, resync bool) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg.Copy())
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{application.ChangeChannel}.Sanitize()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	l.pid.Store(conn.PgConn().PID())
	l.up.Store(true)
	if resync {
		l.sink.Resync()
	}
	l.opts.OnEvent(ListenEvent{Up: true})
	for {
		wctx, cancel := context.WithTimeout(ctx, l.opts.Ping)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			owner, seq, perr := parseChangeNotice(n.Payload)
			if perr != nil {
				l.opts.OnEvent(ListenEvent{Up: true, Err: perr})
				continue
			}
			l.sink.Publish(owner, seq)
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Silence: make sure the connection is still there.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, fmt.Errorf("ping: %w", err)
			}
		default:
			return true, fmt.Errorf("wait for notification: %w", err)
		}
	}
}

// parseChangeNotice reads a payload "<seq> <user id>".
func parseChangeNotice(p string) (auth.UserID, application.Seq, error) {
	s, u, ok := strings.Cut(p, " ")
	n, err := strconv.ParseUint(s, 10, 64)
	if !ok || err != nil || u == "" {
		return "", 0, fmt.Errorf("notification payload %.40q is not \"<seq> <user id>\"", p)
	}
	return auth.UserID(u), application.Seq(n), nil
}

// ChangeNotice is the payload of a notification for owner's change head:
// what writers pass to pg_notify.
func ChangeNotice(owner auth.UserID, head application.Seq) string {
	return strconv.FormatUint(uint64(head), 10) + " " + string(owner)
}
