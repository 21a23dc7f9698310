package sharing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestCommandAbortRetriesBatch: PostgreSQL aborts one command of a batch
// with 40P01 (a trigger raises it on that command's insert, the first
// time only, as a deadlock the database broke would): the batch runs
// again whole, and every command lands once. Before, the aborted command
// answered 500 in a batch that committed the others (or, atomic, 424
// them), and a keyed create answered 500.
func TestCommandAbortRetriesBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL (-short)")
	}
	t.Parallel()
	s := start(t, "postgres", stores[2].url(t))
	ctx := t.Context()
	for _, q := range []string{
		"CREATE SEQUENCE abort_once",
		`CREATE FUNCTION abort_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.title LIKE 'abort always%' THEN
				RAISE EXCEPTION 'deadlock detected (raised by a test)' USING ERRCODE = '40P01';
			END IF;
			IF NEW.title LIKE 'abort me%' THEN
				IF nextval('abort_once') = 1 THEN
					RAISE EXCEPTION 'deadlock detected (raised by a test)' USING ERRCODE = '40P01';
				END IF;
			END IF;
			RETURN NEW;
		END $$`,
		"CREATE TRIGGER abort_once BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION abort_once()",
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	a := s.newCaller(t)
	count := func(title string) int {
		var n int
		if err := s.db.NewRaw("SELECT count(*) FROM tasks WHERE user_id = ? AND title = ?", a.id, title).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, atomic := range []bool{false, true} {
		if _, err := s.db.ExecContext(ctx, "SELECT setval('abort_once', 1, false)"); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"atomic": atomic, "commands": []map[string]any{
			{"id": fmt.Sprintf("one-%d", i), "type": "task.create", "args": map[string]any{"title": fmt.Sprintf("before %d", i)}},
			{"id": fmt.Sprintf("two-%d", i), "type": "task.create", "args": map[string]any{"title": fmt.Sprintf("abort me %d", i)}},
		}})
		got := s.do(t, a, http.MethodPost, "/api/"+a.id+"/commands", string(body))
		var out struct {
			Results map[string]struct{ Status int } `json:"results"`
		}
		if got.status != http.StatusOK || json.Unmarshal(got.body, &out) != nil ||
			out.Results[fmt.Sprintf("one-%d", i)].Status != http.StatusCreated || out.Results[fmt.Sprintf("two-%d", i)].Status != http.StatusCreated {
			t.Errorf("atomic %v: %s, want both commands 201", atomic, got)
		}
		if b, c := count(fmt.Sprintf("before %d", i)), count(fmt.Sprintf("abort me %d", i)); b != 1 || c != 1 {
			t.Errorf("atomic %v: %d and %d tasks, want one of each", atomic, b, c)
		}
	}
	// Aborted on every run: past the bound, the batch is a 503 with
	// Retry-After (it wrote nothing), as any unit of work is (it was a 500).
	got := s.do(t, a, http.MethodPost, "/api/"+a.id+"/commands",
		`{"commands":[{"id":"x-1","type":"task.create","args":{"title":"kept?"}},{"id":"x-2","type":"task.create","args":{"title":"abort always"}}]}`)
	if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" || count("kept?") != 0 {
		t.Errorf("always aborted: %s, Retry-After %q, %d tasks; want 503 with Retry-After, none", got, got.header.Get("Retry-After"), count("kept?"))
	}
	if _, err := s.db.ExecContext(ctx, "SELECT setval('abort_once', 1, false)"); err != nil {
		t.Fatal(err)
	}
	got = s.do(t, a, http.MethodPost, "/api/"+a.id+"/tasks", `{"title":"abort me keyed"}`, "Idempotency-Key", "abort-keyed")
	if got.status != http.StatusCreated || count("abort me keyed") != 1 {
		t.Errorf("keyed create: %s, %d tasks; want 201 and one", got, count("abort me keyed"))
	}
}
