package recur

import "strings"

// Problem is one thing wrong with a recurrence. It has the shape of
// task.Problem plus the RRULE part, so that a caller can turn it into a 422
// problem on "recurrence.rule" (or "recurrence.from") without reading the
// message.
type Problem struct {
	// Field is "rule" or "from": which member of a recurrence is wrong.
	Field string
	// Part is the RRULE part at fault ("BYHOUR", "COUNT", ...), or the text
	// of a part that is not NAME=VALUE; empty for "from".
	Part string
	// Msg is for people; it names the part.
	Msg string
	// Type is machine-readable, FastAPI's vocabulary where one fits:
	// missing, extra_forbidden (a part that is unknown or not supported),
	// enum, int_parsing, greater_than_equal, less_than_equal,
	// datetime_parsing, string_too_long, value_error.
	Type string
}

// ValidationError lists every problem of a rule or recurrence, so that a
// client learns of all of them at once.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Msg
	}
	return "invalid recurrence: " + strings.Join(parts, "; ")
}
