package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
// Listener (ListenOptions.Sharers). A removal leaves the user in the set
// until a sweep (Sweep, every SharersOptions.SweepEvery in the service)
// finds them in no list_members row: a true answer only costs the shared
// statement, which checks the membership itself, but the fast path is
// lost for good without the sweep. The set is read again, and merged in,
// when the Listener listens again (what was notified while it did not
// listen is lost); until that read has finished, and whenever the
// Listener does not listen, MayRead answers true for everyone.
//
// Why a sweep cannot drop a member: every writer of a new membership row
// (MemberRepository: Accept, a hand-over's old owner) takes the sharers
// lock shared (lockSharers, PostgreSQL; SQLite's write lock), then adds
// the user here, then writes the row, in one transaction (a role change
// writes a row that exists, of a user a sweep keeps). A
// sweep notes the set's add count, takes that lock exclusively, which it
// gets only when no such transaction is in flight on any instance (their
// rows are then committed, and its read sees them) and which holds off
// new ones, reads the members, and drops only the users it did not read
// and that were not added here since it noted the count. It tries the
// lock rather than waiting in PostgreSQL's lock queue, where it would
// hold every new membership write behind it for as long as a writer in
// flight waits for another lock (TestSharersSweepQueuesNoWriter). A row committed after its
// read was written after its lock, by a writer that adds the user on its
// own instance first and notifies the others, as for any new member.
type Sharers struct {
	db *bun.DB
	// listened: on PostgreSQL (without SharersOptions.Local) the set
	// answers only while a Listener listens.
	listened bool
	opts     SharersOptions

	mu sync.RWMutex
	// users maps each user to the add count (adds) when they were last
	// added: a sweep keeps those added after it began.
	users map[auth.UserID]uint64
	adds  uint64
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
	// SweepEvery is how often the service sweeps the set (Sweep), so that
	// a user removed from every list gets the owner-only statements
	// again; default 10 minutes. Each sweep holds off membership writes
	// on every instance for the one read of list_members_user_idx.
	SweepEvery time.Duration
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
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = 10 * time.Minute
	}
	pg := db.Dialect().Name() == dialect.PG
	return &Sharers{db: db, listened: pg && !opts.Local, opts: opts, users: map[auth.UserID]uint64{}}
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
//
// A writer that may run while the set is swept (Sweep) takes the sharers
// lock first, in the transaction that writes the row (lockSharers), as
// MemberRepository does: otherwise a sweep may drop the user between
// this call and the commit.
func (s *Sharers) Add(user auth.UserID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adds++
	s.users[user] = s.adds
}

// SweepEvery is how often the service sweeps the set (SharersOptions).
func (s *Sharers) SweepEvery() time.Duration { return s.opts.SweepEvery }

// Sweep drops from the set the users who are in no list_members row, so
// that their task queries are the owner's alone again, and returns how
// many. It waits for every membership write in flight (the sharers lock,
// see Sharers) and holds the next ones off for its one read; a user added
// meanwhile stays.
func (s *Sharers) Sweep(ctx context.Context) (int, error) {
	s.mu.RLock()
	began := s.adds
	s.mu.RUnlock()
	var members []string
	wait := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		locked := false
		err := inTx(ctx, s.db, func(ctx context.Context) error {
			x := bunRunner{db: conn(ctx, s.db), pg: s.db.Dialect().Name() == dialect.PG}
			locked = !x.pg // SQLite: the transaction (BEGIN IMMEDIATE) holds the write lock, as every writer's does
			if x.pg {
				// Exclusive: every writer of a membership holds it
				// shared from before its Add to its commit. Tried, not
				// awaited: a sweep in PostgreSQL's lock queue would hold
				// every membership write of every instance behind it,
				// for as long as a writer holding the lock shared waits
				// for a row or scope lock (a role change for the owner's
				// scope lock behind a long write of theirs).
				if err := x.idb().NewRaw("SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0))", sharersLockKey).Scan(ctx, &locked); err != nil {
					return fmt.Errorf("lock sharers: %w", err)
				}
				if !locked {
					return nil
				}
			}
			members = nil
			return x.idb().NewRaw("SELECT DISTINCT user_id FROM list_members").Scan(ctx, &members)
		})
		if err != nil {
			return 0, fmt.Errorf("sweep sharers: %w", err)
		}
		if locked {
			break
		}
		if attempt >= sweepAttempts {
			return 0, errSweepBusy
		}
		if !sleep(ctx, wait+rand.N(wait)) {
			return 0, fmt.Errorf("sweep sharers: %w", ctx.Err())
		}
		wait = min(2*wait, time.Second)
	}
	keep := make(map[auth.UserID]bool, len(members))
	for _, u := range members {
		keep[auth.UserID(u)] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for u, at := range s.users {
		if !keep[u] && at <= began {
			delete(s.users, u)
			n++
		}
	}
	return n, nil
}

// sweepAttempts bounds a sweep's tries of the sharers lock (Sweep), after
// pauses of 10 ms doubling to 1 s, jittered: 20 to 40 s in all.
const sweepAttempts = 25

// errSweepBusy is a sweep that never found the sharers lock free: the set
// is swept next time.
var errSweepBusy = errors.New("sweep sharers: membership writes held the sharers lock at every try")

// sharersLockKey names the advisory lock of membership writes against a
// sweep (Sharers).
const sharersLockKey = "todo-backend sharers"

// lockSharers takes, in x's transaction on PostgreSQL, the sharers lock
// shared: a membership write's, held from before its Sharers.Add to its
// commit, so that a sweep waits for it (Sharers). SQLite's transaction
// holds the write lock already.
func lockSharers(ctx context.Context, x runner) error {
	if !x.sql().pg {
		return nil
	}
	if _, err := x.idb().ExecContext(ctx, "SELECT pg_advisory_xact_lock_shared(hashtextextended(?, 0))", sharersLockKey); err != nil {
		return fmt.Errorf("lock sharers: %w", err)
	}
	return nil
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
	s.adds++
	for _, u := range users {
		s.users[auth.UserID(u)] = s.adds
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
