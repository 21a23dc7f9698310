package transfer

import (
	"strings"
	"time"

	"github.com/todo-backend/todo/application/portable"
)

// The document model is the application's (application/portable): this
// package reads and writes it. The aliases keep this package's names.
type (
	Document   = portable.Document
	List       = portable.List
	Task       = portable.Task
	Priority   = portable.Priority
	RecurFrom  = portable.RecurFrom
	Recurrence = portable.Recurrence
	Reminder   = portable.Reminder
	Source     = portable.Source
	Severity   = portable.Severity
	Problem    = portable.Problem
	Result     = portable.Result
	Limits     = portable.Limits
	FileError  = portable.FileError
	Due        = portable.Due
	DueKind    = portable.DueKind
)

// The priorities, anchors, severities, limits and errors of the model.
const (
	PriorityLow        = portable.PriorityLow
	PriorityMedium     = portable.PriorityMedium
	PriorityHigh       = portable.PriorityHigh
	DefaultPriority    = portable.DefaultPriority
	FromDue            = portable.FromDue
	FromCompletion     = portable.FromCompletion
	SeverityError      = portable.SeverityError
	SeverityWarning    = portable.SeverityWarning
	DefaultMaxBytes    = portable.DefaultMaxBytes
	DefaultMaxItems    = portable.DefaultMaxItems
	DefaultMaxRowBytes = portable.DefaultMaxRowBytes
	DefaultMaxProblems = portable.DefaultMaxProblems
	DefaultMaxDepth    = portable.DefaultMaxDepth
	MaxRefLen          = portable.MaxRefLen
	DueNone            = portable.DueNone
	DueDate            = portable.DueDate
	DueInstant         = portable.DueInstant
	DueFloating        = portable.DueFloating
	dateLayout         = portable.DateLayout
	floatingLayout     = portable.FloatingLayout
)

// The errors a *FileError wraps.
var (
	ErrTooLarge      = portable.ErrTooLarge
	ErrTooManyItems  = portable.ErrTooManyItems
	ErrRowTooLong    = portable.ErrRowTooLong
	ErrFormat        = portable.ErrFormat
	ErrTooManyErrors = portable.ErrTooManyErrors
)

// DocumentSource is the Source of a document in memory.
func DocumentSource(d *Document) Source { return portable.DocumentSource(d) }

// DueOn, DueAt and DueFloatingAt build the three kinds of due.
var (
	DueOn         = portable.DueOn
	DueAt         = portable.DueAt
	DueFloatingAt = portable.DueFloatingAt
)

func loadZone(name string) (*time.Location, error) { return portable.LoadZone(name) }

func parsePriority(s string) (Priority, bool) {
	switch p := Priority(strings.ToLower(s)); p {
	case PriorityLow, PriorityMedium, PriorityHigh:
		return p, true
	}
	return "", false
}

func withDefaults(l Limits) Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultMaxItems
	}
	if l.MaxRowBytes <= 0 {
		l.MaxRowBytes = DefaultMaxRowBytes
	}
	if l.MaxProblems <= 0 {
		l.MaxProblems = DefaultMaxProblems
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}
