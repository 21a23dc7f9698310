package contract

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
)

// TestRevertRevision: POST .../history/{version}/revert puts back what that
// revision changed when nobody changed those fields since, else 409
// naming them, on every store (issue 17).
func TestRevertRevision(t *testing.T) {
	t.Parallel()
	for name, open := range commandAPIs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := open(t)[0]
			c := newCommandClient(t)
			code, raw := c.do(h, http.MethodPost, "/tasks", map[string]any{"title": "a"})
			var tk cmdTask
			if code != http.StatusCreated || json.Unmarshal(raw, &tk) != nil {
				t.Fatalf("create: %d %s", code, raw)
			}
			path := "/tasks/" + strconv.FormatInt(tk.ID, 10)
			for _, body := range []map[string]any{{"title": "b"}, {"priority": "high"}} {
				if code, raw := c.do(h, http.MethodPatch, path, body); code != http.StatusOK {
					t.Fatalf("PATCH %v: %d %s", body, code, raw)
				}
			}
			revert := func(v string) (int, cmdTask, []string) {
				code, raw := c.do(h, http.MethodPost, path+"/history/"+v+"/revert", nil)
				var out struct {
					cmdTask
					Conflicts []string `json:"conflicts"`
					Task      cmdTask  `json:"task"`
				}
				if err := json.Unmarshal(raw, &out); err != nil {
					t.Fatalf("revert %s: %d %s", v, code, raw)
				}
				if code == http.StatusConflict {
					return code, out.Task, out.Conflicts
				}
				return code, out.cmdTask, nil
			}
			if code, got, _ := revert("2"); code != http.StatusOK || got.Title != "a" || got.Priority != "high" || got.Version != 4 {
				t.Errorf("revert 2: %d %+v, want title a, priority high, version 4", code, got)
			}
			if code, got, _ := revert("3"); code != http.StatusOK || got.Title != "a" || got.Priority != "medium" {
				t.Errorf("revert 3: %d %+v, want title a, priority medium", code, got)
			}
			if code, got, conflicts := revert("2"); code != http.StatusConflict || len(conflicts) != 1 || conflicts[0] != "title" || got.Title != "a" {
				t.Errorf("revert 2 again: %d %v %+v, want 409 [title] and the task as it is", code, conflicts, got)
			}
			if code, _, _ := revert("99"); code != http.StatusNotFound {
				t.Errorf("revert 99: %d, want 404", code)
			}
		})
	}
}
