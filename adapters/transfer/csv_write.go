package transfer

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// Field is a column of our CSV, and what a generic CSV's column can be
// mapped to. The names are the headers WriteCSV writes, so that our export
// reads back through ReadCSV with the mapping SuggestMapping finds.
type Field string

// The fields, in the order WriteCSV writes them.
const (
	FieldRef            Field = "ref"
	FieldList           Field = "list" // the list's name
	FieldParentRef      Field = "parent_ref"
	FieldTitle          Field = "title"
	FieldDescription    Field = "description"
	FieldCompleted      Field = "completed"
	FieldCompletedAt    Field = "completed_at"
	FieldPriority       Field = "priority"
	FieldDue            Field = "due_date"
	FieldDueTZ          Field = "due_tz"
	FieldTags           Field = "tags"
	FieldPosition       Field = "position"
	FieldRecurrence     Field = "recurrence"
	FieldRecurrenceFrom Field = "recurrence_from"
	FieldReminders      Field = "reminders"
	FieldCreatedAt      Field = "created_at"
	FieldUpdatedAt      Field = "updated_at"
	FieldDeletedAt      Field = "deleted_at"
)

// csvColumn is one column of our CSV: how a task is written into it (lists
// maps list refs to names). The generic reader reads the same names
// (csv_read.go), and a test holds the two to the same set.
type csvColumn struct {
	field Field
	write func(t *Task, lists map[string]string) string
}

var csvColumns = []csvColumn{
	{FieldRef, func(t *Task, _ map[string]string) string { return t.Ref }},
	{FieldList, func(t *Task, lists map[string]string) string { return lists[t.ListRef] }},
	{FieldParentRef, func(t *Task, _ map[string]string) string { return t.ParentRef }},
	{FieldTitle, func(t *Task, _ map[string]string) string { return t.Title }},
	{FieldDescription, func(t *Task, _ map[string]string) string { return deref(t.Description) }},
	{FieldCompleted, func(t *Task, _ map[string]string) string { return fmt.Sprint(t.Completed) }},
	{FieldCompletedAt, func(t *Task, _ map[string]string) string { return deref(optTimePtr(t.CompletedAt)) }},
	{FieldPriority, func(t *Task, _ map[string]string) string { return string(t.Priority) }},
	{FieldDue, func(t *Task, _ map[string]string) string { return spreadsheetDue(t.Due) }},
	{FieldDueTZ, func(t *Task, _ map[string]string) string {
		if t.Due.Kind == DueInstant {
			return t.Due.Zone
		}
		return ""
	}},
	{FieldTags, func(t *Task, _ map[string]string) string { return strings.Join(t.Tags, ", ") }},
	{FieldPosition, func(t *Task, _ map[string]string) string { return t.Position }},
	{FieldRecurrence, func(t *Task, _ map[string]string) string {
		if t.Recurrence == nil {
			return ""
		}
		return t.Recurrence.Rule
	}},
	{FieldRecurrenceFrom, func(t *Task, _ map[string]string) string {
		if t.Recurrence == nil {
			return ""
		}
		return string(t.Recurrence.From)
	}},
	{FieldReminders, func(t *Task, _ map[string]string) string { return formatReminders(t.Reminders) }},
	{FieldCreatedAt, func(t *Task, _ map[string]string) string { return deref(optTime(t.CreatedAt)) }},
	{FieldUpdatedAt, func(t *Task, _ map[string]string) string { return deref(optTime(t.UpdatedAt)) }},
	{FieldDeletedAt, func(t *Task, _ map[string]string) string { return deref(optTimePtr(t.DeletedAt)) }},
}

// spreadsheetDue writes a zoned due as its wall clock with its offset
// (2026-03-01T17:00:00+01:00, beside due_tz Europe/Paris), which is the
// same instant as the API's UTC text but what a person reads in a sheet.
func spreadsheetDue(d Due) string {
	if d.Kind == DueInstant && d.Zone != "" {
		return d.Wall().Format(time.RFC3339Nano)
	}
	return d.String()
}

// formatReminders writes reminders as one cell, space-separated: a
// duration before the due (PT15M) or an instant (RFC 3339), which cannot
// be mistaken for each other.
func formatReminders(rs []Reminder) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.Before != "" {
			parts[i] = r.Before
		} else {
			parts[i] = r.At.UTC().Format(time.RFC3339Nano)
		}
	}
	return strings.Join(parts, " ")
}

// WriteCSV writes src as a CSV for spreadsheets (RFC 4180: CRLF, quotes
// where needed), one row per task under a header of Field names, after a
// UTF-8 byte order mark so that Excel reads accents right. Every cell is
// neutralised against formula injection. Line breaks in text are kept, as
// CRLF (encoding/csv with UseCRLF, as RFC 4180 says), which reads back as
// LF; a carriage return of its own is dropped. It holds one task at a time, plus
// the names of the lists (read first, to fill the list column).
func WriteCSV(w io.Writer, src Source) error {
	lists, err := listNames(src)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.Write(utf8BOM)
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	row := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		row[i] = string(c.field)
	}
	if err := cw.Write(row); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	if src.Tasks != nil {
		for t, err := range src.Tasks {
			if err != nil {
				return fmt.Errorf("write tasks: %w", err)
			}
			for i, c := range csvColumns {
				row[i] = neutralise(c.write(&t, lists))
			}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("write task %q: %w", t.Ref, err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return bw.Flush()
}

// listNames reads the lists of src into a map from ref to name.
func listNames(src Source) (map[string]string, error) {
	names := map[string]string{}
	if src.Lists == nil {
		return names, nil
	}
	for l, err := range src.Lists {
		if err != nil {
			return nil, fmt.Errorf("read lists: %w", err)
		}
		names[l.Ref] = l.Name
	}
	return names, nil
}
