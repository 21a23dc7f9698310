package sharing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestUnassignedByWhoRemoved: the write that clears a removed member's
// assignments (issue 19: an assignee is a member of the task's list, or
// null) is the remover's, and the task's history names them (by), not the
// list's owner, who did nothing: an admin who removed the member, the
// member who left, the editor whose restore cleared it.
func TestUnassignedByWhoRemoved(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			me := "/api/" + w.owner.id
			// clearedBy is who the history of task id says cleared its
			// assignee last.
			clearedBy := func(id int64) string {
				var revs []struct {
					Version int64 `json:"version"`
					By      string
					Changed map[string]struct {
						To json.RawMessage `json:"to"`
					} `json:"changed"`
				}
				if err := json.Unmarshal(s.mustDo(t, w.owner, http.MethodGet, fmt.Sprintf("%s/tasks/%d/history", me, id), "", http.StatusOK).body, &revs); err != nil {
					t.Fatal(err)
				}
				by, at := "", int64(0)
				for _, r := range revs {
					if c, ok := r.Changed["assignee_id"]; ok && string(c.To) == "null" && r.Version > at {
						by, at = r.By, r.Version
					}
				}
				return by
			}
			assign := func(id int64, who caller) {
				s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("%s/tasks/%d", me, id), `{"assignee_id":"`+who.id+`"}`, http.StatusOK)
			}
			// The admin removes the viewer.
			assign(w.task, w.viewer)
			s.mustDo(t, w.admin, http.MethodDelete, fmt.Sprintf("/api/%s/lists/%d/members/%s", w.admin.id, w.shared, w.viewer.id), "", http.StatusNoContent)
			if by := clearedBy(w.task); by != w.admin.id {
				t.Errorf("%s: the admin's removal of the assignee is by %q in the history, want the admin %q", s.name, by, w.admin.id)
			}
			// The completer leaves.
			assign(w.task, w.completer)
			s.mustDo(t, w.completer, http.MethodDelete, fmt.Sprintf("/api/%s/lists/%d/members/%s", w.completer.id, w.shared, w.completer.id), "", http.StatusNoContent)
			if by := clearedBy(w.task); by != w.completer.id {
				t.Errorf("%s: the assignee's leaving is by %q in the history, want them, %q", s.name, by, w.completer.id)
			}
			// The admin's task, in the trash while they are removed, is
			// restored by the editor: the editor's restore clears it.
			assign(w.other, w.admin)
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("%s/tasks/%d", me, w.other), "", http.StatusNoContent)
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("%s/lists/%d/members/%s", me, w.shared, w.admin.id), "", http.StatusNoContent)
			s.mustDo(t, w.editor, http.MethodPost, fmt.Sprintf("/api/%s/tasks/%d/restore", w.editor.id, w.other), "", http.StatusOK)
			if by := clearedBy(w.other); by != w.editor.id {
				t.Errorf("%s: the editor's restore that cleared the assignee is by %q in the history, want the editor %q", s.name, by, w.editor.id)
			}
		})
	}
}
