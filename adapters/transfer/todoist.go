package transfer

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TodoistOptions says how to read a Todoist CSV export, which is one project
// per file and does not name the project.
type TodoistOptions struct {
	// Project is the project's name (the HTTP layer can take it from the
	// uploaded file's name). With one, the tasks outside any section go to a
	// list of that name and each section to a list "<Project> / <section>";
	// without, they go to the inbox and each section to a list of its name.
	Project string
}

// Todoist's columns, as its export spells them (compared without case).
const (
	tdType        = "TYPE"
	tdContent     = "CONTENT"
	tdDescription = "DESCRIPTION"
	tdPriority    = "PRIORITY"
	tdIndent      = "INDENT"
	tdAuthor      = "AUTHOR"
	tdResponsible = "RESPONSIBLE"
	tdDate        = "DATE"
	tdDateLang    = "DATE_LANG"
	tdTimezone    = "TIMEZONE"
	tdDuration    = "DURATION"
	tdDurationU   = "DURATION_UNIT"
	tdDeadline    = "DEADLINE"
	tdDeadlineL   = "DEADLINE_LANG"
)

var todoistColumns = []string{tdType, tdContent, tdDescription, tdPriority, tdIndent, tdAuthor, tdResponsible, tdDate, tdDateLang, tdTimezone, tdDuration, tdDurationU, tdDeadline, tdDeadlineL}

// ReadTodoistCSV reads the CSV Todoist exports a project as ("Export as a
// template"; the columns are those its help centre documents). Rows:
//
//   - task: CONTENT is the title; inline @labels become tags and leave it.
//     INDENT 1-4 places it: a task's parent is the nearest task above it with
//     INDENT one less (our subtasks go 4 levels deep, as Todoist's).
//     PRIORITY: 1 (p1, the highest) is high; 2 and 3 are medium; 4 (p4,
//     Todoist's default, "no priority") and an empty cell are low. Three of
//     our levels for four of Todoist's: this keeps the order a priority sort
//     gives in Todoist (p1 first, unprioritised last) and merges p2 and p3.
//     DATE is read when it is a date or a date and time (ISO, or English with
//     the year such as "Oct 5 2026 at 9am"), in TIMEZONE when it names an
//     IANA zone (floating otherwise); anything else ("every monday",
//     "tomorrow": Todoist's natural language) is kept at the end of the
//     description with a warning, never lost. DEADLINE, DURATION and
//     RESPONSIBLE have no field here: kept in the description or named by a
//     warning. AUTHOR is the person exporting, who becomes the owner.
//   - section: starts a list (see TodoistOptions).
//   - note: a comment on the task above; appended to its description. A
//     note above every task becomes a task of its own, with a warning.
//   - meta (view settings) and empty rows are skipped.
func ReadTodoistCSV(r io.Reader, opt TodoistOptions, lim Limits) (*Result, error) {
	lim = withDefaults(lim)
	f, err := openCSV(r, ',', lim)
	if err != nil {
		return nil, err
	}
	rd := &todoistReader{f: f, opt: opt, col: map[string]int{}, probs: problems{max: lim.MaxProblems}, maxDepth: lim.MaxDepth, last: -1}
	for i, h := range f.header {
		rd.col[strings.ToUpper(h)] = i
	}
	if _, ok := rd.col[tdType]; !ok {
		return nil, &FileError{Line: 1, Msg: "no TYPE column: not a Todoist CSV export (TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,...)", Err: ErrFormat}
	}
	if _, ok := rd.col[tdContent]; !ok {
		return nil, &FileError{Line: 1, Msg: "no CONTENT column: not a Todoist CSV export", Err: ErrFormat}
	}
	for _, h := range f.header {
		if !containsFold(todoistColumns, h) {
			if err := rd.probs.add(1, h, SeverityWarning, "column %q is not one Todoist exports; it was not read", h); err != nil {
				return nil, err
			}
		}
	}
	if opt.Project != "" {
		rd.list = "project"
		rd.doc.Lists = append(rd.doc.Lists, List{Ref: rd.list, Name: opt.Project, Line: 1})
	}
	for {
		rec, line, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := rd.row(rec, line); err != nil {
			return nil, err
		}
	}
	if err := linkDocument(&rd.doc, lim.MaxDepth, &rd.probs); err != nil {
		return nil, err
	}
	return &Result{Document: rd.doc, Problems: rd.probs.list}, nil
}

func containsFold(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

type todoistReader struct {
	f        *csvFile
	opt      TodoistOptions
	col      map[string]int
	probs    problems
	doc      Document
	list     string   // ref of the list tasks go to now; "" for the inbox
	stack    []string // refs of the last task at each indent, 1-based
	last     int      // index in doc.Tasks of the last task read, -1 before any
	maxDepth int
}

func (rd *todoistReader) cell(rec []string, name string) string {
	if i, ok := rd.col[name]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

func (rd *todoistReader) warn(line int, field, format string, args ...any) error {
	return rd.probs.add(line, field, SeverityWarning, format, args...)
}

func (rd *todoistReader) row(rec []string, line int) error {
	if blank(rec) {
		return nil
	}
	for i, c := range rec {
		if !utf8.ValidString(c) || strings.IndexByte(c, 0) >= 0 {
			name := fmt.Sprintf("column %d", i+1)
			if i < len(rd.f.header) {
				name = rd.f.header[i]
			}
			return rd.probs.add(line, name, SeverityError, "row left out: the cell is not valid UTF-8 text (is the file UTF-8?)")
		}
	}
	content := rd.cell(rec, tdContent)
	switch typ := rd.cell(rec, tdType); typ {
	case "meta":
		return nil
	case "section":
		if content == "" {
			return rd.probs.add(line, tdContent, SeverityError, "section left out: it has no name")
		}
		name := content
		if rd.opt.Project != "" {
			name = rd.opt.Project + " / " + content
		}
		rd.list = fmt.Sprintf("section:%d", line)
		rd.doc.Lists = append(rd.doc.Lists, List{Ref: rd.list, Name: name, Line: line})
		rd.stack, rd.last = rd.stack[:0], -1
		return nil
	case "note":
		if content == "" {
			return nil
		}
		if rd.last >= 0 {
			t := &rd.doc.Tasks[rd.last]
			t.Description = appendText(t.Description, content)
			return nil
		}
		title, _, _ := strings.Cut(content, "\n")
		rd.doc.Tasks = append(rd.doc.Tasks, Task{
			Ref: fmt.Sprintf("line:%d", line), ListRef: rd.list, Title: truncate(title, 200),
			Description: &content, Priority: PriorityLow, Tags: []string{}, Line: line,
		})
		return rd.warn(line, tdContent, "a note above every task (a project comment) became a task of its own")
	case "task":
		return rd.task(rec, line, content)
	default:
		return rd.probs.add(line, tdType, SeverityError, "row left out: TYPE %q is not task, section, note or meta", typ)
	}
}

// labelRE finds inline labels: @ at the start or after a space, then
// anything up to the next space (an e-mail address is not a label).
var labelRE = regexp.MustCompile(`(^|\s)@([^\s@]+)`)

func (rd *todoistReader) task(rec []string, line int, content string) error {
	t := Task{Ref: fmt.Sprintf("line:%d", line), ListRef: rd.list, Priority: PriorityLow, Tags: []string{}, Line: line}
	for _, m := range labelRE.FindAllStringSubmatch(content, -1) {
		tag, changed := cleanTag(m[2])
		if changed {
			if err := rd.warn(line, tdContent, "tags have no commas here; label %q became %q", m[2], tag); err != nil {
				return err
			}
		}
		if tag != "" {
			t.Tags = append(t.Tags, tag)
		}
	}
	t.Title = strings.Join(strings.Fields(labelRE.ReplaceAllString(content, "$1")), " ")
	if t.Title == "" && content != "" {
		t.Title = content
		if err := rd.warn(line, tdContent, "the task has only labels; they were kept in the title too"); err != nil {
			return err
		}
	}
	if t.Title == "" {
		return rd.probs.add(line, tdContent, SeverityError, "task left out: CONTENT is empty")
	}
	if d := rd.cell(rec, tdDescription); d != "" {
		t.Description = &d
	}
	switch p := rd.cell(rec, tdPriority); p {
	case "1":
		t.Priority = PriorityHigh
	case "2", "3":
		t.Priority = PriorityMedium
	case "4", "":
		t.Priority = PriorityLow
	default:
		if err := rd.warn(line, tdPriority, "PRIORITY %q is not 1 to 4; the task is low priority", p); err != nil {
			return err
		}
	}
	indent := 1
	if s := rd.cell(rec, tdIndent); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || n < 1:
			if err := rd.warn(line, tdIndent, "INDENT %q is not 1 to 4; the task is at the top level", s); err != nil {
				return err
			}
		case n > rd.maxDepth:
			indent = rd.maxDepth
			if err := rd.warn(line, tdIndent, "INDENT %d is deeper than %d levels; the task is at level %d", n, rd.maxDepth, rd.maxDepth); err != nil {
				return err
			}
		default:
			indent = n
		}
	}
	// The parent is the nearest task above with INDENT one less; when the
	// file skips a level, the nearest shallower one.
	level := min(indent, len(rd.stack)+1)
	if level < indent {
		if err := rd.warn(line, tdIndent, "INDENT %d has no task at level %d above it; the task is at level %d", indent, indent-1, level); err != nil {
			return err
		}
	}
	rd.stack = append(rd.stack[:level-1], t.Ref)
	if level > 1 {
		t.ParentRef = rd.stack[level-2]
	}
	if err := rd.date(rec, line, &t); err != nil {
		return err
	}
	var extra []string
	if s := rd.cell(rec, tdDeadline); s != "" {
		extra = append(extra, "Deadline: "+s)
		if err := rd.warn(line, tdDeadline, "tasks here have no deadline besides the due date; DEADLINE %q was kept in the description", s); err != nil {
			return err
		}
	}
	if s := rd.cell(rec, tdDuration); s != "" {
		u := rd.cell(rec, tdDurationU)
		if err := rd.warn(line, tdDuration, "tasks here have no duration; DURATION %s %s was not imported", s, u); err != nil {
			return err
		}
	}
	if s := rd.cell(rec, tdResponsible); s != "" {
		if err := rd.warn(line, tdResponsible, "the task was assigned to %s in Todoist; it is not assigned here", s); err != nil {
			return err
		}
	}
	for _, e := range extra {
		t.Description = appendText(t.Description, e)
	}
	rd.doc.Tasks = append(rd.doc.Tasks, t)
	rd.last = len(rd.doc.Tasks) - 1
	return nil
}

// date reads DATE into the task's due, or keeps it in the description.
func (rd *todoistReader) date(rec []string, line int, t *Task) error {
	s := rd.cell(rec, tdDate)
	if s == "" {
		return nil
	}
	tz := rd.cell(rec, tdTimezone)
	lang := strings.ToLower(rd.cell(rec, tdDateLang))
	due, ok := parseTodoistDate(s, tz, lang == "" || lang == "en")
	if ok {
		t.Due = due
		return nil
	}
	t.Description = appendText(t.Description, "Todoist date: "+s)
	why := "is not a date this importer reads"
	if l := strings.ToLower(s); strings.HasPrefix(l, "every") || strings.HasPrefix(l, "ev ") {
		why = "repeats in Todoist's words; set the recurrence again here"
	}
	return rd.warn(line, tdDate, "DATE %q %s; it was kept in the description", s, why)
}

func appendText(d *string, s string) *string {
	if d == nil || *d == "" {
		return &s
	}
	out := *d + "\n\n" + s
	return &out
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

var (
	// "at 9am", "at 9:30 pm", "17:00", "at 17:00"
	clockRE = regexp.MustCompile(`(?i)^(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$`)
	monthRE = regexp.MustCompile(`(?i)^(?:([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})|(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+),?\s+(\d{4}))(?:\s+(.+))?$`)
)

var months = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
	"jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
	"oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

// parseTodoistDate reads the dates a Todoist export holds that name one day
// for sure: ISO (2026-10-05, 2026-10-05 15:30, 2026-10-05T15:30:00[Z]) and,
// in English, a month name with the year (Oct 5 2026, 5 October 2026,
// optionally "at 9am"). A date without a year, or a relative one, depends on
// when it was written and is not guessed.
func parseTodoistDate(s, tz string, english bool) (Due, bool) {
	zone := ""
	if _, err := loadZone(tz); tz != "" && err == nil {
		zone = tz
	}
	if d, err := parseLooseDue(s, zone); err == nil {
		if d.Kind == DueInstant && d.Zone == "" {
			d.Zone = zone
		}
		return d, true
	}
	if !english {
		return Due{}, false
	}
	m := monthRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Due{}, false
	}
	mon, day, year, rest := m[1], m[2], m[3], m[7]
	if mon == "" {
		mon, day, year = m[5], m[4], m[6]
	}
	month, ok := months[strings.ToLower(mon)]
	if !ok {
		return Due{}, false
	}
	d, _ := strconv.Atoi(day)
	y, _ := strconv.Atoi(year)
	date := time.Date(y, month, d, 0, 0, 0, 0, time.UTC)
	if date.Day() != d {
		return Due{}, false // Feb 30
	}
	if rest == "" {
		return DueOn(y, month, d), true
	}
	c := clockRE.FindStringSubmatch(strings.TrimSpace(rest))
	if c == nil {
		return Due{}, false
	}
	h, _ := strconv.Atoi(c[1])
	mi, _ := strconv.Atoi(c[2])
	switch strings.ToLower(c[3]) {
	case "am":
		if h == 12 {
			h = 0
		}
	case "pm":
		if h < 12 {
			h += 12
		}
	}
	if h > 23 || mi > 59 || (c[3] != "" && (h > 23 || c[1] == "0")) {
		return Due{}, false
	}
	if zone != "" {
		loc, _ := loadZone(zone)
		return DueAt(time.Date(y, month, d, h, mi, 0, 0, loc), zone), true
	}
	return DueFloatingAt(time.Date(y, month, d, h, mi, 0, 0, time.UTC)), true
}
