package task

import "github.com/todo-backend/todo/domain/check"

// Problem is one broken rule: the field, a message for people and a short
// machine-readable type (FastAPI's vocabulary where one fits).
type Problem = check.Problem

// ValidationError lists every rule a request broke. It is check's, shared
// with the other aggregates, so that one answer (422) covers them all.
type ValidationError = check.ValidationError
