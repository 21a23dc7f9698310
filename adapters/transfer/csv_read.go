package transfer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// csvFile reads records of a CSV file with their lines, within the limits:
// a BOM at the start is skipped, a record longer than MaxRowBytes or a file
// over MaxBytes stops the reading, quoting errors name their line.
type csvFile struct {
	in     *input
	cr     *csv.Reader
	header []string
	lim    Limits
	rows   int
}

func openCSV(r io.Reader, comma rune, lim Limits) (*csvFile, error) {
	in := newInput(r, lim, false)
	cr := csv.NewReader(skipBOM(in))
	if comma != 0 {
		cr.Comma = comma
	}
	cr.FieldsPerRecord = -1 // rows shorter or longer than the header are named, not fatal
	cr.ReuseRecord = false
	f := &csvFile{in: in, cr: cr, lim: lim}
	header, line, err := f.next()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{Line: 1, Msg: "the file is empty; a CSV file starts with a header row", Err: ErrFormat}
	}
	if err != nil {
		return nil, err
	}
	if line != 1 {
		return nil, &FileError{Line: 1, Msg: "the first line is empty; a CSV file starts with a header row", Err: ErrFormat}
	}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, &FileError{Line: 1, Msg: fmt.Sprintf("header %d is not valid UTF-8", i+1), Err: ErrFormat}
		}
		header[i] = strings.TrimSpace(h)
	}
	f.header = header
	f.rows = 0
	return f, nil
}

// next returns the next record and the line it starts on; io.EOF at the end.
func (f *csvFile) next() ([]string, int, error) {
	rec, err := f.cr.Read()
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, 0, fe
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, 0, &FileError{Line: pe.Line, Msg: "invalid CSV: " + pe.Err.Error(), Err: ErrFormat}
		}
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		return nil, 0, &FileError{Msg: "read CSV: " + err.Error(), Err: ErrFormat}
	}
	line, _ := f.cr.FieldPos(0)
	off := f.cr.InputOffset()
	f.in.startRow(off, line+1)
	f.rows++
	if f.rows > f.lim.MaxItems {
		return nil, 0, &FileError{Line: line, Msg: fmt.Sprintf("the file has more than %d rows", f.lim.MaxItems), Err: ErrTooManyItems}
	}
	if n := recordLen(rec); n > f.lim.MaxRowBytes {
		return nil, 0, &FileError{Line: line, Msg: fmt.Sprintf("the row starting here is longer than %d bytes", f.lim.MaxRowBytes), Err: ErrRowTooLong}
	}
	return rec, line, nil
}

func recordLen(rec []string) int {
	n := 0
	for _, c := range rec {
		n += len(c) + 1
	}
	return n
}

// blank reports whether every cell of rec is empty (spreadsheets leave such
// rows at the end, Todoist between tasks).
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// CSVOptions says how to read a generic CSV file.
type CSVOptions struct {
	// Mapping maps each field to the header of the column that holds it.
	// Nil means SuggestMapping's guess from the header.
	Mapping map[Field]string
	// Comma is the separator: ',' when zero; ';' is common where the
	// decimal separator is a comma.
	Comma rune
}

// fieldAliases are the headers SuggestMapping recognises for each field,
// compared case-insensitively: our own first, then what other apps write.
var fieldAliases = map[Field][]string{
	FieldRef:            {"ref", "id", "uid", "task id"},
	FieldList:           {"list", "list name", "project", "folder", "list_name"},
	FieldParentRef:      {"parent_ref", "parent", "parent id", "parent_id"},
	FieldTitle:          {"title", "name", "task", "summary", "subject", "content"},
	FieldDescription:    {"description", "notes", "note", "details", "body"},
	FieldCompleted:      {"completed", "done", "status", "is_done", "complete"},
	FieldCompletedAt:    {"completed_at", "completed at", "completion date", "done at", "completed time"},
	FieldPriority:       {"priority", "importance"},
	FieldDue:            {"due_date", "due", "due date", "deadline", "date"},
	FieldDueTZ:          {"due_tz", "timezone", "time zone"},
	FieldTags:           {"tags", "labels", "tag", "label", "categories"},
	FieldPosition:       {"position"},
	FieldRecurrence:     {"recurrence", "rrule", "repeat"},
	FieldRecurrenceFrom: {"recurrence_from"},
	FieldReminders:      {"reminders", "reminder"},
	FieldCreatedAt:      {"created_at", "created", "created at", "date created"},
	FieldUpdatedAt:      {"updated_at", "updated", "modified", "last modified"},
	FieldDeletedAt:      {"deleted_at"},
}

// SuggestMapping guesses which column holds which field from the header:
// each field takes the first column whose header is one of its aliases.
func SuggestMapping(header []string) map[Field]string {
	m := map[Field]string{}
	for _, c := range csvColumns {
		for _, alias := range fieldAliases[c.field] {
			if i := slices.IndexFunc(header, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), alias) }); i >= 0 {
				m[c.field] = header[i]
				break
			}
		}
	}
	return m
}

// Preview is a first look at a generic CSV file, for choosing a mapping: its
// header, the mapping used, its first rows as they are and as tasks, and
// every problem in the file under that mapping.
type Preview struct {
	Header  []string
	Mapping map[Field]string
	Sample  [][]string
	Result
}

// ReadCSV reads a generic CSV file with a column mapping: one task per row,
// lists made from the list column's names, parents from parent_ref naming
// another row's ref. Cells written by WriteCSV read back exactly (the formula
// quote comes off).
func ReadCSV(r io.Reader, opt CSVOptions, lim Limits) (*Result, error) {
	p, err := PreviewCSV(r, opt, 0, lim)
	if err != nil {
		return nil, err
	}
	return &p.Result, nil
}

// PreviewCSV reads like ReadCSV and also keeps the header, the mapping and
// the first sample rows as they are.
func PreviewCSV(r io.Reader, opt CSVOptions, sample int, lim Limits) (*Preview, error) {
	lim = withDefaults(lim)
	f, err := openCSV(r, opt.Comma, lim)
	if err != nil {
		return nil, err
	}
	mapping := opt.Mapping
	if mapping == nil {
		mapping = SuggestMapping(f.header)
	}
	cols := map[Field]int{}
	for field, name := range mapping {
		if !slices.ContainsFunc(csvColumns, func(c csvColumn) bool { return c.field == field }) {
			return nil, &FileError{Line: 1, Msg: fmt.Sprintf("the mapping names a field %q this importer does not know", field), Err: ErrFormat}
		}
		i := slices.IndexFunc(f.header, func(h string) bool { return h == strings.TrimSpace(name) })
		if i < 0 {
			return nil, &FileError{Line: 1, Msg: fmt.Sprintf("the mapping puts %s in column %q, which the header does not have", field, name), Err: ErrFormat}
		}
		cols[field] = i
	}
	if _, ok := cols[FieldTitle]; !ok {
		return nil, &FileError{Line: 1, Msg: "no column is mapped to the title", Err: ErrFormat}
	}
	pv := &Preview{Header: f.header, Mapping: mapping}
	rd := &genericCSV{f: f, cols: cols, probs: problems{max: lim.MaxProblems}, lists: map[string]bool{}}
	for {
		rec, line, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(pv.Sample) < sample {
			pv.Sample = append(pv.Sample, rec)
		}
		if err := rd.row(rec, line); err != nil {
			return nil, err
		}
	}
	if err := linkDocument(&rd.doc, lim.MaxDepth, &rd.probs); err != nil {
		return nil, err
	}
	pv.Result = Result{Document: rd.doc, Problems: rd.probs.list}
	return pv, nil
}

type genericCSV struct {
	f     *csvFile
	cols  map[Field]int
	probs problems
	doc   Document
	lists map[string]bool
}

func (rd *genericCSV) row(rec []string, line int) error {
	if blank(rec) {
		return nil
	}
	if len(rec) > len(rd.f.header) && !blank(rec[len(rd.f.header):]) {
		if err := rd.probs.add(line, "", SeverityWarning, "the row has %d cells and the header %d; the cells past the header were not read", len(rec), len(rd.f.header)); err != nil {
			return err
		}
	}
	var errs fieldErrors
	cell := func(f Field) (string, bool) {
		i, ok := rd.cols[f]
		if !ok || i >= len(rec) {
			return "", false
		}
		s := unneutralise(rec[i])
		if err := checkText(s); err != nil {
			errs.add(rd.f.header[i], err.Error())
			return "", false
		}
		return s, true
	}
	t := Task{Line: line, Priority: DefaultPriority, Tags: []string{}}
	t.Ref, _ = cell(FieldRef)
	if t.Ref == "" {
		t.Ref = fmt.Sprintf("line:%d", line)
	} else if len(t.Ref) > MaxRefLen {
		errs.add(string(FieldRef), fmt.Sprintf("must be at most %d bytes", MaxRefLen))
	}
	t.Title, _ = cell(FieldTitle)
	if strings.TrimSpace(t.Title) == "" {
		errs.add(rd.f.header[rd.cols[FieldTitle]], "the title is empty")
	}
	if s, ok := cell(FieldDescription); ok && s != "" {
		t.Description = &s
	}
	if s, ok := cell(FieldList); ok && strings.TrimSpace(s) != "" {
		t.ListRef = "list:" + strings.TrimSpace(s)
	}
	t.ParentRef, _ = cell(FieldParentRef)
	if s, _ := cell(FieldCompleted); s != "" {
		done, ok := parseBool(s)
		if !ok {
			errs.add(string(FieldCompleted), fmt.Sprintf("%q is not yes or no (true, false, 1, 0, x, done)", s))
		}
		t.Completed = done
	}
	t.CompletedAt = rd.timeCell(&errs, cell, FieldCompletedAt)
	if s, _ := cell(FieldPriority); s != "" {
		p, ok := parseLoosePriority(s)
		if !ok {
			errs.add(string(FieldPriority), fmt.Sprintf("%q is not low, medium or high", s))
		}
		t.Priority = p
	}
	if s, _ := cell(FieldDue); s != "" {
		tz, _ := cell(FieldDueTZ)
		d, err := parseLooseDue(strings.TrimSpace(s), strings.TrimSpace(tz))
		if err != nil {
			errs.add(string(FieldDue), err.Error())
		}
		t.Due = d
	}
	if s, _ := cell(FieldTags); s != "" {
		for tag := range strings.SplitSeq(s, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				t.Tags = append(t.Tags, tag)
			}
		}
	}
	if s, _ := cell(FieldPosition); s != "" {
		t.Position = s
		errs.position(string(FieldPosition), s)
	}
	if s, _ := cell(FieldRecurrence); s != "" {
		rule := strings.TrimPrefix(strings.TrimSpace(s), "RRULE:")
		if err := checkRule(rule); err != nil {
			errs.add(string(FieldRecurrence), err.Error())
		}
		t.Recurrence = &Recurrence{Rule: rule, From: FromDue}
		if f, _ := cell(FieldRecurrenceFrom); f != "" {
			t.Recurrence.From = RecurFrom(strings.ToLower(strings.TrimSpace(f)))
			if t.Recurrence.From != FromDue && t.Recurrence.From != FromCompletion {
				errs.add(string(FieldRecurrenceFrom), fmt.Sprintf("%q is not due or completion", f))
			}
		}
	}
	if s, _ := cell(FieldReminders); s != "" {
		for part := range strings.FieldsSeq(s) {
			if strings.HasPrefix(part, "P") {
				if err := checkDuration(part); err != nil {
					errs.add(string(FieldReminders), err.Error())
				}
				t.Reminders = append(t.Reminders, Reminder{Before: part})
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, part)
			if err != nil {
				errs.add(string(FieldReminders), fmt.Sprintf("%q is neither a duration (PT15M) nor an RFC 3339 date-time", part))
			}
			t.Reminders = append(t.Reminders, Reminder{At: at.UTC()})
		}
	}
	if v := rd.timeCell(&errs, cell, FieldCreatedAt); v != nil {
		t.CreatedAt = *v
	}
	if v := rd.timeCell(&errs, cell, FieldUpdatedAt); v != nil {
		t.UpdatedAt = *v
	}
	t.DeletedAt = rd.timeCell(&errs, cell, FieldDeletedAt)
	for _, e := range errs {
		if err := rd.probs.add(line, e.field, SeverityError, "row left out: %s", e.msg); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return nil
	}
	if t.ListRef != "" && !rd.lists[t.ListRef] {
		rd.lists[t.ListRef] = true
		rd.doc.Lists = append(rd.doc.Lists, List{Ref: t.ListRef, Name: strings.TrimPrefix(t.ListRef, "list:"), Line: line})
	}
	rd.doc.Tasks = append(rd.doc.Tasks, t)
	return nil
}

func (rd *genericCSV) timeCell(errs *fieldErrors, cell func(Field) (string, bool), f Field) *time.Time {
	s, _ := cell(f)
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		errs.add(string(f), fmt.Sprintf("%q is not an RFC 3339 date-time (2026-03-01T10:00:00Z)", s))
		return nil
	}
	t = t.UTC()
	return &t
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "x", "done", "completed", "complete":
		return true, true
	case "false", "no", "n", "0", "", "open", "todo", "pending":
		return false, true
	}
	return false, false
}

// parseLoosePriority reads a priority a spreadsheet may hold: low, medium,
// high in any case, or the iCalendar numbers (1-4 high, 5 medium, 6-9 low).
func parseLoosePriority(s string) (Priority, bool) {
	s = strings.TrimSpace(s)
	if p, ok := parsePriority(s); ok {
		return p, true
	}
	if p, ok := icsPriority(s); ok {
		return p, true
	}
	return DefaultPriority, false
}

// parseLooseDue reads a due as spreadsheets hold it: a date, an RFC 3339
// date-time (an instant; with tz, one living in that zone), or a local
// date-time "2026-03-01 09:00[:00]" or with a T (in tz when there is one,
// floating otherwise).
func parseLooseDue(s, tz string) (Due, error) {
	var loc *time.Location
	if tz != "" {
		var err error
		if loc, err = loadZone(tz); err != nil {
			return Due{}, err
		}
	}
	if t, err := time.Parse(dateLayout, s); err == nil {
		return DueOn(t.Year(), t.Month(), t.Day()), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return DueAt(t, tz), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			if loc != nil {
				return DueAt(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc), tz), nil
			}
			return DueFloatingAt(t), nil
		}
	}
	return Due{}, fmt.Errorf("%q is not a date (2026-03-01) or date-time (2026-03-01 09:00, or RFC 3339)", s)
}
