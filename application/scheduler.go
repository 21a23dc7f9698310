package application

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// Defaults of ReminderOptions.
const (
	DefaultReminderLease     = 30 * time.Second
	DefaultReminderCatchUp   = time.Hour
	DefaultReminderLookahead = 30 * time.Second
	DefaultReminderBatch     = 200
	DefaultReminderWorkers   = 16
)

// Bounds on a user's delivery targets.
const (
	MaxWebhooks          = 10
	MaxPushSubscriptions = 20
)

// ReminderOptions tune Reminders.
type ReminderOptions struct {
	// Lease is how long a claim holds a delivery: another instance takes
	// it over once it ends (after a crash). Every attempt is bounded by
	// the lease, so that a live instance never has its rows taken over.
	Lease time.Duration
	// CatchUp is how far back reminders are still enqueued: one that fell
	// due while no instance ran for longer is dropped, not sent late.
	CatchUp time.Duration
	// Lookahead is how far ahead reminders are enqueued: each row waits in
	// the outbox until its time, so that a delivery does not wait for the
	// scan of the tasks, only for the next claim.
	Lookahead time.Duration
	// Batch bounds a claim; Workers, the deliveries at once.
	Batch, Workers int
	// Backoff is the wait after the n-th failed attempt of a webhook (the
	// webhook adapter's); MaxAttempts, the attempts before giving up.
	Backoff     func(attempt int) time.Duration
	MaxAttempts int
	// Log reports each attempt that did not deliver (nil: none).
	Log func(d Delivery, r DeliveryResult)
	// Stream, when set, is given each reminder as it falls due, for the
	// live streams this instance serves (Hub.Remind). It is not an outbox
	// target: every instance streams to its own streams, once.
	Stream func(owner auth.UserID, m Message)
}

// Reminders are the delivery targets' use cases and the scheduler that
// delivers reminders falling due.
type Reminders struct {
	store DeliveryStore
	tasks task.Repository
	push  PushSender // nil: no Web Push (no VAPID keys)
	hooks WebhookSender
	now   Clock
	o     ReminderOptions

	mu       sync.Mutex
	enqueued map[string]time.Time // keys this instance enqueued, by fires_at
	streams  []DueReminder        // enqueued here, for Stream at their time
	fullScan time.Time            // when the last scan of every task began
	scanned  time.Time            // when the last scan began
}

// Scans: every FullScan, every task with reminders; in between, only
// those updated since the last scan began, less ScanSkew (the clocks of
// the instances that wrote them may differ that much).
const (
	FullScan = 10 * time.Second
	ScanSkew = 5 * time.Second
)

// NewReminders returns the use cases; push may be nil.
func NewReminders(store DeliveryStore, tasks task.Repository, push PushSender, hooks WebhookSender, now Clock, o ReminderOptions) *Reminders {
	if now == nil {
		now = time.Now
	}
	if o.Lease <= 0 {
		o.Lease = DefaultReminderLease
	}
	if o.CatchUp <= 0 {
		o.CatchUp = DefaultReminderCatchUp
	}
	if o.Lookahead <= 0 {
		o.Lookahead = DefaultReminderLookahead
	}
	if o.Batch <= 0 {
		o.Batch = DefaultReminderBatch
	}
	if o.Workers <= 0 {
		o.Workers = DefaultReminderWorkers
	}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return 5 * time.Second }
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	return &Reminders{store: store, tasks: tasks, push: push, hooks: hooks, now: now, o: o, enqueued: map[string]time.Time{}}
}

// NewTargetID returns a new random ID with prefix.
func NewTargetID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// AddWebhook registers rawURL for owner, with a new secret, shown once.
func (r *Reminders) AddWebhook(ctx context.Context, owner auth.UserID, rawURL string) (Webhook, error) {
	if err := r.hooks.CheckURL(rawURL); err != nil {
		return Webhook{}, err
	}
	if hs, err := r.store.Webhooks(ctx, owner); err != nil {
		return Webhook{}, err
	} else if len(hs) >= MaxWebhooks {
		return Webhook{}, &DeliveryTargetError{Field: "url", Reason: fmt.Sprintf("at most %d webhooks per user: delete one first", MaxWebhooks)}
	}
	secret, err := r.hooks.NewSecret()
	if err != nil {
		return Webhook{}, err
	}
	w := Webhook{ID: NewTargetID(WebhookPrefix), URL: rawURL, Secret: secret}
	if err := r.store.AddWebhook(ctx, owner, w, r.now().UTC()); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Webhooks lists owner's webhooks (their secrets too: the caller shows none).
func (r *Reminders) Webhooks(ctx context.Context, owner auth.UserID) ([]StoredWebhook, error) {
	return r.store.Webhooks(ctx, owner)
}

// DeleteWebhook removes one of owner's webhooks.
func (r *Reminders) DeleteWebhook(ctx context.Context, owner auth.UserID, id string) error {
	return r.store.DeleteWebhook(ctx, owner, id)
}

// ErrPushDisabled: the service has no VAPID keys, so takes no subscription.
var ErrPushDisabled = errors.New("web push is not configured on this service (no VAPID keys)")

// AddPushSubscription registers a browser's subscription for owner.
func (r *Reminders) AddPushSubscription(ctx context.Context, owner auth.UserID, s PushSubscription) (StoredPush, error) {
	if r.push == nil {
		return StoredPush{}, ErrPushDisabled
	}
	if err := r.push.CheckSubscription(s); err != nil {
		return StoredPush{}, err
	}
	if ps, err := r.store.PushSubscriptions(ctx, owner); err != nil {
		return StoredPush{}, err
	} else if len(ps) >= MaxPushSubscriptions && !slices.ContainsFunc(ps, func(p StoredPush) bool { return p.Endpoint == s.Endpoint }) {
		return StoredPush{}, &DeliveryTargetError{Field: "endpoint", Reason: fmt.Sprintf("at most %d push subscriptions per user: delete one first", MaxPushSubscriptions)}
	}
	return r.store.AddPushSubscription(ctx, owner, StoredPush{ID: NewTargetID(PushPrefix), PushSubscription: s, CreatedAt: r.now().UTC()})
}

// PushSubscriptions lists owner's subscriptions.
func (r *Reminders) PushSubscriptions(ctx context.Context, owner auth.UserID) ([]StoredPush, error) {
	return r.store.PushSubscriptions(ctx, owner)
}

// DeletePushSubscription removes one of owner's subscriptions.
func (r *Reminders) DeletePushSubscription(ctx context.Context, owner auth.UserID, id string) error {
	return r.store.DeletePushSubscription(ctx, owner, id)
}

// TickStats say what one Tick did.
type TickStats struct {
	Enqueued, Claimed, Delivered, Retried, Dropped int
}

// Tick runs the scheduler once: enqueue the reminders that fell due, then
// claim and deliver due rows, batch after batch, until none is left.
func (r *Reminders) Tick(ctx context.Context) (TickStats, error) {
	var st TickStats
	n, err := r.enqueue(ctx)
	st.Enqueued = n
	if err != nil {
		return st, err
	}
	err = r.deliverDue(ctx, &st)
	return st, err
}

// deliverDue streams the reminders whose time came, then claims and
// delivers due rows, batch after batch, until none is left.
func (r *Reminders) deliverDue(ctx context.Context, st *TickStats) error {
	r.stream(ctx)
	for {
		now := r.now().UTC()
		ds, err := r.store.Claim(ctx, now, r.o.Lease, r.o.Batch)
		if err != nil {
			return err
		}
		st.Claimed += len(ds)
		if len(ds) == 0 {
			return nil
		}
		r.deliverAll(ctx, ds, st)
		if len(ds) < r.o.Batch || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Run schedules until ctx ends, in two loops of period poll: one scans the
// tasks and enqueues the reminders falling due within Lookahead (and
// purges old rows once a minute), the other claims and delivers the rows
// whose time came. A slow scan so delays no delivery already enqueued.
func (r *Reminders) Run(ctx context.Context, poll time.Duration, onErr func(error)) {
	report := func(err error) {
		if err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
	}
	every := func(f func()) {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			f()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		var purged time.Time
		every(func() {
			_, err := r.enqueue(ctx)
			report(err)
			// Rows of reminders older than the catch-up window keep
			// nothing from being enqueued twice any more.
			if now := r.now(); now.Sub(purged) >= time.Minute {
				purged = now
				_, err := r.store.PurgeDeliveries(ctx, now.Add(-r.o.CatchUp-time.Minute))
				report(err)
			}
		})
	})
	wg.Go(func() {
		every(func() {
			var st TickStats
			report(r.deliverDue(ctx, &st))
		})
	})
	wg.Wait()
}

func dueKey(d DueReminder) string {
	return strconv.FormatInt(int64(d.Task), 10) + "|" + d.Reminder + "|" + d.FiresAt.Format(time.RFC3339Nano)
}

// enqueue finds the reminders that fell due within CatchUp or fall due
// within Lookahead, and enqueues those this instance has not enqueued yet
// (another instance's rows are left alone by the store's unique key); each
// row waits for its time.
func (r *Reminders) enqueue(ctx context.Context) (int, error) {
	now := r.now().UTC()
	from := now.Add(-r.o.CatchUp)
	since := r.scanned.Add(-ScanSkew)
	full := now.Sub(r.fullScan) >= min(FullScan, r.o.Lookahead/2)
	if full {
		since = time.Time{}
	}
	ts, err := r.store.RemindedTasks(ctx, since)
	if err != nil {
		return 0, fmt.Errorf("read reminded tasks: %w", err)
	}
	if full {
		r.fullScan = now
	}
	r.scanned = now
	var due []DueReminder
	r.mu.Lock()
	for k, at := range r.enqueued {
		if at.Before(from) {
			delete(r.enqueued, k)
		}
	}
	for _, t := range ts {
		for _, rem := range t.Reminders() {
			at, ok := EffectiveFiresAt(rem, t.Due())
			// A reminder before the task existed is not sent.
			if !ok || at.After(now.Add(r.o.Lookahead)) || at.Before(from) || at.Before(t.CreatedAt().Truncate(time.Second)) {
				continue
			}
			d := DueReminder{Owner: t.Owner(), Task: t.ID(), Reminder: rem.String(), FiresAt: at.UTC()}
			if _, done := r.enqueued[dueKey(d)]; !done {
				due = append(due, d)
			}
		}
	}
	r.mu.Unlock()
	if len(due) == 0 {
		return 0, nil
	}
	n, err := r.store.Enqueue(ctx, due, now)
	if err != nil {
		return 0, fmt.Errorf("enqueue reminders: %w", err)
	}
	r.mu.Lock()
	for _, d := range due {
		r.enqueued[dueKey(d)] = d.FiresAt
	}
	if r.o.Stream != nil {
		r.streams = append(r.streams, due...)
	}
	r.mu.Unlock()
	return n, nil
}

// stream hands Stream the reminders enqueued by this instance whose time
// came (a reminder whose task changed meanwhile is dropped).
func (r *Reminders) stream(ctx context.Context) {
	if r.o.Stream == nil {
		return
	}
	now := r.now()
	r.mu.Lock()
	var due []DueReminder
	kept := r.streams[:0]
	for _, d := range r.streams {
		if d.FiresAt.After(now) {
			kept = append(kept, d)
		} else {
			due = append(due, d)
		}
	}
	r.streams = kept
	r.mu.Unlock()
	for _, d := range due {
		t, err := r.tasks.Get(ctx, d.Owner, d.Task)
		if err != nil {
			continue
		}
		m, ok := reminderMessage(Delivery{Owner: d.Owner, Task: d.Task, Reminder: d.Reminder, FiresAt: d.FiresAt}, t)
		if !ok {
			continue
		}
		m.ID = "rem_" + strconv.FormatInt(int64(d.Task), 10) + "_" + strconv.FormatInt(d.FiresAt.UnixMicro(), 10)
		r.o.Stream(d.Owner, m)
	}
}

func (r *Reminders) deliverAll(ctx context.Context, ds []Delivery, st *TickStats) {
	// Every attempt ends before the lease does, less a margin for the
	// write that finishes it.
	dctx, cancel := context.WithTimeout(ctx, r.o.Lease*9/10)
	defer cancel()
	var mu sync.Mutex
	sem := make(chan struct{}, r.o.Workers)
	var wg sync.WaitGroup
	for _, d := range ds {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			kind := r.deliver(ctx, dctx, d)
			mu.Lock()
			switch kind {
			case DeliveryOK:
				st.Delivered++
			case DeliveryRetry:
				st.Retried++
			default:
				st.Dropped++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// deliver makes one attempt of d and finishes it.
func (r *Reminders) deliver(ctx, dctx context.Context, d Delivery) DeliveryOutcome {
	res := r.attempt(dctx, d)
	done, outcome, retryAt := true, res.Outcome.String(), time.Time{}
	if res.Outcome == DeliveryRetry {
		if d.Attempts >= r.o.MaxAttempts {
			outcome = "gave up"
		} else {
			wait := max(res.RetryAfter, r.o.Backoff(d.Attempts))
			done, retryAt = false, r.now().UTC().Add(wait)
		}
	}
	if res.Outcome != DeliveryOK && r.o.Log != nil {
		r.o.Log(d, res)
	}
	if res.Outcome == DeliveryGone {
		var err error
		if strings.HasPrefix(d.Target, PushPrefix) {
			err = r.store.DeletePushSubscription(ctx, d.Owner, d.Target)
		} else {
			err = r.store.DeleteWebhook(ctx, d.Owner, d.Target)
		}
		if err != nil && !errors.Is(err, ErrTargetNotFound) && r.o.Log != nil {
			r.o.Log(d, DeliveryResult{Outcome: DeliveryGone, Err: fmt.Errorf("remove target: %w", err)})
		}
	}
	// The finishing write gets its own short deadline: the attempt may
	// have used up dctx.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := r.store.Finish(fctx, d, done, outcome, retryAt); err != nil && r.o.Log != nil {
		r.o.Log(d, DeliveryResult{Outcome: res.Outcome, Err: fmt.Errorf("finish delivery: %w", err)})
	}
	return res.Outcome
}

// attempt sends d once to its target. A reminder whose task went, was
// completed or no longer fires at that time is dropped unsent.
func (r *Reminders) attempt(ctx context.Context, d Delivery) DeliveryResult {
	stale := DeliveryResult{Outcome: DeliveryFailed, Err: errors.New("the task or its reminder changed: not sent")}
	t, err := r.tasks.Get(ctx, d.Owner, d.Task)
	if errors.Is(err, task.ErrNotFound) {
		return stale
	}
	if err != nil {
		return DeliveryResult{Outcome: DeliveryRetry, Err: fmt.Errorf("read task: %w", err)}
	}
	m, ok := reminderMessage(d, t)
	if !ok {
		return stale
	}
	switch {
	case strings.HasPrefix(d.Target, WebhookPrefix):
		hooks, err := r.store.Webhooks(ctx, d.Owner)
		if err != nil {
			return DeliveryResult{Outcome: DeliveryRetry, Err: fmt.Errorf("read webhooks: %w", err)}
		}
		for _, w := range hooks {
			if w.ID == d.Target {
				return r.hooks.Send(ctx, w.Webhook, m)
			}
		}
	case strings.HasPrefix(d.Target, PushPrefix) && r.push != nil:
		subs, err := r.store.PushSubscriptions(ctx, d.Owner)
		if err != nil {
			return DeliveryResult{Outcome: DeliveryRetry, Err: fmt.Errorf("read push subscriptions: %w", err)}
		}
		for _, s := range subs {
			if s.ID == d.Target {
				return r.push.Send(ctx, s.PushSubscription, m)
			}
		}
	}
	return DeliveryResult{Outcome: DeliveryFailed, Err: errors.New("the target was removed or push is not configured")}
}

// reminderMessage is d's message: {"task": {...}, "reminder": {...}}; false
// when t no longer has that reminder at that time (edited, completed).
func reminderMessage(d Delivery, t *task.Task) (Message, bool) {
	if t.Completed() {
		return Message{}, false
	}
	var rem task.Reminder
	found := false
	for _, x := range t.Reminders() {
		at, ok := EffectiveFiresAt(x, t.Due())
		if ok && x.String() == d.Reminder && at.Equal(d.FiresAt) {
			rem, found = x, true
		}
	}
	if !found {
		return Message{}, false
	}
	type taskView struct {
		ID      int64   `json:"id"`
		Title   string  `json:"title"`
		DueDate *string `json:"due_date"`
		DueTZ   *string `json:"due_tz"`
	}
	type reminderView struct {
		At      *string `json:"at,omitempty"`
		Before  *string `json:"before,omitempty"`
		FiresAt string  `json:"fires_at"`
	}
	tv := taskView{ID: int64(t.ID()), Title: t.Title()}
	if due := t.Due(); !due.IsZero() {
		s := due.String()
		tv.DueDate = &s
		if z := due.ZoneName(); z != "" {
			tv.DueTZ = &z
		}
	}
	rv := reminderView{FiresAt: d.FiresAt.UTC().Format(time.RFC3339Nano)}
	if at, ok := rem.At(); ok {
		s := at.UTC().Format(time.RFC3339Nano)
		rv.At = &s
	} else if b, ok := rem.Before(); ok {
		s := task.FormatDuration(b)
		rv.Before = &s
	}
	data, _ := json.Marshal(struct {
		Task     taskView     `json:"task"`
		Reminder reminderView `json:"reminder"`
	}{tv, rv})
	return Message{ID: "rem_" + strconv.FormatInt(d.ID, 10), Type: TaskReminder, Timestamp: d.FiresAt, Data: data}, true
}
