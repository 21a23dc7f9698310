package sqlstore_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// eventLog collects what the guard told through Options.OnEvent.
type eventLog struct {
	mu   sync.Mutex
	got  []sqlstore.Event
	seen chan sqlstore.EventKind
}

func newEventLog() *eventLog { return &eventLog{seen: make(chan sqlstore.EventKind, 64)} }

func (l *eventLog) add(e sqlstore.Event) {
	l.mu.Lock()
	l.got = append(l.got, e)
	l.mu.Unlock()
	l.seen <- e.Kind
}

func (l *eventLog) events() []sqlstore.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sqlstore.Event(nil), l.got...)
}

// await waits for the next event, which must be want. The 60 s is a hang
// guard, not a measure.
func (l *eventLog) await(t *testing.T, want sqlstore.EventKind) {
	t.Helper()
	select {
	case got := <-l.seen:
		if got != want {
			t.Fatalf("event %v, want %v", got, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no %v within 60 s", want)
	}
}

// TestBreakerBlackhole puts a TCP proxy between the store and PostgreSQL
// and black-holes it. A statement that runs out of time makes the breaker
// probe; the probe is silent too, so the breaker opens: the statement
// still in flight is cut long before its own 30 s bound, and every later
// statement, Bun's and the hand-written ones alike, and the readiness ping
// are refused at once with ErrBreakerOpen (a application.ErrUnavailable), without
// touching the network. Healed, the probe closes the breaker by itself and
// the same DB serves again.
func TestBreakerBlackhole(t *testing.T) {
	t.Parallel()
	dbURL := testenv.FreshSchema(t, "breaker")
	u, _ := url.Parse(dbURL)
	p := testenv.NewProxy(t, u.Host)
	proxied := *u
	proxied.Host = p.Addr
	ev := newEventLog()
	const bound = 30 * time.Second // DB_TIMEOUT: large, so that only the breaker can answer before it
	db := open(t, proxied.String(), sqlstore.Options{Timeout: bound, ProbeTimeout: 500 * time.Millisecond,
		MaxOpenConns: 4, OnEvent: ev.add})
	if err := sqlstore.Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	repo := sqlstore.NewTaskRepository(db)
	owner := auth.UserID("breaker-user")
	tk, err := task.New(owner, "before", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Add(t.Context(), tk); err != nil {
		t.Fatalf("Add before the black hole: %v", err)
	}

	p.Blackhole()
	// A statement in flight, bounded only by the 30 s.
	inFlight := make(chan error, 1)
	var inFlightTook time.Duration
	go func() {
		start := time.Now()
		_, err := db.ExecContext(context.Background(), "SELECT 1")
		inFlightTook = time.Since(start)
		inFlight <- err
	}()
	// A request whose own deadline is short times out first.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	_, err = repo.List(ctx, owner, task.Query{})
	cancel()
	if !errors.Is(err, application.ErrUnavailable) {
		t.Errorf("List on a black hole = %v, want ErrUnavailable", err)
	}
	ev.await(t, sqlstore.BreakerOpened)
	if err := <-inFlight; !errors.Is(err, sqlstore.ErrBreakerOpen) || !errors.Is(err, application.ErrUnavailable) {
		t.Errorf("the statement in flight = %v, want ErrBreakerOpen and ErrUnavailable", err)
	}
	if inFlightTook >= bound {
		t.Errorf("the statement in flight took %v, its whole bound; want it cut when the breaker opened", inFlightTook)
	}

	var took []time.Duration
	for _, c := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"Bun query", func(ctx context.Context) error {
			var n int
			return db.NewRaw("SELECT 1").Scan(ctx, &n)
		}},
		{"hand-written List", func(ctx context.Context) error { _, err := repo.List(ctx, owner, task.Query{}); return err }},
		{"hand-written Add", func(ctx context.Context) error { _, err := repo.Add(ctx, tk); return err }},
		{"transaction", func(ctx context.Context) error {
			tx, err := db.BeginTx(ctx, nil)
			if err == nil {
				tx.Rollback()
			}
			return err
		}},
		{"readiness ping", db.PingContext},
	} {
		start := time.Now()
		err := c.run(t.Context())
		took = append(took, time.Since(start))
		if !errors.Is(err, sqlstore.ErrBreakerOpen) || !errors.Is(err, application.ErrUnavailable) {
			t.Errorf("%s while open = %v, want ErrBreakerOpen and ErrUnavailable", c.name, err)
		}
	}

	p.Heal(t)
	ev.await(t, sqlstore.BreakerClosed)
	if _, err := repo.Add(t.Context(), tk); err != nil {
		t.Errorf("Add after healing: %v", err)
	}
	page, err := repo.List(t.Context(), owner, task.Query{})
	if err != nil || len(page.Tasks) != 2 {
		t.Errorf("List after healing = %d tasks, %v; want 2, nil", len(page.Tasks), err)
	}
	es := ev.events()
	for _, e := range es {
		t.Logf("event: %v (%v) down %v", e.Kind, e.Err, e.Down.Round(time.Millisecond))
	}
	if len(es) != 2 {
		t.Errorf("%d events, want opened and closed", len(es))
	}
	t.Logf("figures: breaker: the statement in flight was cut after %v (bound %v); refused while open in %v",
		inFlightTook.Round(time.Millisecond), bound, took)
}
