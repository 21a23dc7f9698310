package transfer

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// normalize makes two documents comparable: source lines dropped, empty
// reminder lists nil.
func normalize(d Document) Document {
	d.Lists = append([]List(nil), d.Lists...)
	d.Tasks = append([]Task(nil), d.Tasks...)
	for i := range d.Lists {
		d.Lists[i].Line = 0
	}
	for i := range d.Tasks {
		t := &d.Tasks[i]
		t.Line = 0
		if len(t.Reminders) == 0 {
			t.Reminders = nil
		}
		if t.Tags == nil {
			t.Tags = []string{}
		}
	}
	return d
}

func TestJSONRoundTrip(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		want := genDocument(r, r.IntN(4), r.IntN(30))
		var buf bytes.Buffer
		if err := WriteJSON(&buf, DocumentSource(want)); err != nil {
			t.Fatalf("seed %d: WriteJSON: %v", seed, err)
		}
		res, err := ReadJSON(bytes.NewReader(buf.Bytes()), Limits{})
		if err != nil {
			t.Fatalf("seed %d: ReadJSON: %v\n%s", seed, err, buf.String())
		}
		if len(res.Problems) > 0 {
			t.Fatalf("seed %d: ReadJSON problems %v\n%s", seed, res.Problems, buf.String())
		}
		got := normalize(res.Document)
		if w := normalize(*want); !reflect.DeepEqual(got, w) {
			for i := range min(len(got.Tasks), len(w.Tasks)) {
				if !reflect.DeepEqual(got.Tasks[i], w.Tasks[i]) {
					t.Fatalf("seed %d: task %d\n got %#v\nwant %#v", seed, i, got.Tasks[i], w.Tasks[i])
				}
			}
			t.Fatalf("seed %d: documents differ\n got %#v\nwant %#v", seed, got, w)
		}
	}
}

func TestJSONLinesOfItems(t *testing.T) {
	in := `{"format": "todo-export", "version": 1,
"lists": [],
"tasks": [
{"ref": "1", "title": "ok"},
{"ref": "2", "title": "bad",
 "priority": "urgent"},
{"ref": "3",
 "title": "unknown member", "colour": "red"},
{"ref": "4", "title": "orphan", "parent_ref": "9"},
{"ref": "5", "title": "due", "due_date": "2026-03-01", "due_tz": "Europe/Paris"}
]}`
	res, err := ReadJSON(strings.NewReader(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{
		{Line: 5, Field: "priority", Severity: SeverityError},
		{Line: 8, Field: "colour", Severity: SeverityError},
		{Line: 10, Field: "due_date", Severity: SeverityError},
		{Line: 9, Field: "parent_ref", Severity: SeverityError},
	}
	if len(res.Problems) != len(want) {
		t.Fatalf("problems = %v, want %d", res.Problems, len(want))
	}
	for i, p := range res.Problems {
		if p.Line != want[i].Line || p.Field != want[i].Field || p.Severity != want[i].Severity {
			t.Errorf("problem %d = %v, want line %d field %s", i, p, want[i].Line, want[i].Field)
		}
	}
	if len(res.Document.Tasks) != 1 || res.Document.Tasks[0].Ref != "1" || res.Document.Tasks[0].Line != 4 {
		t.Errorf("tasks = %+v, want only task 1 at line 4", res.Document.Tasks)
	}
}

func TestJSONRefusesOtherFiles(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		line int
		err  error
	}{
		"array":          {`[1, 2]`, 1, ErrFormat},
		"other format":   {`{"format": "vikunja", "version": 1}`, 1, ErrFormat},
		"version 2":      {`{"format": "todo-export",` + "\n" + `"version": 2, "tasks": []}`, 2, ErrFormat},
		"version string": {`{"format": "todo-export", "version": "1"}`, 1, ErrFormat},
		"format later":   {`{"tasks": [], "format": "todo-export", "version": 1}`, 1, ErrFormat},
		"unknown top":    {`{"format": "todo-export", "version": 1,` + "\n\n" + `"users": []}`, 3, ErrFormat},
		"twice":          {`{"format": "todo-export", "version": 1, "tasks": [], "tasks": []}`, 1, ErrFormat},
		"truncated":      {`{"format": "todo-export", "version": 1, "tasks": [` + "\n" + `{"ref": "1", "ti`, 2, ErrFormat},
		"syntax":         {`{"format": "todo-export", "version": 1,` + "\n" + `"tasks": [}`, 2, ErrFormat},
		"trailing":       {`{"format": "todo-export", "version": 1} {}`, 1, ErrFormat},
		"invalid utf8":   {"{\"format\": \"todo-export\", \"version\": 1, \"tasks\": [\n\n{\"ref\": \"1\", \"title\": \"\xff\"}]}", 3, ErrFormat},
		"empty":          {``, 1, ErrFormat},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(c.in), Limits{})
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, c.err) || fe.Line != c.line {
				t.Fatalf("ReadJSON = %v, want a FileError at line %d wrapping %v", err, c.line, c.err)
			}
		})
	}
}

func TestJSONWriterRefusesInvalidUTF8(t *testing.T) {
	doc := &Document{Tasks: []Task{{Ref: "1", Title: "bad \xff"}}}
	if err := WriteJSON(&bytes.Buffer{}, DocumentSource(doc)); err == nil {
		t.Fatal("WriteJSON wrote invalid UTF-8")
	}
}

func TestJSONWriterStopsOnSourceError(t *testing.T) {
	boom := errors.New("cursor lost")
	src := Source{ExportedAt: time.Now(), Tasks: func(yield func(Task, error) bool) {
		if yield(Task{Ref: "1", Title: "a"}, nil) {
			yield(Task{}, boom)
		}
	}}
	if err := WriteJSON(&bytes.Buffer{}, src); !errors.Is(err, boom) {
		t.Fatalf("WriteJSON = %v, want %v", err, boom)
	}
}
