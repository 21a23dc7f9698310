// Package portable is the application's model of a file tasks travel in
// (an export, an import): a Document of Lists and Tasks linked by refs,
// independent of the domain's types and of any format. The use cases map
// domain objects to and from it; the format adapters (adapters/transfer)
// read and write it. It touches no database, no HTTP and no format.
package portable

import (
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// Document is everything one file carries: lists and tasks, linked by refs.
// Readers return one; writers take its parts as iterators (Source).
type Document struct {
	ExportedAt time.Time // zero when the file did not say
	Lists      []List
	Tasks      []Task
}

// List is a list of tasks. Ref names it inside one document: our id as text
// on export, whatever id (or name) the imported file used on import.
type List struct {
	Ref       string
	Name      string
	Color     string // "#rrggbb", or "" for none
	Position  string // fractional order key, or "" for the implicit one
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time // in the trash since then, nil when live
	Line      int        // 1-based line of the file it was read from; 0 when it was not
}

// Trashed reports whether the list is in the trash.
func (l List) Trashed() bool { return l.DeletedAt != nil }

// Task is one task of a Document. ListRef and ParentRef name a List and a
// Task of the same document by their Ref, which is how the hierarchy
// survives a file whose ids mean nothing to us.
type Task struct {
	Ref         string
	ListRef     string // "" for the inbox
	ParentRef   string // "" for a top-level task
	Title       string
	Description *string // nil for none (null), which is not ""
	Completed   bool
	CompletedAt *time.Time
	Priority    Priority
	Due         Due
	Tags        []string
	Position    string // fractional order key, or "" for the implicit one
	Recurrence  *Recurrence
	Reminders   []Reminder
	CreatedAt   time.Time // zero when unknown (files from other apps)
	UpdatedAt   time.Time // zero when unknown
	DeletedAt   *time.Time
	// TrashedWith says what the task went to the trash with, so that
	// restoring that restores the task too: "task:<ref>" or "list:<ref>",
	// "" when it was trashed on its own (or is not in the trash).
	TrashedWith string
	Line        int // 1-based line of the file it was read from; 0 when it was not
}

// Trashed reports whether the task is in the trash.
func (t Task) Trashed() bool { return t.DeletedAt != nil }

// Priority is how much a task matters, as the API spells it.
type Priority string

// The priorities a task can have.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
)

// DefaultPriority is the priority of a task whose file says nothing about
// it, as for a task created through the API.
const DefaultPriority = PriorityMedium

// RecurFrom says what the next occurrence of a recurring task counts from.
type RecurFrom string

// The two anchors of a recurrence (issue 18).
const (
	FromDue        RecurFrom = "due"
	FromCompletion RecurFrom = "completion"
)

// Recurrence is how a task repeats: an RFC 5545 RRULE value (without the
// "RRULE:" name), kept as text. The domain checks what it means; the formats
// only check that it is safe to carry (see checkRule).
type Recurrence struct {
	Rule string
	From RecurFrom
}

// Reminder is one reminder of a task: at an instant (At), or a duration
// before the due (Before, an RFC 5545 duration such as "PT15M" or "P1D",
// which is also ISO 8601). Exactly one of the two is set.
type Reminder struct {
	At     time.Time
	Before string
}

// Source is what a writer writes: the lists, then the tasks, each as an
// iterator that may fail (a database cursor). A nil iterator writes none.
type Source struct {
	ExportedAt time.Time
	Lists      iter.Seq2[List, error]
	Tasks      iter.Seq2[Task, error]
}

// DocumentSource is the Source of a document in memory (tests, small
// exports).
func DocumentSource(d *Document) Source {
	return Source{
		ExportedAt: d.ExportedAt,
		Lists: func(yield func(List, error) bool) {
			for _, l := range d.Lists {
				if !yield(l, nil) {
					return
				}
			}
		},
		Tasks: func(yield func(Task, error) bool) {
			for _, t := range d.Tasks {
				if !yield(t, nil) {
					return
				}
			}
		},
	}
}

// Severity says whether a Problem kept a row out of the document (error) or
// only says what was read with a loss (warning).
type Severity string

// The two severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one thing a reader could not read as it was: the 1-based line of
// the file where the row (or property) starts, the field or column, and why.
type Problem struct {
	Line     int
	Field    string
	Msg      string
	Severity Severity
}

func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Severity, p.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s: %s", p.Line, p.Severity, p.Field, p.Msg)
}

// Result is what a reader read: the document and the problems found on the
// way, in the order of the file.
type Result struct {
	Document Document
	Problems []Problem
}

// HasErrors reports whether a row was left out: an import should then be
// refused (or shown as a preview), never committed with a hole.
func (r *Result) HasErrors() bool {
	for _, p := range r.Problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Limits bound what a reader accepts, so that a hostile file costs bounded
// memory and time. A zero field takes its default.
type Limits struct {
	MaxBytes    int64 // the whole file; past it, ErrTooLarge (default 64 MiB)
	MaxItems    int   // lists plus tasks; past it, ErrTooManyItems (default 100,000)
	MaxRowBytes int   // one CSV record, iCalendar content line or JSON element (default 64 KiB)
	MaxProblems int   // past it the reader gives up with a FileError (default 1,000)
	MaxDepth    int   // levels of subtasks, the top level being 1 (default 4, as the domain)
}

// The defaults of Limits.
const (
	DefaultMaxBytes    = 64 << 20
	DefaultMaxItems    = 100_000
	DefaultMaxRowBytes = 64 << 10
	DefaultMaxProblems = 1000
	DefaultMaxDepth    = 4
)

// Errors a *FileError wraps, for the HTTP layer to pick a status: the first
// two are 413 Content Too Large, the others 422.
var (
	ErrTooLarge      = errors.New("file too large")
	ErrTooManyItems  = errors.New("too many lists and tasks")
	ErrRowTooLong    = errors.New("row too long")
	ErrFormat        = errors.New("not a file of this format")
	ErrTooManyErrors = errors.New("too many problems")
)

// FileError is a file a reader cannot read at all: where (the 1-based line,
// 0 when it is the file as a whole) and why. It wraps one of the Err values
// above.
type FileError struct {
	Line int
	Msg  string
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func (e *FileError) Unwrap() error { return e.Err }

// MaxRefLen bounds a ref; refs are ids, not prose.
const MaxRefLen = 200

// DueKind says which of the three kinds of due (issue 18) a Due is.
type DueKind uint8

// The kinds of due.
const (
	DueNone     DueKind = iota
	DueDate             // a whole day, no time
	DueInstant          // an instant, optionally living in an IANA zone
	DueFloating         // a local date and time with no zone: "9:00 wherever I am"
)

// Due is when a task is due. Time is, by Kind: the day at 00:00 UTC (DueDate);
// the instant in UTC (DueInstant); the wall clock read as if UTC
// (DueFloating). Zone is the IANA zone of a DueInstant that lives in one
// ("Europe/Paris"), "" otherwise.
type Due struct {
	Kind DueKind
	Time time.Time
	Zone string
}

// DueOn is the all-day due of a calendar day.
func DueOn(year int, month time.Month, day int) Due {
	return Due{Kind: DueDate, Time: time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DueAt is the due of an instant; zone is its IANA zone or "".
func DueAt(t time.Time, zone string) Due {
	return Due{Kind: DueInstant, Time: t.UTC(), Zone: zone}
}

// DueFloatingAt is the floating due of a wall clock (its location is ignored).
func DueFloatingAt(wall time.Time) Due {
	y, m, d := wall.Date()
	h, mi, s := wall.Clock()
	return Due{Kind: DueFloating, Time: time.Date(y, m, d, h, mi, s, wall.Nanosecond(), time.UTC)}
}

// IsZero reports whether there is no due.
func (d Due) IsZero() bool { return d.Kind == DueNone }

// Wall is the due's date and time as its owner reads it: in its zone for a
// zoned instant, in UTC for an instant without one, as is otherwise.
func (d Due) Wall() time.Time {
	if d.Kind == DueInstant && d.Zone != "" {
		if loc, err := LoadZone(d.Zone); err == nil {
			return d.Time.In(loc)
		}
	}
	return d.Time
}

const (
	DateLayout     = "2006-01-02"
	FloatingLayout = "2006-01-02T15:04:05.999999999"
)

// String is the due as the API shows it in due_date: "2026-03-01",
// "2026-03-01T16:00:00Z" (an instant, in UTC whatever its zone) or
// "2026-03-01T09:00:00" (floating); "" for none.
func (d Due) String() string {
	switch d.Kind {
	case DueDate:
		return d.Time.Format(DateLayout)
	case DueInstant:
		return d.Time.UTC().Format(time.RFC3339Nano)
	case DueFloating:
		return d.Time.Format(FloatingLayout)
	}
	return ""
}

// LoadZone loads an IANA zone by name. "Local" and "" are refused: they
// would be the server's zone, which no file means.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || strings.ContainsAny(name, "\x00\\") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Paris", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Paris", name)
	}
	return loc, nil
}
