package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestImportOverHTTP: POST .../imports through the built binary on
// PostgreSQL, over a socket: a JSON body and a multipart form, a dry run
// that creates nothing, an Idempotency-Key whose retry replays the answer
// and creates nothing twice (and whose reuse for another file is 422), and
// an export imported into another user that exports the same tasks.
func TestImportOverHTTP(t *testing.T) {
	skipShort(t)
	t.Parallel()
	a := startAPI(t,
		"DATABASE_URL="+testenv.PostgresDatabase(t),
		"BETTER_AUTH_SECRET="+testSecret,
	)
	testenv.WaitHTTP(t, a.Process, a.URL+"/readyz", http.StatusOK, startTimeout)
	c := newClient(a.URL)
	id := newUserID(t)
	token := signHS256(t, testSecret, userClaims(id))
	imports := "/api/" + id + "/imports?format="

	type result struct {
		DryRun  bool `json:"dry_run"`
		Created struct {
			Lists int `json:"lists"`
			Tasks int `json:"tasks"`
		} `json:"created"`
		Lists []json.RawMessage `json:"lists"`
		Tasks []struct {
			Ref     string `json:"ref"`
			Title   string `json:"title"`
			ID      *int64 `json:"id"`
			Trashed bool   `json:"trashed"`
			Line    int    `json:"line"`
		} `json:"tasks"`
		Skipped  int               `json:"skipped"`
		Problems []json.RawMessage `json:"problems"`
	}
	countTasks := func(user, tok string) int {
		t.Helper()
		r := c.do(t, http.MethodGet, "/api/"+user+"/tasks?limit=200", tok, nil)
		var ts []json.RawMessage
		if !expect(t, r, http.StatusOK) || !decode(t, r, &ts) {
			t.FailNow()
		}
		return len(ts)
	}
	file := `{"format":"todo-export","version":1,"lists":[{"ref":"l1","name":"Groceries"}],
		"tasks":[{"ref":"1","list_ref":"l1","title":"milk"},{"ref":"2","list_ref":"l1","parent_ref":"1","title":"oat"},{"ref":"3","title":"call mum","priority":"high"}]}`

	// A dry run: what would be created, nothing created.
	r := c.do(t, http.MethodPost, imports+"json&dry_run=true", token, raw(file))
	var res result
	if !expect(t, r, http.StatusOK) || !decode(t, r, &res) {
		t.FailNow()
	}
	if !res.DryRun || res.Created.Tasks != 3 || res.Created.Lists != 1 || res.Tasks[0].ID != nil {
		t.Errorf("dry run: %s", r.Body)
	}
	if n := countTasks(id, token); n != 0 {
		t.Fatalf("a dry run created %d tasks", n)
	}

	// The JSON body with an Idempotency-Key, then its retry.
	first := c.do(t, http.MethodPost, imports+"json", token, raw(file), "Idempotency-Key", "import-1")
	if !expect(t, first, http.StatusCreated) || !decode(t, first, &res) {
		t.FailNow()
	}
	if res.Created.Tasks != 3 || res.Tasks[0].ID == nil {
		t.Errorf("import: %s", first.Body)
	}
	again := c.do(t, http.MethodPost, imports+"json", token, raw(file), "Idempotency-Key", "import-1")
	if !expect(t, again, http.StatusCreated) || again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("retry: %d %q %s, want the first answer replayed", again.Status, again.Header.Get("Idempotent-Replayed"), again.Body)
	}
	if n := countTasks(id, token); n != 3 {
		t.Fatalf("after an import and its retry: %d tasks, want 3", n)
	}
	other := c.do(t, http.MethodPost, imports+"json", token, raw(`{"format":"todo-export","version":1,"tasks":[{"ref":"9","title":"x"}]}`), "Idempotency-Key", "import-1")
	expect(t, other, http.StatusUnprocessableEntity)

	// A multipart form (project, then the file), a Todoist CSV, with a key.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("project", "Home")
	fw, err := mw.CreateFormFile("file", "Home.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fw, "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\r\n"+
		"task,Clean the kitchen @chores,,1,1,,,,en,\r\n"+
		"task,Wipe the counters,,4,2,,,,en,\r\n")
	_ = mw.Close()
	send := func() *response {
		req, err := http.NewRequest(http.MethodPost, a.URL+imports+"todoist-csv", bytes.NewReader(form.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", "import-form")
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return &response{req: "POST imports (form)", Status: resp.StatusCode, Header: resp.Header, Body: body}
	}
	formFirst := send()
	if !expect(t, formFirst, http.StatusCreated) || !decode(t, formFirst, &res) || res.Created.Tasks != 2 {
		t.Fatalf("form import: %d %s", formFirst.Status, formFirst.Body)
	}
	if formAgain := send(); formAgain.Status != http.StatusCreated || formAgain.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("form retry: %d %s", formAgain.Status, formAgain.Body)
	}
	if n := countTasks(id, token); n != 5 {
		t.Fatalf("after both imports and their retries: %d tasks, want 5", n)
	}

	// The export, imported into another user, exports the same tasks.
	export := c.do(t, http.MethodGet, "/api/"+id+"/export?format=json", token, nil)
	if export.Status != http.StatusOK {
		t.Fatalf("export: %d %s", export.Status, export.Body)
	}
	to := newUserID(t)
	toToken := signHS256(t, testSecret, userClaims(to))
	r = c.do(t, http.MethodPost, "/api/"+to+"/imports?format=json", toToken, raw(export.Body))
	if !expect(t, r, http.StatusCreated) || !decode(t, r, &res) || res.Created.Tasks != 5 {
		t.Fatalf("re-import: %d %s", r.Status, r.Body)
	}
	back := c.do(t, http.MethodGet, "/api/"+to+"/export?format=json", toToken, nil)
	titles := func(b []byte) map[string]int {
		var doc struct {
			Tasks []struct {
				Title string   `json:"title"`
				Tags  []string `json:"tags"`
			} `json:"tasks"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("export: %v", err)
		}
		out := map[string]int{}
		for _, tk := range doc.Tasks {
			out[tk.Title+" "+string(must(json.Marshal(tk.Tags)))]++
		}
		return out
	}
	if w, g := titles(export.Body), titles(back.Body); len(w) != 5 || !equalCounts(w, g) {
		t.Errorf("exports differ:\n%v\n%v", w, g)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
