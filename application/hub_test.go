package application_test

import (
	"reflect"
	"sync"
	"testing"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// TestHubWakesOwnersWatchers: a publish wakes every watcher of its user and
// no other user's; a stopped watcher is no longer woken.
func TestHubWakesOwnersWatchers(t *testing.T) {
	t.Parallel()
	h := application.NewHub()
	a1, stopA1 := h.Watch("alice", nil)
	a2, stopA2 := h.Watch("alice", nil)
	b, stopB := h.Watch("bob", nil)
	defer stopA2()
	defer stopB()

	h.Publish("alice", 7)
	for i, ch := range []<-chan application.Wake{a1, a2} {
		select {
		case w := <-ch:
			if !reflect.DeepEqual(w, application.Wake{Head: 7}) {
				t.Errorf("alice's watcher %d got %+v, want Head 7", i, w)
			}
		default:
			t.Errorf("alice's watcher %d was not woken", i)
		}
	}
	select {
	case w := <-b:
		t.Errorf("bob's watcher got %+v from alice's publish", w)
	default:
	}

	stopA1()
	stopA1() // twice is fine
	if got := h.Watchers("alice"); got != 1 {
		t.Errorf("Watchers(alice) = %d after one stopped, want 1", got)
	}
	h.Publish("alice", 8)
	select {
	case w := <-a1:
		t.Errorf("stopped watcher got %+v", w)
	default:
	}
}

// TestHubCoalesces: publishes to a reader that does not read merge into
// one waiting Wake, with the highest Head and Resync if any said so; the
// writer never blocks (the test would hang).
func TestHubCoalesces(t *testing.T) {
	t.Parallel()
	h := application.NewHub()
	ch, stop := h.Watch("alice", nil)
	defer stop()
	for s := application.Seq(1); s <= 1000; s++ {
		h.Publish("alice", s)
	}
	h.Resync()
	h.Publish("alice", 5)
	got := <-ch
	if want := (application.Wake{Head: 1000, Resync: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("coalesced wake = %+v, want %+v", got, want)
	}
	select {
	case w := <-ch:
		t.Errorf("a second wake %+v waits, want one", w)
	default:
	}
}

// TestHubNotifies: notify is told of every wake (publish, resync,
// reminder), after the Wake is in the channel, so that a reader without a
// goroutine waiting on it finds it there; another user's publish does not
// tell it; after stop nothing does.
func TestHubNotifies(t *testing.T) {
	t.Parallel()
	h := application.NewHub()
	var ch <-chan application.Wake
	var got []application.Wake
	ch, stop := h.Watch("alice", func() {
		select {
		case w := <-ch:
			got = append(got, w)
		default:
			t.Errorf("notified with the channel empty")
		}
	})
	h.Publish("alice", 3)
	h.Publish("bob", 4)
	h.Resync()
	h.Remind("alice", application.Message{})
	stop()
	h.Publish("alice", 5)
	want := []application.Wake{{Head: 3}, {Resync: true}, {Reminders: []application.Message{{}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("notified of %+v, want %+v", got, want)
	}
}

// TestHubResyncReachesEveryone: Resync wakes every watcher of every user.
func TestHubResyncReachesEveryone(t *testing.T) {
	t.Parallel()
	h := application.NewHub()
	var chans []<-chan application.Wake
	for _, u := range []auth.UserID{"a", "b", "c", "c"} {
		ch, stop := h.Watch(u, nil)
		defer stop()
		chans = append(chans, ch)
	}
	h.Resync()
	for i, ch := range chans {
		select {
		case w := <-ch:
			if !w.Resync {
				t.Errorf("watcher %d got %+v, want Resync", i, w)
			}
		default:
			t.Errorf("watcher %d was not woken by Resync", i)
		}
	}
}

// TestHubConcurrent: many writers, watchers coming and going and readers
// at once (run with -race); every reader that watched before the last
// publish sees a Head of at least that publish's.
func TestHubConcurrent(t *testing.T) {
	t.Parallel()
	h := application.NewHub()
	const writers, per = 8, 500
	var readers sync.WaitGroup
	for r := 0; r < 4; r++ {
		ch, stop := h.Watch("alice", nil)
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer stop()
			var last application.Seq
			for last < writers*per { // a lost wake hangs here
				last = max(last, (<-ch).Head)
			}
		}()
	}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= per; i++ {
				_, stop := h.Watch("alice", nil) // churn beside the writes
				h.Publish("alice", application.Seq(w*per+i))
				stop()
			}
		}()
	}
	wg.Wait()
	h.Publish("alice", writers*per) // the highest, whoever wrote it
	readers.Wait()
	if n := h.Watchers(""); n != 0 {
		t.Errorf("Watchers() = %d after every watcher stopped, want 0", n)
	}
}

// run is a KeyRun of task upserts with the given numbers, after from.
func run(from application.Seq, seqs ...application.Seq) *application.KeyRun {
	r := &application.KeyRun{From: from, Changes: []application.Change{}}
	for _, s := range seqs {
		r.Changes = append(r.Changes, application.Change{Seq: s, Entity: application.EntityTask, Op: application.OpUpsert, ID: int64(s)})
	}
	return r
}

// TestHubMergesKeys: wakes with keys that wait for a reader merge into
// one whose keys cover everything from their From up to the merged Head,
// or into one without keys (the reader reads the feed): two runs that
// meet are joined, each number taken from the run that read it; runs that
// do not meet keep the one reaching higher; a head without keys above the
// run's, an unknown head (0) or a Resync drop them; a head without keys
// at or below the run's, or reminders, keep them.
func TestHubMergesKeys(t *testing.T) {
	t.Parallel()
	type pub struct {
		head application.Seq
		keys *application.KeyRun
	}
	for _, tc := range []struct {
		name   string
		pubs   []pub
		remind bool // a reminder after the publishes
		resync bool // a Resync after them
		want   application.Wake
	}{
		{"alone", []pub{{3, run(2, 3)}}, false, false, application.Wake{Head: 3, Keys: run(2, 3)}},
		{"contiguous", []pub{{3, run(2, 3)}, {5, run(3, 5)}}, false, false, application.Wake{Head: 5, Keys: run(2, 3, 5)}},
		{"contiguous, later first", []pub{{5, run(3, 5)}, {3, run(2, 3)}}, false, false, application.Wake{Head: 5, Keys: run(2, 3, 5)}},
		{"overlapping", []pub{{4, run(1, 2, 4)}, {6, run(3, 5, 6)}}, false, false, application.Wake{Head: 6, Keys: run(1, 2, 5, 6)}},
		{"a wider run", []pub{{4, run(3, 4)}, {6, run(1, 2, 4, 6)}}, false, false, application.Wake{Head: 6, Keys: run(1, 2, 4, 6)}},
		{"the same head twice", []pub{{4, run(3, 4)}, {4, run(2, 3, 4)}}, false, false, application.Wake{Head: 4, Keys: run(2, 3, 4)}},
		{"a gap", []pub{{3, run(2, 3)}, {9, run(7, 8, 9)}}, false, false, application.Wake{Head: 9, Keys: run(7, 8, 9)}},
		{"a gap, later first", []pub{{9, run(7, 8, 9)}, {3, run(2, 3)}}, false, false, application.Wake{Head: 9, Keys: run(7, 8, 9)}},
		{"a head without keys above", []pub{{3, run(2, 3)}, {4, nil}}, false, false, application.Wake{Head: 4}},
		{"a head without keys above, first", []pub{{4, nil}, {3, run(2, 3)}}, false, false, application.Wake{Head: 4}},
		{"a head without keys below", []pub{{3, run(2, 3)}, {2, nil}}, false, false, application.Wake{Head: 3, Keys: run(2, 3)}},
		{"an unknown head", []pub{{3, run(2, 3)}, {0, nil}}, false, false, application.Wake{Head: 3, Read: true}},
		{"reminders", []pub{{3, run(2, 3)}}, true, false, application.Wake{Head: 3, Keys: run(2, 3), Reminders: []application.Message{{}}}},
		{"resync", []pub{{3, run(2, 3)}}, false, true, application.Wake{Head: 3, Resync: true}},
	} {
		h := application.NewHub()
		ch, stop := h.Watch("alice", nil)
		for _, p := range tc.pubs {
			h.PublishKeys("alice", p.head, p.keys)
		}
		if tc.remind {
			h.Remind("alice", application.Message{})
		}
		if tc.resync {
			h.Resync()
		}
		if got := <-ch; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v (keys %+v), want %+v (keys %+v)", tc.name, got, got.Keys, tc.want, tc.want.Keys)
		}
		stop()
	}
}

// TestHubKeepsUnknownHeadRead: a head published as unknown (0: the
// listener's RaceWindow wake, "read the feed") stays a read in whatever it
// is merged with (Read, no keys). Merged with a reminder waiting, it came
// out as a Wake of reminders alone (no Head), which a stream answers with
// the reminders and no read; merged with a known head, as that head,
// which a stream that has sent it skips. The stream missed the change
// until the listener's next check.
func TestHubKeepsUnknownHeadRead(t *testing.T) {
	t.Parallel()
	m := application.Message{Type: "task.reminder"}
	remind := func(h *application.Hub) { h.Remind("alice", m) }
	unknown := func(h *application.Hub) { h.Publish("alice", 0) }
	known := func(h *application.Hub) { h.PublishKeys("alice", 3, run(2, 3)) }
	for _, tc := range []struct {
		name string
		do   []func(*application.Hub)
		want application.Wake
	}{
		{"unknown alone", []func(*application.Hub){unknown}, application.Wake{Read: true}},
		{"reminder alone", []func(*application.Hub){remind}, application.Wake{Reminders: []application.Message{m}}},
		{"reminder, then unknown", []func(*application.Hub){remind, unknown}, application.Wake{Read: true, Reminders: []application.Message{m}}},
		{"unknown, then reminder", []func(*application.Hub){unknown, remind}, application.Wake{Read: true, Reminders: []application.Message{m}}},
		{"unknown, reminder, known", []func(*application.Hub){unknown, remind, known}, application.Wake{Head: 3, Read: true, Reminders: []application.Message{m}}},
		{"known, unknown, reminder", []func(*application.Hub){known, unknown, remind}, application.Wake{Head: 3, Read: true, Reminders: []application.Message{m}}},
		{"reminder, known", []func(*application.Hub){remind, known}, application.Wake{Head: 3, Keys: run(2, 3), Reminders: []application.Message{m}}},
	} {
		h := application.NewHub()
		ch, stop := h.Watch("alice", nil)
		for _, f := range tc.do {
			f(h)
		}
		if got := <-ch; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
		stop()
	}
}
