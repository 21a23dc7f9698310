package contract

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/transfer"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/application/portable"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// TestExportImportRoundTrip exports generated data (lists, subtasks three
// levels deep, manual order, tags, the three kinds of due in several zones,
// recurrence, reminders, completed tasks) as JSON and CSV, imports each into
// a fresh user of the same store and exports that: the two exports hold the
// same data but for ids and the keys of the order (compared as the order
// they give), on every store.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	for name, open := range txStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			svc := application.New(s.tasks, s.users, nil, application.WithLists(s.lists), application.WithTransactor(s.tx),
				application.WithFormats(transfer.Formats(transfer.FormatsOptions{})))
			ctx := context.Background()
			from := actor(t, svc, "from-"+uniq())
			generate(t, svc, from, rand.New(rand.NewPCG(20, 20)))
			for _, format := range []string{"json", "csv"} {
				t.Run(format, func(t *testing.T) {
					var first bytes.Buffer
					exportTo(t, svc, from, format, &first)
					to := actor(t, svc, "to-"+uniq())
					imp, err := svc.ImportFormatOf(format)
					if err != nil {
						t.Fatal(err)
					}
					rep, err := svc.Import(ctx, to, imp, bytes.NewReader(first.Bytes()), application.ImportOptions{}, false)
					if err != nil {
						t.Fatalf("import: %v", err)
					}
					var second bytes.Buffer
					exportTo(t, svc, to, format, &second)
					want, got := canonical(t, format, first.Bytes()), canonical(t, format, second.Bytes())
					if len(want) != len(rep.Tasks) {
						t.Errorf("import created %d tasks, the export has %d", len(rep.Tasks), len(want))
					}
					if len(want) < 40 {
						t.Fatalf("generated only %d tasks", len(want))
					}
					for i := range max(len(want), len(got)) {
						if i >= len(want) || i >= len(got) || !reflect.DeepEqual(want[i], got[i]) {
							t.Fatalf("task %d differs after the round trip:\nexported %+v\nimported %+v", i, at(want, i), at(got, i))
						}
					}
				})
			}
		})
	}
}

func at[T any](xs []T, i int) any {
	if i < len(xs) {
		return xs[i]
	}
	return "(none)"
}

func actor(t *testing.T, svc *application.Service, id string) application.Actor {
	t.Helper()
	a, err := svc.Authorize(context.Background(), auth.Identity{UserID: auth.UserID(id), Email: id + "@example.com"}, id)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	return a
}

func exportTo(t *testing.T, svc *application.Service, a application.Actor, format string, w *bytes.Buffer) {
	t.Helper()
	f, err := svc.ExportFormatOf(format)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Export(context.Background(), a, f, false, w); err != nil {
		t.Fatalf("export: %v", err)
	}
}

// generate makes three lists and the inbox, each with top-level tasks,
// subtasks and sub-subtasks, some moved (manual order), with every
// attribute drawn from r.
func generate(t *testing.T, svc *application.Service, a application.Actor, r *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	homes := []*list.ID{nil}
	for i, name := range []string{"Work", "Home = chores", "@errands"} {
		color := []string{"#ff0000", "", "#00aa33"}[i]
		var c *string
		if color != "" {
			c = &color
		}
		l, err := svc.CreateList(ctx, a, name, c)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		id := l.List.ID()
		homes = append(homes, &id)
	}
	zones := []string{"Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"}
	n := 0
	var made []*task.Task
	for _, home := range homes {
		var parents []*task.Task
		for i := range 12 {
			n++
			var under *task.ID
			if i >= 4 && len(parents) > 0 {
				p := parents[r.IntN(len(parents))]
				id := p.ID()
				under = &id
			}
			opts := []task.Option{task.WithPriority([]string{"low", "medium", "high"}[r.IntN(3)])}
			if r.IntN(2) == 0 {
				opts = append(opts, task.WithTags([]string{"t" + fmt.Sprint(r.IntN(5)), "Shared"}[:1+r.IntN(2)]))
			}
			due := false
			switch r.IntN(4) {
			case 0:
				opts = append(opts, task.WithDue(fmt.Sprintf("2027-0%d-1%d", 1+r.IntN(9), r.IntN(10))))
				due = true
			case 1:
				opts = append(opts, task.WithDue(fmt.Sprintf("2027-03-%02dT%02d:30:00", 1+r.IntN(28), r.IntN(24))), task.WithDueZone(zones[r.IntN(len(zones))]))
				due = true
			case 2:
				opts = append(opts, task.WithDue("2027-10-31T09:15:00"), task.WithDueFloating(true))
				due = true
			}
			if due && r.IntN(2) == 0 {
				opts = append(opts, task.WithRecurrence([]string{"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "FREQ=DAILY;COUNT=5", "FREQ=MONTHLY;BYMONTHDAY=31"}[r.IntN(3)], []string{"due", "completion"}[r.IntN(2)]))
			}
			if due && r.IntN(2) == 0 {
				before, at := "PT15M", "2027-01-02T03:04:05Z"
				opts = append(opts, task.WithReminders([]task.ReminderInput{{Before: &before}, {At: &at}}))
			}
			var desc *string
			if r.IntN(3) > 0 {
				d := []string{"", "line one\nline two, \"quoted\"", "=HYPERLINK(\"x\")", "naïve café ☕"}[r.IntN(4)]
				desc = &d
			}
			title := fmt.Sprintf("task %d %s", n, []string{"plain", "+1 call", "-minus", "semi;colon", "comma, here"}[r.IntN(5)])
			tk, err := svc.CreateTaskAt(ctx, a, application.Home{List: home, Parent: under}, title, desc, opts...)
			if err != nil {
				t.Fatalf("create %q: %v", title, err)
			}
			if under == nil {
				parents = append(parents, tk)
			}
			made = append(made, tk)
		}
	}
	// Manual order: move some tasks to the top of their scope.
	for i := 0; i < len(made); i += 5 {
		if _, err := svc.MoveTask(ctx, a, made[i].ID(), task.AnyVersion, task.Placement{}); err != nil {
			t.Fatalf("move: %v", err)
		}
	}
	// Completed tasks (leaves, so that no subtree is completed with them).
	for i := 3; i < len(made); i += 7 {
		done := true
		if _, err := svc.CompleteTask(ctx, a, made[i].ID(), task.AnyVersion, &done); err != nil {
			t.Fatalf("complete: %v", err)
		}
	}
}

// canonTask is what a round trip keeps of a task: everything but ids,
// updated_at and the order's keys, which become the path of the task (its
// list's name and its index among its siblings at each level).
type canonTask struct {
	Path        string
	Title       string
	Description *string
	Completed   bool
	CompletedAt string
	Priority    portable.Priority
	Due         string
	DueZone     string
	Tags        []string
	Recurrence  *portable.Recurrence
	Reminders   []string
	CreatedAt   string
	// Deleted is when it went to the trash ("" when live), With what it
	// went with: "task:" and that task's path, or "list:" and its name.
	Deleted, With string
}

func canonical(t *testing.T, format string, b []byte) []canonTask {
	t.Helper()
	var res *portable.Result
	var err error
	switch format {
	case "json":
		res, err = transfer.ReadJSON(bytes.NewReader(b), transfer.Limits{})
	case "csv":
		res, err = transfer.ReadCSV(bytes.NewReader(b), transfer.CSVOptions{}, transfer.Limits{})
	}
	if err != nil {
		t.Fatalf("read %s: %v", format, err)
	}
	if res.HasErrors() {
		t.Fatalf("read %s: %v", format, res.Problems)
	}
	doc := res.Document
	listName := map[string]string{}
	for _, l := range doc.Lists {
		listName[l.Ref] = l.Name + " " + l.Color
	}
	// The order of each scope, by position.
	byScope := map[string][]portable.Task{}
	for _, tk := range doc.Tasks {
		byScope[tk.ListRef+"|"+tk.ParentRef] = append(byScope[tk.ListRef+"|"+tk.ParentRef], tk)
	}
	path := map[string]string{}
	var walk func(listRef, parentRef, prefix string)
	walk = func(listRef, parentRef, prefix string) {
		scope := byScope[listRef+"|"+parentRef]
		slices.SortStableFunc(scope, func(x, y portable.Task) int { return strings.Compare(x.Position, y.Position) })
		for i, tk := range scope {
			path[tk.Ref] = fmt.Sprintf("%s/%02d", prefix, i)
			walk(listRef, tk.Ref, path[tk.Ref])
		}
	}
	walk("", "", "inbox")
	for _, l := range doc.Lists {
		walk(l.Ref, "", listName[l.Ref])
	}
	var out []canonTask
	for _, tk := range doc.Tasks {
		c := canonTask{
			Path: path[tk.Ref], Title: tk.Title, Description: tk.Description, Completed: tk.Completed,
			Priority: tk.Priority, Due: tk.Due.String(), DueZone: tk.Due.Zone, Tags: tk.Tags,
			Recurrence: tk.Recurrence, CreatedAt: tk.CreatedAt.Format(time.RFC3339Nano),
		}
		if tk.CompletedAt != nil {
			c.CompletedAt = tk.CompletedAt.Format(time.RFC3339Nano)
		}
		if tk.DeletedAt != nil {
			c.Deleted = tk.DeletedAt.UTC().Format(time.RFC3339Nano)
		}
		if kind, ref, ok := strings.Cut(tk.TrashedWith, ":"); ok {
			c.With = kind + ":" + map[string]string{"task": path[ref], "list": listName[ref]}[kind]
		}
		for _, r := range tk.Reminders {
			c.Reminders = append(c.Reminders, r.Before+r.At.Format(time.RFC3339))
		}
		if c.Path == "" {
			t.Fatalf("task %q is in no scope of the file", tk.Ref)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y canonTask) int { return strings.Compare(x.Path, y.Path) })
	return out
}

// TestImportKeepsTrash: an export with its trash (a list in the trash with
// its tasks, a subtree trashed with its top task, a subtask trashed on its
// own before) imported into a fresh user and exported again with its
// trash holds the same data: the same tasks in the trash, at the same
// times, trashed with the same items, the same lists in the trash; the
// live data as before; on every store.
func TestImportKeepsTrash(t *testing.T) {
	t.Parallel()
	for name, open := range txStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			svc := application.New(s.tasks, s.users, nil, application.WithLists(s.lists), application.WithTransactor(s.tx),
				application.WithFormats(transfer.Formats(transfer.FormatsOptions{})))
			ctx := context.Background()
			from := actor(t, svc, "from-"+uniq())
			generate(t, svc, from, rand.New(rand.NewPCG(7, 7)))
			page, err := svc.ListTasks(ctx, from, task.Query{})
			if err != nil {
				t.Fatal(err)
			}
			// A subtask alone first, then a top-level task with a subtree,
			// then a whole list.
			var sub, top *task.Task
			for _, tk := range page.Tasks {
				if tk.ParentID() != nil && sub == nil {
					sub = tk
				}
			}
			for _, tk := range page.Tasks {
				if tk.ParentID() == nil && tk.ListID() == nil && top == nil && hasChild(page.Tasks, tk.ID()) {
					top = tk
				}
			}
			if sub == nil || top == nil {
				t.Fatal("generated data has no subtask or no inbox task with subtasks")
			}
			if err := svc.DeleteTask(ctx, from, sub.ID(), task.AnyVersion); err != nil {
				t.Fatal(err)
			}
			if err := svc.DeleteTask(ctx, from, top.ID(), task.AnyVersion); err != nil {
				t.Fatal(err)
			}
			var gone list.ID
			for _, tk := range page.Tasks {
				if l := tk.ListID(); l != nil && (sub.ListID() == nil || *l != *sub.ListID()) {
					gone = *l
				}
			}
			if err := svc.DeleteList(ctx, from, gone, list.AnyVersion); err != nil {
				t.Fatal(err)
			}
			exportTrash := func(a application.Actor) []byte {
				f, err := svc.ExportFormatOf("json")
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := svc.Export(ctx, a, f, true, &b); err != nil {
					t.Fatalf("export: %v", err)
				}
				return b.Bytes()
			}
			first := exportTrash(from)
			to := actor(t, svc, "to-"+uniq())
			imp, err := svc.ImportFormatOf("json")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := svc.Import(ctx, to, imp, bytes.NewReader(first), application.ImportOptions{}, false)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			second := exportTrash(to)
			want, got := canonical(t, "json", first), canonical(t, "json", second)
			trashed := 0
			for _, c := range want {
				if c.Deleted != "" {
					trashed++
				}
			}
			if trashed < 5 || rep.Skipped != 0 || len(rep.Tasks) != len(want) {
				t.Fatalf("%d tasks in the trash, import skipped %d and created %d of %d", trashed, rep.Skipped, len(rep.Tasks), len(want))
			}
			for i := range max(len(want), len(got)) {
				if i >= len(want) || i >= len(got) || !reflect.DeepEqual(want[i], got[i]) {
					t.Fatalf("task %d differs after the round trip:\nexported %+v\nimported %+v", i, at(want, i), at(got, i))
				}
			}
			trashedLists := func(b []byte) map[string]string {
				res, err := transfer.ReadJSON(bytes.NewReader(b), transfer.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]string{}
				for _, l := range res.Document.Lists {
					out[l.Name+" "+l.Color] = ""
					if l.DeletedAt != nil {
						out[l.Name+" "+l.Color] = l.DeletedAt.UTC().Format(time.RFC3339Nano)
					}
				}
				return out
			}
			if w, g := trashedLists(first), trashedLists(second); !reflect.DeepEqual(w, g) {
				t.Errorf("lists: exported %v, imported %v", w, g)
			}
		})
	}
}

func hasChild(ts []*task.Task, id task.ID) bool {
	return slices.ContainsFunc(ts, func(t *task.Task) bool { return t.ParentID() != nil && *t.ParentID() == id })
}
