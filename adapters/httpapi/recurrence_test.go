package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func (u user) skip(id int64) string { return u.task(id) + "/skip" }

func (u user) occurrences(id int64, query string) string { return u.task(id) + "/occurrences?" + query }

type occurrenceJSON struct {
	DueDate string `json:"due_date"`
	Local   string `json:"local"`
}

// "Every other Friday at 17:00 Europe/Paris" stays at 17:00 local across
// the October and March clock changes, completed over HTTP.
func TestRecurringDSTOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title":"review","due_date":"2026-10-16T17:00:00","due_tz":"Europe/Paris","recurrence":{"rule":"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"}}`), http.StatusCreated)
	if *tk.DueDate != "2026-10-16T15:00:00Z" || tk.DueTZ == nil || *tk.DueTZ != "Europe/Paris" || tk.DueFloating ||
		tk.Recurrence == nil || *tk.Recurrence != (recurrenceJSON{Rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", From: "due", Description: "every 2 weeks on Friday"}) {
		t.Fatalf("created %v", tk)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	for i, want := range []string{"2026-10-30T16:00:00Z", "2026-11-13T16:00:00Z"} {
		prev := tk
		tk = wantTask(t, "complete", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, ""), http.StatusOK)
		if *tk.DueDate != want || tk.Completed || tk.ID != prev.ID || tk.Version != prev.Version+1 {
			t.Errorf("completion %d: %v, want open, due %s, version %d", i+1, tk, want, prev.Version+1)
		}
		at, _ := time.Parse(time.RFC3339, *tk.DueDate)
		if h, m, _ := at.In(paris).Clock(); h != 17 || m != 0 {
			t.Errorf("completion %d: due %s is %02d:%02d in Paris", i+1, *tk.DueDate, h, m)
		}
	}
	res := e.call(t, http.MethodGet, u.occurrences(tk.ID, "from=2026-11-01&to=2027-05-01&tz=Europe/Paris"), u.token, "")
	wantStatus(t, "GET occurrences", res, http.StatusOK)
	var occ []occurrenceJSON
	if err := json.Unmarshal(res.body, &occ); err != nil {
		t.Fatal(err)
	}
	if len(occ) != 13 || occ[0].DueDate != "2026-11-13T16:00:00Z" {
		t.Fatalf("occurrences = %v", occ)
	}
	for _, o := range occ {
		at, _ := time.Parse(time.RFC3339, o.DueDate)
		if at.In(paris).Weekday() != time.Friday || !strings.HasSuffix(o.Local, "T17:00:00") || at.In(paris).Hour() != 17 {
			t.Errorf("occurrence %v is not Friday 17:00 in Paris", o)
		}
	}
	if last := occ[len(occ)-1].DueDate; last != "2027-04-30T15:00:00Z" { // CEST again
		t.Errorf("last occurrence %s, want 2027-04-30T15:00:00Z", last)
	}
}

// A completion names its occurrence: replaying it changes nothing, so two
// devices completing the same Friday pass one.
func TestCompleteOccurrence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title":"rent","due_date":"2026-03-01","recurrence":{"rule":"FREQ=MONTHLY;COUNT=3","from":"due"}}`), http.StatusCreated)
	body := `{"occurrence":"2026-03-01"}`
	first := wantTask(t, "complete 1 March", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, body), http.StatusOK)
	if *first.DueDate != "2026-04-01" || first.Completed || first.Version != 2 {
		t.Fatalf("after completing 1 March: %v", first)
	}
	again := wantTask(t, "complete 1 March again", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, body), http.StatusOK)
	if !again.equal(first) {
		t.Errorf("a replayed completion changed the task: %v, was %v", again, first)
	}
	res := e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, `{"occurrence":"2026-06-01"}`)
	wantStatus(t, "complete a later occurrence", res, http.StatusUnprocessableEntity)
	if !strings.Contains(string(res.body), `"loc":["body","occurrence"]`) {
		t.Errorf("422 %s does not name occurrence", res.body)
	}
	res = e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, `{"occurrence":"2026-04-01T00:00:00Z"}`)
	wantStatus(t, "an instant for an all-day occurrence", res, http.StatusUnprocessableEntity)
	// {"completed": false} on an open repeating task is no change.
	if got := wantTask(t, "completed false", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, `{"completed":false}`), http.StatusOK); !got.equal(first) {
		t.Errorf("completed false changed the task: %v", got)
	}
	skipped := wantTask(t, "skip", e.call(t, http.MethodPost, u.skip(tk.ID), u.token, `{"occurrence":"2026-04-01"}`), http.StatusOK)
	if *skipped.DueDate != "2026-05-01" || skipped.Completed {
		t.Fatalf("after skipping April: %v", skipped)
	}
	if got := wantTask(t, "skip again", e.call(t, http.MethodPost, u.skip(tk.ID), u.token, `{"occurrence":"2026-04-01"}`), http.StatusOK); !got.equal(skipped) {
		t.Errorf("a replayed skip changed the task: %v", got)
	}
	// The third occurrence is the last (COUNT=3): the task is done for good.
	done := wantTask(t, "complete the last", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, ""), http.StatusOK)
	if !done.Completed || *done.DueDate != "2026-05-01" {
		t.Errorf("after the last occurrence: %v, want completed, due 2026-05-01", done)
	}
	if got := wantTask(t, "replay the last", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, `{"occurrence":"2026-05-01"}`), http.StatusOK); !got.equal(done) {
		t.Errorf("replaying the last completion changed the task: %v", got)
	}
	res = e.call(t, http.MethodGet, u.task(tk.ID)+"/occurrences/history", u.token, "")
	wantStatus(t, "history", res, http.StatusOK)
	var hist []struct {
		Occurrence string `json:"occurrence"`
		Kind       string `json:"kind"`
		At         string `json:"at"`
	}
	if err := json.Unmarshal(res.body, &hist); err != nil {
		t.Fatal(err)
	}
	var hs []string
	for _, h := range hist {
		hs = append(hs, h.Occurrence+" "+h.Kind)
		checkTime(t, "history at", h.At)
	}
	if want := "[2026-05-01 completed 2026-04-01 skipped 2026-03-01 completed]"; fmt.Sprint(hs) != want {
		t.Errorf("history = %v, want %s", hs, want)
	}
	res = e.call(t, http.MethodGet, u.task(tk.ID)+"/occurrences/history?limit=1", u.token, "")
	if err := json.Unmarshal(res.body, &hist); err != nil || len(hist) != 1 {
		t.Errorf("history?limit=1 = %s", res.body)
	}
	res = e.call(t, http.MethodGet, u.occurrences(tk.ID, "from=2026-01-01&to=2027-01-01"), u.token, "")
	wantStatus(t, "occurrences of a finished task", res, http.StatusOK)
	if strings.TrimSpace(string(res.body)) != "[]" {
		t.Errorf("occurrences of a finished task = %s, want []", res.body)
	}
	// A task that does not repeat cannot be skipped; completing it names
	// its due as any occurrence.
	plain := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token, `{"title":"once","due_date":"2026-03-01"}`), http.StatusCreated)
	wantStatus(t, "skip a plain task", e.call(t, http.MethodPost, u.skip(plain.ID), u.token, ""), http.StatusUnprocessableEntity)
	for range 2 {
		if got := wantTask(t, "complete a plain task by occurrence", e.call(t, http.MethodPatch, u.complete(plain.ID), u.token, `{"occurrence":"2026-03-01"}`), http.StatusOK); !got.Completed {
			t.Errorf("completing a plain task by its occurrence: %v", got)
		}
	}
}

// Subtasks of a repeating task are its checklist: they reopen with it.
func TestRecurringSubtasksReopen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	parent := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title":"weekly clean","due_date":"2026-03-06","recurrence":{"rule":"FREQ=WEEKLY"}}`), http.StatusCreated)
	child := wantTask(t, "POST child", e.call(t, http.MethodPost, u.tasks(), u.token,
		fmt.Sprintf(`{"title":"kitchen","parent_id":%d}`, parent.ID)), http.StatusCreated)
	wantTask(t, "complete child", e.call(t, http.MethodPatch, u.complete(child.ID), u.token, ""), http.StatusOK)
	wantTask(t, "complete parent", e.call(t, http.MethodPatch, u.complete(parent.ID), u.token, ""), http.StatusOK)
	if got := wantTask(t, "GET child", e.call(t, http.MethodGet, u.task(child.ID), u.token, ""), http.StatusOK); got.Completed {
		t.Errorf("the subtask of a repeating task stayed completed when it moved on: %v", got)
	}
}

func TestTimeModelOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for _, tt := range []struct {
		body, loc string
	}{
		{`{"title":"t","due_date":"2026-03-01T09:00:00Z","due_tz":"Mars/Olympus"}`, `["body","due_tz"]`},
		{`{"title":"t","due_date":"2026-03-01","due_tz":"Europe/Paris"}`, `["body","due_tz"]`},
		{`{"title":"t","due_date":"2026-03-01T09:00:00+01:00","due_floating":true}`, `["body","due_floating"]`},
		{`{"title":"t","due_date":"2026-03-01T09:00:00"}`, `["body","due_date"]`},
		{`{"title":"t","recurrence":{"rule":"FREQ=DAILY"}}`, `["body","recurrence"]`},
		{`{"title":"t","due_date":"2026-03-01","recurrence":{"rule":"FREQ=HOURLY"}}`, `["body","recurrence","rule"]`},
		{`{"title":"t","due_date":"2026-03-01","recurrence":{"rule":"FREQ=DAILY;BYHOUR=9"}}`, `["body","recurrence","rule"]`},
	} {
		res := e.call(t, http.MethodPost, u.tasks(), u.token, tt.body)
		wantStatus(t, "POST "+tt.body, res, http.StatusUnprocessableEntity)
		if !strings.Contains(string(res.body), `"loc":`+tt.loc) {
			t.Errorf("POST %s = %s, want a problem at %s", tt.body, res.body, tt.loc)
		}
	}
	res := e.call(t, http.MethodPost, u.tasks(), u.token, `{"title":"t","due_date":"2026-03-01","recurrence":{"rule":"FREQ=DAILY;BYHOUR=9"}}`)
	if !strings.Contains(string(res.body), "BYHOUR") {
		t.Errorf("the 422 %s does not name BYHOUR", res.body)
	}
	fl := wantTask(t, "POST floating", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title":"t","due_date":"2026-03-01T09:00:00","due_floating":true}`), http.StatusCreated)
	if *fl.DueDate != "2026-03-01T09:00:00" || !fl.DueFloating || fl.DueTZ != nil {
		t.Errorf("floating: %v", fl)
	}
	// PATCH: a zone pins the floating due there; null recurrence stops it.
	got := wantTask(t, "PATCH zone", e.call(t, http.MethodPatch, u.task(fl.ID), u.token, `{"due_tz":"Asia/Tokyo","recurrence":{"rule":"FREQ=DAILY","from":"completion"}}`), http.StatusOK)
	if *got.DueDate != "2026-03-01T00:00:00Z" || got.DueFloating || got.DueTZ == nil || *got.DueTZ != "Asia/Tokyo" || got.Recurrence == nil ||
		got.Recurrence.Description != "every day, counted from completion" {
		t.Errorf("PATCH due_tz: %v", got)
	}
	got = wantTask(t, "PUT no recurrence", e.call(t, http.MethodPut, u.task(fl.ID), u.token, `{"title":"t","recurrence":null}`), http.StatusOK)
	if got.Recurrence != nil || got.DueTZ == nil || *got.DueTZ != "Asia/Tokyo" {
		t.Errorf("PUT recurrence null: %v", got)
	}
	// Writes that give the values the task has change nothing.
	tk := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title":"same","due_date":"2026-10-16T17:00:00+02:00","due_tz":"Europe/Paris","recurrence":{"rule":"rrule:freq=weekly;interval=2;byday=fr"}}`), http.StatusCreated)
	for _, r := range []request{
		{method: http.MethodPut, path: u.task(tk.ID), body: `{"title":"same","due_date":"2026-10-16T15:00:00Z","due_tz":"Europe/Paris","recurrence":{"rule":"FREQ=WEEKLY;BYDAY=FR;INTERVAL=2","from":"due"}}`},
		{method: http.MethodPatch, path: u.task(tk.ID), body: `{"due_date":"2026-10-16T17:00:00","due_floating":false}`},
		{method: http.MethodPatch, path: u.task(tk.ID), body: `{"due_tz":"Europe/Paris","recurrence":{"rule":"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"}}`},
	} {
		r.token = u.token
		if got := wantTask(t, r.method+" "+r.body, e.do(t, r), http.StatusOK); !got.equal(tk) {
			t.Errorf("%s %s = %v, want the task as it was: %v", r.method, r.body, got, tk)
		}
	}
}

// Stats and the overdue filter read a floating due by the user's clock and
// a zoned one as its instant.
func TestOverdueFloatingAndZoned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	// Two hours ago on a clock in Tokyo: overdue there, seven hours ahead
	// on a clock in UTC.
	local := time.Now().In(tokyo).Add(-2 * time.Hour).Format("2006-01-02T15:04:05")
	fl := wantTask(t, "POST floating", e.call(t, http.MethodPost, u.tasks(), u.token,
		fmt.Sprintf(`{"title":"floating","due_date":%q,"due_floating":true}`, local)), http.StatusCreated)
	zoned := wantTask(t, "POST zoned", e.call(t, http.MethodPost, u.tasks(), u.token,
		fmt.Sprintf(`{"title":"zoned","due_date":%q,"due_tz":"Asia/Tokyo"}`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))), http.StatusCreated)
	for _, tt := range []struct {
		tz   string
		want []int64
	}{{"Asia/Tokyo", []int64{fl.ID, zoned.ID}}, {"UTC", []int64{zoned.ID}}} {
		res := e.call(t, http.MethodGet, u.tasks()+"?overdue=true&tz="+tt.tz, u.token, "")
		wantStatus(t, "GET overdue", res, http.StatusOK)
		var ids []int64
		for _, x := range decodeTasks(t, res) {
			ids = append(ids, x.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
			t.Errorf("overdue in %s = %v, want %v", tt.tz, ids, tt.want)
		}
		res = e.call(t, http.MethodGet, u.tasks()+"/stats?tz="+tt.tz, u.token, "")
		var st struct {
			Overdue int `json:"overdue"`
		}
		if err := json.Unmarshal(res.body, &st); err != nil || st.Overdue != len(tt.want) {
			t.Errorf("stats in %s: %s, want overdue %d", tt.tz, res.body, len(tt.want))
		}
	}
}

// Reminders are kept with the task; a reminder before the due follows a
// repeating task's due, one at an instant keeps its distance to it.
func TestRemindersOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title":"review","due_date":"2026-10-16T17:00:00","due_tz":"Europe/Paris","recurrence":{"rule":"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"},`+
			`"reminders":[{"before":"PT15M"},{"at":"2026-10-16T16:00:00+02:00"}]}`), http.StatusCreated)
	fires := func(x taskJSON) string {
		var out []string
		for _, r := range x.Reminders {
			out = append(out, show(r.At)+" "+show(r.Before)+" "+show(r.FiresAt))
		}
		return strings.Join(out, "; ")
	}
	if got, want := fires(tk), `null "PT15M" "2026-10-16T14:45:00Z"; "2026-10-16T14:00:00Z" null "2026-10-16T14:00:00Z"`; got != want {
		t.Errorf("reminders = %s, want %s", got, want)
	}
	tk = wantTask(t, "complete", e.call(t, http.MethodPatch, u.complete(tk.ID), u.token, ""), http.StatusOK)
	if got, want := fires(tk), `null "PT15M" "2026-10-30T15:45:00Z"; "2026-10-30T15:00:00Z" null "2026-10-30T15:00:00Z"`; got != want {
		t.Errorf("after the occurrence moved: %s, want %s", got, want)
	}
	for _, body := range []string{
		`{"reminders":[{"at":"2026-10-16T16:00:00Z","before":"PT1H"}]}`,
		`{"reminders":[{"before":"P1M"}]}`,
		`{"reminders":[{"at":"soon"}]}`,
		`{"due_date":null,"recurrence":null}`,
	} {
		wantStatus(t, "PATCH "+body, e.call(t, http.MethodPatch, u.task(tk.ID), u.token, body), http.StatusUnprocessableEntity)
	}
	res := e.do(t, request{method: http.MethodPatch, path: u.task(tk.ID), token: u.token, outsideDoc: true,
		body: `{"reminders":[` + strings.Repeat(`{"before":"PT1M"},`, 10) + `{"before":"PT1M"}]}`})
	wantStatus(t, "PATCH 11 reminders", res, http.StatusUnprocessableEntity)
	same := wantTask(t, "PATCH same reminders", e.call(t, http.MethodPatch, u.task(tk.ID), u.token,
		`{"reminders":[{"before":"PT15M"},{"at":"2026-10-30T16:00:00+01:00"}]}`), http.StatusOK)
	if !same.equal(tk) {
		t.Errorf("the same reminders changed the task: %v, was %v", same, tk)
	}
	cleared := wantTask(t, "PATCH null", e.call(t, http.MethodPatch, u.task(tk.ID), u.token, `{"reminders":null}`), http.StatusOK)
	if cleared.Reminders == nil || len(cleared.Reminders) != 0 {
		t.Errorf("reminders null: %v, want []", cleared.Reminders)
	}
}

// The occurrence window is bounded: more than 1000 occurrences, an end
// before the start or a malformed bound is a 422 naming the parameter.
func TestOccurrencesWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	tk := wantTask(t, "POST", e.call(t, http.MethodPost, u.tasks(), u.token,
		`{"title":"daily","due_date":"2026-03-01","recurrence":{"rule":"FREQ=DAILY"}}`), http.StatusCreated)
	res := e.call(t, http.MethodGet, u.occurrences(tk.ID, "from=2026-01-01&to=2026-12-31"), u.token, "")
	wantStatus(t, "a year of days", res, http.StatusOK)
	var occ []occurrenceJSON
	if err := json.Unmarshal(res.body, &occ); err != nil || len(occ) != 305 || occ[0].DueDate != "2026-03-01" || occ[0].Local != "2026-03-01" {
		t.Errorf("a year of days from 1 March: %d, %v", len(occ), err)
	}
	for _, tt := range []struct{ query, loc string }{
		{"from=2026-01-01&to=2030-01-01", `["query","to"]`},
		{"from=2026-02-01&to=2026-01-01", `["query","to"]`},
		{"from=soon&to=2026-01-01", `["query","from"]`},
		{"from=2026-01-01&to=2026-02-01&tz=Mars/Olympus", `["query","tz"]`},
	} {
		res := e.call(t, http.MethodGet, u.occurrences(tk.ID, tt.query), u.token, "")
		wantStatus(t, "GET occurrences?"+tt.query, res, http.StatusUnprocessableEntity)
		if !strings.Contains(string(res.body), `"loc":`+tt.loc) {
			t.Errorf("GET occurrences?%s = %s, want a problem at %s", tt.query, res.body, tt.loc)
		}
	}
	v := e.newUser(t)
	for _, path := range []string{v.occurrences(tk.ID, "from=2026-01-01&to=2026-02-01"), v.task(tk.ID) + "/occurrences/history", v.skip(tk.ID)} {
		method := http.MethodGet
		if strings.HasSuffix(path, "/skip") {
			method = http.MethodPost
		}
		wantStatus(t, "another user's task: "+path, e.call(t, method, path, v.token, ""), http.StatusNotFound)
	}
}
