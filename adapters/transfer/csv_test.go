package transfer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNeutraliseIsInverse(t *testing.T) {
	for _, s := range append(slices.Clone(texts), "", "'", "''", "'=", "=", "'a", "-", "'-1", "\r", "'\t", "a=b", "@", "''@x", "+") {
		w := neutralise(s)
		if needsQuote(w) && w[0] != '\'' {
			t.Errorf("neutralise(%q) = %q, still a formula", s, w)
		}
		if got := unneutralise(w); got != s {
			t.Errorf("unneutralise(neutralise(%q)) = %q", s, got)
		}
	}
}

// TestCSVFormulaInjection writes tasks whose text starts like a formula and
// checks that no cell of the file does, then that the file reads back.
func TestCSVFormulaInjection(t *testing.T) {
	hostile := []string{"=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "\r=1", "'=already"}
	doc := &Document{Lists: []List{{Ref: "l", Name: "=list"}}}
	for i, h := range hostile {
		d := h
		doc.Tasks = append(doc.Tasks, Task{Ref: string(rune('a' + i)), ListRef: "l", Title: h, Description: &d, Tags: []string{"@tag", h}, Priority: PriorityLow})
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, DocumentSource(doc)); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), utf8BOM)))
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts like a formula", cell)
			}
		}
	}
	res, err := ReadCSV(bytes.NewReader(buf.Bytes()), CSVOptions{}, Limits{})
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("ReadCSV = %v, %v", res, err)
	}
	for i, task := range res.Document.Tasks {
		// encoding/csv drops a lone CR when it writes CRLF line ends.
		want := strings.ReplaceAll(hostile[i], "\r", "")
		if task.Title != want || *task.Description != want {
			t.Errorf("task %d read back as %q, want %q", i, task.Title, hostile[i])
		}
	}
	if res.Document.Lists[0].Name != "=list" {
		t.Errorf("list read back as %q", res.Document.Lists[0].Name)
	}
}

// TestCSVRoundTrip writes generated documents as CSV and reads them back with
// the suggested mapping: every task comes back with what a CSV carries (the
// list by name; a null description and an empty one are alike).
func TestCSVRoundTrip(t *testing.T) {
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 2))
		src := genDocument(r, r.IntN(4), r.IntN(30))
		var buf bytes.Buffer
		if err := WriteCSV(&buf, DocumentSource(src)); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf.Bytes(), utf8BOM) || !bytes.Contains(buf.Bytes(), []byte("\r\n")) {
			t.Fatal("the CSV has no BOM or no CRLF")
		}
		res, err := ReadCSV(bytes.NewReader(buf.Bytes()), CSVOptions{}, Limits{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(res.Problems) > 0 {
			t.Fatalf("seed %d: problems %v", seed, res.Problems)
		}
		names := map[string]string{}
		for _, l := range src.Lists {
			names[l.Ref] = l.Name
		}
		readNames := map[string]string{}
		for _, l := range res.Document.Lists {
			readNames[l.Ref] = l.Name
		}
		if len(res.Document.Tasks) != len(src.Tasks) {
			t.Fatalf("seed %d: %d tasks, want %d", seed, len(res.Document.Tasks), len(src.Tasks))
		}
		for i, want := range normalize(*src).Tasks {
			got := res.Document.Tasks[i]
			got.Line = 0
			if names[want.ListRef] != readNames[got.ListRef] {
				t.Errorf("seed %d task %d: list %q, want %q", seed, i, readNames[got.ListRef], names[want.ListRef])
			}
			got.ListRef, want.ListRef = "", ""
			want.TrashedWith = "" // not a column
			noCR := strings.NewReplacer("\r\n", "\n", "\r", "")
			want.Title = noCR.Replace(want.Title)
			if want.Description != nil {
				d := noCR.Replace(*want.Description)
				want.Description = &d
			}
			if want.Description != nil && *want.Description == "" {
				want.Description = nil
			}
			for j, tag := range want.Tags {
				want.Tags[j] = strings.TrimSpace(tag)
			}
			if len(got.Reminders) == 0 {
				got.Reminders = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d task %d:\n got %#v\nwant %#v", seed, i, got, want)
			}
		}
	}
}

func TestCSVMappingAndPreview(t *testing.T) {
	in := "Name;Notes;Done;Due;Labels;Project\n" +
		"Call mum;;yes;2026-03-01;family, phone;Home\n" +
		"Pay rent;on the 1st;no;2026-03-01 09:30;;Home\n" +
		";no title;no;;;\n" +
		"Bad date;;no;01/03/2026;;\n" +
		"Bad done;;maybe;;;Work\n"
	p, err := PreviewCSV(strings.NewReader(in), CSVOptions{Comma: ';'}, 2, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantMap := map[Field]string{FieldTitle: "Name", FieldDescription: "Notes", FieldCompleted: "Done", FieldDue: "Due", FieldTags: "Labels", FieldList: "Project"}
	if !maps.Equal(p.Mapping, wantMap) {
		t.Errorf("mapping = %v, want %v", p.Mapping, wantMap)
	}
	if len(p.Sample) != 2 || p.Sample[1][0] != "Pay rent" {
		t.Errorf("sample = %q", p.Sample)
	}
	if len(p.Document.Tasks) != 2 || len(p.Document.Lists) != 1 {
		t.Fatalf("tasks %+v lists %+v", p.Document.Tasks, p.Document.Lists)
	}
	call := p.Document.Tasks[0]
	if !call.Completed || call.Due != DueOn(2026, 3, 1) || !slices.Equal(call.Tags, []string{"family", "phone"}) || call.Line != 2 {
		t.Errorf("first task = %+v", call)
	}
	if rent := p.Document.Tasks[1]; rent.Due.Kind != DueFloating || rent.Due.String() != "2026-03-01T09:30:00" {
		t.Errorf("second task's due = %v", rent.Due)
	}
	var lines []int
	for _, pr := range p.Problems {
		lines = append(lines, pr.Line)
	}
	if !slices.Equal(lines, []int{4, 5, 6}) {
		t.Errorf("problems %v, want lines 4, 5, 6", p.Problems)
	}
	// A mapping naming a missing column, or no title, is refused at line 1.
	for _, m := range []map[Field]string{{FieldTitle: "Nope"}, {FieldDescription: "Notes"}, {"colour": "Name", FieldTitle: "Name"}} {
		_, err := ReadCSV(strings.NewReader(in), CSVOptions{Comma: ';', Mapping: m}, Limits{})
		var fe *FileError
		if !errors.As(err, &fe) || fe.Line != 1 {
			t.Errorf("mapping %v: %v, want a FileError at line 1", m, err)
		}
	}
}

func TestCSVColumnsHaveAliases(t *testing.T) {
	for _, c := range csvColumns {
		if a := fieldAliases[c.field]; len(a) == 0 || a[0] != string(c.field) {
			t.Errorf("field %s: aliases %v must start with its own name", c.field, a)
		}
	}
	if len(fieldAliases) != len(csvColumns) {
		t.Errorf("%d alias entries for %d columns", len(fieldAliases), len(csvColumns))
	}
}
