package transfer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// readers are the four readers with default options, for tests that hold
// them all to one behaviour.
var readers = map[string]func(io.Reader, Limits) (*Result, error){
	"json":    ReadJSON,
	"todoist": func(r io.Reader, l Limits) (*Result, error) { return ReadTodoistCSV(r, TodoistOptions{}, l) },
	"ics":     func(r io.Reader, l Limits) (*Result, error) { return ReadICS(r, ICSReadOptions{}, l) },
	"csv":     func(r io.Reader, l Limits) (*Result, error) { return ReadCSV(r, CSVOptions{}, l) },
}

// withHuge is a file of each format whose third line holds a field of n
// bytes.
func withHuge(format string, n int) string {
	huge := strings.Repeat("a", n)
	switch format {
	case "json":
		return "{\"format\": \"todo-export\", \"version\": 1,\n\"tasks\": [\n{\"ref\": \"1\", \"title\": \"" + huge + "\"}]}"
	case "todoist":
		return "TYPE,CONTENT\ntask,ok\ntask," + huge + "\n"
	case "ics":
		return "BEGIN:VCALENDAR\nBEGIN:VTODO\nSUMMARY:" + huge + "\nEND:VTODO\nEND:VCALENDAR\n"
	}
	return "title,description\nok,\n" + huge + ",x\n"
}

// TestHugeFieldsAreRefusedCleanly gives each reader a 1,000,000-character
// field: a FileError naming line 3 and wrapping ErrRowTooLong, after
// allocating a bounded amount (the field is not read whole).
func TestHugeFieldsAreRefusedCleanly(t *testing.T) {
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			in := withHuge(name, 1_000_000)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err := read(strings.NewReader(in), Limits{MaxRowBytes: 64 << 10})
			runtime.ReadMemStats(&m1)
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrRowTooLong) || fe.Line != 3 {
				t.Fatalf("read = %v, want a FileError at line 3 wrapping ErrRowTooLong", err)
			}
			alloc := m1.TotalAlloc - m0.TotalAlloc
			t.Logf("%s: %v; %d KiB allocated", name, err, alloc>>10)
			if alloc > 1_000_000 {
				t.Errorf("reading allocated %d bytes: the huge field was buffered", alloc)
			}
			// Under the bound, the same field is read (and the domain, not
			// the format, judges its length).
			if _, err := read(strings.NewReader(withHuge(name, 1000)), Limits{}); err != nil {
				t.Errorf("a 1,000-byte field: %v", err)
			}
		})
	}
}

func TestFileAndRowBounds(t *testing.T) {
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			in := withHuge(name, 100)
			if _, err := read(strings.NewReader(in), Limits{MaxBytes: 50}); !errors.Is(err, ErrTooLarge) {
				t.Errorf("over MaxBytes: %v, want ErrTooLarge", err)
			}
			many := map[string]string{
				"json":    "{\"format\": \"todo-export\", \"version\": 1, \"tasks\": [" + strings.TrimSuffix(strings.Repeat(`{"ref": "x", "title": "t"},`, 11), ",") + "]}",
				"todoist": "TYPE,CONTENT\n" + strings.Repeat("task,t\n", 11),
				"ics":     "BEGIN:VCALENDAR\n" + strings.Repeat("BEGIN:VTODO\nSUMMARY:t\nEND:VTODO\n", 11) + "END:VCALENDAR\n",
				"csv":     "title\n" + strings.Repeat("t\n", 11),
			}[name]
			if _, err := read(strings.NewReader(many), Limits{MaxItems: 10}); !errors.Is(err, ErrTooManyItems) {
				t.Errorf("11 items over 10: %v, want ErrTooManyItems", err)
			}
		})
	}
}

// TestDeepJSONIsBounded: nesting (the JSON form of billion laughs) is
// refused at the item's line, at a cost bounded by MaxRowBytes, whatever
// the depth.
func TestDeepJSONIsBounded(t *testing.T) {
	for _, depth := range []int{100, 20_000, 2_000_000} {
		in := "{\"format\": \"todo-export\", \"version\": 1,\n\"tasks\": [\n" + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "]}"
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		res, err := ReadJSON(strings.NewReader(in), Limits{})
		runtime.ReadMemStats(&m1)
		var fe *FileError
		switch {
		case err == nil && len(res.Problems) == 1 && res.Problems[0].Line == 3:
			// A shallow array is a task of the wrong type: left out.
		case errors.As(err, &fe) && fe.Line == 3:
		default:
			t.Errorf("depth %d: %v %v, want a problem or FileError at line 3", depth, res, err)
		}
		t.Logf("depth %d: %v; %d KiB allocated", depth, err, (m1.TotalAlloc-m0.TotalAlloc)>>10)
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 4<<20 {
			t.Errorf("depth %d: %d bytes allocated", depth, alloc)
		}
	}
}

// TestInvalidUTF8IsRefusedWithItsLine: a Latin-1 "é" on line 3.
func TestInvalidUTF8IsRefusedWithItsLine(t *testing.T) {
	files := map[string]string{
		"json":    "{\"format\": \"todo-export\", \"version\": 1,\n\"tasks\": [\n{\"ref\": \"1\", \"title\": \"caf\xe9\"}]}",
		"todoist": "TYPE,CONTENT\ntask,ok\ntask,caf\xe9\n",
		"ics":     "BEGIN:VCALENDAR\nBEGIN:VTODO\nSUMMARY:caf\xe9\nEND:VTODO\nEND:VCALENDAR\n",
		"csv":     "title\nok\ncaf\xe9\n",
	}
	for name, read := range readers {
		res, err := read(strings.NewReader(files[name]), Limits{})
		var fe *FileError
		if errors.As(err, &fe) {
			if fe.Line != 3 {
				t.Errorf("%s: %v, want line 3", name, err)
			}
			continue
		}
		if err != nil || !res.HasErrors() {
			t.Errorf("%s: %v %v, want an error at line 3", name, res, err)
			continue
		}
		if p := res.Problems[0]; p.Line != 3 && !(name == "ics" && p.Line == 2) {
			t.Errorf("%s: problem %v, want line 3", name, p)
		}
		for _, task := range res.Document.Tasks {
			if strings.Contains(task.Title, "caf") {
				t.Errorf("%s: the row was read anyway: %+v", name, task)
			}
		}
	}
}

// TestLineEndsAndBOM: the Todoist sample reads the same with CRLF (as
// downloaded), LF, and a BOM in front.
func TestLineEndsAndBOM(t *testing.T) {
	crlf, err := os.ReadFile("testdata/todoist/garden.csv")
	if err != nil {
		t.Fatal(err)
	}
	lf := bytes.ReplaceAll(crlf, []byte("\r\n"), []byte("\n"))
	bom := append(append([]byte{}, utf8BOM...), crlf...)
	read := func(b []byte) *Result {
		res, err := ReadTodoistCSV(bytes.NewReader(b), TodoistOptions{Project: "Home"}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	want := read(crlf)
	for name, b := range map[string][]byte{"lf": lf, "bom": bom} {
		if got := read(b); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read differently from CRLF:\n%+v\n%+v", name, got, want)
		}
	}
	// A generic CSV export (BOM, CRLF) and its LF twin read alike too.
	lfCSV := "\ufefftitle,description\r\nBuy milk,\"two\r\nlines\"\r\n"
	a, err1 := ReadCSV(strings.NewReader(lfCSV), CSVOptions{}, Limits{})
	b, err2 := ReadCSV(strings.NewReader(strings.ReplaceAll(lfCSV, "\r\n", "\n")), CSVOptions{}, Limits{})
	if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) || *a.Document.Tasks[0].Description != "two\nlines" {
		t.Errorf("CRLF vs LF: %+v %v / %+v %v", a, err1, b, err2)
	}
}

func TestBrokenQuotesNameTheirLine(t *testing.T) {
	in := "TYPE,CONTENT\ntask,fine\ntask,a \"bare\" quote\n"
	_, err := ReadTodoistCSV(strings.NewReader(in), TodoistOptions{}, Limits{})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 3 || !errors.Is(err, ErrFormat) {
		t.Fatalf("err = %v, want a FileError at line 3", err)
	}
	in = "title\n\"never closed\nmore\n"
	if _, err := ReadCSV(strings.NewReader(in), CSVOptions{}, Limits{}); !errors.As(err, &fe) || fe.Line < 2 {
		t.Fatalf("unclosed quote: %v", err)
	}
}

func TestTooManyProblemsStops(t *testing.T) {
	in := "title,completed\n" + strings.Repeat("x,maybe\n", 50)
	_, err := ReadCSV(strings.NewReader(in), CSVOptions{}, Limits{MaxProblems: 10})
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, ErrTooManyErrors) || fe.Line != 12 {
		t.Fatalf("err = %v, want ErrTooManyErrors at line 12", err)
	}
}
