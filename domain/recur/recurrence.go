package recur

import "fmt"

// From says what a repeating task's next occurrence is counted from.
type From string

// The two ways to count. FromDue is a calendar's repeat: the occurrence
// after the one completed, whenever it was completed ("pay rent on the
// 1st"). FromCompletion restarts the rule on the day of completion
// (Todoist's "every!": "water the plants 3 days after I last did").
const (
	FromDue        From = "due"
	FromCompletion From = "completion"
)

// ParseFrom reads "due" or "completion".
func ParseFrom(s string) (From, error) {
	switch From(s) {
	case FromDue, FromCompletion:
		return From(s), nil
	}
	return "", &ValidationError{Problems: []Problem{fromProblem(s)}}
}

func fromProblem(s string) Problem {
	return Problem{Field: "from", Msg: fmt.Sprintf("from must be 'due' or 'completion', not %q", s), Type: "enum"}
}

// Recurrence is how a task repeats: a rule, and what it counts from. The
// zero Recurrence is "does not repeat".
type Recurrence struct {
	rule Rule
	from From
}

// NewRecurrence parses rule (see Parse) and from (see ParseFrom), reporting
// the problems of both in one *ValidationError.
func NewRecurrence(rule, from string) (Recurrence, error) {
	var p parser
	r := p.parse(rule)
	if f := From(from); f != FromDue && f != FromCompletion {
		p.problems = append(p.problems, fromProblem(from))
	}
	if len(p.problems) > 0 {
		return Recurrence{}, &ValidationError{Problems: p.problems}
	}
	return Recurrence{rule: r, from: From(from)}, nil
}

// IsZero reports whether r is the zero Recurrence.
func (r Recurrence) IsZero() bool { return r.rule.IsZero() }

// Rule is the recurrence rule.
func (r Recurrence) Rule() Rule { return r.rule }

// From is what the next occurrence counts from.
func (r Recurrence) From() From { return r.from }

// Describe is the rule in English, with ", counted from completion" for a
// recurrence from completion.
func (r Recurrence) Describe() string {
	if r.from == FromCompletion && !r.rule.IsZero() {
		return r.rule.Describe() + ", counted from completion"
	}
	return r.rule.Describe()
}
