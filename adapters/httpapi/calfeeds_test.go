package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/httpapi/mw"
)

type feedJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	CreatedAt string `json:"created_at"`
}

func (u user) calendarFeeds() string { return "/api/" + u.id + "/calendar-feeds" }

func createFeed(t *testing.T, e *env, u user, body string) feedJSON {
	t.Helper()
	res := e.do(t, request{method: http.MethodPost, path: u.calendarFeeds(), token: u.token, body: body})
	wantStatus(t, "create calendar feed", res, http.StatusCreated)
	var f feedJSON
	if err := json.Unmarshal(res.body, &f); err != nil {
		t.Fatalf("feed: %v: %s", err, res.body)
	}
	return f
}

// TestCalendarFeed: a feed is created with a /calendar/<43 base64url>.ics
// URL, listed without it, and serves (with no token) the owner's tasks that
// have a due date, open or completed lately, as an iCalendar go-ical reads;
// its ETag answers 304 without a body until a task changes; another user
// cannot revoke it (404); once revoked its URL is 404, as is a malformed
// or unknown secret.
func TestCalendarFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.newUser(t), e.newUser(t)
	dated := func(title, due string) taskJSON {
		res := e.do(t, request{method: http.MethodPost, path: alice.tasks(), token: alice.token, body: `{"title":"` + title + `","due_date":"` + due + `"}`})
		wantStatus(t, "create "+title, res, http.StatusCreated)
		return decodeTask(t, res.body)
	}
	meeting := dated("Meeting", "2027-03-05T09:00:00Z")
	done := dated("Done lately", "2027-03-06")
	wantStatus(t, "complete", e.do(t, request{method: http.MethodPatch, path: alice.complete(done.ID), token: alice.token}), http.StatusOK)
	e.create(t, alice, "No due date")

	f := createFeed(t, e, alice, `{"name":"Phone"}`)
	secret, ok := strings.CutPrefix(f.URL, "/calendar/")
	secret, ok2 := strings.CutSuffix(secret, ".ics")
	if !ok || !ok2 || len(secret) != 43 || !strings.HasPrefix(f.ID, "cf_") || f.Name != "Phone" {
		t.Fatalf("created feed %+v, want a relative /calendar/<43 characters>.ics URL", f)
	}
	unnamed := createFeed(t, e, alice, "")

	list := e.do(t, request{method: http.MethodGet, path: alice.calendarFeeds(), token: alice.token})
	wantStatus(t, "list", list, http.StatusOK)
	if bytes.Contains(list.body, []byte(secret)) || !bytes.Contains(list.body, []byte(f.ID)) || !bytes.Contains(list.body, []byte(unnamed.ID)) {
		t.Errorf("list = %s, want both feeds without a secret", list.body)
	}
	if res := e.do(t, request{method: http.MethodGet, path: bob.calendarFeeds(), token: bob.token}); strings.TrimSpace(string(res.body)) != "[]" {
		t.Errorf("bob's list = %s, want []", res)
	}

	get := func(header http.Header) *response {
		return e.do(t, request{method: http.MethodGet, path: f.URL, header: header})
	}
	res := get(nil)
	wantStatus(t, "feed", res, http.StatusOK)
	if ct := res.header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.header.Get("Cache-Control"); cc != "private, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(res.body)).Decode()
	if err != nil {
		t.Fatalf("go-ical: %v\n%s", err, res.body)
	}
	var titles []string
	for _, c := range cal.Children {
		if c.Name == ical.CompToDo {
			titles = append(titles, c.Props.Get(ical.PropSummary).Value)
		}
	}
	if strings.Join(titles, ",") != "Meeting,Done lately" {
		t.Errorf("VTODOs %q, want Meeting and Done lately (not the task without a due date)", titles)
	}
	etag := res.header.Get("ETag")
	if len(etag) < 3 || etag[0] != '"' || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETag %q, want a strong one", etag)
	}
	if again := get(http.Header{"If-None-Match": {etag}}); again.status != http.StatusNotModified || len(again.body) != 0 || again.header.Get("ETag") != etag {
		t.Errorf("If-None-Match %s = %s, want 304 without a body", etag, again)
	}
	if other := get(http.Header{"If-None-Match": {`"other"`}}); other.status != http.StatusOK || !bytes.Equal(other.body, res.body) {
		t.Errorf("stale If-None-Match = %s, want 200 and the same file", other)
	}
	if res := e.do(t, request{method: http.MethodGet, path: unnamed.URL}); res.header.Get("ETag") == etag {
		t.Errorf("two feeds of one user share the ETag %s", etag)
	}

	res = e.do(t, request{method: http.MethodPatch, path: alice.task(meeting.ID), token: alice.token, body: `{"title":"Meeting moved"}`})
	wantStatus(t, "edit", res, http.StatusOK)
	edited := get(http.Header{"If-None-Match": {etag}})
	if edited.status != http.StatusOK || edited.header.Get("ETag") == etag || !bytes.Contains(edited.body, []byte("Meeting moved")) {
		t.Errorf("after an edit, If-None-Match with the old ETag = %s (ETag %s), want 200 with the edit and a new ETag", edited, edited.header.Get("ETag"))
	}

	// A token is neither needed nor a way in; a bad secret is 404.
	for _, path := range []string{"/calendar/" + strings.Repeat("A", 43) + ".ics", "/calendar/short.ics"} {
		wantDetail(t, "GET "+path, e.do(t, request{method: http.MethodGet, path: path, outsideDoc: true}), http.StatusNotFound, "Calendar feed not found")
	}
	// A JWT (with its dots) matches no route at all: 404 too.
	wantStatus(t, "GET /calendar/<JWT>.ics", e.do(t, request{method: http.MethodGet, path: "/calendar/" + alice.token + ".ics", token: alice.token, outsideDoc: true}), http.StatusNotFound)

	wantDetail(t, "bob revokes alice's feed", e.do(t, request{method: http.MethodDelete, path: bob.calendarFeeds() + "/" + f.ID, token: bob.token}), http.StatusNotFound, "Calendar feed not found")
	wantStatus(t, "alice's feed after bob's revoke", get(nil), http.StatusOK)
	wantStatus(t, "revoke", e.do(t, request{method: http.MethodDelete, path: alice.calendarFeeds() + "/" + f.ID, token: alice.token}), http.StatusNoContent)
	wantDetail(t, "revoked feed", get(nil), http.StatusNotFound, "Calendar feed not found")
	wantDetail(t, "second revoke", e.do(t, request{method: http.MethodDelete, path: alice.calendarFeeds() + "/" + f.ID, token: alice.token}), http.StatusNotFound, "Calendar feed not found")
	wantStatus(t, "the other feed", e.do(t, request{method: http.MethodGet, path: unnamed.URL}), http.StatusOK)
}

// TestCalendarFeedURLOnPublicURL: with PUBLIC_URL the feed's URL is
// absolute on it.
func TestCalendarFeedURLOnPublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *httpapi.Deps) { d.Config.PublicURL = "https://api.example.com/" })
	u := e.newUser(t)
	if f := createFeed(t, e, u, ""); !strings.HasPrefix(f.URL, "https://api.example.com/calendar/") {
		t.Errorf("URL %q, want it on https://api.example.com", f.URL)
	}
}

// TestCalendarFeedIPLimited: the public feed has no token, yet the IP
// limit counts it: past RATE_LIMIT_IP it is 429, unknown secrets included
// (guessing costs requests).
func TestCalendarFeedIPLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *httpapi.Deps) { d.Config.IPRateLimit = mw.RateLimit{Requests: 3, Window: time.Hour} })
	path := "/calendar/" + strings.Repeat("A", 43) + ".ics"
	for range 3 {
		wantStatus(t, "GET unknown feed", e.do(t, request{method: http.MethodGet, path: path, outsideDoc: true}), http.StatusNotFound)
	}
	wantDetail(t, "GET past the IP limit", e.do(t, request{method: http.MethodGet, path: path, outsideDoc: true}), http.StatusTooManyRequests, "Too many requests, retry later")
}
