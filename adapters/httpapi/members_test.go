package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestSharedGroceries: two users plan groceries on one list from their own
// accounts (issue 19's "done when"), through the routes: an invitation by
// email, accepted; the list in both sidebars with the member's role; tasks
// created by either, in the owner's rows; a viewer refused a change with
// the missing task's 404; a stranger and a removed member learn nothing.
func TestSharedGroceries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol, eve := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	for _, u := range []user{bob, carol, eve} { // sign in: the API learns their emails
		wantStatus(t, "sign in", e.call(t, http.MethodGet, u.tasks(), u.token, ""), http.StatusOK)
	}
	res := e.call(t, http.MethodPost, alice.lists(), alice.token, `{"name":"Groceries"}`)
	wantStatus(t, "create list", res, http.StatusCreated)
	var l struct {
		ID int64 `json:"id"`
	}
	mustJSON(t, res, &l)
	members := fmt.Sprintf("%s/%d/members", alice.lists(), l.ID)

	invite := func(u user, role string) int64 {
		t.Helper()
		res := e.call(t, http.MethodPost, members, alice.token, fmt.Sprintf(`{"email":%q,"role":%q}`, u.id+"@example.com", role))
		wantStatus(t, "invite "+role, res, http.StatusCreated)
		var inv struct {
			ID       int64  `json:"id"`
			ListName string `json:"list_name"`
			Role     string `json:"role"`
		}
		mustJSON(t, res, &inv)
		if inv.ListName != "Groceries" || inv.Role != role {
			t.Errorf("invitation = %+v", inv)
		}
		list := e.call(t, http.MethodGet, "/api/"+u.id+"/invitations", u.token, "")
		wantStatus(t, "invitations", list, http.StatusOK)
		var invs []map[string]any
		mustJSON(t, list, &invs)
		if len(invs) != 1 || invs[0]["list_id"] != float64(l.ID) {
			t.Errorf("invitations = %s", list)
		}
		accept := fmt.Sprintf("/api/%s/invitations/%d/accept", u.id, inv.ID)
		wantDetail(t, "accept by another", e.call(t, http.MethodPost, fmt.Sprintf("/api/%s/invitations/%d/accept", eve.id, inv.ID), eve.token, ""), http.StatusNotFound, "Invitation not found")
		wantStatus(t, "accept", e.call(t, http.MethodPost, accept, u.token, ""), http.StatusOK)
		return inv.ID
	}
	invite(bob, "editor")
	invite(carol, "viewer")
	wantDetail(t, "invite a member again", e.call(t, http.MethodPost, members, alice.token, fmt.Sprintf(`{"email":%q,"role":"admin"}`, bob.id+"@example.com")),
		http.StatusConflict, "That email already belongs to the list's owner or one of its members")
	wantDetail(t, "a viewer invites", e.call(t, http.MethodPost, fmt.Sprintf("/api/%s/lists/%d/members", carol.id, l.ID), carol.token, `{"email":"x@example.com","role":"viewer"}`),
		http.StatusNotFound, "List not found")

	res = e.call(t, http.MethodGet, bob.lists(), bob.token, "")
	wantStatus(t, "bob's lists", res, http.StatusOK)
	var side []map[string]any
	mustJSON(t, res, &side)
	if len(side) != 1 || side[0]["role"] != "editor" || side[0]["owner"] != alice.id || side[0]["name"] != "Groceries" {
		t.Errorf("bob's lists = %s", res)
	}
	res = e.call(t, http.MethodGet, fmt.Sprintf("/api/%s/lists/%d/members", bob.id, l.ID), bob.token, "")
	wantStatus(t, "members", res, http.StatusOK)
	var ms []map[string]any
	mustJSON(t, res, &ms)
	if len(ms) != 3 || ms[0]["user_id"] != alice.id || ms[0]["role"] != "owner" || ms[1]["user_id"] != bob.id || ms[1]["email"] != bob.id+"@example.com" {
		t.Errorf("members = %s", res)
	}

	// Bob adds milk to alice's list; alice sees it; carol (viewer) cannot change it.
	res = e.call(t, http.MethodPost, bob.tasks(), bob.token, fmt.Sprintf(`{"title":"milk","list_id":%d}`, l.ID))
	wantStatus(t, "bob creates", res, http.StatusCreated)
	var milk struct {
		ID         int64   `json:"id"`
		UserID     string  `json:"user_id"`
		CreatedBy  string  `json:"created_by"`
		AssigneeID *string `json:"assignee_id"`
	}
	mustJSON(t, res, &milk)
	if milk.UserID != alice.id || milk.CreatedBy != bob.id || milk.AssigneeID != nil {
		t.Errorf("bob's task = %s, want user_id the owner %s, created_by bob, no assignee", res, alice.id)
	}
	// Assignees: the owner or a member of the task's list.
	res = e.call(t, http.MethodPatch, alice.task(milk.ID), alice.token, fmt.Sprintf(`{"assignee_id":%q}`, bob.id))
	wantStatus(t, "assign bob", res, http.StatusOK)
	mustJSON(t, res, &milk)
	if milk.AssigneeID == nil || *milk.AssigneeID != bob.id {
		t.Errorf("assigned = %s", res)
	}
	res = e.call(t, http.MethodGet, fmt.Sprintf("%s?assignee=me&list_id=%d", bob.tasks(), l.ID), bob.token, "")
	if ts := decodeTasks(t, res); len(ts) != 1 || ts[0].ID != milk.ID {
		t.Errorf("bob's ?assignee=me = %s", res)
	}
	res = e.call(t, http.MethodGet, fmt.Sprintf("%s?assignee=%s", alice.tasks(), bob.id), alice.token, "")
	if ts := decodeTasks(t, res); len(ts) != 1 || ts[0].ID != milk.ID {
		t.Errorf("alice's ?assignee=bob = %s", res)
	}
	res = e.call(t, http.MethodGet, alice.tasks()+"?assignee=me", alice.token, "")
	if ts := decodeTasks(t, res); len(ts) != 0 {
		t.Errorf("alice's ?assignee=me = %s", res)
	}
	res = e.call(t, http.MethodPatch, bob.task(milk.ID), bob.token, fmt.Sprintf(`{"assignee_id":%q}`, eve.id))
	wantStatus(t, "assign a stranger", res, http.StatusUnprocessableEntity)
	if !strings.Contains(string(res.body), `"loc":["body","assignee_id"]`) {
		t.Errorf("assign a stranger = %s", res)
	}
	res = e.call(t, http.MethodPost, bob.tasks(), bob.token, fmt.Sprintf(`{"title":"eggs","list_id":%d,"assignee_id":%q}`, l.ID, eve.id))
	wantStatus(t, "create assigned to a stranger", res, http.StatusUnprocessableEntity)
	res = e.call(t, http.MethodPost, bob.tasks(), bob.token, fmt.Sprintf(`{"title":"own","assignee_id":%q}`, alice.id))
	wantStatus(t, "bob's inbox task assigned to alice", res, http.StatusUnprocessableEntity)
	res = e.call(t, http.MethodPost, bob.tasks(), bob.token, fmt.Sprintf(`{"title":"eggs","list_id":%d,"assignee_id":%q}`, l.ID, carol.id))
	wantStatus(t, "create assigned to carol", res, http.StatusCreated)
	res = e.call(t, http.MethodGet, fmt.Sprintf("%s?list_id=%d", alice.tasks(), l.ID), alice.token, "")
	if ts := decodeTasks(t, res); len(ts) != 2 || ts[0].ID != milk.ID {
		t.Errorf("alice's list = %s", res)
	}
	res = e.call(t, http.MethodGet, fmt.Sprintf("%s?list_id=%d", carol.tasks(), l.ID), carol.token, "")
	if ts := decodeTasks(t, res); len(ts) != 2 {
		t.Errorf("carol's view of the list = %s", res)
	}
	wantStatus(t, "carol reads", e.call(t, http.MethodGet, carol.task(milk.ID), carol.token, ""), http.StatusOK)
	wantDetail(t, "carol edits", e.call(t, http.MethodPatch, carol.task(milk.ID), carol.token, `{"title":"oat milk"}`), http.StatusNotFound, "Task not found")
	wantDetail(t, "eve reads", e.call(t, http.MethodGet, eve.task(milk.ID), eve.token, ""), http.StatusNotFound, "Task not found")
	wantDetail(t, "eve's members", e.call(t, http.MethodGet, fmt.Sprintf("/api/%s/lists/%d/members", eve.id, l.ID), eve.token, ""), http.StatusNotFound, "List not found")
	res = e.call(t, http.MethodPatch, bob.complete(milk.ID), bob.token, "")
	wantStatus(t, "bob completes", res, http.StatusOK)

	// Alice removes bob: he reaches nothing of the list any more.
	wantStatus(t, "remove bob", e.call(t, http.MethodDelete, members+"/"+bob.id, alice.token, ""), http.StatusNoContent)
	wantDetail(t, "removed bob reads", e.call(t, http.MethodGet, bob.task(milk.ID), bob.token, ""), http.StatusNotFound, "Task not found")
	wantDetail(t, "removed bob again", e.call(t, http.MethodDelete, members+"/"+bob.id, alice.token, ""), http.StatusNotFound, "Member not found")
	// Carol leaves; alice cannot.
	wantStatus(t, "carol leaves", e.call(t, http.MethodDelete, fmt.Sprintf("/api/%s/lists/%d/members/%s", carol.id, l.ID, carol.id), carol.token, ""), http.StatusNoContent)
	res = e.call(t, http.MethodDelete, members+"/"+alice.id, alice.token, "")
	wantStatus(t, "alice leaves", res, http.StatusUnprocessableEntity)
	var prob struct {
		Detail []struct {
			Loc []any `json:"loc"`
		} `json:"detail"`
	}
	mustJSON(t, res, &prob)
	if len(prob.Detail) != 1 || fmt.Sprint(prob.Detail[0].Loc) != "[path member_user_id]" {
		t.Errorf("alice leaves = %s", res)
	}
}

func mustJSON(t *testing.T, res *response, v any) {
	t.Helper()
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("body %s: %v", res, err)
	}
}
