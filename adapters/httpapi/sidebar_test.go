package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestSharedSidebar: the sidebar is personal, through the routes. A viewer
// who accepts a list finds it at the bottom of their lists, moves it among
// their own, and nothing the owner sees changes: the owner's order, the
// list's position, version and ETag (the owner's If-Match still holds). A
// member's GET of the list never answers 304: their place is not in the
// ETag.
func TestSharedSidebar(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, carol := e.newUser(t), e.newUser(t)
	wantStatus(t, "sign in", e.call(t, http.MethodGet, carol.tasks(), carol.token, ""), http.StatusOK)
	create := func(u user, name string) int64 {
		t.Helper()
		res := e.call(t, http.MethodPost, u.lists(), u.token, fmt.Sprintf(`{"name":%q}`, name))
		wantStatus(t, "create "+name, res, http.StatusCreated)
		var l struct {
			ID int64 `json:"id"`
		}
		mustJSON(t, res, &l)
		return l.ID
	}
	type entry struct {
		ID       int64  `json:"id"`
		Position string `json:"position"`
		Version  int64  `json:"version"`
		Role     string `json:"role"`
	}
	sidebar := func(u user) ([]int64, map[int64]entry) {
		t.Helper()
		res := e.call(t, http.MethodGet, u.lists(), u.token, "")
		wantStatus(t, "lists", res, http.StatusOK)
		var ls []entry
		mustJSON(t, res, &ls)
		ids, by := []int64{}, map[int64]entry{}
		for _, l := range ls {
			ids = append(ids, l.ID)
			by[l.ID] = l
		}
		return ids, by
	}
	wantOrder := func(what string, u user, want ...int64) map[int64]entry {
		t.Helper()
		got, by := sidebar(u)
		if !slices.Equal(got, want) {
			t.Errorf("%s: lists %v, want %v", what, got, want)
		}
		return by
	}
	groceries, chores := create(alice, "Groceries"), create(alice, "Chores")
	a, b := create(carol, "A"), create(carol, "B")
	res := e.call(t, http.MethodPost, fmt.Sprintf("%s/%d/members", alice.lists(), groceries), alice.token,
		fmt.Sprintf(`{"email":%q,"role":"viewer"}`, carol.id+"@example.com"))
	wantStatus(t, "invite", res, http.StatusCreated)
	var inv struct {
		ID int64 `json:"id"`
	}
	mustJSON(t, res, &inv)
	wantStatus(t, "accept", e.call(t, http.MethodPost, fmt.Sprintf("/api/%s/invitations/%d/accept", carol.id, inv.ID), carol.token, ""), http.StatusOK)
	by := wantOrder("carol after accepting", carol, a, b, groceries)
	if by[groceries].Role != "viewer" {
		t.Errorf("carol's role %q", by[groceries].Role)
	}

	owned := e.call(t, http.MethodGet, fmt.Sprintf("%s/%d", alice.lists(), groceries), alice.token, "")
	wantStatus(t, "alice gets the list", owned, http.StatusOK)
	etag := owned.header.Get("ETag")
	aliceBefore := wantOrder("alice", alice, groceries, chores)

	res = e.call(t, http.MethodPost, fmt.Sprintf("%s/%d/move", carol.lists(), groceries), carol.token, fmt.Sprintf(`{"after_id":%d}`, a))
	wantStatus(t, "carol moves the shared list", res, http.StatusOK)
	var moved entry
	mustJSON(t, res, &moved)
	if res.header.Get("ETag") != etag || moved.Version != aliceBefore[groceries].Version || moved.Position == aliceBefore[groceries].Position {
		t.Errorf("carol's move = ETag %s, %+v; want ETag %s, version %d, carol's own position", res.header.Get("ETag"), moved, etag, aliceBefore[groceries].Version)
	}
	by = wantOrder("carol after the move", carol, a, groceries, b)
	if by[groceries].Position != moved.Position {
		t.Errorf("carol's sidebar has the list at %q, the move answered %q", by[groceries].Position, moved.Position)
	}
	// Relative to a list carol does not see: 404, as for her own lists.
	wantDetail(t, "carol moves after alice's private list", e.call(t, http.MethodPost, fmt.Sprintf("%s/%d/move", carol.lists(), groceries), carol.token,
		fmt.Sprintf(`{"after_id":%d}`, chores)), http.StatusNotFound, "List not found")

	after := wantOrder("alice after carol's move", alice, groceries, chores)
	if after[groceries] != aliceBefore[groceries] {
		t.Errorf("alice's list after carol's move = %+v, want %+v", after[groceries], aliceBefore[groceries])
	}
	notModified := func(u user, tag string) int {
		t.Helper()
		return e.do(t, request{method: http.MethodGet, path: fmt.Sprintf("%s/%d", u.lists(), groceries), token: u.token,
			header: http.Header{"If-None-Match": {tag}}}).status
	}
	if got := notModified(alice, etag); got != http.StatusNotModified {
		t.Errorf("alice's GET with If-None-Match = %d, want 304", got)
	}
	if got := notModified(carol, etag); got != http.StatusOK {
		t.Errorf("carol's GET with If-None-Match = %d, want 200 (her place is not in the ETag)", got)
	}
	res = e.do(t, request{method: http.MethodPatch, path: fmt.Sprintf("%s/%d", alice.lists(), groceries), token: alice.token,
		header: http.Header{"If-Match": {etag}}, body: `{"color":"#00aa55"}`})
	wantStatus(t, "alice's If-Match after carol's move", res, http.StatusOK)
}
