package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/todo-backend/todo/application"
)

// fakeDB is the probe's view of a database: silent (every dial waits out its
// deadline) or answering.
type fakeDB struct {
	silent atomic.Bool
	dials  atomic.Int64
}

func (f *fakeDB) dial(ctx context.Context) error {
	f.dials.Add(1)
	if f.silent.Load() {
		<-ctx.Done()
		return fmt.Errorf("dial: %w", ctx.Err())
	}
	return nil
}

// events records what a breaker told.
type events struct {
	mu  sync.Mutex
	got []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) kinds() []EventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []EventKind
	for _, ev := range e.got {
		out = append(out, ev.Kind)
	}
	return out
}

// TestBreaker drives the breaker through a silent database on a fake clock:
// a timeout alone opens nothing; a silent probe opens it, cuts the
// statement in flight and refuses the next one at once; probes retry with
// backoff and the first that gets an answer closes it; the DB's close stops
// the probe (the bubble fails if any goroutine is left).
func TestBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		var ev events
		b := newBreaker(db.dial, 2*time.Second, ev.add)
		defer b.close()

		// An ordinary error starts no probe; a timeout on a database that
		// answers starts one, which finds it well: a false alarm.
		if err := b.observe(&pgconn.PgError{Code: "23505"}); b.admit() != nil || err == nil {
			t.Fatalf("after a unique violation: admit = %v, observe = %v", b.admit(), err)
		}
		synctest.Wait()
		if n := db.dials.Load(); n != 0 {
			t.Errorf("a unique violation probed %d times, want 0", n)
		}
		b.observe(fmt.Errorf("query: %w", context.DeadlineExceeded))
		synctest.Wait()
		if n, k := db.dials.Load(), ev.kinds(); n != 1 || len(k) != 0 || b.admit() != nil {
			t.Fatalf("false alarm: %d probes, events %v, admit %v; want 1 probe, no event, admitted", n, k, b.admit())
		}

		// The database goes silent with a statement in flight.
		db.silent.Store(true)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		defer b.watch(cancel)()
		start := time.Now()
		b.observe(fmt.Errorf("ping: %w", syscall.EHOSTUNREACH))
		<-ctx.Done()
		if took := time.Since(start); took != 2*time.Second {
			t.Errorf("the statement in flight was cut after %v, want when the 2s probe failed", took)
		}
		err := b.observe(fmt.Errorf("query: %w", ctx.Err()))
		if !errors.Is(err, ErrBreakerOpen) || !errors.Is(err, application.ErrUnavailable) {
			t.Errorf("the cut statement's error = %v, want ErrBreakerOpen and ErrUnavailable", err)
		}
		if err := b.admit(); !errors.Is(err, ErrBreakerOpen) || !errors.Is(err, application.ErrUnavailable) {
			t.Errorf("admit while open = %v, want ErrBreakerOpen and ErrUnavailable", err)
		}
		if k := ev.kinds(); len(k) != 1 || k[0] != BreakerOpened {
			t.Errorf("events = %v, want [breaker opened]", k)
		}

		// Silent for 30 s: a probe every probe timeout plus a backoff that
		// grows from 100 ms to 1 s: 11 probes (15 without backoff, 7 if it
		// grew without bound), not one per failed statement.
		before := db.dials.Load()
		for range 1000 {
			b.observe(context.DeadlineExceeded) // statements keep failing meanwhile
		}
		time.Sleep(30 * time.Second)
		if n := db.dials.Load() - before; n < 9 || n > 12 {
			t.Errorf("%d probes in 30 s of silence, want 11", n)
		}

		// Back: the next probe closes it, and statements run again on a new
		// epoch that nothing has cut.
		db.silent.Store(false)
		time.Sleep(3 * time.Second) // longer than a probe and the longest backoff
		if err := b.admit(); err != nil {
			t.Errorf("admit after the database answered = %v, want nil", err)
		}
		ctx2, cancel2 := context.WithCancel(t.Context())
		defer cancel2()
		defer b.watch(cancel2)()
		if ctx2.Err() != nil {
			t.Errorf("a statement after closing was cut at once")
		}
		if k := ev.kinds(); len(k) != 2 || k[1] != BreakerClosed {
			t.Errorf("events = %v, want [breaker opened breaker closed]", k)
		} else if down := ev.got[1].Down; down < 30*time.Second {
			t.Errorf("closed after %v down, want at least the 30 s of silence", down)
		}

		// Silent again, then the DB closes while the probe waits: close
		// returns and no goroutine is left (synctest.Test checks).
		db.silent.Store(true)
		b.observe(context.DeadlineExceeded)
		time.Sleep(5 * time.Second)
		if b.admit() == nil {
			t.Errorf("silent again: admit = nil, want refused")
		}
	})
}

// TestSilent: what counts as "no answer came".
func TestSilent(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("connect: %w", syscall.ETIMEDOUT), true},
		{fmt.Errorf("connect: %w", syscall.EHOSTUNREACH), true},
		{fmt.Errorf("connect: %w", syscall.ENETUNREACH), true},
		{fmt.Errorf("connect: %w", syscall.ECONNREFUSED), false}, // an answer: nobody listens
		{context.Canceled, false},                                // the client left
		{&pgconn.PgError{Code: "57014"}, false},                  // the server cancelled it: it answers
		{&pgconn.PgError{Code: "53300"}, false},                  // too many connections: it answers
	} {
		if got := silent(tt.err); got != tt.want {
			t.Errorf("silent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
