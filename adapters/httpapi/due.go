package httpapi

import "github.com/danielgtaylor/huma/v2"

// The shape of a due date, once for the whole API: a date (YYYY-MM-DD, all
// day) or an RFC 3339 date-time. Clients may send any offset; the API
// answers in UTC. The domain checks the calendar (no 30 February) and the
// range (task.ParseDue).
const (
	dueDayPart  = `[0-9]{4}-[0-9]{2}-[0-9]{2}`
	dueTimePart = `T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?`
	// duePattern is what a request may carry: bodies and list filters.
	duePattern = "^" + dueDayPart + "(" + dueTimePart + `(Z|[+-][0-9]{2}:[0-9]{2}))?$`
	// dueBodyPattern is what a body may carry: duePattern, or a local
	// date-time without an offset (with due_tz or due_floating).
	dueBodyPattern = "^" + dueDayPart + "(" + dueTimePart + `(Z|[+-][0-9]{2}:[0-9]{2})?)?$`
	// dueUTCPattern is what a response carries (Task.due_date): a date, an
	// instant in UTC, or a floating local date-time.
	dueUTCPattern = "^" + dueDayPart + "(" + dueTimePart + "Z?)?$"
)

// dueDate is a due date in a request body; its schema carries duePattern,
// the field's tags the rest (doc, example, nullable).
type dueDate string

// Schema documents a due date's shape.
func (dueDate) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Pattern: dueBodyPattern}
}
