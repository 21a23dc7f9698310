package transfer

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTodoistSample(t *testing.T) {
	f, err := os.Open("testdata/todoist/garden.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ReadTodoistCSV(f, TodoistOptions{Project: "Home"}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasErrors() {
		t.Fatalf("errors: %v", res.Problems)
	}
	var lists []string
	for _, l := range res.Document.Lists {
		lists = append(lists, l.Name)
	}
	if want := []string{"Home", "Home / Indoors", "Home / Errands"}; !slices.Equal(lists, want) {
		t.Errorf("lists = %q, want %q", lists, want)
	}
	byTitle := map[string]Task{}
	for _, task := range res.Document.Tasks {
		byTitle[task.Title] = task
	}
	listName := func(ref string) string {
		for _, l := range res.Document.Lists {
			if l.Ref == ref {
				return l.Name
			}
		}
		return "inbox"
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		title, parent, list string
		prio                Priority
		tags                []string
		due                 Due
		desc                string
		line                int
	}{
		{"Plan the garden", "", "Home", PriorityHigh, []string{"weekend", "outdoors"}, DueOn(2026, 4, 11), "Raised beds along the south fence", 3},
		{"Measure the beds", "Plan the garden", "Home", PriorityMedium, nil, Due{}, "", 5},
		{"Buy timber", "Measure the beds", "Home", PriorityMedium, []string{"shopping"}, DueAt(time.Date(2026, 4, 4, 10, 0, 0, 0, berlin), "Europe/Berlin"),
			"2x4s, screws, \"outdoor\" glue\n\nAsk the yard about offcuts", 7},
		{"Check the van is free", "Buy timber", "Home", PriorityLow, nil, Due{}, "", 11},
		{"Water the seedlings", "", "Home", PriorityLow, nil, Due{}, "Todoist date: every day", 13},
		{"Fix the dripping tap", "", "Home / Indoors", PriorityHigh, []string{"house"}, DueAt(time.Date(2026, 3, 20, 18, 30, 0, 0, berlin), "Europe/Berlin"),
			"Washer is worn\n\nDeadline: 2026-03-31", 17},
		{"Buy a 1/2\" washer", "Fix the dripping tap", "Home / Indoors", PriorityLow, nil, Due{},
			"Todoist date: tomorrow\n\nHardware shop on Lindenstraße,\nopen until 19:00", 19},
		{"=HYPERLINK(\"http://example.invalid\")", "", "Home / Indoors", PriorityLow, []string{"odd"}, DueOn(2026, 10, 5), "", 24},
		{"Renew the passport ✈", "", "Home / Errands", PriorityMedium, []string{"admin", "urgent"}, Due{}, "Todoist date: jeden Montag", 28},
	} {
		task, ok := byTitle[c.title]
		if !ok {
			t.Errorf("no task %q", c.title)
			continue
		}
		parent := ""
		if task.ParentRef != "" {
			for _, p := range res.Document.Tasks {
				if p.Ref == task.ParentRef {
					parent = p.Title
				}
			}
		}
		if parent != c.parent || listName(task.ListRef) != c.list || task.Priority != c.prio || !slices.Equal(task.Tags, append([]string{}, c.tags...)) ||
			task.Due != c.due || deref(task.Description) != c.desc || task.Line != c.line {
			t.Errorf("task %q = parent %q list %q prio %s tags %q due %v desc %q line %d\nwant parent %q list %q prio %s tags %q due %v desc %q line %d",
				c.title, parent, listName(task.ListRef), task.Priority, task.Tags, task.Due, deref(task.Description), task.Line,
				c.parent, c.list, c.prio, c.tags, c.due, c.desc, c.line)
		}
	}
	if len(res.Document.Tasks) != 9 {
		t.Errorf("%d tasks, want 9", len(res.Document.Tasks))
	}
	// Every loss is named: the natural-language dates, the deadline, the
	// durations and the assignee.
	var warned []string
	for _, p := range res.Problems {
		warned = append(warned, p.Field+"@"+itoa(p.Line))
	}
	want := []string{"RESPONSIBLE@7", "DURATION@7", "DATE@13", "DEADLINE@17", "DURATION@17", "DATE@19", "DATE@28"}
	slices.Sort(warned)
	slices.Sort(want)
	if !slices.Equal(warned, want) {
		t.Errorf("warnings %v, want %v\n%v", warned, want, res.Problems)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTodoistWithoutProject(t *testing.T) {
	in := "TYPE,CONTENT,PRIORITY,INDENT\nnote,Project comment,,\ntask,Top,1,1\ntask,Skips a level,4,3\ntask,Too deep,4,9\nsection,Later,,\ntask,In section,,\nbogus,x,,\n"
	res, err := ReadTodoistCSV(strings.NewReader(in), TodoistOptions{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tasks := res.Document.Tasks
	if len(tasks) != 5 || tasks[0].Title != "Project comment" || tasks[0].ListRef != "" {
		t.Fatalf("tasks = %+v", tasks)
	}
	if tasks[2].ParentRef != tasks[1].Ref || tasks[3].ParentRef != tasks[2].Ref {
		t.Errorf("skipped levels: %+v", tasks)
	}
	if len(res.Document.Lists) != 1 || res.Document.Lists[0].Name != "Later" || tasks[4].ListRef != res.Document.Lists[0].Ref {
		t.Errorf("lists = %+v", res.Document.Lists)
	}
	if !res.HasErrors() || res.Problems[len(res.Problems)-1].Line != 8 {
		t.Errorf("problems = %v, want an error at line 8", res.Problems)
	}
}

func TestTodoistDates(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct {
		in, tz string
		want   Due
		ok     bool
	}{
		{"2026-10-05", "Europe/Paris", DueOn(2026, 10, 5), true},
		{"2026-10-05 15:30", "Europe/Paris", DueAt(time.Date(2026, 10, 5, 15, 30, 0, 0, paris), "Europe/Paris"), true},
		{"2026-10-05 15:30", "", DueFloatingAt(time.Date(2026, 10, 5, 15, 30, 0, 0, time.UTC)), true},
		{"2026-10-05T13:30:00Z", "Europe/Paris", DueAt(time.Date(2026, 10, 5, 13, 30, 0, 0, time.UTC), "Europe/Paris"), true},
		{"Oct 5 2026", "", DueOn(2026, 10, 5), true},
		{"5 October 2026", "", DueOn(2026, 10, 5), true},
		{"October 5, 2026 at 9:15pm", "Europe/Paris", DueAt(time.Date(2026, 10, 5, 21, 15, 0, 0, paris), "Europe/Paris"), true},
		{"Oct 5 2026 12am", "", DueFloatingAt(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)), true},
		{"Feb 30 2026", "", Due{}, false},
		{"Oct 5", "", Due{}, false},
		{"every monday at 9am", "", Due{}, false},
		{"tomorrow", "", Due{}, false},
		{"2026-10-05", "Mars/Olympus", DueOn(2026, 10, 5), true},
	} {
		got, ok := parseTodoistDate(c.in, c.tz, true)
		if ok != c.ok || got != c.want {
			t.Errorf("parseTodoistDate(%q, %q) = %v %v, want %v %v", c.in, c.tz, got, ok, c.want, c.ok)
		}
	}
}
