package sqlstore

import (
	"context"
	"errors"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// errNoMoves is what Move answers until the SQL stores move tasks (the
// memory store does): the next change brings them.
var errNoMoves = errors.New("sqlstore: moving tasks is not implemented yet")

// Move is not implemented yet on the SQL stores (errNoMoves).
func (r *TaskRepository) Move(context.Context, auth.UserID, task.Move) ([]*task.Task, error) {
	return nil, errNoMoves
}
