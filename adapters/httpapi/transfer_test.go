package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	ical "github.com/emersion/go-ical"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/todo-backend/todo/adapters/httpapi"
)

func init() {
	// The document describes the export's iCalendar file; the checker reads
	// it as text.
	openapi3filter.RegisterBodyDecoder("text/calendar", openapi3filter.PlainBodyDecoder)
}

func (u user) export(query string) string  { return "/api/" + u.id + "/export?" + query }
func (u user) imports(query string) string { return "/api/" + u.id + "/imports?" + query }

type importJSON struct {
	DryRun  bool `json:"dry_run"`
	Created struct {
		Lists int `json:"lists"`
		Tasks int `json:"tasks"`
	} `json:"created"`
	Lists []struct {
		Ref      string `json:"ref"`
		Name     string `json:"name"`
		ID       *int64 `json:"id"`
		Existing bool   `json:"existing"`
	} `json:"lists"`
	Tasks []struct {
		Ref   string `json:"ref"`
		Title string `json:"title"`
		ID    *int64 `json:"id"`
		Line  int    `json:"line"`
	} `json:"tasks"`
	Skipped  int `json:"skipped"`
	Problems []struct {
		Line     int    `json:"line"`
		Field    string `json:"field"`
		Message  string `json:"message"`
		Severity string `json:"severity"`
	} `json:"problems"`
}

func decodeImport(t *testing.T, res *response) importJSON {
	t.Helper()
	var out importJSON
	if err := json.Unmarshal(res.body, &out); err != nil {
		t.Fatalf("import body %s: %v", res, err)
	}
	return out
}

// importReq is an import of body with its content type.
func importReq(u user, query, contentType, body string, header ...string) request {
	h := http.Header{"Content-Type": {contentType}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return request{method: http.MethodPost, path: u.imports(query), token: u.token, body: body, header: h}
}

// seedTree makes a list "Work" holding a task with a subtask, and an inbox
// task with a formula-like title, over the API.
func seedTree(t *testing.T, e *env, u user) {
	t.Helper()
	res := e.call(t, http.MethodPost, u.lists(), u.token, `{"name":"Work","color":"#ff8800"}`)
	wantStatus(t, "create list", res, http.StatusCreated)
	l := decodeList(t, res.body)
	res = e.call(t, http.MethodPost, u.tasks(), u.token, fmt.Sprintf(`{"title":"Plan","list_id":%d,"tags":["q3"],"due_date":"2027-03-05T17:00:00","due_tz":"Europe/Paris","recurrence":{"rule":"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"},"reminders":[{"before":"PT15M"}]}`, l.ID))
	wantStatus(t, "create parent", res, http.StatusCreated)
	p := decodeTask(t, res.body)
	res = e.call(t, http.MethodPost, u.tasks(), u.token, fmt.Sprintf(`{"title":"Draft","parent_id":%d,"due_date":"2027-03-01"}`, p.ID))
	wantStatus(t, "create subtask", res, http.StatusCreated)
	res = e.call(t, http.MethodPost, u.tasks(), u.token, `{"title":"=HYPERLINK(\"http://evil\")","description":"+1 @home -x","due_date":"2027-04-01T09:00:00","due_floating":true}`)
	wantStatus(t, "create formula", res, http.StatusCreated)
}

// TestExportImport: each format's export is an attachment of its type; the
// JSON export imported into another user over HTTP creates the same lists
// and tasks (hierarchy included), which export the same.
func TestExportImport(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.newUser(t), e.newUser(t)
	seedTree(t, e, alice)

	for _, f := range []struct{ format, media string }{{"json", "application/json"}, {"csv", "text/csv"}, {"ics", "text/calendar"}} {
		res := e.do(t, request{method: http.MethodGet, path: alice.export("format=" + f.format), token: alice.token})
		wantStatus(t, "export "+f.format, res, http.StatusOK)
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, f.media) {
			t.Errorf("export %s: Content-Type %q", f.format, ct)
		}
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="todo-export.`+f.format+`"` {
			t.Errorf("export %s: Content-Disposition %q", f.format, cd)
		}
	}

	res := e.do(t, request{method: http.MethodGet, path: alice.export("format=json"), token: alice.token})
	exported := res.body
	res = e.do(t, importReq(bob, "format=json", "application/json", string(exported)))
	wantStatus(t, "import", res, http.StatusCreated)
	imp := decodeImport(t, res)
	if imp.DryRun || imp.Created.Lists != 1 || imp.Created.Tasks != 3 || len(imp.Tasks) != 3 || imp.Tasks[0].ID == nil {
		t.Fatalf("import answered %s", res)
	}
	again := e.do(t, request{method: http.MethodGet, path: bob.export("format=json"), token: bob.token})
	if a, b := exportContent(t, exported), exportContent(t, again.body); a != b {
		t.Errorf("bob's export differs from alice's:\n%s\n%s", a, b)
	}
}

// exportContent is a JSON export without what differs between users: ids
// (refs), the export's time, positions and updated_at.
func exportContent(t *testing.T, b []byte) string {
	t.Helper()
	var doc struct {
		Lists []map[string]any `json:"lists"`
		Tasks []map[string]any `json:"tasks"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("export: %v\n%s", err, b)
	}
	lists, tasks := map[any]string{}, map[any]string{}
	for _, l := range doc.Lists {
		lists[l["ref"]] = "list " + l["name"].(string)
	}
	for _, tk := range doc.Tasks {
		tasks[tk["ref"]] = "task " + tk["title"].(string)
	}
	var out []string
	for _, items := range [][]map[string]any{doc.Lists, doc.Tasks} {
		for _, it := range items {
			if it["list_ref"] != nil {
				it["list_ref"] = lists[it["list_ref"]]
			}
			if it["parent_ref"] != nil {
				it["parent_ref"] = tasks[it["parent_ref"]]
			}
			delete(it, "ref")
			delete(it, "position")
			delete(it, "updated_at")
			b, _ := json.Marshal(it)
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestExportCSVNeutralisesFormulas: cells starting with = + - @ get a
// leading quote.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	seedTree(t, e, u)
	res := e.do(t, request{method: http.MethodGet, path: u.export("format=csv"), token: u.token})
	wantStatus(t, "export csv", res, http.StatusOK)
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	found := 0
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q starts a formula", cell)
			}
			if cell == `'=HYPERLINK("http://evil")` || cell == "'+1 @home -x" {
				found++
			}
		}
	}
	if found != 2 {
		t.Errorf("found %d neutralised cells, want 2:\n%s", found, res.body)
	}
}

// TestExportICSParses: go-ical reads the export: a VTODO per task, DUE with
// TZID and VALUE=DATE, RRULE, RELATED-TO;RELTYPE=PARENT, CATEGORIES, VALARM,
// and a VTIMEZONE for Europe/Paris.
func TestExportICSParses(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	seedTree(t, e, u)
	res := e.do(t, request{method: http.MethodGet, path: u.export("format=ics"), token: u.token})
	wantStatus(t, "export ics", res, http.StatusOK)
	cal, err := ical.NewDecoder(bytes.NewReader(res.body)).Decode()
	if err != nil {
		t.Fatalf("go-ical: %v\n%s", err, res.body)
	}
	todos := map[string]*ical.Component{}
	zones := 0
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompToDo:
			todos[c.Props.Get(ical.PropSummary).Value] = c
		case ical.CompTimezone:
			zones++
		}
	}
	if len(todos) != 3 || zones != 1 {
		t.Fatalf("%d VTODOs and %d VTIMEZONEs, want 3 and 1:\n%s", len(todos), zones, res.body)
	}
	plan, draft := todos["Plan"], todos["Draft"]
	if plan == nil || draft == nil {
		t.Fatalf("no Plan or Draft:\n%s", res.body)
	}
	if due := plan.Props.Get(ical.PropDue); due == nil || due.Params.Get(ical.ParamTimezoneID) != "Europe/Paris" || due.Value != "20270305T170000" {
		t.Errorf("Plan's DUE %+v", due)
	}
	if rr := plan.Props.Get(ical.PropRecurrenceRule); rr == nil || !strings.Contains(rr.Value, "FREQ=WEEKLY") {
		t.Errorf("Plan's RRULE %+v", rr)
	}
	if cat := plan.Props.Get(ical.PropCategories); cat == nil || cat.Value != "q3" {
		t.Errorf("Plan's CATEGORIES %+v", cat)
	}
	if len(plan.Children) != 1 || plan.Children[0].Name != ical.CompAlarm {
		t.Errorf("Plan has no VALARM: %+v", plan.Children)
	}
	if due := draft.Props.Get(ical.PropDue); due == nil || due.ValueType() != ical.ValueDate {
		t.Errorf("Draft's DUE %+v", due)
	}
	rel := draft.Props.Get(ical.PropRelatedTo)
	if rel == nil || rel.Params.Get("RELTYPE") != "PARENT" || rel.Value != plan.Props.Get(ical.PropUID).Value {
		t.Errorf("Draft's RELATED-TO %+v, Plan's UID %v", rel, plan.Props.Get(ical.PropUID))
	}
}

// todoistSample is a Todoist CSV export as Todoist writes it (a project with
// a section, labels in CONTENT, INDENT for subtasks, notes).
const todoistSample = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,DURATION,DURATION_UNIT\n" +
	"task,Buy milk @errands @home,,1,1,Ann (1),,2027-03-05,en,Europe/Paris,,\n" +
	"task,Pick the brand,Organic if they have it,4,2,Ann (1),,,en,Europe/Paris,,\n" +
	"note,Ask Bob,,,,Ann (1),,,en,Europe/Paris,,\n" +
	",,,,,,,,,,,\n" +
	"section,Later,,,,,,,,,,\n" +
	"task,Call the plumber @phone,,2,1,Ann (1),,every monday,en,Europe/Paris,,\n" +
	"task,Find the number,,3,2,Ann (1),,,en,Europe/Paris,,\n" +
	"task,Old flat's number,,4,3,Ann (1),,,en,Europe/Paris,,\n"

// TestImportTodoist: a Todoist file imports with its hierarchy, labels as
// tags and priorities turned round; dry_run creates nothing first.
func TestImportTodoist(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	res := e.do(t, importReq(u, "format=todoist-csv&project=Home&dry_run=true", "text/csv", todoistSample))
	wantStatus(t, "dry run", res, http.StatusOK)
	dry := decodeImport(t, res)
	if !dry.DryRun || dry.Created.Tasks != 5 || dry.Created.Lists != 2 || dry.Tasks[0].ID != nil {
		t.Fatalf("dry run answered %s", res)
	}
	if got := decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, "")); len(got) != 0 {
		t.Fatalf("a dry run created %d tasks", len(got))
	}
	res = e.do(t, importReq(u, "format=todoist-csv&project=Home", "text/csv", todoistSample))
	wantStatus(t, "import", res, http.StatusCreated)
	imp := decodeImport(t, res)
	if imp.Created.Tasks != 5 || imp.Created.Lists != 2 {
		t.Fatalf("import answered %s", res)
	}
	all := decodeTasks(t, e.call(t, http.MethodGet, u.tasks()+"?limit=100", u.token, ""))
	by := map[string]taskJSON{}
	for _, tk := range all {
		by[tk.Title] = tk
	}
	milk, brand, plumber, number, old := by["Buy milk"], by["Pick the brand"], by["Call the plumber"], by["Find the number"], by["Old flat's number"]
	if milk.ID == 0 || brand.ParentID == nil || *brand.ParentID != milk.ID || number.ParentID == nil || *number.ParentID != plumber.ID || old.ParentID == nil || *old.ParentID != number.ID {
		t.Fatalf("hierarchy lost: %v", all)
	}
	if !slices.Equal(milk.Tags, []string{"errands", "home"}) || milk.Priority != "high" || brand.Priority != "low" || milk.DueDate == nil || *milk.DueDate != "2027-03-05" {
		t.Errorf("Buy milk %v, Pick the brand %v", milk, brand)
	}
	if brand.Description == nil || !strings.Contains(*brand.Description, "Organic") {
		t.Errorf("Pick the brand's description %v", brand.Description)
	}
	if milk.ListID == nil || plumber.ListID == nil || *milk.ListID == *plumber.ListID {
		t.Errorf("the section is not a list of its own: %v %v", milk.ListID, plumber.ListID)
	}
}

// TestImportProblems: unreadable rows are named by line in a dry run and
// make a commit 422 creating nothing; a file that is not the format is 422;
// over the size or row bound 413.
func TestImportProblems(t *testing.T) {
	e := newEnv(t, func(d *httpapi.Deps) { d.Config.ImportMaxBytes = 64 << 10; d.Config.ImportMaxRows = 50 })
	u := e.newUser(t)
	file := "title,due_date,priority\nfine,2027-01-01,high\nbad date,someday,low\nbad priority,,urgent\n"
	res := e.do(t, importReq(u, "format=csv&dry_run=true", "text/csv", file))
	wantStatus(t, "dry run", res, http.StatusOK)
	dry := decodeImport(t, res)
	var lines []int
	for _, p := range dry.Problems {
		if p.Severity == "error" {
			lines = append(lines, p.Line)
		}
	}
	if !slices.Equal(lines, []int{3, 4}) || len(dry.Tasks) != 1 {
		t.Errorf("dry run problems on lines %v, tasks %v; want 3 and 4, one task", lines, dry.Tasks)
	}
	res = e.do(t, importReq(u, "format=csv", "text/csv", file))
	wantProblems(t, "commit with bad rows", res, []any{"body", "line", 3.0, "due_date"}, []any{"body", "line", 4.0, "priority"})
	if got := decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, "")); len(got) != 0 {
		t.Fatalf("a refused import created %d tasks", len(got))
	}

	// The mapping names the columns.
	res = e.do(t, importReq(u, `format=csv&dry_run=true&mapping={"title":"Task","due_date":"When"}`, "text/csv", "Task,When\nA,2027-01-01\n"))
	wantStatus(t, "mapping", res, http.StatusOK)
	if m := decodeImport(t, res); len(m.Tasks) != 1 || m.Tasks[0].Title != "A" {
		t.Errorf("mapping: %s", res)
	}
	res = e.do(t, importReq(u, `format=csv&mapping=nope`, "text/csv", "Task\nA\n"))
	wantProblems(t, "bad mapping", res, []any{"query", "mapping"})

	for name, body := range map[string]string{
		"invalid UTF-8":   "{\"format\":\"todo-export\",\"version\":1,\"lists\":[],\"tasks\":[{\"ref\":\"1\",\"title\":\"\xff\xfe\"}]}",
		"nesting":         `{"format":"todo-export","version":1,"lists":[],"tasks":[{"ref":"1","title":"x","tags":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}]}`,
		"not our export":  `{"hello":"world"}`,
		"truncated":       `{"format":"todo-export","version":1,"lists":[`,
		"a huge line":     `{"format":"todo-export","version":1,"lists":[],"tasks":[{"ref":"1","title":"` + strings.Repeat("a", 63<<10) + `"}]}`,
		"billion laughs?": `{"format":"todo-export","version":1,"lists":[],"tasks":[` + strings.Repeat(`{"ref":"x","title":"lol"},`, 10) + `{"ref":"x","title":"lol"}]}`,
	} {
		r := importReq(u, "format=json", "application/json", body)
		r.outsideDoc = true
		res := e.do(t, r)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %s, want 422", name, res)
		}
	}
	// Over IMPORT_MAX_BYTES, declared or streamed.
	big := "title\n" + strings.Repeat("a task\n", 10_000)
	res = e.do(t, importReq(u, "format=csv", "text/csv", big))
	wantStatus(t, "declared too large", res, http.StatusRequestEntityTooLarge)
	r := importReq(u, "format=csv", "text/csv", big)
	r.chunked = true
	res = e.do(t, r)
	wantStatus(t, "streamed too large", res, http.StatusRequestEntityTooLarge)
	// Over IMPORT_MAX_ROWS.
	res = e.do(t, importReq(u, "format=csv", "text/csv", "title\n"+strings.Repeat("a task\n", 60)))
	wantStatus(t, "too many rows", res, http.StatusRequestEntityTooLarge)
	// Larger than a JSON body's 1 MiB bound is no concern of imports': the
	// bound above is IMPORT_MAX_BYTES.
	if got := decodeTasks(t, e.call(t, http.MethodGet, u.tasks(), u.token, "")); len(got) != 0 {
		t.Fatalf("refused imports created %d tasks", len(got))
	}
}

// TestImportMultipartAndIdempotency: the file as a form's file part (its
// name the Todoist project), and a retried import with the same
// Idempotency-Key creates nothing twice.
func TestImportMultipartAndIdempotency(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	var b bytes.Buffer
	mp := multipart.NewWriter(&b)
	fw, _ := mp.CreateFormFile("file", "Groceries.csv")
	fw.Write([]byte(todoistSample))
	mp.Close()
	for i := range 2 {
		res := e.do(t, importReq(u, "format=todoist-csv", mp.FormDataContentType(), b.String(), "Idempotency-Key", "import-1"))
		wantStatus(t, fmt.Sprintf("import %d", i), res, http.StatusCreated)
		if imp := decodeImport(t, res); imp.Created.Tasks != 5 || imp.Lists[0].Name != "Groceries" {
			t.Fatalf("import %d answered %s", i, res)
		}
		if i == 1 && res.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the retry was not a replay: %v", res.header)
		}
	}
	if got := decodeTasks(t, e.call(t, http.MethodGet, u.tasks()+"?limit=100", u.token, "")); len(got) != 5 {
		t.Fatalf("two imports with one key made %d tasks, want 5", len(got))
	}
	r := importReq(u, "format=todoist-csv", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhi\r\n--x--\r\n")
	r.outsideDoc = true
	res := e.do(t, r)
	wantProblems(t, "form without a file", res, []any{"body"})
}
