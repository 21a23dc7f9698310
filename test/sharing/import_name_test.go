package sharing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/todo-backend/todo/domain/list"
)

// TestImportMatchesFirstByName: names are unique only among the lists one
// user names (an admin's rename is checked against the admin's own lists,
// a hand-over against nobody's), so an owner may have two live lists of
// one name. An import naming that list puts its tasks into the first of
// them in the owner's sidebar, the one the owner sees first, whatever the
// lists' ids (it took the last before).
func TestImportMatchesFirstByName(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			owner, admin := s.newCaller(t), s.newCaller(t)
			o := "/api/" + owner.id
			first := s.create(t, owner, o+"/lists", `{"name":"Groceries"}`)
			second := s.create(t, owner, o+"/lists", `{"name":"Other"}`)
			s.join(t, owner, admin, second, list.RoleAdmin, false)
			s.mustDo(t, admin, http.MethodPatch, fmt.Sprintf("/api/%s/lists/%d", admin.id, second), `{"name":"groceries"}`, http.StatusOK)
			for _, c := range []struct {
				name       string
				top, other int64 // top: moved to the top of the sidebar
			}{{"higher id on top", second, first}, {"lower id on top", first, second}} {
				s.mustDo(t, owner, http.MethodPost, fmt.Sprintf("%s/lists/%d/move", o, c.top), `{}`, http.StatusOK)
				file := fmt.Sprintf(`{"format":"todo-export","version":1,"lists":[{"ref":"l1","name":"GROCERIES"}],
					"tasks":[{"ref":"1","list_ref":"l1","title":"milk %d"}]}`, c.top)
				got := s.mustDo(t, owner, http.MethodPost, o+"/imports?format=json", file, http.StatusCreated)
				var rep struct {
					Lists []struct {
						ID       int64 `json:"id"`
						Existing bool  `json:"existing"`
					} `json:"lists"`
					Tasks []struct {
						ID int64 `json:"id"`
					} `json:"tasks"`
				}
				if err := json.Unmarshal(got.body, &rep); err != nil || len(rep.Lists) != 1 || len(rep.Tasks) != 1 {
					t.Fatalf("%s: import: %s", c.name, got)
				}
				if rep.Lists[0].ID != c.top || !rep.Lists[0].Existing {
					t.Errorf("%s: the import went to list %d (existing %v), want %d, the first in the sidebar (not %d)",
						c.name, rep.Lists[0].ID, rep.Lists[0].Existing, c.top, c.other)
				}
				var tk struct {
					ListID int64 `json:"list_id"`
				}
				if err := json.Unmarshal(s.mustDo(t, owner, http.MethodGet, fmt.Sprintf("%s/tasks/%d", o, rep.Tasks[0].ID), "", http.StatusOK).body, &tk); err != nil || tk.ListID != c.top {
					t.Errorf("%s: the task is in list %d, want %d", c.name, tk.ListID, c.top)
				}
			}
		})
	}
}
