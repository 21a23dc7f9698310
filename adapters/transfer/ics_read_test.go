package transfer

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// icsExpected is what a task reads back as from our iCalendar export: what
// iCalendar carries, at its precision.
func icsExpected(task Task, lists map[string]string) Task {
	sec := func(t time.Time) time.Time { return t.Truncate(time.Second) }
	w := Task{
		Ref: taskUID(task.Ref, "example.org"), Title: icsText(task.Title), Completed: task.Completed, Priority: task.Priority,
		Tags: []string{}, Recurrence: task.Recurrence, CreatedAt: sec(task.CreatedAt), UpdatedAt: sec(task.UpdatedAt),
	}
	if task.ParentRef != "" {
		w.ParentRef = taskUID(task.ParentRef, "example.org")
	}
	if task.ListRef != "" {
		w.ListRef = "list:" + lists[task.ListRef]
	}
	if d := icsText(deref(task.Description)); d != "" {
		w.Description = &d
	}
	if task.Completed && task.CompletedAt != nil {
		c := sec(*task.CompletedAt)
		w.CompletedAt = &c
	}
	w.Due = task.Due
	w.Due.Time = sec(w.Due.Time)
	if w.Due.Kind == DueInstant && isUTCZone(w.Due.Zone) {
		w.Due.Zone = ""
	}
	for _, tag := range task.Tags {
		if tag = strings.TrimSpace(icsText(tag)); tag != "" {
			w.Tags = append(w.Tags, tag)
		}
	}
	for _, r := range task.Reminders {
		if r.Before != "" && !task.Due.IsZero() {
			w.Reminders = append(w.Reminders, r)
		} else if r.Before == "" {
			w.Reminders = append(w.Reminders, Reminder{At: sec(r.At)})
		}
	}
	return w
}

func TestICSRoundTrip(t *testing.T) {
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 4))
		doc := genDocument(r, r.IntN(3), r.IntN(25))
		// A subtask of a trashed task is not exported: keep the generator's
		// trash to top-level tasks without children here.
		var buf bytes.Buffer
		if err := WriteICS(&buf, DocumentSource(doc), ICSOptions{Host: "example.org"}); err != nil {
			t.Fatal(err)
		}
		res, err := ReadICS(bytes.NewReader(buf.Bytes()), ICSReadOptions{}, Limits{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		lists := map[string]string{}
		for _, l := range doc.Lists {
			lists[l.Ref] = l.Name
		}
		trashed := map[string]bool{}
		for _, task := range doc.Tasks {
			if task.Trashed() {
				trashed[task.Ref] = true
			}
		}
		var want []Task
		for _, task := range doc.Tasks {
			// A live task under a trashed parent is written without its
			// parent, so its reader leaves it out (and says so).
			if !task.Trashed() && !trashed[task.ParentRef] && !under(doc.Tasks, task, trashed) {
				want = append(want, icsExpected(task, lists))
			}
		}
		got := normalize(res.Document).Tasks
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d tasks, want %d; problems %v", seed, len(got), len(want), res.Problems)
		}
		for i := range want {
			if len(want[i].Reminders) == 0 {
				want[i].Reminders = nil
			}
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("seed %d task %d:\n got %#v\nwant %#v", seed, i, got[i], want[i])
			}
		}
		for _, p := range res.Problems {
			if p.Severity == SeverityError && !strings.Contains(p.Msg, "parent") {
				t.Errorf("seed %d: %v", seed, p)
			}
		}
	}
}

// under reports whether a task has a trashed ancestor.
func under(tasks []Task, t Task, trashed map[string]bool) bool {
	byRef := map[string]Task{}
	for _, x := range tasks {
		byRef[x.Ref] = x
	}
	for p := t.ParentRef; p != ""; p = byRef[p].ParentRef {
		if trashed[p] {
			return true
		}
	}
	return false
}

// TestICSOtherApps reads VTODOs as other apps write them.
func TestICSOtherApps(t *testing.T) {
	in := strings.Join([]string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//Example Corp//Tasks 1.0//EN",
		"X-WR-CALNAME:Groceries",
		"BEGIN:VTIMEZONE",
		"TZID:/mozilla.org/20050126_1/Europe/Berlin",
		"X-LIC-LOCATION:Europe/Berlin",
		"END:VTIMEZONE",
		"BEGIN:VEVENT",
		"UID:ev1",
		"SUMMARY:Dentist",
		"END:VEVENT",
		"BEGIN:VTODO",
		"UID:a@x",
		"SUMMARY:Parent\\, with comma",
		"DTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20260301T090000",
		"DUE;TZID=/mozilla.org/20050126_1/Europe/Berlin:20260301T100000",
		"PRIORITY:3",
		"X-APPLE-SORT-ORDER:5",
		"LOCATION:Shop",
		"RELATED-TO;RELTYPE=CHILD:b@x",
		"BEGIN:VALARM",
		"ACTION:DISPLAY",
		"TRIGGER:-PT30M",
		"END:VALARM",
		"BEGIN:VALARM",
		"TRIGGER;RELATED=END:-PT5M",
		"END:VALARM",
		"BEGIN:VALARM",
		"TRIGGER:PT5M",
		"END:VALARM",
		"END:VTODO",
		"BEGIN:VTODO",
		"UID:b@x",
		"SUMMARY:Child",
		"STATUS:CANCELLED",
		"PERCENT-COMPLETE:100",
		"DTSTART;VALUE=DATE:20260302",
		"CATEGORIES:food,\"quoted\",a\\,b",
		"CATEGORIES:more",
		"END:VTODO",
		"BEGIN:VTODO",
		"UID:c@x",
		"SUMMARY:Floating in an unknown zone",
		"DUE;TZID=Mars Standard Time:20260303T080000",
		"END:VTODO",
		"END:VCALENDAR", ""}, "\n")
	res, err := ReadICS(strings.NewReader(in), ICSReadOptions{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Document.Tasks) != 3 || len(res.Document.Lists) != 1 || res.Document.Lists[0].Name != "Groceries" {
		t.Fatalf("doc = %+v\n%v", res.Document, res.Problems)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	a, b, c := res.Document.Tasks[0], res.Document.Tasks[1], res.Document.Tasks[2]
	if a.Title != "Parent, with comma" || a.Priority != PriorityHigh || a.Due != DueAt(time.Date(2026, 3, 1, 10, 0, 0, 0, berlin), "Europe/Berlin") {
		t.Errorf("a = %+v", a)
	}
	wantRem := []Reminder{{At: time.Date(2026, 3, 1, 8, 30, 0, 0, berlin).UTC()}, {Before: "PT5M"}}
	if !reflect.DeepEqual(a.Reminders, wantRem) {
		t.Errorf("a's reminders = %+v, want %+v", a.Reminders, wantRem)
	}
	if b.ParentRef != "a@x" || !b.Completed || b.Due != DueOn(2026, 3, 2) || strings.Join(b.Tags, "|") != "food|\"quoted\"|a b|more" {
		t.Errorf("b = %+v", b)
	}
	if c.Due.Kind != DueFloating {
		t.Errorf("c's due = %+v", c.Due)
	}
	msgs := ""
	for _, p := range res.Problems {
		msgs += p.String() + "\n"
		if p.Severity == SeverityError {
			t.Errorf("error: %v", p)
		}
	}
	for _, want := range []string{"line 9: warning: VEVENT", "line 13: warning: VALARM", "LOCATION", "X-APPLE-SORT-ORDER", "line 33: warning: STATUS", "DTSTART: the task has a start", "Mars Standard Time"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("no warning with %q in\n%s", want, msgs)
		}
	}
}

func TestICSRefusesBrokenFiles(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		line int
	}{
		"empty":         {"", 1},
		"not ics":       {"hello world\n", 1},
		"no calendar":   {"BEGIN:VTODO\nEND:VTODO\n", 1},
		"unclosed":      {"BEGIN:VCALENDAR\nBEGIN:VTODO\nSUMMARY:x\n", 3},
		"wrong end":     {"BEGIN:VCALENDAR\nBEGIN:VTODO\nEND:VEVENT\n", 3},
		"deep":          {"BEGIN:VCALENDAR\n" + strings.Repeat("BEGIN:X\n", 20), 9},
		"invalid utf-8": {"BEGIN:VCALENDAR\xff\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadICS(strings.NewReader(c.in), ICSReadOptions{}, Limits{})
			fe, ok := err.(*FileError)
			if !ok || fe.Line != c.line {
				t.Fatalf("ReadICS = %v, want a FileError at line %d", err, c.line)
			}
		})
	}
}
