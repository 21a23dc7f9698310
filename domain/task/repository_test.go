package task_test

import (
	"errors"
	"testing"

	"github.com/todo-backend/todo/domain/task"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in      string
		want    task.Status
		wantErr bool
	}{
		{in: "", want: task.StatusAll},
		{in: "all", want: task.StatusAll},
		{in: "pending", want: task.StatusPending},
		{in: "completed", want: task.StatusCompleted},
		{in: "ALL", wantErr: true},
		{in: "Pending", wantErr: true},
		{in: "done", wantErr: true},
		{in: " all", wantErr: true},
		{in: "all ", wantErr: true},
		{in: "all,pending", wantErr: true},
	}
	for _, tt := range tests {
		got, err := task.ParseStatus(tt.in)
		if !tt.wantErr {
			if err != nil || got != tt.want {
				t.Errorf("ParseStatus(%q) = %q, %v, want %q, nil", tt.in, got, err, tt.want)
			}
			continue
		}
		var ve *task.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("ParseStatus(%q) = %q, %v, want a *task.ValidationError", tt.in, got, err)
			continue
		}
		if len(ve.Problems) != 1 || ve.Problems[0].Field != "status" || ve.Problems[0].Type != "enum" {
			t.Errorf("ParseStatus(%q) problems = %+v, want one enum problem for \"status\"", tt.in, ve.Problems)
		}
	}
}
