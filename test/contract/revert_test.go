package contract

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
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

// TestRevertTimeModel: a revert puts back every field a PATCH sets: the
// due with its zone or floating, the recurrence with how it counts, the
// reminders, exactly as they were; the creation cannot be reverted (422),
// on every store.
func TestRevertTimeModel(t *testing.T) {
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
			members := []string{"due_date", "due_tz", "due_floating", "recurrence", "reminders", "priority", "tags", "description"}
			snapshot := func() map[string]string {
				code, raw := c.do(h, http.MethodGet, path, nil)
				var m map[string]json.RawMessage
				if code != http.StatusOK || json.Unmarshal(raw, &m) != nil {
					t.Fatalf("GET: %d %s", code, raw)
				}
				out := map[string]string{}
				for _, k := range members {
					out[k] = string(m[k])
				}
				return out
			}
			patches := []map[string]any{
				// v2: a timed due in a zone, a recurrence from completion, a reminder.
				{"due_date": "2026-03-01T17:00:00", "due_tz": "Europe/Paris", "recurrence": map[string]any{"rule": "FREQ=WEEKLY;BYDAY=SU", "from": "completion"},
					"reminders": []map[string]any{{"before": "PT15M"}, {"at": "2026-02-28T09:00:00Z"}}, "description": "d", "tags": []string{"x"}},
				// v3: an all-day due, no recurrence, no reminders.
				{"due_date": "2026-04-01", "recurrence": nil, "reminders": nil, "description": nil, "tags": nil},
				// v4: a floating due with a reminder.
				{"due_date": "2026-05-01T08:30:00", "due_floating": true, "reminders": []map[string]any{{"before": "PT1H"}}},
			}
			var snaps []map[string]string
			for _, p := range patches {
				if code, raw := c.do(h, http.MethodPatch, path, p); code != http.StatusOK {
					t.Fatalf("PATCH %v: %d %s", p, code, raw)
				}
				snaps = append(snaps, snapshot())
			}
			revert := func(v int) (int, []byte) {
				return c.do(h, http.MethodPost, path+"/history/"+strconv.Itoa(v)+"/revert", nil)
			}
			// Undo v4: back to v3's all-day due without reminders.
			if code, raw := revert(4); code != http.StatusOK {
				t.Fatalf("revert 4: %d %s", code, raw)
			}
			if got := snapshot(); !maps.Equal(got, snaps[1]) {
				t.Errorf("after reverting 4:\n got %v\nwant %v", got, snaps[1])
			}
			// Undo v5 (the revert) and v3 is reverted by reverting v3: back to v2's.
			if code, raw := revert(3); code != http.StatusConflict {
				t.Errorf("revert 3 after 4 and 5 changed the due since: %d %s, want 409", code, raw)
			}
			if code, raw := revert(5); code != http.StatusOK {
				t.Fatalf("revert 5: %d %s", code, raw)
			}
			if got := snapshot(); !maps.Equal(got, snaps[2]) {
				t.Errorf("after reverting 5:\n got %v\nwant %v", got, snaps[2])
			}
			// A fresh task: v2 set everything, v3 cleared it; undo v3.
			code, raw = c.do(h, http.MethodPost, "/tasks", map[string]any{"title": "b"})
			if code != http.StatusCreated || json.Unmarshal(raw, &tk) != nil {
				t.Fatalf("create: %d %s", code, raw)
			}
			path = "/tasks/" + strconv.FormatInt(tk.ID, 10)
			snaps = nil
			for _, p := range patches[:2] {
				if code, raw := c.do(h, http.MethodPatch, path, p); code != http.StatusOK {
					t.Fatalf("PATCH %v: %d %s", p, code, raw)
				}
				snaps = append(snaps, snapshot())
			}
			if code, raw := revert(3); code != http.StatusOK {
				t.Fatalf("revert 3: %d %s", code, raw)
			}
			if got := snapshot(); !maps.Equal(got, snaps[0]) {
				t.Errorf("after reverting 3:\n got %v\nwant %v", got, snaps[0])
			}
			if code, raw := revert(1); code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "creation") {
				t.Errorf("revert 1 (the creation): %d %s, want 422 saying so", code, raw)
			}
		})
	}
}
