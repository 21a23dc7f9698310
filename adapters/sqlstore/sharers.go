package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
)

// MembersChannel is the channel on which PostgreSQL tells every instance
// of each new list_members row (migration 20261213000020): the payload is
// the member's user id.
const MembersChannel = "todo_members"

// Sharers knows, without a statement, who may be a member of a shared list
// (issue 19), so that the task queries of everyone else (nearly every
// caller) stay the owner-only statement: asking the database costs a third
// of a request.
//
// It holds the users with at least one list_members row, read once (Load,
// or when a Listener listens) and kept: memory grows with members, not
// users. A user is added before any statement can see their membership:
// MemberRepository (RecordSharers) adds the users it makes members before
// it writes the row, in the writing process; on PostgreSQL the other
// instances hear of the row from its trigger at the commit, through their
// Listener (ListenOptions.Sharers). A removal leaves the user in the set: a
// true answer only costs the shared statement, which checks the membership
// itself. The set is read again, and merged in, when the Listener listens
// again (what was notified while it did not listen is lost); until that
// read has finished, and whenever the Listener does not listen, MayRead
// answers true for everyone.
type Sharers struct {
	db *bun.DB
	// listened: on PostgreSQL (without SharersOptions.Local) the set
	// answers only while a Listener listens.
	listened bool
	opts     SharersOptions

	mu    sync.RWMutex
	users map[auth.UserID]struct{}
	// ready: MayRead answers from users. Set by Load (the set needs no
	// listener) or by a read that began after the Listener last started
	// listening (epoch unchanged since).
	ready bool
	epoch uint64 // bumped each time the Listener starts or stops listening
}

// SharersOptions tune a Sharers; the zero value is the defaults.
type SharersOptions struct {
	// Local says that no other process writes this database's
	// list_members (as on SQLite, always): on PostgreSQL the set then
	// answers after Load without a Listener. For tests and single-instance
	// tools; a service with several instances must leave it false.
	Local bool
	// LoadTimeout bounds the statement that reads the set (the pool's
	// per-statement bound, Options.Timeout, holds too); default 30 s.
	LoadTimeout time.Duration
	// MinRetry and MaxRetry bound the wait before the Listener's read is
	// tried again after a failure (doubling); defaults 100 ms and 5 s.
	MinRetry, MaxRetry time.Duration
}

// NewSharers returns an empty set on a migrated db, that answers true for
// everyone until Load, or until a Listener carrying it listens.
func NewSharers(db *bun.DB, opts SharersOptions) *Sharers {
	if opts.LoadTimeout <= 0 {
		opts.LoadTimeout = 30 * time.Second
	}
	if opts.MinRetry <= 0 {
		opts.MinRetry = 100 * time.Millisecond
	}
	if opts.MaxRetry < opts.MinRetry {
		opts.MaxRetry = max(5*time.Second, opts.MinRetry)
	}
	pg := db.Dialect().Name() == dialect.PG
	return &Sharers{db: db, listened: pg && !opts.Local, opts: opts, users: map[auth.UserID]struct{}{}}
}

// MayRead reports whether user may be a member of a list: false only when
// they certainly are not (their task queries may then leave shared lists
// out); true when they are, were, or while the set cannot tell. It asks
// no database and never fails; the error is for implementations that do.
func (s *Sharers) MayRead(_ context.Context, user auth.UserID) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.ready {
		return true, nil
	}
	_, ok := s.users[user]
	return ok, nil
}

// Add records that user may be a member from now on: for writers of
// list_members other than MemberRepository (tests, tools). Call it before
// the row is written, or at the latest before it commits.
func (s *Sharers) Add(user auth.UserID) {
	s.mu.RLock()
	_, ok := s.users[user]
	s.mu.RUnlock()
	if ok {
		return
	}
	s.mu.Lock()
	s.users[user] = struct{}{}
	s.mu.Unlock()
}

// Ready reports whether MayRead answers from the set (false: it answers
// true for everyone), for the metrics and tests.
func (s *Sharers) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ready
}

// Len is how many users the set holds, for the metrics.
func (s *Sharers) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.users)
}

// Load reads the users with a membership into the set, and, unless the
// set needs a Listener (PostgreSQL without SharersOptions.Local), lets
// MayRead answer from it. Call it at start, after the migrations.
func (s *Sharers) Load(ctx context.Context) error {
	users, err := s.read(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.merge(users)
	if !s.listened {
		s.ready = true
	}
	return nil
}

// read runs the one statement: an index-only scan of
// list_members_user_idx.
func (s *Sharers) read(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.LoadTimeout)
	defer cancel()
	var users []string
	if err := s.db.NewRaw("SELECT DISTINCT user_id FROM list_members").Scan(ctx, &users); err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	return users, nil
}

// merge adds users to the set (under mu). The set is never replaced: a
// user added while the statement ran, whose row it did not see, stays.
func (s *Sharers) merge(users []string) {
	for _, u := range users {
		s.users[auth.UserID(u)] = struct{}{}
	}
}

// listening is the Listener's: its connection listens on MembersChannel
// (again). Notifications committed from now on reach add; those sent
// before may have been lost, so the set is read again, by a statement
// that begins after this call, and MayRead answers from it once that read
// is merged, unless the connection dropped meanwhile. It returns the epoch
// to pass to reload.
func (s *Sharers) listening() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	if s.listened {
		s.ready = false
	}
	return s.epoch
}

// lost is the Listener's: its connection no longer listens, so
// notifications are being lost, and MayRead answers true until the next
// listening and its read.
func (s *Sharers) lost() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	if s.listened {
		s.ready = false
	}
}

// reload reads the set for the listening of epoch, retrying with backoff
// until it succeeds, ctx ends or the epoch is over; report hears each
// failure.
func (s *Sharers) reload(ctx context.Context, epoch uint64, report func(error)) {
	wait := s.opts.MinRetry
	for {
		users, err := s.read(ctx)
		s.mu.Lock()
		current := s.epoch == epoch
		if err == nil {
			s.merge(users) // even for an old epoch: more trues are harmless
			if current && s.listened {
				s.ready = true
			}
		}
		s.mu.Unlock()
		if err == nil || !current || ctx.Err() != nil {
			return
		}
		report(err)
		if !sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, s.opts.MaxRetry)
	}
}
