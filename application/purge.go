package application

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// PurgeBatch bounds each step of one purge: at most this many rows of each
// kind, so that a backlog (after downtime, or a shortened retention) is
// worked off in short statements, run after run, instead of one long one
// holding locks.
const PurgeBatch = 1000

// Purger removes for good, whoever they belong to, what has outlived its
// time: tasks and lists in the trash longer than the retention (a list with
// its tasks), and Idempotency-Key records past their TTL. What it removes is a list of steps, one per kind
// (newPurgeSteps): a new kind of record to purge is one more entry there.
// Something outside (bootstrap) decides when it runs; every instance may
// run it, concurrent runs only share the work.
type Purger struct {
	steps []purgeStep
	now   Clock
	batch int
}

// purgeStep is one kind of record the purge removes: at most limit of
// those that expired at now, returning how many.
type purgeStep struct {
	name string // as the report names it: "tasks", "lists", "idempotency_keys"
	run  func(ctx context.Context, now time.Time, limit int) (int, error)
}

// NewPurger returns the purge of trashed tasks and lists older than
// trashRetention and of expired keys. A nil clock means time.Now.
func NewPurger(tasks task.Repository, lists list.Repository, keys IdempotencyStore, trashRetention time.Duration, now Clock) *Purger {
	if now == nil {
		now = time.Now
	}
	return &Purger{steps: newPurgeSteps(tasks, lists, keys, trashRetention), now: now, batch: PurgeBatch}
}

// newPurgeSteps is every kind of record the purge removes, in the order it
// removes them.
func newPurgeSteps(tasks task.Repository, lists list.Repository, keys IdempotencyStore, trashRetention time.Duration) []purgeStep {
	trashedBefore := func(purge func(ctx context.Context, cutoff time.Time, limit int) (int, error)) func(context.Context, time.Time, int) (int, error) {
		return func(ctx context.Context, now time.Time, limit int) (int, error) {
			return purge(ctx, now.Add(-trashRetention), limit)
		}
	}
	return []purgeStep{
		{"tasks", trashedBefore(tasks.PurgeTrash)},
		{"lists", trashedBefore(lists.PurgeTrash)},
		{"idempotency_keys", keys.Purge},
	}
}

// WithChanges adds a last step to the purge: the change feed's tombstones
// older than retention ("change_tombstones"; see ChangeLog.Prune). It
// returns p.
func (p *Purger) WithChanges(c ChangeLog, retention time.Duration) *Purger {
	p.steps = append(p.steps, purgeStep{"change_tombstones", func(ctx context.Context, now time.Time, _ int) (int, error) {
		return c.Prune(ctx, now.Add(-retention))
	}})
	return p
}

// Purged is how many records of one kind a purge removed.
type Purged struct {
	Name    string // "tasks", "idempotency_keys", ...
	Removed int
}

// Purge runs every step once, each removing at most PurgeBatch records, and
// returns how many each removed, in the steps' order. A step that fails
// does not stop the others; the error joins the failed steps' errors, each
// naming its step.
func (p *Purger) Purge(ctx context.Context) ([]Purged, error) {
	now := p.now()
	out := make([]Purged, len(p.steps))
	var errs []error
	for i, s := range p.steps {
		n, err := s.run(ctx, now, p.batch)
		out[i] = Purged{Name: s.name, Removed: n}
		if err != nil {
			errs = append(errs, fmt.Errorf("purge %s: %w", s.name, err))
		}
	}
	return out, errors.Join(errs...)
}
