package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"sync"

	"modernc.org/sqlite"

	"github.com/todo-backend/todo/domain/task"
)

// foldFunc is the SQL name of task.Fold on SQLite connections. SQLite's own
// lower() folds ASCII only; search and the title_key migration must fold as
// the domain does, whatever the script.
const foldFunc = "todo_fold"

// sqliteDriver is a private modernc driver carrying todo_fold: registering
// on it, rather than on the process-wide "sqlite" driver, keeps the function
// to this package's connections and needs no init().
var sqliteDriver = sync.OnceValues(func() (*sqlite.Driver, error) {
	d := &sqlite.Driver{}
	err := d.RegisterDeterministicScalarFunction(foldFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return task.Fold(v), nil
		case []byte:
			return task.Fold(string(v)), nil
		default:
			return v, nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", foldFunc, err)
	}
	return d, nil
})
