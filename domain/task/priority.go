package task

import "fmt"

// Priority says how much a task matters. Its order is its rank (high >
// medium > low), never its text.
type Priority string

// The priorities a task can have.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
)

// DefaultPriority is what a task gets when nobody says otherwise.
const DefaultPriority = PriorityMedium

// Priorities lists every Priority from lowest to highest.
func Priorities() []Priority { return []Priority{PriorityLow, PriorityMedium, PriorityHigh} }

// ParsePriority reads a priority in lower case or, as peer frontends send
// it, in upper case (LOW, MEDIUM, HIGH). Mixed case is refused, so the
// documented values are exactly what is accepted.
func ParsePriority(s string) (Priority, error) {
	switch s {
	case "low", "LOW":
		return PriorityLow, nil
	case "medium", "MEDIUM":
		return PriorityMedium, nil
	case "high", "HIGH":
		return PriorityHigh, nil
	}
	return "", &ValidationError{Problems: []Problem{priorityProblem("priority", s)}}
}

func priorityProblem(field, s string) Problem {
	return Problem{
		Field: field,
		Msg:   fmt.Sprintf("Input should be 'low', 'medium' or 'high', not %q", s),
		Type:  "enum",
	}
}

// Rank orders priorities: 1 for low, 2 for medium, 3 for high, 0 for a
// value that is not a priority. Stores keep the rank, so that sorting by
// priority is sorting by a number.
func (p Priority) Rank() int {
	switch p {
	case PriorityLow:
		return 1
	case PriorityMedium:
		return 2
	case PriorityHigh:
		return 3
	}
	return 0
}

// PriorityOfRank is the inverse of Rank; ok is false for a rank no priority has.
func PriorityOfRank(rank int) (p Priority, ok bool) {
	switch rank {
	case 1:
		return PriorityLow, true
	case 2:
		return PriorityMedium, true
	case 3:
		return PriorityHigh, true
	}
	return "", false
}
