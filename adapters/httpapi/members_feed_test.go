package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
)

// TestSharedListFeed (issue 19): a member who joined a shared list over
// the membership routes (invite, accept) sees the owner's write to the
// list in its own GET /changes and on its live stream, with the task's
// data; a stranger's feed stays empty. Memory store, its publisher on the
// hub as the service wires it.
func TestSharedListFeed(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	hub := application.NewHub()
	store.SetPublisher(hub)
	streams := httpapi.NewStreams(0)
	e := newEnv(t, func(d *httpapi.Deps) {
		d.Service = application.New(store.Tasks(), store.Users(), nil, application.WithTransactor(store), application.WithLists(store.Lists()),
			application.WithMembers(store.Members()), application.WithOccurrences(store.Occurrences()), application.WithChanges(store.Changes()))
		d.Idempotency = store.Keys()
		d.Events = application.NewEvents(store.Changes(), hub, memory.NewTicketStore(), time.Now)
		d.Streams = streams
		d.Config.Events.Keepalive = time.Hour
	})
	srv := httptest.NewServer(e.handler)
	t.Cleanup(func() {
		streams.Close()
		srv.Close()
	})
	ee := &eventsEnv{env: e, hub: hub, streams: streams, srv: srv}

	alice, bob, eve := e.newUser(t), e.newUser(t), e.newUser(t)
	for _, u := range []user{bob, eve} { // sign in: the API learns their emails
		wantStatus(t, "sign in", e.call(t, http.MethodGet, u.tasks(), u.token, ""), http.StatusOK)
	}
	res := e.call(t, http.MethodPost, alice.lists(), alice.token, `{"name":"Groceries"}`)
	wantStatus(t, "create list", res, http.StatusCreated)
	var l struct {
		ID int64 `json:"id"`
	}
	mustJSON(t, res, &l)
	res = e.call(t, http.MethodPost, fmt.Sprintf("%s/%d/members", alice.lists(), l.ID), alice.token, fmt.Sprintf(`{"email":%q,"role":"viewer"}`, bob.id+"@example.com"))
	wantStatus(t, "invite", res, http.StatusCreated)
	var inv struct {
		ID int64 `json:"id"`
	}
	mustJSON(t, res, &inv)
	wantStatus(t, "accept", e.call(t, http.MethodPost, fmt.Sprintf("/api/%s/invitations/%d/accept", bob.id, inv.ID), bob.token, ""), http.StatusOK)

	// Joining put the list in bob's feed; his stream starts after it.
	joined := e.changes(t, bob, "", 0)
	if len(joined.Changes) != 1 || joined.Changes[0].Entity != "list" || joined.Changes[0].ID != l.ID || joined.Changes[0].Op != "upsert" {
		t.Fatalf("bob's feed after joining = %+v, want the list", joined)
	}
	c := ee.open(t, bob, bob.token, "?last_event_id="+fmt.Sprint(joined.Changes[0].Seq), nil)

	res = e.call(t, http.MethodPost, alice.tasks(), alice.token, fmt.Sprintf(`{"title":"milk","list_id":%d}`, l.ID))
	wantStatus(t, "alice creates", res, http.StatusCreated)
	var milk struct {
		ID int64 `json:"id"`
	}
	mustJSON(t, res, &milk)

	// The stream: the task's upsert (and the list's counts) reach bob;
	// events name the change, GET /changes gives its data.
	sawTask := false
	for !sawTask {
		ev, d := c.nextEvent(t)
		switch {
		case d.Entity == "task" && d.ID == milk.ID:
			if d.Op != "upsert" {
				t.Fatalf("bob's event for the task = %s", ev.data)
			}
			sawTask = true
		case d.Entity == "list" && d.ID == l.ID:
		default:
			t.Fatalf("bob's stream has %s, want only the shared list and its task", ev.data)
		}
	}

	// GET /changes from the join: the task, with its data.
	p := e.changes(t, bob, joined.Cursor, 0)
	found := false
	for _, ch := range p.Changes {
		if ch.Entity == "task" && ch.ID == milk.ID {
			var d struct {
				Title  string `json:"title"`
				UserID string `json:"user_id"`
			}
			if err := json.Unmarshal(ch.Data, &d); err != nil || ch.Op != "upsert" || d.Title != "milk" || d.UserID != alice.id {
				t.Errorf("bob's change for the task = %+v (%v)", ch, err)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("bob's GET /changes after the owner's write = %+v, want the task", p)
	}
	if got := e.changes(t, eve, "", 0); len(got.Changes) != 0 {
		t.Errorf("a stranger's feed = %+v, want nothing", got)
	}
}
