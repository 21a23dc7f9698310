package sqlstore

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// Listening for the change feed's notifications (issue 16). After writes
// commit, the publisher of the writing instance (publish.go) sends on
// application.ChangeChannel the new heads of the users who have watchers,
// "<seq> <user id>" pairs, one per line, many in one notification, each
// followed by the keys of its changes (notice.go); a
// rolled-back write is never read, so never sent. PostgreSQL delivers each
// notification to every connection that listens. Each instance holds one
// such connection, outside the pool (a pooled connection goes back to
// others; a transaction-mode pooler, such as Neon's pooled host, cannot
// LISTEN at all: DATABASE_LISTEN_URL names a direct host), and hands what
// it hears to the in-process hub. What a publisher never sent (its
// instance died after the commit) the check finds: every CheckInterval the
// listener reads the heads of the users with streams here, in one
// statement, and publishes those above what it last heard.

// ListenSink is what a Listener tells, and whose watchers it registers:
// application.Hub.
type ListenSink interface {
	application.ChangeWatcher
	Publish(owner auth.UserID, head application.Seq)
	// PublishKeys is Publish with the feed's entries after keys.From up
	// to head, which the publisher sent with it (notice.go); nil keys is
	// Publish.
	PublishKeys(owner auth.UserID, head application.Seq, keys *application.KeyRun)
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
	// DB, when set, is where the listener keeps the change_watchers rows
	// of the users with streams on this instance: writes are stamped, and
	// their heads notified after the commit, only for users with a row
	// (publish.go); it is also where CheckInterval's read goes. Watch registers a user's first stream before it
	// returns, the rows are refreshed every WatchTTL/3 and written again
	// whenever the connection listens again, and a user's last stream
	// removes its row.
	DB *bun.DB
	// WatchTTL is how long a row holds without a refresh (a crashed
	// instance's rows expire); default 60 s.
	WatchTTL time.Duration
	// RaceWindow: a writer whose statement began before a user's row was
	// committed did not see it and notified no one, and may commit after
	// the new stream read the feed; the user's streams are woken again
	// once RaceWindow has passed since the row was written. It must exceed
	// the longest write transaction (DB_TIMEOUT); default 6 s.
	RaceWindow time.Duration
	// CheckInterval is how often, while users have streams here, their
	// heads are read and those above what the listener last heard are
	// published (DB must be set): a change whose notification was never
	// sent reaches its streams within it. Default 1 s.
	CheckInterval time.Duration
	// Sharers, when set, is kept current across instances: the connection
	// listens on MembersChannel too and adds each user it hears of; each
	// time it listens (again) the set is read again in the background, and
	// while it does not listen, or that read has not finished, the set
	// answers true for everyone (see Sharers).
	Sharers *Sharers
}

// ListenEvent is a change of the listening connection's state.
type ListenEvent struct {
	Up bool
	// Err is why it went down (Up false), or a problem that did not take
	// it down (Up true: a payload not understood, a change_watchers row
	// not written).
	Err error
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
	bg     sync.WaitGroup // the Sharers' reads, which Stop waits for
	pid    atomic.Uint32
	up     atomic.Bool

	instance string // this instance's name in change_watchers
	wmu      sync.Mutex
	users    map[auth.UserID]*watchEntry
	active   map[auth.UserID]bool // users with a row
}

// watchEntry counts one user's streams on this instance.
type watchEntry struct {
	mu   sync.Mutex      // held while the row is written or removed
	n    int             // streams
	refs int             // Watch calls and stops holding the entry (under wmu)
	seen application.Seq // the highest head published (under wmu)
}

var _ application.ChangeWatcher = (*Listener)(nil)

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
	if opts.WatchTTL <= 0 {
		opts.WatchTTL = time.Minute
	}
	if opts.RaceWindow <= 0 {
		opts.RaceWindow = 6 * time.Second
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = time.Second
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "todo-listen"
	}
	var b [8]byte
	_, _ = crand.Read(b[:])
	return &Listener{cfg: cfg, sink: sink, opts: opts, done: make(chan struct{}),
		instance: hex.EncodeToString(b[:]), users: map[auth.UserID]*watchEntry{}, active: map[auth.UserID]bool{}}, nil
}

// Watch implements application.ChangeWatcher: the hub's watch, and the
// user's change_watchers row written before it returns, so that writes
// committed from then on notify (see ListenOptions.RaceWindow for those
// already under way).
func (l *Listener) Watch(owner auth.UserID, notify func()) (<-chan application.Wake, func()) {
	ch, stop := l.sink.Watch(owner, notify)
	if l.opts.DB == nil {
		return ch, stop
	}
	l.wmu.Lock()
	e := l.users[owner]
	if e == nil {
		e = &watchEntry{}
		l.users[owner] = e
	}
	e.refs++
	l.wmu.Unlock()
	e.mu.Lock()
	if e.n == 0 {
		l.register(owner)
	}
	e.n++
	e.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			stop()
			e.mu.Lock()
			if e.n--; e.n == 0 {
				l.unregister(owner)
			}
			e.mu.Unlock()
			l.wmu.Lock()
			if e.refs--; e.refs == 0 {
				delete(l.users, owner)
			}
			l.wmu.Unlock()
		})
	}
}

// watchStatement bounds each statement on change_watchers.
const watchStatement = 5 * time.Second

func (l *Listener) register(owner auth.UserID) {
	ctx, cancel := context.WithTimeout(context.Background(), watchStatement)
	defer cancel()
	_, err := l.opts.DB.NewRaw("INSERT INTO change_watchers (user_id, instance, expires_at) VALUES (?, ?, now() + make_interval(secs => ?))"+
		" ON CONFLICT (user_id, instance) DO UPDATE SET expires_at = EXCLUDED.expires_at",
		string(owner), l.instance, l.opts.WatchTTL.Seconds()).Exec(ctx)
	if err != nil {
		l.opts.OnEvent(ListenEvent{Up: true, Err: fmt.Errorf("register watcher: %w", err)})
	}
	l.wmu.Lock()
	l.active[owner] = true
	l.wmu.Unlock()
	time.AfterFunc(l.opts.RaceWindow, func() { l.sink.Publish(owner, 0) })
}

func (l *Listener) unregister(owner auth.UserID) {
	l.wmu.Lock()
	delete(l.active, owner)
	l.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), watchStatement)
	defer cancel()
	_, _ = l.opts.DB.NewRaw("DELETE FROM change_watchers WHERE user_id = ? AND instance = ?", string(owner), l.instance).Exec(ctx)
}

// refresh writes the rows of every user with streams here again, with a
// new expiry (after a restart of PostgreSQL the UNLOGGED table is empty),
// and drops rows that expired a while ago (crashed instances').
func (l *Listener) refresh(ctx context.Context) error {
	if l.opts.DB == nil {
		return nil
	}
	l.wmu.Lock()
	users := make([]string, 0, len(l.active))
	for u := range l.active {
		users = append(users, string(u))
	}
	l.wmu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, watchStatement)
	defer cancel()
	if len(users) > 0 {
		if _, err := l.opts.DB.NewRaw("INSERT INTO change_watchers (user_id, instance, expires_at)"+
			" SELECT u, ?, now() + make_interval(secs => ?) FROM unnest(?::text[]) AS u"+
			" ON CONFLICT (user_id, instance) DO UPDATE SET expires_at = EXCLUDED.expires_at",
			l.instance, l.opts.WatchTTL.Seconds(), pgdialect.Array(users)).Exec(ctx); err != nil {
			return fmt.Errorf("refresh watchers: %w", err)
		}
	}
	if _, err := l.opts.DB.NewRaw("DELETE FROM change_watchers WHERE expires_at < now() - interval '1 minute'").Exec(ctx); err != nil {
		return fmt.Errorf("drop expired watchers: %w", err)
	}
	return nil
}

// keepRows refreshes the rows every WatchTTL/3 until ctx ends, then
// removes this instance's rows.
func (l *Listener) keepRows(ctx context.Context) {
	t := time.NewTicker(l.opts.WatchTTL / 3)
	defer t.Stop()
	check := time.NewTicker(l.opts.CheckInterval)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), watchStatement)
			defer cancel()
			_, _ = l.opts.DB.NewRaw("DELETE FROM change_watchers WHERE instance = ?", l.instance).Exec(dctx)
			return
		case <-t.C:
			if err := l.refresh(ctx); err != nil && ctx.Err() == nil {
				l.opts.OnEvent(ListenEvent{Up: true, Err: err})
			}
		case <-check.C:
			if err := l.check(ctx); err != nil && ctx.Err() == nil {
				l.opts.OnEvent(ListenEvent{Up: true, Err: err})
			}
		}
	}
}

// check reads the heads of the users with streams here (none: no
// statement) and publishes each one above what the listener last
// published for its user: a change committed by an instance that died
// before its publisher sent it, or whose notification was lost.
func (l *Listener) check(ctx context.Context) error {
	l.wmu.Lock()
	users := make([]string, 0, len(l.active))
	for u := range l.active {
		users = append(users, string(u))
	}
	l.wmu.Unlock()
	if len(users) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, watchStatement)
	defer cancel()
	var heads []struct {
		UserID string `bun:"user_id"`
		Seq    int64  `bun:"seq"`
	}
	if err := l.opts.DB.NewRaw("SELECT user_id, seq FROM change_heads WHERE user_id = ANY(?)", pgdialect.Array(users)).Scan(ctx, &heads); err != nil {
		return fmt.Errorf("check heads: %w", err)
	}
	for _, h := range heads {
		l.publish(auth.UserID(h.UserID), application.Seq(h.Seq), nil, true)
	}
	return nil
}

// publish hands owner's head, with its keys when it has them, to the sink
// and remembers it for check; onlyNew (the check) publishes only a head
// above the one remembered.
func (l *Listener) publish(owner auth.UserID, head application.Seq, keys *application.KeyRun, onlyNew bool) {
	l.wmu.Lock()
	if e := l.users[owner]; e != nil {
		if onlyNew && head <= e.seen {
			l.wmu.Unlock()
			return
		}
		e.seen = max(e.seen, head)
	} else if onlyNew {
		l.wmu.Unlock()
		return
	}
	l.wmu.Unlock()
	l.sink.PublishKeys(owner, head, keys) // nil keys: Publish
}

// Start connects and listens in the background, until Stop. It returns at
// once: a database that cannot be reached yet is retried.
func (l *Listener) Start() {
	l.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		var wg sync.WaitGroup
		if l.opts.DB != nil {
			wg.Add(1)
			go func() { defer wg.Done(); l.keepRows(ctx) }()
		}
		inner := make(chan struct{})
		go func() { l.run(ctx, inner) }()
		// bg.Add runs in run, before inner closes: no Add after Wait.
		go func() { <-inner; wg.Wait(); l.bg.Wait(); close(l.done) }()
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

func (l *Listener) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	backoff := l.opts.MinBackoff
	for first := true; ; first = false {
		listened, err := l.session(ctx, !first)
		l.up.Store(false)
		l.pid.Store(0)
		if l.opts.Sharers != nil {
			l.opts.Sharers.lost()
		}
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
		if !sleep(ctx, wait) {
			return
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
	listen := "LISTEN " + pgx.Identifier{application.ChangeChannel}.Sanitize()
	if l.opts.Sharers != nil {
		listen += "; LISTEN " + pgx.Identifier{MembersChannel}.Sanitize()
	}
	if _, err := conn.Exec(ctx, listen); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	l.pid.Store(conn.PgConn().PID())
	l.up.Store(true)
	if s := l.opts.Sharers; s != nil {
		// Listening first, then the read: a membership committed after
		// LISTEN is notified, one committed before is read.
		epoch := s.listening()
		l.bg.Add(1)
		go func() {
			defer l.bg.Done()
			s.reload(ctx, epoch, func(err error) { l.opts.OnEvent(ListenEvent{Up: true, Err: err}) })
		}()
	}
	// Rows may be gone (PostgreSQL restarted: the table is UNLOGGED).
	if err := l.refresh(ctx); err != nil {
		l.opts.OnEvent(ListenEvent{Up: true, Err: err})
	}
	if resync {
		l.sink.Resync()
	}
	l.opts.OnEvent(ListenEvent{Up: true})
	for {
		wctx, cancel := context.WithTimeout(ctx, l.opts.Ping)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil && n.Channel == MembersChannel && l.opts.Sharers != nil:
			if n.Payload != "" {
				l.opts.Sharers.Add(auth.UserID(n.Payload))
			}
		case err == nil:
			// A head per line, each with its keys when the publisher sent
			// them (notice.go); a notification from a writer's trigger
			// (before 20261214000010, while instances are replaced) holds
			// one head.
			decodeNotices(n.Payload, func(c changeNotice) { l.publish(c.owner, c.head, c.keys, false) },
				func(err error) { l.opts.OnEvent(ListenEvent{Up: true, Err: err}) })
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

// ChangeNotice is one pair of a notification's payload, for owner's
// change head: what the publisher sends, a line per head.
func ChangeNotice(owner auth.UserID, head application.Seq) string {
	return strconv.FormatUint(uint64(head), 10) + " " + string(owner)
}
