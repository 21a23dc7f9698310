package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrBreakerOpen is the reason, under application.ErrUnavailable, of every
// statement refused while the database does not answer at all: the breaker
// saw a statement time out and a probe on a fresh connection time out too.
// Refusing at once (503 in milliseconds) is what a client can use; waiting
// out DB_TIMEOUT on a silent network is not.
var ErrBreakerOpen = errors.New("database not answering (breaker open until a probe gets an answer)")

// Defaults of the breaker's probe; Options can change the timeout.
const (
	// DefaultProbeTimeout bounds one probe: a fresh connection (TCP, TLS,
	// authentication) and a ping. Long enough for a distant server on a slow
	// link; a server that has not answered by then is taken as silent.
	DefaultProbeTimeout = 2 * time.Second

	probeBackoffMin = 100 * time.Millisecond
	probeBackoffMax = time.Second
)

// EventKind names what an Event reports.
type EventKind int

// What the guard decides by itself, for the service's log and metrics.
const (
	// BreakerOpened: a statement timed out and so did a probe: from now on
	// statements fail at once, until a probe gets an answer.
	BreakerOpened EventKind = iota + 1
	// BreakerClosed: a probe got an answer; statements run again.
	BreakerClosed
	// ExecModeFallback: the server (a transaction pooler) does not keep
	// named prepared statements between transactions, so the hand-written
	// statements run in exec mode from now on.
	ExecModeFallback
)

func (k EventKind) String() string {
	switch k {
	case BreakerOpened:
		return "breaker opened"
	case BreakerClosed:
		return "breaker closed"
	case ExecModeFallback:
		return "exec mode fallback"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is something the guard decided by itself. Options.OnEvent hears it,
// so that the service can log it once and count it, and this package needs
// no logger.
type Event struct {
	Kind EventKind
	// Err is why: the probe's error that opened the breaker, the answer
	// that closed it (nil when the ping succeeded), or the pooler's error
	// that caused the fallback.
	Err error
	// Down is how long the breaker was open (BreakerClosed only).
	Down time.Duration
}

// breaker makes the service answer at once while the database is silent
// (packets dropped, nothing refused), instead of every statement waiting
// out its deadline. It is one per database, shared by every connection.
//
// Closed, every statement runs. A statement that times out (or a network
// that says "unreachable") does not open it by itself, since a slow query
// or a starved machine time out too: it starts ONE probe, a ping on a fresh
// connection with a short timeout. Only when the probe is silent as well
// does the breaker open: statements are then refused at once, and those
// in flight are cut (their deadline would only confirm the silence). While
// open, the same probe goroutine retries with backoff; the first probe that
// gets any answer closes the breaker, so a database that is back is used at
// once. That probe is the half-open state's trial call: no request is held
// hostage to find out.
//
// An answer that is an error (connection refused, too many connections,
// starting up) closes it too: such errors come back in milliseconds, and the
// statements report them as they always did.
type breaker struct {
	dial         func(context.Context) error // connects afresh and pings
	probeTimeout time.Duration
	notify       func(Event)

	// failing is the error every statement gets while open; nil when closed.
	failing atomic.Pointer[unavailableError]
	// ep is cancelled when the breaker opens, which cuts every statement
	// that watches it (see watch).
	ep atomic.Pointer[epoch]

	mu      sync.Mutex
	probing bool      // the probe goroutine runs
	since   time.Time // when it opened
	stopped bool      // close was called

	stop    context.Context // done when the DB closes
	cancel  context.CancelFunc
	running sync.WaitGroup
}

// epoch is one closed period of the breaker.
type epoch struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newEpoch() *epoch {
	ctx, cancel := context.WithCancel(context.Background())
	return &epoch{ctx: ctx, cancel: cancel}
}

func newBreaker(dial func(context.Context) error, probeTimeout time.Duration, notify func(Event)) *breaker {
	if probeTimeout <= 0 {
		probeTimeout = DefaultProbeTimeout
	}
	if notify == nil {
		notify = func(Event) {}
	}
	b := &breaker{dial: dial, probeTimeout: probeTimeout, notify: notify}
	b.stop, b.cancel = context.WithCancel(context.Background())
	b.ep.Store(newEpoch())
	return b
}

// admit returns the error a statement gets at once while the breaker is
// open, and nil while it is closed: one atomic load on every statement.
func (b *breaker) admit() error {
	if e := b.failing.Load(); e != nil {
		return e
	}
	return nil
}

// watch makes cancel run when the breaker opens, until stop is called.
func (b *breaker) watch(cancel context.CancelFunc) (stop func() bool) {
	return context.AfterFunc(b.ep.Load().ctx, cancel)
}

// observe looks at a statement's (or connection attempt's) error before it
// is classified. A silent database starts the probe; a statement cut
// because the breaker opened under it gets the breaker's error.
func (b *breaker) observe(err error) error {
	if err == nil {
		return nil
	}
	if e := b.failing.Load(); e != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return e
	}
	if silent(err) {
		b.suspect()
	}
	return err
}

// silent reports whether err means "no answer came": a deadline or timeout,
// or a network that says the host cannot be reached (which it says only
// after seconds of unanswered ARP or routing attempts). Not a client that
// went away, and not any answer from the server, error or not.
func silent(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	return false
}

// suspect starts the probe unless one runs.
func (b *breaker) suspect() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.probing || b.stopped {
		return
	}
	b.probing = true
	b.running.Add(1)
	go b.probe()
}

// probe pings on fresh connections until one gets an answer, opening the
// breaker while they do not, and closes it then. Its owner is the DB: close
// stops it.
func (b *breaker) probe() {
	defer b.running.Done()
	wait := probeBackoffMin
	for {
		ctx, cancel := context.WithTimeout(b.stop, b.probeTimeout)
		err := b.dial(ctx)
		cancel()
		if b.stop.Err() != nil {
			return
		}
		if !silent(err) {
			b.closeBreaker(err)
			return
		}
		b.open(err)
		if !sleep(b.stop, wait) {
			return
		}
		wait = min(2*wait, probeBackoffMax)
	}
}

func (b *breaker) open(cause error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failing.Load() != nil || b.stopped {
		return
	}
	b.since = time.Now()
	b.failing.Store(&unavailableError{err: fmt.Errorf("%w: %w", ErrBreakerOpen, cause)})
	b.ep.Load().cancel() // after failing is set: a cut statement finds it
	b.notify(Event{Kind: BreakerOpened, Err: cause})
}

// closeBreaker ends the probe and lets statements run again.
func (b *breaker) closeBreaker(answer error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if b.failing.Load() == nil {
		return // a false alarm: the probe got an answer at once
	}
	b.ep.Store(newEpoch()) // before failing is cleared: no admitted statement watches a cancelled epoch
	b.failing.Store(nil)
	if !b.stopped {
		b.notify(Event{Kind: BreakerClosed, Err: answer, Down: time.Since(b.since)})
	}
}

// close stops the probe and waits for it; the DB's Close calls it.
func (b *breaker) close() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.cancel()
	b.running.Wait()
}

// pingFresh returns a breaker dial for c: a new connection, not one of the
// pool's (which may be the ones stuck), pinged and closed.
func pingFresh(c driver.Connector) func(context.Context) error {
	return func(ctx context.Context) error {
		conn, err := c.Connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if p, ok := conn.(driver.Pinger); ok {
			return p.Ping(ctx)
		}
		return nil
	}
}

// sleep waits d, or until ctx ends: false when ctx ended first (the
// retry loops of the listener, the Sharers and the breaker's probe).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
