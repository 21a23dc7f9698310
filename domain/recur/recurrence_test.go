package recur_test

import (
	"testing"

	"github.com/todo-backend/todo/domain/recur"
)

func TestNewRecurrence(t *testing.T) {
	r, err := recur.NewRecurrence("FREQ=DAILY;INTERVAL=3", "completion")
	if err != nil {
		t.Fatalf("NewRecurrence = %v", err)
	}
	if r.From() != recur.FromCompletion || r.Rule().String() != "FREQ=DAILY;INTERVAL=3" {
		t.Errorf("NewRecurrence = %v %v", r.Rule(), r.From())
	}
	if got, want := r.Describe(), "every 3 days, counted from completion"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}

	_, err = recur.NewRecurrence("FREQ=HOURLY", "done")
	ps := problemsOf(t, err)
	if len(ps) != 2 || ps[0].Field != "rule" || ps[0].Part != "FREQ" || ps[1].Field != "from" || ps[1].Type != "enum" {
		t.Errorf("NewRecurrence(HOURLY, done) problems = %+v, want rule FREQ then from", ps)
	}
	if _, err := recur.ParseFrom("due"); err != nil {
		t.Errorf("ParseFrom(due) = %v", err)
	}
	if _, err := recur.ParseFrom(""); err == nil {
		t.Errorf("ParseFrom(\"\") = nil, want an error")
	}
}
