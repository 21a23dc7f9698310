package sharing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestRestoreClearsStaleAssignees: an assignee is a member of the task's
// list, or null (issue 19). A member removed while tasks assigned to them
// were in the trash is cleared from them as they come back, however they
// come back: the task restored, its subtree with it, and the ancestors a
// subtask's restore brings back alone; the list restored with its tasks.
func TestRestoreClearsStaleAssignees(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			me := "/api/" + w.owner.id
			assignee := func(id int64) *string {
				var out struct {
					Assignee *string `json:"assignee_id"`
				}
				if err := json.Unmarshal(s.mustDo(t, w.owner, http.MethodGet, fmt.Sprintf("%s/tasks/%d", me, id), "", http.StatusOK).body, &out); err != nil {
					t.Fatal(err)
				}
				return out.Assignee
			}
			assign := func(id int64) {
				s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("%s/tasks/%d", me, id), `{"assignee_id":"`+w.editor.id+`"}`, http.StatusOK)
			}
			// A parent and its subtask, both the editor's, go to the
			// trash together; a task of the list goes alone.
			parent := s.create(t, w.owner, me+"/tasks", fmt.Sprintf(`{"title":"parent","list_id":%d}`, w.shared))
			child := s.create(t, w.owner, me+"/tasks", fmt.Sprintf(`{"title":"child","parent_id":%d}`, parent))
			for _, id := range []int64{parent, child, w.task, w.other} {
				assign(id)
			}
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("%s/tasks/%d", me, parent), "", http.StatusNoContent)
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("%s/tasks/%d", me, w.other), "", http.StatusNoContent)
			// The editor is removed: their live assignments go at once.
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("%s/lists/%d/members/%s", me, w.shared, w.editor.id), "", http.StatusNoContent)
			if a := assignee(w.task); a != nil {
				t.Errorf("%s: a live task of the removed editor's = %q, want unassigned", s.name, *a)
			}
			// The list goes to the trash and comes back, then the task
			// trashed alone before it.
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("%s/lists/%d", me, w.shared), "", http.StatusNoContent)
			s.mustDo(t, w.owner, http.MethodPost, fmt.Sprintf("%s/lists/%d/restore", me, w.shared), "", http.StatusOK)
			s.mustDo(t, w.owner, http.MethodPost, fmt.Sprintf("%s/tasks/%d/restore", me, w.other), "", http.StatusOK)
			// The subtask restored brings its parent back alone.
			s.mustDo(t, w.owner, http.MethodPost, fmt.Sprintf("%s/tasks/%d/restore", me, child), "", http.StatusOK)
			for _, id := range []int64{w.task, w.other, child, parent} {
				if a := assignee(id); a != nil {
					t.Errorf("%s: task %d restored = assigned to %q, no member of its list, want unassigned", s.name, id, *a)
				}
			}
		})
	}
}
