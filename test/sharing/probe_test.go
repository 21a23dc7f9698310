package sharing

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
)

// Probes of the ids a request names besides its path: a parent, an anchor
// (after_id, before_id), a list. A member of a shared list reaches that
// list's tasks, not the owner's others: naming one of those must answer
// exactly what naming an id that does not exist answers, and change
// nothing. Each probe is sent twice, once naming the owner's private task
// (or list) and once naming missingID, and the two answers must be equal.

// probeWorld is an owner's private list with a task in it, a shared list
// with two tasks in it, and its members.
type probeWorld struct {
	owner, editor, admin, stranger, removed caller
	viewer, completer                       caller
	private, shared                         int64 // lists
	secret                                  int64 // a task in private
	task, other                             int64 // tasks in shared
	mine, myList                            int64 // the stranger's task and list
	invitation                              int64 // to the shared list, for an email nobody has
}

func (s *server) newProbeWorld(t *testing.T) *probeWorld {
	t.Helper()
	w := &probeWorld{owner: s.newCaller(t), editor: s.newCaller(t), admin: s.newCaller(t), stranger: s.newCaller(t), removed: s.newCaller(t),
		viewer: s.newCaller(t), completer: s.newCaller(t)}
	m := strings.ToLower(rand.Text()[:8])
	lists, tasks := "/api/"+w.owner.id+"/lists", "/api/"+w.owner.id+"/tasks"
	w.private = s.create(t, w.owner, lists, `{"name":"private `+m+`"}`)
	w.shared = s.create(t, w.owner, lists, `{"name":"shared `+m+`"}`)
	s.join(t, w.owner, w.editor, w.shared, list.RoleEditor, false)
	s.join(t, w.owner, w.admin, w.shared, list.RoleAdmin, false)
	s.join(t, w.owner, w.removed, w.shared, list.RoleEditor, true)
	s.join(t, w.owner, w.viewer, w.shared, list.RoleViewer, false)
	s.join(t, w.owner, w.completer, w.shared, list.RoleCompleter, false)
	inv, err := s.members.Invite(t.Context(), list.Invitation{ListID: list.ID(w.shared), Email: "pending-" + m + "@example.com",
		Role: list.RoleEditor, InvitedBy: auth.UserID(w.owner.id), CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	w.invitation = int64(inv.ID)
	w.myList = s.create(t, w.stranger, "/api/"+w.stranger.id+"/lists", `{"name":"mine `+m+`"}`)
	w.mine = s.create(t, w.stranger, "/api/"+w.stranger.id+"/tasks", `{"title":"mine"}`)
	w.secret = s.create(t, w.owner, tasks, fmt.Sprintf(`{"title":"secret","list_id":%d}`, w.private))
	w.task = s.create(t, w.owner, tasks, fmt.Sprintf(`{"title":"shared one","list_id":%d}`, w.shared))
	w.other = s.create(t, w.owner, tasks, fmt.Sprintf(`{"title":"shared two","list_id":%d}`, w.shared))
	return w
}

// probe is one request, by who, naming the foreign id as %[1]d (in its
// path or body); w's ids are filled in by the functions.
type probe struct {
	name       string
	who        func(*probeWorld) caller
	foreign    func(*probeWorld) int64 // the owner's private task when nil
	method     string
	path, body func(w *probeWorld, foreign int64) string
	// header, when set, is the request's headers ("name", "value", ...).
	header func(foreign int64) []string
}

func editor(w *probeWorld) caller     { return w.editor }
func admin(w *probeWorld) caller      { return w.admin }
func stranger(w *probeWorld) caller   { return w.stranger }
func removed(w *probeWorld) caller    { return w.removed }
func viewer(w *probeWorld) caller     { return w.viewer }
func completer(w *probeWorld) caller  { return w.completer }
func sharedTask(w *probeWorld) int64  { return w.task }
func sharedList(w *probeWorld) int64  { return w.shared }
func privateList(w *probeWorld) int64 { return w.private }
func invitation(w *probeWorld) int64  { return w.invitation }

// callerName names a caller of probeWorld by its role.
func callerName(c func(*probeWorld) caller) string {
	w := &probeWorld{stranger: caller{id: "stranger"}, removed: caller{id: "removed member"}, viewer: caller{id: "viewer"},
		completer: caller{id: "completer"}, editor: caller{id: "editor"}, admin: caller{id: "admin"}}
	return c(w).id
}

// as is p for each of callers, named after them.
func as(p probe, callers ...func(*probeWorld) caller) []probe {
	var out []probe
	for _, c := range callers {
		q := p
		q.name, q.who = callerName(c)+": "+p.name, c
		path := p.path
		q.path = func(w *probeWorld, x int64) string {
			return strings.Replace(path(w, x), "{me}", q.who(w).id, 1)
		}
		out = append(out, q)
	}
	return out
}

// probes name the owner's private task (or list) where a member of the
// shared list may only name the shared list's.
var probes = []probe{
	{name: "create under a private parent", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return "/api/" + w.editor.id + "/tasks" },
		body: func(w *probeWorld, x int64) string {
			return fmt.Sprintf(`{"title":"probe","list_id":%d,"parent_id":%d}`, w.shared, x)
		}},
	{name: "bulk create under a private parent", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return "/api/" + w.editor.id + "/tasks/bulk" },
		body: func(w *probeWorld, x int64) string {
			return fmt.Sprintf(`[{"title":"probe","list_id":%d,"parent_id":%d}]`, w.shared, x)
		}},
	{name: "move under a private parent", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/%s/tasks/%d/move", w.editor.id, w.task) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"parent_id":%d}`, x) }},
	{name: "move under a private parent, list named", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/%s/tasks/%d/move", w.editor.id, w.task) },
		body: func(w *probeWorld, x int64) string { return fmt.Sprintf(`{"list_id":%d,"parent_id":%d}`, w.shared, x) }},
	{name: "move after a private task", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/%s/tasks/%d/move", w.editor.id, w.task) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"after_id":%d}`, x) }},
	{name: "move before a private task", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/%s/tasks/%d/move", w.editor.id, w.task) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"before_id":%d}`, x) }},
	{name: "bulk move after a private task", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return "/api/" + w.editor.id + "/tasks/move" },
		body: func(w *probeWorld, x int64) string {
			return fmt.Sprintf(`{"ids":[%d,%d],"after_id":%d}`, w.task, w.other, x)
		}},
	{name: "bulk move under a private parent", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return "/api/" + w.editor.id + "/tasks/move" },
		body: func(w *probeWorld, x int64) string {
			return fmt.Sprintf(`{"ids":[%d,%d],"parent_id":%d}`, w.task, w.other, x)
		}},
	{name: "command: create under a private parent", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return "/api/" + w.editor.id + "/commands" },
		body: func(w *probeWorld, x int64) string {
			return fmt.Sprintf(`{"commands":[{"id":"%s","type":"task.create","args":{"title":"probe","list_id":%d,"parent_id":%d}}]}`, rand.Text(), w.shared, x)
		}},
	{name: "command: move after a private task", who: editor, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return "/api/" + w.editor.id + "/commands" },
		body: func(w *probeWorld, x int64) string {
			return fmt.Sprintf(`{"commands":[{"id":"%s","type":"task.move","entity_id":%d,"args":{"after_id":%d}}]}`, rand.Text(), w.task, x)
		}},
	{name: "move a list after a private list", who: admin, foreign: privateList, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/%s/lists/%d/move", w.admin.id, w.shared) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"after_id":%d}`, x) }},
}

// outsiders' probes name the shared list's task, list or invitation, for
// a stranger and a removed member, beside their own ids.
var outsiders = slices.Concat(
	as(probe{name: "bulk delete with a shared task", foreign: sharedTask, method: http.MethodPost,
		path: func(*probeWorld, int64) string { return "/api/{me}/tasks/bulk-delete" },
		body: func(w *probeWorld, x int64) string { return fmt.Sprintf(`{"ids":[%d,%d]}`, w.mine, x) }}, stranger, removed),
	as(probe{name: "bulk update with a shared task", foreign: sharedTask, method: http.MethodPatch,
		path: func(*probeWorld, int64) string { return "/api/{me}/tasks/bulk" },
		body: func(w *probeWorld, x int64) string {
			return fmt.Sprintf(`{"ids":[%d,%d],"set":{"priority":"high"}}`, w.mine, x)
		}}, stranger, removed),
	as(probe{name: "move a shared task with an own one", foreign: sharedTask, method: http.MethodPost,
		path: func(*probeWorld, int64) string { return "/api/{me}/tasks/move" },
		body: func(w *probeWorld, x int64) string { return fmt.Sprintf(`{"ids":[%d,%d]}`, w.mine, x) }}, stranger, removed),
	as(probe{name: "move own after a shared task", foreign: sharedTask, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/{me}/tasks/%d/move", w.mine) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"after_id":%d}`, x) }}, stranger),
	as(probe{name: "move own under a shared task", foreign: sharedTask, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/{me}/tasks/%d/move", w.mine) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"parent_id":%d}`, x) }}, stranger),
	as(probe{name: "move own to the shared list", foreign: sharedList, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/{me}/tasks/%d/move", w.mine) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"list_id":%d}`, x) }}, stranger),
	as(probe{name: "create under a shared task", foreign: sharedTask, method: http.MethodPost,
		path: func(*probeWorld, int64) string { return "/api/{me}/tasks" },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"title":"probe","parent_id":%d}`, x) }}, stranger, removed),
	as(probe{name: "move own list after the shared list", foreign: sharedList, method: http.MethodPost,
		path: func(w *probeWorld, _ int64) string { return fmt.Sprintf("/api/{me}/lists/%d/move", w.myList) },
		body: func(_ *probeWorld, x int64) string { return fmt.Sprintf(`{"after_id":%d}`, x) }}, stranger),
	as(probe{name: "leave the shared list", foreign: sharedList, method: http.MethodDelete,
		path: func(w *probeWorld, x int64) string { return fmt.Sprintf("/api/{me}/lists/%d/members/{me}", x) },
		body: func(*probeWorld, int64) string { return "" }}, stranger, removed),
	as(probe{name: "accept another's invitation", foreign: invitation, method: http.MethodPost,
		path: func(_ *probeWorld, x int64) string { return fmt.Sprintf("/api/{me}/invitations/%d/accept", x) },
		body: func(*probeWorld, int64) string { return "" }}, stranger, removed),
	as(probe{name: "decline another's invitation", foreign: invitation, method: http.MethodPost,
		path: func(_ *probeWorld, x int64) string { return fmt.Sprintf("/api/{me}/invitations/%d/decline", x) },
		body: func(*probeWorld, int64) string { return "" }}, stranger, removed),
)

// conditionals are the outsiders' requests with If-Match and
// If-None-Match on the shared task and list, at their versions (1 and 2
// for the task, 1 for the list) and *: none may answer 304 or 412.
var conditionals = func() []probe {
	var out []probe
	tag := func(h, v string) func(int64) []string {
		return func(x int64) []string { return []string{h, strings.ReplaceAll(v, "ID", strconv.FormatInt(x, 10))} }
	}
	noBody := func(*probeWorld, int64) string { return "" }
	task := func(suffix string) func(*probeWorld, int64) string {
		return func(_ *probeWorld, x int64) string { return fmt.Sprintf("/api/{me}/tasks/%d%s", x, suffix) }
	}
	lst := func(suffix string) func(*probeWorld, int64) string {
		return func(_ *probeWorld, x int64) string { return fmt.Sprintf("/api/{me}/lists/%d%s", x, suffix) }
	}
	for _, v := range []string{`"ID-1"`, `W/"ID-2"`, "*"} {
		out = slices.Concat(out,
			as(probe{name: "GET task If-None-Match " + v, foreign: sharedTask, method: http.MethodGet, path: task(""), body: noBody,
				header: tag("If-None-Match", v)}, stranger, removed),
			as(probe{name: "PATCH task If-Match " + v, foreign: sharedTask, method: http.MethodPatch, path: task(""),
				body: fixed2(`{"priority":"high"}`), header: tag("If-Match", v)}, stranger, removed),
			as(probe{name: "PUT task If-Match " + v, foreign: sharedTask, method: http.MethodPut, path: task(""),
				body: fixed2(`{"title":"x"}`), header: tag("If-Match", v)}, stranger, removed),
			as(probe{name: "DELETE task If-Match " + v, foreign: sharedTask, method: http.MethodDelete, path: task(""), body: noBody,
				header: tag("If-Match", v)}, stranger, removed),
			as(probe{name: "complete task If-Match " + v, foreign: sharedTask, method: http.MethodPatch, path: task("/complete"), body: noBody,
				header: tag("If-Match", v)}, stranger, removed),
			as(probe{name: "move task If-Match " + v, foreign: sharedTask, method: http.MethodPost, path: task("/move"),
				body: fixed2(`{}`), header: tag("If-Match", v)}, stranger, removed),
			as(probe{name: "GET list If-None-Match " + v, foreign: sharedList, method: http.MethodGet, path: lst(""), body: noBody,
				header: tag("If-None-Match", v)}, stranger, removed),
			as(probe{name: "PATCH list If-Match " + v, foreign: sharedList, method: http.MethodPatch, path: lst(""),
				body: fixed2(`{"color":"#ff0000"}`), header: tag("If-Match", v)}, stranger, removed),
			as(probe{name: "DELETE list If-Match " + v, foreign: sharedList, method: http.MethodDelete, path: lst(""), body: noBody,
				header: tag("If-Match", v)}, stranger, removed),
			as(probe{name: "move list If-Match " + v, foreign: sharedList, method: http.MethodPost, path: lst("/move"),
				body: fixed2(`{}`), header: tag("If-Match", v)}, stranger, removed),
		)
	}
	// A lower role's refused writes, with If-Match at the task's version
	// (1), a stale one and *: the refusal is a missing task's 404 still,
	// never a 412 or a 409 nor a merge that lands.
	for _, v := range []string{`"ID-1"`, `"ID-0"`, "*"} {
		out = slices.Concat(out,
			as(probe{name: "PATCH title If-Match " + v, foreign: sharedTask, method: http.MethodPatch, path: task(""),
				body: fixed2(`{"title":"by a lower role"}`), header: tag("If-Match", v)}, viewer, completer),
			as(probe{name: "PUT task If-Match " + v, foreign: sharedTask, method: http.MethodPut, path: task(""),
				body: fixed2(`{"title":"by a lower role"}`), header: tag("If-Match", v)}, viewer, completer),
			as(probe{name: "DELETE task If-Match " + v, foreign: sharedTask, method: http.MethodDelete, path: task(""), body: noBody,
				header: tag("If-Match", v)}, viewer, completer),
			as(probe{name: "move task If-Match " + v, foreign: sharedTask, method: http.MethodPost, path: task("/move"),
				body: fixed2(`{"bottom":true}`), header: tag("If-Match", v)}, viewer, completer),
			as(probe{name: "complete task If-Match " + v, foreign: sharedTask, method: http.MethodPatch, path: task("/complete"), body: noBody,
				header: tag("If-Match", v)}, viewer),
			as(probe{name: "PATCH list If-Match " + v, foreign: sharedList, method: http.MethodPatch, path: lst(""),
				body: fixed2(`{"color":"#ff0000"}`), header: tag("If-Match", v)}, viewer, completer, editor),
			as(probe{name: "DELETE list If-Match " + v, foreign: sharedList, method: http.MethodDelete, path: lst(""), body: noBody,
				header: tag("If-Match", v)}, viewer, completer, editor, admin),
		)
	}
	for _, c := range []string{
		`{"type":"task.update","entity_id":ID,"base_version":V,"args":{"priority":"high"}}`,
		`{"type":"task.update","entity_id":ID,"base_version":V,"on_conflict":"reject","args":{"priority":"high"}}`,
		`{"type":"task.complete","entity_id":ID,"base_version":V}`,
		`{"type":"task.move","entity_id":ID,"base_version":V,"args":{}}`,
		`{"type":"task.delete","entity_id":ID,"base_version":V}`,
		`{"type":"list.update","entity_id":LID,"base_version":V,"args":{"color":"#ff0000"}}`,
		`{"type":"list.move","entity_id":LID,"base_version":V,"args":{}}`,
		`{"type":"list.delete","entity_id":LID,"base_version":V}`,
	} {
		for _, v := range []string{"1", "2"} {
			foreign := sharedTask
			if strings.Contains(c, "LID") {
				foreign = sharedList
			}
			cmd := strings.NewReplacer("LID", "ID", "V", v).Replace(c)
			out = append(out, as(probe{name: "command " + cmd, foreign: foreign, method: http.MethodPost,
				path: func(*probeWorld, int64) string { return "/api/{me}/commands" },
				body: func(_ *probeWorld, x int64) string {
					return `{"commands":[{"id":"` + rand.Text() + `",` + strings.ReplaceAll(cmd, "ID", strconv.FormatInt(x, 10))[1:] + `]}`
				}}, stranger, removed)...)
		}
	}
	return out
}()

func fixed2(s string) func(*probeWorld, int64) string {
	return func(*probeWorld, int64) string { return s }
}

// commandID is a command's id in the results of /commands, which differs
// between the two calls of a probe.
var commandID = regexp.MustCompile(`"results":\{"[^"]*"`)

// TestForeignIDsInBodies sends every probe naming the owner's private task
// (or, for a list's move, the private list) and naming nothing, on every
// store: the answers must be equal and the owner's state unchanged.
func TestForeignIDsInBodies(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			t.Run("the shared list's own ids", func(t *testing.T) {
				// What the probes refuse with the owner's private ids works
				// with the shared list's.
				w := s.newProbeWorld(t)
				e := "/api/" + w.editor.id + "/tasks"
				s.mustDo(t, w.editor, http.MethodPost, e, fmt.Sprintf(`{"title":"sub","list_id":%d,"parent_id":%d}`, w.shared, w.other), http.StatusCreated)
				s.mustDo(t, w.editor, http.MethodPost, fmt.Sprintf("%s/%d/move", e, w.task), fmt.Sprintf(`{"after_id":%d}`, w.other), http.StatusOK)
				s.mustDo(t, w.editor, http.MethodPost, fmt.Sprintf("%s/%d/move", e, w.task), fmt.Sprintf(`{"parent_id":%d}`, w.other), http.StatusOK)
				// A completer's completion at a stale version is a 412 (they
				// may complete it), at the current one it lands.
				cp := fmt.Sprintf("/api/%s/tasks/%d/complete", w.completer.id, w.other)
				if a := s.do(t, w.completer, http.MethodPatch, cp, "", "If-Match", fmt.Sprintf(`"%d-0"`, w.other)); a.status != http.StatusPreconditionFailed {
					t.Errorf("%s: a completer's completion at a stale version = %s, want 412", s.name, a)
				}
				if a := s.do(t, w.completer, http.MethodPatch, cp, "", "If-Match", fmt.Sprintf(`"%d-1"`, w.other)); a.status != http.StatusOK {
					t.Errorf("%s: a completer's completion at the current version = %s, want 200", s.name, a)
				}
			})
			for _, p := range slices.Concat(probes, outsiders, conditionals) {
				t.Run(p.name, func(t *testing.T) {
					w := s.newProbeWorld(t)
					foreign := w.secret
					if p.foreign != nil {
						foreign = p.foreign(w)
					}
					f := &fixture{owner: w.owner, list: w.shared}
					before := s.snapshot(t, f)
					c := p.who(w)
					var missH, gotH []string
					if p.header != nil {
						missH, gotH = p.header(missingID), p.header(foreign)
					}
					miss := s.do(t, c, p.method, p.path(w, missingID), p.body(w, missingID), missH...)
					got := s.do(t, c, p.method, p.path(w, foreign), p.body(w, foreign), gotH...)
					if got.status != miss.status || commandID.ReplaceAllString(string(got.body), "") != commandID.ReplaceAllString(string(miss.body), "") {
						t.Errorf("%s: %s naming the owner's private id = %s\nnaming a missing id = %s", s.name, p.name, got, miss)
					}
					if d := headerDiff(got.header, miss.header); d != "" {
						t.Errorf("%s: %s: headers differ from a missing id's: %s", s.name, p.name, d)
					}
					if after := s.snapshot(t, f); after != before {
						t.Errorf("%s: %s changed the owner's state: %s", s.name, p.name, firstDiff(before, after))
					}
				})
			}
		})
	}
}

// TestMovedOutOfSharedList: the owner moves a task of the shared list to
// their private list. A member then reaches it no more: not by id, not in
// the change feed (which must not show it with its new list), not in its
// history.
func TestMovedOutOfSharedList(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			e := "/api/" + w.editor.id
			feed := s.mustDo(t, w.editor, http.MethodGet, e+"/changes", "", http.StatusOK)
			var page struct {
				Cursor string `json:"cursor"`
			}
			if err := json.Unmarshal(feed.body, &page); err != nil {
				t.Fatal(err)
			}
			s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("/api/%s/tasks/%d", w.owner.id, w.task),
				fmt.Sprintf(`{"list_id":%d,"title":"now private"}`, w.private), http.StatusOK)
			miss := s.do(t, w.editor, http.MethodGet, fmt.Sprintf("%s/tasks/%d", e, missingID), "")
			for _, p := range []string{"", "/history"} {
				got := s.do(t, w.editor, http.MethodGet, fmt.Sprintf("%s/tasks/%d%s", e, w.task, p), "")
				if got.status != http.StatusNotFound {
					t.Errorf("%s: GET task%s after it left the shared list = %s, want 404", s.name, p, got)
				}
			}
			if a := s.do(t, w.editor, http.MethodGet, fmt.Sprintf("%s/tasks/%d", e, w.task), ""); string(a.body) != string(miss.body) {
				t.Errorf("%s: GET task = %s, want %s", s.name, a, miss)
			}
			for _, p := range []string{"/changes", "/changes?cursor=" + page.Cursor, "/tasks", "/export"} {
				a := s.mustDo(t, w.editor, http.MethodGet, e+p, "", http.StatusOK)
				if bytes.Contains(a.body, []byte("now private")) || bytes.Contains(a.body, []byte(fmt.Sprintf(`"list_id":%d`, w.private))) {
					t.Errorf("%s: GET %s shows the task in the owner's private list: %s", s.name, p, a)
				}
			}
		})
	}
}

// TestHistoryBeforeSharing: the owner writes a task in their private list,
// then moves it to the shared list. A member reads its history: what it
// was while private (its private list's id, its texts then) is the
// owner's alone, as the private list is; the member sees the history from
// the move into the shared list on.
func TestHistoryBeforeSharing(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			o := "/api/" + w.owner.id + "/tasks"
			id := s.create(t, w.owner, o, fmt.Sprintf(`{"title":"draft","description":"private plan","list_id":%d,"parent_id":%d}`, w.private, w.secret))
			s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("%s/%d", o, id), `{"description":"private plan, edited"}`, http.StatusOK)
			s.mustDo(t, w.owner, http.MethodPost, fmt.Sprintf("%s/%d/move", o, id), fmt.Sprintf(`{"list_id":%d,"parent_id":null}`, w.shared), http.StatusOK)
			s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("%s/%d", o, id), `{"description":"shared plan"}`, http.StatusOK)
			own := s.mustDo(t, w.owner, http.MethodGet, fmt.Sprintf("%s/%d/history", o, id), "", http.StatusOK)
			if !bytes.Contains(own.body, []byte("private plan")) {
				t.Fatalf("%s: the owner's history lacks the private versions: %s", s.name, own)
			}
			for _, c := range []caller{w.editor, w.admin} {
				a := s.mustDo(t, c, http.MethodGet, fmt.Sprintf("/api/%s/tasks/%d/history", c.id, id), "", http.StatusOK)
				for _, secret := range []string{`"private plan"`, `"version":1,`, `"version":3,`, fmt.Sprintf(`"from":%d,`, w.private), fmt.Sprintf(`"from":%d,`, w.secret)} {
					if bytes.Contains(a.body, []byte(secret)) {
						t.Errorf("%s: a member's history of the task shows %q from before it was shared: %s", s.name, secret, a)
					}
				}
				if !bytes.Contains(a.body, []byte("shared plan")) {
					t.Errorf("%s: a member's history lacks the shared versions: %s", s.name, a)
				}
				// Reverting to a private version is refused as for a version
				// that does not exist.
				got := s.do(t, c, http.MethodPost, fmt.Sprintf("/api/%s/tasks/%d/history/2/revert", c.id, id), "")
				miss := s.do(t, c, http.MethodPost, fmt.Sprintf("/api/%s/tasks/%d/history/999/revert", c.id, id), "")
				if got.status != miss.status || string(got.body) != string(miss.body) {
					t.Errorf("%s: reverting a private version = %s, want %s", s.name, got, miss)
				}
			}
		})
	}
}

// TestStreamAcrossRemoval: a member's live stream, open while they are
// removed, sends the deletes of the list's tasks and then nothing more of
// the list: neither the owner's next change to a task nor a new task. The
// change feed read from before the removal says the same.
func TestStreamAcrossRemoval(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			c := w.editor
			feed := s.mustDo(t, c, http.MethodGet, "/api/"+c.id+"/changes", "", http.StatusOK)
			var page struct {
				Cursor string `json:"cursor"`
			}
			if err := json.Unmarshal(feed.body, &page); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(t)+"/api/"+c.id+"/events", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+c.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			br := bufio.NewReader(res.Body)
			line := func() string {
				l, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("%s: read the stream: %v", s.name, err)
				}
				return strings.TrimRight(l, "\n")
			}
			for !strings.HasPrefix(line(), "retry:") {
			}
			o := "/api/" + w.owner.id + "/tasks"
			s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("%s/%d", o, w.task), `{"title":"before removal"}`, http.StatusOK)
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("/api/%s/lists/%d/members/%s", w.owner.id, w.shared, c.id), "", http.StatusNoContent)
			s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("%s/%d", o, w.task), `{"title":"after removal"}`, http.StatusOK)
			later := s.create(t, w.owner, o, fmt.Sprintf(`{"title":"after removal, new","list_id":%d}`, w.shared))
			own := s.create(t, c, "/api/"+c.id+"/tasks", `{"title":"sentinel"}`)
			removed := false
			for {
				data, ok := strings.CutPrefix(line(), "data: ")
				if !ok {
					continue
				}
				var ev struct {
					Entity, Op string
					ID         int64
				}
				if json.Unmarshal([]byte(data), &ev) != nil || ev.Entity != "task" {
					continue
				}
				if ev.ID == own {
					break
				}
				switch {
				case ev.ID == w.task && ev.Op == "delete":
					removed = true
				case ev.ID == later || ev.ID == w.task && removed:
					t.Errorf("%s: after the removal, the stream sends %s", s.name, data)
				}
			}
			if !removed {
				t.Errorf("%s: the stream sent no delete of the list's task on the removal", s.name)
			}
			a := s.mustDo(t, c, http.MethodGet, "/api/"+c.id+"/changes?cursor="+url.QueryEscape(page.Cursor), "", http.StatusOK)
			if bytes.Contains(a.body, []byte("after removal")) || bytes.Contains(a.body, []byte("before removal")) {
				t.Errorf("%s: the feed from before the removal shows the list's task: %s", s.name, a)
			}
		})
	}
}

// TestInvitationsTellNothing: an invitation's answer is the same for the
// email of a user the service knows and for an unknown one; an invitation
// to a list its owner put in the trash is not shown to the invitee, and
// accepting or declining it answers as for one that does not exist.
func TestInvitationsTellNothing(t *testing.T) {
	t.Parallel()
	fields := regexp.MustCompile(`"(id|email|created_at)":("[^"]*"|\d+)`)
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			members := fmt.Sprintf("/api/%s/lists/%d/members", w.admin.id, w.shared)
			known := s.do(t, w.admin, http.MethodPost, members, `{"email":"`+w.stranger.email()+`","role":"viewer"}`)
			unknown := s.do(t, w.admin, http.MethodPost, members, `{"email":"nobody-`+strings.ToLower(rand.Text()[:8])+`@example.com","role":"viewer"}`)
			if known.status != unknown.status || fields.ReplaceAllString(string(known.body), "") != fields.ReplaceAllString(string(unknown.body), "") {
				t.Errorf("%s: inviting a known user = %s, an unknown email = %s", s.name, known, unknown)
			}
			known.header.Del("Content-Length") // the emails' lengths differ
			unknown.header.Del("Content-Length")
			if d := headerDiff(known.header, unknown.header); d != "" {
				t.Errorf("%s: invitations' headers differ: %s", s.name, d)
			}
			var inv struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(known.body, &inv); err != nil {
				t.Fatal(err)
			}
			invitations := "/api/" + w.stranger.id + "/invitations"
			if a := s.mustDo(t, w.stranger, http.MethodGet, invitations, "", http.StatusOK); !bytes.Contains(a.body, []byte(fmt.Sprintf(`"id":%d`, inv.ID))) {
				t.Fatalf("%s: the invitee does not see the invitation: %s", s.name, a)
			}
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("/api/%s/lists/%d", w.owner.id, w.shared), "", http.StatusNoContent)
			if a := s.mustDo(t, w.stranger, http.MethodGet, invitations, "", http.StatusOK); string(bytes.TrimSpace(a.body)) != "[]" {
				t.Errorf("%s: the invitee sees an invitation to a list in the trash: %s", s.name, a)
			}
			for _, verb := range []string{"accept", "decline"} {
				got := s.do(t, w.stranger, http.MethodPost, fmt.Sprintf("%s/%d/%s", invitations, inv.ID, verb), "")
				miss := s.do(t, w.stranger, http.MethodPost, fmt.Sprintf("%s/%d/%s", invitations, missingID, verb), "")
				if got.status != miss.status || string(got.body) != string(miss.body) {
					t.Errorf("%s: %s an invitation to a list in the trash = %s, want %s", s.name, verb, got, miss)
				}
			}
			if a := s.do(t, w.stranger, http.MethodGet, fmt.Sprintf("/api/%s/lists/%d", w.stranger.id, w.shared), ""); a.status != http.StatusNotFound {
				t.Errorf("%s: the invitee reads the list = %s", s.name, a)
			}
		})
	}
}

// TestIdempotencyKeysPerUser: a key another user sent is no key of the
// caller's: the same key, with the same body or another, makes the
// caller's own task, never replays the other's answer nor says the key
// was used.
func TestIdempotencyKeysPerUser(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			key := "k-" + rand.Text()
			body := fmt.Sprintf(`{"title":"owner's %s","list_id":%d}`, key, w.shared)
			first := s.do(t, w.owner, http.MethodPost, "/api/"+w.owner.id+"/tasks", body, "Idempotency-Key", key)
			if first.status != http.StatusCreated {
				t.Fatalf("%s: %s", s.name, first)
			}
			// Each caller sends the key once (a second use would be their
			// own reuse): the stranger with a body of their own, the editor
			// and the removed member with the owner's very body.
			for _, try := range []struct {
				c    caller
				body string
				want int
			}{{w.stranger, `{"title":"mine"}`, http.StatusCreated}, {w.editor, body, http.StatusCreated}, {w.removed, body, http.StatusNotFound}} {
				a := s.do(t, try.c, http.MethodPost, "/api/"+try.c.id+"/tasks", try.body, "Idempotency-Key", key)
				fresh := s.do(t, try.c, http.MethodPost, "/api/"+try.c.id+"/tasks", try.body, "Idempotency-Key", "k-"+rand.Text())
				if a.status != try.want || bytes.Equal(a.body, first.body) || a.status != fresh.status {
					t.Errorf("%s: %s's POST with the owner's key = %s, with a fresh key %s", s.name, try.c.id, a, fresh)
				}
				if a.status == http.StatusNotFound && !bytes.Equal(a.body, fresh.body) {
					t.Errorf("%s: %s's refused POST with the owner's key = %s, with a fresh key %s", s.name, try.c.id, a, fresh)
				}
			}
		})
	}
}

// TestSharedListInTrash: once the owner puts the shared list in the trash,
// it is theirs alone (list.Members.Access): a member reaches neither the
// list nor its tasks (now in the trash with it) by id, and no collection
// of theirs shows them.
func TestSharedListInTrash(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			s.mustDo(t, w.owner, http.MethodDelete, fmt.Sprintf("/api/%s/lists/%d", w.owner.id, w.shared), "", http.StatusNoContent)
			for _, c := range []caller{w.editor, w.admin} {
				me := "/api/" + c.id
				for _, r := range []struct{ method, path string }{
					{http.MethodGet, "/tasks/%d"}, {http.MethodGet, "/tasks/%d/history"}, {http.MethodPost, "/tasks/%d/restore"},
					{http.MethodDelete, "/tasks/%d"}, {http.MethodPatch, "/tasks/%d/complete"},
				} {
					got := s.do(t, c, r.method, me+fmt.Sprintf(r.path, w.task), "")
					miss := s.do(t, c, r.method, me+fmt.Sprintf(r.path, missingID), "")
					if got.status != miss.status || string(got.body) != string(miss.body) {
						t.Errorf("%s: %s %s on a task of a list in the trash = %s, want %s", s.name, r.method, r.path, got, miss)
					}
				}
				for _, r := range []struct{ method, path string }{
					{http.MethodGet, "/lists/%d"}, {http.MethodGet, "/lists/%d/members"}, {http.MethodPost, "/lists/%d/restore"},
					{http.MethodDelete, "/lists/%d/members/" + c.id}, {http.MethodGet, "/tasks?list_id=%d"}, {http.MethodGet, "/tasks/stats?list_id=%d"},
				} {
					got := s.do(t, c, r.method, me+fmt.Sprintf(r.path, w.shared), "")
					miss := s.do(t, c, r.method, me+fmt.Sprintf(r.path, missingID), "")
					if got.status != miss.status || string(got.body) != string(miss.body) {
						t.Errorf("%s: %s %s on a list in the trash = %s, want %s", s.name, r.method, r.path, got, miss)
					}
				}
				for _, p := range []string{"/trash", "/trash/lists", "/tasks", "/lists", "/export", "/tags", "/tasks/stats"} {
					a := s.mustDo(t, c, http.MethodGet, me+p, "", http.StatusOK)
					if bytes.Contains(a.body, []byte("shared one")) || bytes.Contains(a.body, []byte("shared "+"")) && bytes.Contains(a.body, []byte(fmt.Sprintf(`"id":%d,`, w.shared))) {
						t.Errorf("%s: GET %s shows the list in the trash or its tasks: %s", s.name, p, a)
					}
				}
			}
			// The owner restores it: the members are back.
			s.mustDo(t, w.owner, http.MethodPost, fmt.Sprintf("/api/%s/lists/%d/restore", w.owner.id, w.shared), "", http.StatusOK)
			s.mustDo(t, w.editor, http.MethodGet, fmt.Sprintf("/api/%s/tasks/%d", w.editor.id, w.task), "", http.StatusOK)
		})
	}
}

// TestRenameTellsOwnersListNames: a list name is checked against the
// lists of whoever names it, never against lists they cannot see
// (list.NameKey). An admin renaming a shared list to the name of one of
// the owner's private lists gets what a free name gets; so does the owner
// handing a list over to a member who owns a list of that name: neither
// learns the other's list names, one guess at a time. A name among the
// caller's own lists is still 409, for the admin as for anyone.
func TestRenameTellsOwnersListNames(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			nameOf := func(c caller, id int64) string {
				var l struct {
					Name string `json:"name"`
				}
				if err := json.Unmarshal(s.mustDo(t, c, http.MethodGet, fmt.Sprintf("/api/%s/lists/%d", c.id, id), "", http.StatusOK).body, &l); err != nil {
					t.Fatal(err)
				}
				return l.Name
			}
			free := func() string { return "free " + strings.ToLower(rand.Text()[:8]) }
			path := fmt.Sprintf("/api/%s/lists/%d", w.admin.id, w.shared)
			taken := s.do(t, w.admin, http.MethodPatch, path, `{"name":"`+strings.ToUpper(nameOf(w.owner, w.private))+`"}`)
			other := s.do(t, w.admin, http.MethodPatch, path, `{"name":"`+free()+`"}`)
			if taken.status != http.StatusOK || other.status != http.StatusOK {
				t.Errorf("%s: renaming to the owner's private list's name = %s, to a free name = %s, want 200 both", s.name, taken, other)
			}
			// The admin's own list's name is theirs to know: 409 as ever.
			own := s.create(t, w.admin, "/api/"+w.admin.id+"/lists", `{"name":"`+free()+`"}`)
			s.mustDo(t, w.admin, http.MethodPatch, path, `{"name":"`+nameOf(w.admin, own)+`"}`, http.StatusConflict)
			// The owner hands the list over to the editor, who owns a list
			// of its name: it lands, as to a member who does not.
			name := nameOf(w.owner, w.shared)
			s.create(t, w.editor, "/api/"+w.editor.id+"/lists", `{"name":"`+strings.ToLower(name)+`"}`)
			s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("/api/%s/lists/%d/members/%s", w.owner.id, w.shared, w.editor.id),
				`{"role":"owner"}`, http.StatusOK)
			s.mustDo(t, w.editor, http.MethodPatch, fmt.Sprintf("/api/%s/lists/%d", w.editor.id, w.shared), `{"color":"#123456"}`, http.StatusOK)
		})
	}
}

// TestMergeRefusedAsMissing: a PATCH at an older version with Prefer:
// merge merges (merge.go); a lower role's merge of a change it may not make, and an
// outsider's, are refused with a missing task's 404 still, and change
// nothing.
func TestMergeRefusedAsMissing(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, st.name, st.url(t))
			w := s.newProbeWorld(t)
			s.mustDo(t, w.owner, http.MethodPatch, fmt.Sprintf("/api/%s/tasks/%d", w.owner.id, w.task), `{"priority":"low"}`, http.StatusOK)
			f := &fixture{owner: w.owner, list: w.shared}
			for _, c := range []caller{w.viewer, w.completer, w.stranger, w.removed} {
				for _, body := range []string{`{"title":"merged"}`, `{"priority":"high"}`} {
					before := s.snapshot(t, f)
					p := fmt.Sprintf("/api/%s/tasks/%%d", c.id)
					got := s.do(t, c, http.MethodPatch, fmt.Sprintf(p, w.task), body, "If-Match", fmt.Sprintf(`"%d-1"`, w.task), "Prefer", "merge")
					miss := s.do(t, c, http.MethodPatch, fmt.Sprintf(p, int64(missingID)), body, "If-Match", fmt.Sprintf(`"%d-1"`, int64(missingID)), "Prefer", "merge")
					// Every field in conflict too (priority): the 404 of
					// the write the role refuses, not the 409 of the
					// conflict (application.MergeTask's mayChange).
					if got.status != miss.status || string(got.body) != string(miss.body) {
						t.Errorf("%s: a merge by a refused caller = %s, want %s", s.name, got, miss)
					}
					if after := s.snapshot(t, f); after != before {
						t.Errorf("%s: a refused merge changed the owner's state: %s", s.name, firstDiff(before, after))
					}
				}
				// The same as offline commands (task.update with
				// base_version), merged or rejected: each result is a
				// missing task's.
				for _, mode := range []string{"merge", "reject"} {
					before := s.snapshot(t, f)
					run := func(id int64) (out struct {
						Results map[string]struct {
							Status int             `json:"status"`
							Detail json.RawMessage `json:"detail"`
						} `json:"results"`
					}) {
						body := fmt.Sprintf(`{"on_conflict":%q,"commands":[{"id":"c-%s","type":"task.update","entity_id":%d,"base_version":1,"args":{"priority":"high"}}]}`,
							mode, strings.ToLower(rand.Text()[:10]), id)
						if err := json.Unmarshal(s.mustDo(t, c, http.MethodPost, "/api/"+c.id+"/commands", body, http.StatusOK).body, &out); err != nil {
							t.Fatal(err)
						}
						return out
					}
					got, miss := run(w.task), run(missingID)
					for _, g := range got.Results {
						for _, m := range miss.Results {
							if g.Status != m.Status || string(g.Detail) != string(m.Detail) {
								t.Errorf("%s: %s's %s command merge = %d %s, want %d %s", s.name, c.id, mode, g.Status, g.Detail, m.Status, m.Detail)
							}
						}
					}
					if after := s.snapshot(t, f); after != before {
						t.Errorf("%s: a refused command changed the owner's state: %s", s.name, firstDiff(before, after))
					}
				}
			}
			// An editor's merge whose every field conflicts is the 409 of
			// the conflict: they may make the change.
			if a := s.do(t, w.editor, http.MethodPatch, fmt.Sprintf("/api/%s/tasks/%d", w.editor.id, w.task), `{"priority":"high"}`,
				"If-Match", fmt.Sprintf(`"%d-1"`, w.task), "Prefer", "merge"); a.status != http.StatusConflict {
				t.Errorf("%s: an editor's conflicting merge = %s, want 409", s.name, a)
			}
			// An editor's merge lands.
			if a := s.do(t, w.editor, http.MethodPatch, fmt.Sprintf("/api/%s/tasks/%d", w.editor.id, w.task), `{"title":"merged"}`,
				"If-Match", fmt.Sprintf(`"%d-1"`, w.task), "Prefer", "merge"); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"priority":"low"`)) {
				t.Errorf("%s: an editor's merge = %s, want 200 with the owner's change kept", s.name, a)
			}
		})
	}
}
