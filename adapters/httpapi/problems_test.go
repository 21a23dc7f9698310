package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi"
)

var update = flag.Bool("update", false, "write testdata/problems.golden from what the router answers")

// badValues are what a body member may hold instead of what it should.
var badValues = []string{
	`null`, `0`, `5`, `-1`, `1.5`, `1.0`, `1e3`, `1e999`, `9223372036854775807`, `9223372036854775808`,
	`-9223372036854775809`, `123456789012345678901234567890`, `""`, `"x"`, `"low"`, `"2026-02-30"`,
	`"2026-03-01T10:00:00+02:00"`, `"\u0000"`, `"\udc00"`, "\"\xff\"", `true`, `false`, `[]`, `{}`, `[1]`,
	`["x"]`, `["a","A","b"]`, `[null]`, `[[]]`, `[{}]`, `{"a":1}`, `[[[[[[[[[[]]]]]]]]]]`, `[1,"x",null,{},[]]`,
}

// bodyRoute is an operation that takes a body, with a valid body to break
// one member at a time.
type bodyRoute struct {
	id           string // the operation
	method, path string
	base         string   // a valid body, with %s where a member goes
	members      []string // the members, as they go in base
}

// bodyRoutes are the operations that take a body (TestBodyRoutesCovered
// holds them to the document).
func bodyRoutes(u user) []bodyRoute {
	const item = `{"title":"t","description":"d","priority":"low","due_date":"2026-03-01","tags":["a"]%s}`
	return []bodyRoute{
		{"create-task", http.MethodPost, u.tasks(), item, []string{"title", "description", "priority", "due_date", "tags", "list_id", "parent_id",
			"due_tz", "due_floating", "recurrence", "reminders", "assignee_id"}},
		{"replace-task", http.MethodPut, u.task(1), `{"title":"t","description":"d","completed":false,"priority":"low","due_date":"2026-03-01","tags":["a"]%s}`,
			[]string{"title", "description", "completed", "priority", "due_date", "tags", "due_tz", "due_floating", "recurrence", "reminders"}},
		{"patch-task", http.MethodPatch, u.task(1), `{"title":"t"%s}`, []string{"title", "description", "completed", "priority", "due_date", "tags", "list_id",
			"due_tz", "due_floating", "recurrence", "reminders", "tags_add", "tags_remove", "assignee_id"}},
		{"complete-task", http.MethodPatch, u.complete(1), `{"completed":true%s}`, []string{"completed", "occurrence"}},
		{"create-tasks", http.MethodPost, u.tasks() + "/bulk", "[" + strings.ReplaceAll(item, "%s", "") + "," + item + "]",
			[]string{"title", "description", "priority", "due_date", "tags", "list_id", "parent_id", "due_tz", "due_floating", "recurrence", "reminders", "assignee_id"}},
		// Issue 18.
		{"skip-occurrence", http.MethodPost, u.task(1) + "/skip", `{"occurrence":null%s}`, []string{"occurrence"}},
		{"create-task", http.MethodPost, u.tasks(), `{"title":"t","due_date":"2026-03-01","recurrence":{"rule":"FREQ=DAILY"%s}}`, []string{"rule", "from"}},
		{"create-task", http.MethodPost, u.tasks(), `{"title":"t","due_date":"2026-03-01T09:00:00Z","reminders":[{"before":"PT1M"%s}]}`, []string{"at", "before"}},
		{"update-tasks", http.MethodPatch, u.tasks() + "/bulk", `{"ids":[8888888888],"set":{"completed":true,"priority":"low"}%s}`, []string{"ids", "set"}},
		{"update-tasks", http.MethodPatch, u.tasks() + "/bulk", `{"ids":[8888888888],"set":{"priority":"low"%s}}`, []string{"completed", "priority", "tags", "due_date"}},
		{"delete-tasks", http.MethodPost, u.tasks() + "/bulk-delete", `{"ids":[8888888888]%s}`, []string{"ids"}},
		{"create-webhook", http.MethodPost, "/api/" + u.id + "/webhooks", `{"url":"https://example.com/h"%s}`, []string{"url"}},
		{"create-push-subscription", http.MethodPost, "/api/" + u.id + "/push-subscriptions", `{"endpoint":"https://push.example.com/1","keys":{"p256dh":"k","auth":"a"}%s}`,
			[]string{"endpoint", "keys"}},
		{"create-push-subscription", http.MethodPost, "/api/" + u.id + "/push-subscriptions", `{"endpoint":"https://push.example.com/1","keys":{"auth":"a"%s}}`,
			[]string{"p256dh", "auth"}},
		// Issue 15.
		{"move-task", http.MethodPost, u.moveTask(1), `{"list_id":null%s}`, []string{"list_id", "parent_id", "after_id", "before_id"}},
		{"move-tasks", http.MethodPost, u.tasks() + "/move", `{"ids":[8888888888]%s}`, []string{"ids", "list_id", "parent_id", "after_id", "before_id"}},
		{"create-list", http.MethodPost, u.lists(), `{"name":"n","color":"#aabbcc"%s}`, []string{"name", "color"}},
		{"patch-list", http.MethodPatch, u.list(1), `{"name":"n"%s}`, []string{"name", "color"}},
		{"move-list", http.MethodPost, u.list(1) + "/move", `{"after_id":8888888888%s}`, []string{"after_id", "before_id"}},
		// Issue 19.
		{"invite-member", http.MethodPost, u.list(1) + "/members", `{"email":"a@example.com","role":"viewer"%s}`, []string{"email", "role"}},
		{"set-member-role", http.MethodPatch, u.list(1) + "/members/u_x", `{"role":"viewer"%s}`, []string{"role"}},
		// Issue 20.
		{"create-calendar-feed", http.MethodPost, "/api/" + u.id + "/calendar-feeds", `{"name":"n"%s}`, []string{"name"}},
		// Issue 17: the batch, and a command (its args are its route's body, covered above).
		{"run-commands", http.MethodPost, "/api/" + u.id + "/commands", `{"commands":[{"id":"c1","type":"task.create","args":{"title":"t"}}]%s}`, []string{"commands", "atomic", "on_conflict"}},
		{"run-commands", http.MethodPost, "/api/" + u.id + "/commands", `{"commands":[{"id":"c1","type":"task.update","entity_id":1%s}]}`, []string{"id", "type", "entity_id", "temp_id", "base_version", "args"}},
	}
}

// TestBodyRoutesCovered: every operation of the route table that takes a
// body is in bodyRoutes, every member of its body broken there, so that
// TestProblemBodies covers it (and the harness holds each answer to have
// no decoder text in it).
func TestBodyRoutesCovered(t *testing.T) {
	doc := contracts(t)[0].doc
	covered := map[string][]string{}
	for _, br := range bodyRoutes(user{id: "u"}) {
		covered[br.id] = append(covered[br.id], br.members...)
	}
	for _, rt := range httpapi.Routes() {
		op := doc.Paths.Find(rt.Path).GetOperation(rt.Method)
		if op.RequestBody == nil {
			continue
		}
		s := op.RequestBody.Value.Content["application/json"].Schema.Value
		if s.Items != nil {
			s = s.Items.Value
		}
		for name := range s.Properties {
			if !slices.Contains(covered[rt.ID], name) {
				t.Errorf("%s: member %s of its body is not broken by bodyRoutes", rt.ID, name)
			}
		}
	}
}

// problemCorpus is every request TestProblemBodies sends: for every
// operation with a body, each member with each bad value, plus bodies
// broken as a whole, in other content types, with a bad id as well.
func problemCorpus(u user) []request {
	var out []request
	add := func(method, path, body string, header ...string) {
		r := request{method: method, path: path, token: u.token, body: body, outsideDoc: true, header: http.Header{}}
		for i := 0; i+1 < len(header); i += 2 {
			r.header.Set(header[i], header[i+1])
		}
		out = append(out, r)
	}
	for _, rt := range bodyRoutes(u) {
		for _, m := range rt.members {
			for _, v := range badValues {
				for _, form := range []string{`,"%s":%s`, `,"%s":[%s]`, `,"%s":"x","%[1]s":%s`, `,"%s":%s,"%[1]s":null`} {
					add(rt.method, rt.path, fmt.Sprintf(rt.base, fmt.Sprintf(form, m, v)))
				}
				add(rt.method, rt.path, fmt.Sprintf(rt.base, fmt.Sprintf(`,"%s":%s`, strings.ToUpper(m), v)))
			}
			add(rt.method, rt.path, fmt.Sprintf(rt.base, `,"`+m+`":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)))
		}
		for _, unknown := range []string{`,"x":[[],[],{}]`, `,"id":5,"user_id":"other"`, `,"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999),
			`,"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001), `,"x":"\ud800"`, `,"x":1e999`} {
			add(rt.method, rt.path, fmt.Sprintf(rt.base, unknown))
		}
		for _, whole := range []string{``, ` `, `null`, `true`, `0`, `"x"`, `[]`, `{}`, `[{}]`, `[[]]`, `not json`, `{"title": "unterminated`,
			`{"title":"x",}`, `{"title":"x"} {"title":"y"}`, `{"title":"x"}garbage`, "\ufeff{\"title\": \"x\"}", `{"title": "x" /* c */}`,
			`{"Title":"x","DESCRIPTION":"y"}`, `{"title":"a","title":"b"}`, `{"TITLE":5,"title":"x"}`, `{"title":"x","TITLE":5}`,
			`{"ids":[1,2,"x",4.5,null]}`, `{"ids":[]}`, `[` + strings.Repeat(`{"title":""},`, 100) + `{"title":5}]`} {
			add(rt.method, rt.path, whole)
		}
		for _, ct := range []string{"text/plain", "application/merge-patch+json", "application/json; charset=utf-8", "application/x+json", "APPLICATION/JSON"} {
			add(rt.method, rt.path, fmt.Sprintf(rt.base, ""), "Content-Type", ct)
			add(rt.method, rt.path, `{"title": 5}`, "Content-Type", ct)
		}
		if strings.Contains(rt.path, "/1") {
			bad := strings.Replace(rt.path, "/1", "/abc", 1)
			add(rt.method, bad, `not json`)
			add(rt.method, bad, `{"title": 5, "completed": "x"}`)
			add(rt.method, bad+"?permanent=maybe", fmt.Sprintf(rt.base, ""))
		}
	}
	return out
}

// TestProblemBodies holds the API's answers to hundreds of malformed
// bodies to testdata/problems.golden, byte for byte (the status, and the
// body of every answer but a success): a change of what the API says about
// a bad request shows up there, to be looked at (go test -run
// TestProblemBodies -update rewrites the file).
func TestProblemBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := user{id: "u_golden", token: e.sign(t, identity("u_golden", "golden@example.com"))}
	if tk := e.create(t, u, "target"); tk.ID != 1 {
		t.Fatalf("the target task has id %d, want 1", tk.ID)
	}
	var got bytes.Buffer
	for _, r := range problemCorpus(u) {
		res := e.do(t, r)
		answer := strconv.Itoa(res.status)
		if res.status >= 300 {
			answer += " " + strings.TrimSpace(string(res.body))
		}
		ct := r.header.Get("Content-Type")
		if ct == "" && r.body != "" {
			ct = "application/json"
		}
		req, _ := json.Marshal(truncate(r.body, 160))
		fmt.Fprintf(&got, "%s %s [%s] %s\n\t%s\n", r.method, strings.Replace(r.path, u.id, "{u}", 1), ct, req, answer)
	}
	const golden = "testdata/problems.golden"
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestProblemBodies -update writes it)", err)
	}
	if bytes.Equal(got.Bytes(), want) {
		return
	}
	gotLines, wantLines := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	shown := 0
	for i := 0; i < max(len(gotLines), len(wantLines)) && shown < 20; i++ {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("line %d:\n got: %s\nwant: %s", i+1, truncate(g, 600), truncate(w, 600))
			shown++
		}
	}
}
