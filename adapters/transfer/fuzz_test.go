package transfer

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fuzzLimits keep each fuzzed input cheap.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxItems: 1000, MaxRowBytes: 4096, MaxProblems: 100}

// checkRead holds one fuzzed read to what no input may break: no panic; a
// failure is a *FileError wrapping one of the package's errors and naming a
// line of the file; every problem names a line of the file; the document
// links (every ref it names is in it) and what it holds is valid UTF-8; and
// it writes as JSON, which reads back the same.
func checkRead(t *testing.T, in []byte, res *Result, err error) {
	t.Helper()
	lines := bytes.Count(in, []byte{'\n'}) + 1
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v (%T) is not a *FileError", err, err)
		}
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooManyItems) && !errors.Is(err, ErrRowTooLong) && !errors.Is(err, ErrTooManyErrors) {
			t.Fatalf("error %v wraps none of the package's errors", err)
		}
		if fe.Line < 0 || fe.Line > lines {
			t.Fatalf("error %v names line %d of %d", err, fe.Line, lines)
		}
		return
	}
	for _, p := range res.Problems {
		if p.Line < 1 || p.Line > lines {
			t.Fatalf("problem %v names a line outside 1..%d", p, lines)
		}
	}
	d := res.Document
	lists, tasks := map[string]bool{}, map[string]bool{}
	for _, l := range d.Lists {
		lists[l.Ref] = true
	}
	for _, task := range d.Tasks {
		tasks[task.Ref] = true
		if !utf8.ValidString(task.Title) || !utf8.ValidString(deref(task.Description)) {
			t.Fatalf("task %+v holds invalid UTF-8", task)
		}
	}
	for _, task := range d.Tasks {
		if task.ListRef != "" && !lists[task.ListRef] || task.ParentRef != "" && !tasks[task.ParentRef] {
			t.Fatalf("task %+v names a list or parent not in the document", task)
		}
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, DocumentSource(&d)); err != nil {
		t.Fatalf("WriteJSON of a read document: %v", err)
	}
	back, err := ReadJSON(&buf, Limits{})
	if err != nil || len(back.Problems) > 0 {
		t.Fatalf("ReadJSON of WriteJSON: %v %v", err, back)
	}
	if got, want := normalize(back.Document), normalize(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("JSON round trip of a read document differs:\n got %+v\nwant %+v", got, want)
	}
}

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadJSON(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, DocumentSource(&Document{Lists: []List{{Ref: "l", Name: "L"}}, Tasks: []Task{{Ref: "1", ListRef: "l", Title: "t", Due: DueOn(2026, 3, 1), Tags: []string{"a"}, Reminders: []Reminder{{Before: "PT15M"}}}}})); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ReadJSON(bytes.NewReader(in), fuzzLimits)
		checkRead(t, in, res, err)
	})
}

func FuzzReadTodoistCSV(f *testing.F) {
	addSeeds(f, "testdata/todoist/garden.csv")
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ReadTodoistCSV(bytes.NewReader(in), TodoistOptions{Project: "P"}, fuzzLimits)
		checkRead(t, in, res, err)
	})
}

func FuzzReadICS(f *testing.F) {
	var buf bytes.Buffer
	doc := &Document{Tasks: []Task{{Ref: "1", Title: "t, with; escapes", Due: DueAt(timeOf(2026, 3, 1), "Europe/Paris"), Recurrence: &Recurrence{Rule: "FREQ=WEEKLY", From: FromDue}, Reminders: []Reminder{{Before: "PT15M"}}},
		{Ref: "2", ParentRef: "1", Title: "child", Tags: []string{"a"}}}}
	if err := WriteICS(&buf, DocumentSource(doc), ICSOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ReadICS(bytes.NewReader(in), ICSReadOptions{}, fuzzLimits)
		checkRead(t, in, res, err)
	})
}

func FuzzReadCSV(f *testing.F) {
	var buf bytes.Buffer
	doc := &Document{Lists: []List{{Ref: "l", Name: "=L"}}, Tasks: []Task{{Ref: "1", ListRef: "l", Title: "=t", Priority: PriorityHigh}, {Ref: "2", ListRef: "l", ParentRef: "1", Title: "child"}}}
	if err := WriteCSV(&buf, DocumentSource(doc)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ReadCSV(bytes.NewReader(in), CSVOptions{}, fuzzLimits)
		checkRead(t, in, res, err)
	})
}
