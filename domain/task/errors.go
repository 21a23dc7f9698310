package task

import "strings"

// Problem is one broken rule: the field, a message for people and a short
// machine-readable type (FastAPI's vocabulary where one fits).
type Problem struct {
	Field string
	Msg   string
	Type  string
}

// ValidationError lists every rule a request broke.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Msg
	}
	return "invalid task: " + strings.Join(parts, "; ")
}
