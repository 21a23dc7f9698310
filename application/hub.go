package application

import (
	"sync"

	"github.com/todo-backend/todo/domain/auth"
)

// Hub is the in-process ChangeWatcher and ChangePublisher (issue 16): the
// memory and SQLite stores publish to it after their commits, and on
// PostgreSQL the listening connection publishes what it hears. Each watcher
// has a channel of one Wake: a publish never waits for a reader, it merges
// its Wake into the one still waiting (the higher Head, Resync and Read if
// either says so), so a slow reader costs a writer nothing and loses no
// wake.
type Hub struct {
	mu   sync.RWMutex
	subs map[auth.UserID]map[*watch]struct{}
}

var (
	_ ChangeWatcher   = (*Hub)(nil)
	_ ChangePublisher = (*Hub)(nil)
)

// watch is one Watch call: its channel, the lock that makes merging
// into it one step, and the function told of each wake (may be nil).
type watch struct {
	mu     sync.Mutex
	ch     chan Wake
	notify func()
}

// NewHub returns a hub with no watchers.
func NewHub() *Hub {
	return &Hub{subs: map[auth.UserID]map[*watch]struct{}{}}
}

// Watch implements ChangeWatcher. The stop function may be called more
// than once; the channel is never closed (a reader selects on its own
// context too).
func (h *Hub) Watch(owner auth.UserID, notify func()) (<-chan Wake, func()) {
	w := &watch{ch: make(chan Wake, 1), notify: notify}
	h.mu.Lock()
	set := h.subs[owner]
	if set == nil {
		set = map[*watch]struct{}{}
		h.subs[owner] = set
	}
	set[w] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if set := h.subs[owner]; set != nil {
				delete(set, w)
				if len(set) == 0 {
					delete(h.subs, owner)
				}
			}
		})
	}
}

// Publish implements ChangePublisher: it wakes owner's watchers, never
// waiting for them.
func (h *Hub) Publish(owner auth.UserID, head Seq) { h.PublishKeys(owner, head, nil) }

// PublishKeys is Publish with the feed's entries after keys.From up to
// head (see KeyRun), which the watchers' readers may send without reading
// the feed; nil keys is Publish.
func (h *Hub) PublishKeys(owner auth.UserID, head Seq, keys *KeyRun) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for w := range h.subs[owner] {
		w.wake(Wake{Head: head, Keys: keys, Read: head == 0})
	}
}

// Resync wakes every watcher of every user with Resync set: notifications
// may have been lost (the PostgreSQL listener lost its connection), so
// every reader must re-read the feed from where it is.
func (h *Hub) Resync() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, set := range h.subs {
		for w := range set {
			w.wake(Wake{Resync: true})
		}
	}
}

// Remind hands m, a reminder falling due, to owner's watchers in this
// process (their streams send it as an event: reminder), never waiting for
// them. Every instance reminds its own streams, so each stream gets it
// once, from the instance it is connected to.
func (h *Hub) Remind(owner auth.UserID, m Message) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for w := range h.subs[owner] {
		w.wake(Wake{Reminders: []Message{m}})
	}
}

// Watchers reports how many watchers owner has (all users' when owner is
// empty), for tests and metrics.
func (h *Hub) Watchers(owner auth.UserID) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if owner != "" {
		return len(h.subs[owner])
	}
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// wake puts v in the channel, merged with the Wake already waiting there,
// then tells notify.
func (w *watch) wake(v Wake) {
	w.put(v)
	if w.notify != nil {
		w.notify()
	}
}

func (w *watch) put(v Wake) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case old := <-w.ch:
		// A head unknown stays a read (Read): merged into a Wake of
		// reminders alone it looked like one (no Head), and into a known
		// Head a reader had passed, like a change already sent; the
		// reader then skipped the read it asked for.
		v.Keys = mergeKeys(old, v)
		v.Head = max(v.Head, old.Head)
		v.Resync = v.Resync || old.Resync
		v.Read = v.Read || old.Read
		if len(old.Reminders) > 0 {
			v.Reminders = append(old.Reminders, v.Reminders...)
			if len(v.Reminders) > MaxWakeReminders {
				v.Reminders = v.Reminders[len(v.Reminders)-MaxWakeReminders:]
			}
		}
	default:
	}
	// Only wake sends, under w.mu, and the channel was just emptied: this
	// cannot block.
	w.ch <- v
}

// mergeKeys is the KeyRun of two Wakes merged into one, whose Head is the
// higher: one that covers everything from its From up to that Head, or
// nil (the reader then reads the feed). Two runs that meet or overlap are
// joined, each part taken from the run that read it; otherwise the one
// reaching the higher head is kept (a reader behind its From reads). A
// head without keys above the run's, a head unknown (Read) or a Resync
// leave none; a Wake of reminders alone changes nothing.
func mergeKeys(a, b Wake) *KeyRun {
	if a.Resync || b.Resync || a.Read || b.Read {
		return nil
	}
	if a.Keys == nil {
		a, b = b, a
	}
	switch {
	case a.Keys == nil:
		return nil
	case b.Keys == nil && b.Head == 0 && len(b.Reminders) > 0:
		return a.Keys // reminders only
	case b.Keys == nil:
		if b.Head == 0 || b.Head > a.Head {
			return nil
		}
		return a.Keys
	}
	lo, hi := a, b // hi reaches the higher head
	if hi.Head < lo.Head {
		lo, hi = hi, lo
	}
	if lo.Keys.From >= hi.Keys.From || hi.Keys.From > lo.Head {
		return hi.Keys // hi starts no later, or they do not meet
	}
	run := &KeyRun{From: lo.Keys.From, Changes: make([]Change, 0, len(lo.Keys.Changes)+len(hi.Keys.Changes))}
	for _, c := range lo.Keys.Changes {
		if c.Seq <= hi.Keys.From {
			run.Changes = append(run.Changes, c)
		}
	}
	run.Changes = append(run.Changes, hi.Keys.Changes...)
	return run
}
