// Package check holds what the rules of every aggregate share: the error a
// broken rule returns (a client gets it as 422, one entry per problem) and
// the fold that makes text keys compare without case. The aggregates (task,
// list) import it; it imports nothing of theirs, so one aggregate can name
// another's types without an import cycle.
package check

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
	return "invalid input: " + strings.Join(parts, "; ")
}

// Invalid is a ValidationError of one problem.
func Invalid(field, msg, typ string) *ValidationError {
	return &ValidationError{Problems: []Problem{{Field: field, Msg: msg, Type: typ}}}
}

// Fold is what text keys compare: text lower-cased. Titles sort and search
// by it, tags and list names are unique by it. One function for the whole
// domain, so that "Work" and "work" are the same tag and the same list name
// in every store (which keep the folded key, computed here).
func Fold(s string) string { return strings.ToLower(s) }
