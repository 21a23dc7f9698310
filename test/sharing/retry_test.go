package sharing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/todo-backend/todo/adapters/sqlstore"
)

// TestForcedRetryAnswersAlike: every write path whose unit of work the
// store may run again (sqlstore.TxAttempts, after PostgreSQL aborted it
// with 40P01 or 40001) answers the same when each of its transactions
// fails once right before its COMMIT (sqlstore.WithForcedRetry) as when
// none does: a body that kept anything of its failed run (a slice appended
// to, a count, a report, a map) would answer with duplicates or wrong
// counts. The same script runs on two fresh PostgreSQL schemas, one
// forced; the answers must match once timestamps are set aside.
func TestForcedRetryAnswersAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL (-short)")
	}
	pg := stores[2]
	plain := start(t, "postgres", pg.url(t))
	forced := start(t, "postgres, forced retry", pg.url(t))
	h := forced.h
	forced.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(sqlstore.WithForcedRetry(r.Context())))
	})

	owner, member := plain.newCaller(t), plain.newCaller(t)
	for _, c := range []caller{owner, member} {
		forced.mustDo(t, c, http.MethodGet, "/api/"+c.id+"/tasks", "", http.StatusOK)
	}
	o, m := "/api/"+owner.id, "/api/"+member.id

	type step struct {
		name         string
		who          caller
		method, path string
		body         string
		header       []string
		save         []string // names of the ids the answer holds, in order
		keep         string   // the name of the answer's body
	}
	script := []step{
		{"create list", owner, http.MethodPost, o + "/lists", `{"name":"Work"}`, nil, []string{"L1"}, ""},
		{"create list 2", owner, http.MethodPost, o + "/lists", `{"name":"Home"}`, nil, []string{"L2"}, ""},
		{"move list", owner, http.MethodPost, o + "/lists/{L2}/move", `{"before_id":{L1}}`, nil, nil, ""},
		{"create", owner, http.MethodPost, o + "/tasks", `{"title":"one","list_id":{L1},"tags":["a"]}`, nil, []string{"T1"}, ""},
		{"create, idempotent", owner, http.MethodPost, o + "/tasks", `{"title":"two"}`, []string{"Idempotency-Key", "k-1"}, []string{"T2"}, ""},
		{"create, idempotent again", owner, http.MethodPost, o + "/tasks", `{"title":"two"}`, []string{"Idempotency-Key", "k-1"}, nil, ""},
		{"bulk create", owner, http.MethodPost, o + "/tasks/bulk", `[{"title":"b1","list_id":{L1}},{"title":"b2"},{"title":"b3","list_id":{L2}}]`, nil, []string{"B1", "B2", "B3"}, ""},
		{"bulk update", owner, http.MethodPatch, o + "/tasks/bulk", `{"ids":[{T1},{B1},{B2}],"set":{"priority":"high"}}`, nil, nil, ""},
		{"move", owner, http.MethodPost, o + "/tasks/{B2}/move", `{"list_id":{L2}}`, nil, nil, ""},
		{"move many", owner, http.MethodPost, o + "/tasks/move", `{"ids":[{T1},{B1}],"list_id":{L2}}`, nil, nil, ""},
		{"merge patch", owner, http.MethodPatch, o + "/tasks/{T1}", `{"description":"merged"}`, []string{"If-Match", `"{T1}-1"`, "Prefer", "merge"}, nil, ""},
		{"commands", owner, http.MethodPost, o + "/commands", `{"commands":[
			{"id":"c1","type":"task.create","temp_id":"A","args":{"title":"cmd one"}},
			{"id":"c2","type":"task.update","entity_id":"A","args":{"priority":"low"}},
			{"id":"c3","type":"list.create","temp_id":"L","args":{"name":"Cmd list"}},
			{"id":"c4","type":"task.move","entity_id":"A","args":{"list_id":"L"}},
			{"id":"c5","type":"task.update","entity_id":"999999","args":{"title":"nobody"}}]}`, nil, nil, ""},
		{"commands atomic", owner, http.MethodPost, o + "/commands", `{"atomic":true,"commands":[
			{"id":"d1","type":"task.create","temp_id":"B","args":{"title":"atomic one"}},
			{"id":"d2","type":"task.complete","entity_id":"B","args":{"completed":true}}]}`, nil, nil, ""},
		{"commands atomic, failing", owner, http.MethodPost, o + "/commands", `{"atomic":true,"commands":[
			{"id":"e1","type":"task.create","temp_id":"C","args":{"title":"never"}},
			{"id":"e2","type":"task.update","entity_id":"C","args":{"priority":"urgent-ish"}}]}`, nil, nil, ""},
		{"import", owner, http.MethodPost, o + "/imports?format=csv", "title,due_date,priority\nimp one,2027-01-01,high\nimp two,,low\n", []string{"Content-Type", "text/csv"}, nil, ""},
		{"list to trash", owner, http.MethodPost, o + "/lists", `{"name":"Old"}`, nil, []string{"L3"}, ""},
		{"trash list", owner, http.MethodDelete, o + "/lists/{L3}", "", nil, nil, ""},
		{"list taking its name", owner, http.MethodPost, o + "/lists", `{"name":"Old"}`, nil, nil, ""},
		{"export", owner, http.MethodGet, o + "/export?format=json&trash=true", "", nil, nil, "EXPORT"},
		{"import the export", owner, http.MethodPost, o + "/imports?format=json", "{EXPORT}", nil, nil, ""},
		{"invite", owner, http.MethodPost, o + "/lists/{L1}/members", `{"email":"` + member.email() + `","role":"editor"}`, nil, []string{"I1"}, ""},
		{"invitations", member, http.MethodGet, m + "/invitations", "", nil, nil, ""},
		{"accept", member, http.MethodPost, m + "/invitations/{I1}/accept", "", nil, nil, ""},
		{"member's lists", member, http.MethodGet, m + "/lists", "", nil, nil, ""},
		{"member creates in the shared list", member, http.MethodPost, m + "/tasks", `{"title":"by member","list_id":{L1}}`, nil, nil, ""},
		{"member bulk creates", member, http.MethodPost, m + "/tasks/bulk", `[{"title":"mb1","list_id":{L1}},{"title":"mb2"}]`, nil, nil, ""},
		{"bulk trash", owner, http.MethodPost, o + "/tasks/bulk-delete", `{"ids":[{T2},{B3}]}`, nil, nil, ""},
		{"set role", owner, http.MethodPatch, o + "/lists/{L1}/members/" + member.id, `{"role":"viewer"}`, nil, nil, ""},
		{"restore", owner, http.MethodPost, o + "/tasks/{T2}/restore", "", nil, nil, ""},
		{"create recurring", owner, http.MethodPost, o + "/tasks", `{"title":"daily","due_date":"2027-03-01","recurrence":{"rule":"FREQ=DAILY"}}`, nil, []string{"R1"}, ""},
		{"complete recurring", owner, http.MethodPatch, o + "/tasks/{R1}/complete", `{"completed":true}`, nil, nil, ""},
		{"skip occurrence", owner, http.MethodPost, o + "/tasks/{R1}/skip", "", nil, nil, ""},
		{"occurrences", owner, http.MethodGet, o + "/tasks/{R1}/occurrences/history", "", nil, nil, ""},
		{"history", owner, http.MethodGet, o + "/tasks/{T1}/history", "", nil, nil, ""},
		{"remove member", owner, http.MethodDelete, o + "/lists/{L1}/members/" + member.id, "", nil, nil, ""},
		{"clear completed", owner, http.MethodPost, o + "/tasks/clear-completed", "", nil, nil, ""},
		{"owner's tasks", owner, http.MethodGet, o + "/tasks", "", nil, nil, ""},
		{"owner's lists", owner, http.MethodGet, o + "/lists", "", nil, nil, ""},
		{"trash", owner, http.MethodGet, o + "/trash", "", nil, nil, ""},
		{"member's tasks", member, http.MethodGet, m + "/tasks", "", nil, nil, ""},
		{"import the export, keyed", owner, http.MethodPost, o + "/imports?format=json", "{EXPORT}", []string{"Idempotency-Key", "k-2"}, nil, ""}, // last: see below
	}
	run := func(s *server) []string {
		var out []string
		ids := map[string]string{}
		fill := func(x string) string {
			for k, v := range ids {
				x = strings.ReplaceAll(x, "{"+k+"}", v)
			}
			return x
		}
		for _, st := range script {
			header := make([]string, len(st.header))
			for i, h := range st.header {
				header[i] = fill(h)
			}
			a := s.do(t, st.who, st.method, fill(st.path), fill(st.body), header...)
			out = append(out, st.name+": "+normal(a))
			if st.keep != "" {
				ids[st.keep] = string(a.body)
			}
			if len(st.save) == 0 {
				continue
			}
			var one struct {
				ID int64 `json:"id"`
			}
			var many []struct {
				ID int64 `json:"id"`
			}
			if json.Unmarshal(a.body, &one) == nil && one.ID != 0 {
				many = append(many, one)
			} else if err := json.Unmarshal(a.body, &many); err != nil {
				t.Fatalf("%s: %s: %s", s.name, st.name, a.body)
			}
			if len(many) != len(st.save) {
				t.Fatalf("%s: %s: %s, want %d ids", s.name, st.name, a, len(st.save))
			}
			for i, name := range st.save {
				ids[name] = fmt.Sprint(many[i].ID)
			}
		}
		return out
	}
	want, got := run(plain), run(forced)
	// A keyed import streams its body, which a second run cannot read
	// again: a unit of work the store runs again answers 503 (nothing was
	// written; the client sends it again). It is the script's last step.
	for i, w := range want {
		if strings.HasPrefix(w, "import the export, keyed: ") && i < len(got) {
			if !strings.HasPrefix(got[i], "import the export, keyed: 503 ") {
				t.Errorf("with a forced retry: %s, want a 503", got[i])
			}
			got[i] = w
		}
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("with a forced retry:\n  %s\nwithout:\n  %s", at(got, i), want[i])
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(nothing)"
}

// What two runs of one script may differ in: times, and ids (a
// PostgreSQL sequence does not roll back, so a run that failed once used
// up ids), and the positions made of ids.
var (
	stamps    = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)"`)
	idFields  = regexp.MustCompile(`"(id|list_id|parent_id|entity_id|after_id|before_id|ref|list_ref|parent_ref|trashed_with|from|to)":"?\d+"?`)
	positions = regexp.MustCompile(`"position":"[^"]*"`)
	mappings  = regexp.MustCompile(`"temp_id_mapping":\{[^}]*\}`)
	digits    = regexp.MustCompile(`\d+`)
)

// normal is a's status and body with its timestamps and ids set aside.
func normal(a answer) string {
	b := stamps.ReplaceAllString(string(a.body), `"T"`)
	b = idFields.ReplaceAllString(b, `"$1":N`)
	b = positions.ReplaceAllString(b, `"position":"P"`)
	b = mappings.ReplaceAllStringFunc(b, func(m string) string { return digits.ReplaceAllString(m, "N") })
	return fmt.Sprintf("%d %s", a.status, b)
}
