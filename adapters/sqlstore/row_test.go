package sqlstore

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/internal/testenv"
)

// notInRow are the columns of tasks that taskColumns leaves out on
// purpose, and why.
var notInRow = map[string]string{
	"deleted_at": "the trash, not a field of the task: Trash and RestoreFromTrash set and clear it, " +
		"ListTrash selects it after the row (extraDeletedAt), and every read of live tasks filters on it",
	"trashed_with": "the trash too: why a task is there (task.TrashMark), set and cleared with deleted_at " +
		"by the trash's own statements (tree.go)",
}

// Every column the migrations give tasks is in taskColumns or, on purpose,
// in notInRow; and every column those name is in the schema. A column added
// by a migration but not to the row fails here, on each database.
func TestTaskColumns(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *bun.DB{
		"sqlite": func(t *testing.T) *bun.DB {
			return migratedDB(t, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"))
		},
		"postgres": func(t *testing.T) *bun.DB {
			if testing.Short() {
				t.Skip("needs PostgreSQL (-short)")
			}
			return migratedDB(t, testenv.FreshSchema(t, "columns"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			// xinfo: generated columns too.
			query := "SELECT name FROM pragma_table_xinfo('tasks')"
			if name == "postgres" {
				query = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'tasks'"
			}
			var schema []string
			if err := db.NewRaw(query).Scan(context.Background(), &schema); err != nil {
				t.Fatal(err)
			}
			if len(schema) == 0 {
				t.Fatal("the migrated schema has no tasks columns")
			}
			for _, col := range schema {
				if _, ok := notInRow[col]; !ok && !slices.ContainsFunc(taskColumns, func(c column) bool { return c.name == col }) {
					t.Errorf("tasks.%s is in the schema but not in taskColumns (nor in notInRow, with a reason)", col)
				}
			}
			for _, c := range taskColumns {
				if !slices.Contains(schema, c.name) {
					t.Errorf("taskColumns names %s, which tasks does not have", c.name)
				}
			}
			for col := range notInRow {
				if !slices.Contains(schema, col) {
					t.Errorf("notInRow names %s, which tasks does not have", col)
				}
			}
		})
	}
}

// Each column says how each statement it is in uses it, and nothing else.
func TestTaskColumnsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range taskColumns {
		if seen[c.name] {
			t.Errorf("%s: listed twice", c.name)
		}
		seen[c.name] = true
		if _, ok := notInRow[c.name]; ok {
			t.Errorf("%s: in taskColumns and in notInRow", c.name)
		}
		if c.in == 0 {
			t.Errorf("%s: in no statement", c.name)
		}
		if got, want := c.read != nil, c.in&selects != 0; got != want {
			t.Errorf("%s: has a read %v, is selected %v", c.name, got, want)
		}
		if got, want := c.write != nil, c.in&(inserts|updates|places) != 0; got != want {
			t.Errorf("%s: has a write %v, is inserted, updated or placed %v", c.name, got, want)
		}
		if c.pgType == "" {
			t.Errorf("%s: no PostgreSQL type", c.name)
		}
		if slices.Contains([]string{batchOrder, batchID, batchOwner, batchRead}, c.name) {
			t.Errorf("%s: the name of a batch's own column", c.name)
		}
	}
}

func TestDollars(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"SELECT 1":                      "SELECT 1",
		"a = ? AND b IN (?, ?) LIMIT ?": "a = $1 AND b IN ($2, $3) LIMIT $4",
	} {
		if got := dollars(in); got != want {
			t.Errorf("dollars(%q) = %q, want %q", in, got, want)
		}
	}
}

// migratedDB opens databaseURL, migrated, until the test ends.
func migratedDB(t *testing.T, databaseURL string) *bun.DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, databaseURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}
