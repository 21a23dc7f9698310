package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// Revisions reads the history the row trigger tasks_revision keeps
// (migrations 20261210000002 and 20261212000010), newest first, each with
// the user whose request wrote it (by_user; the owner on rows written
// before it was kept). The trigger keeps a priority
// as its rank and a boolean on SQLite as 0 or 1: they are read back as the
// API's values.
func (r *TaskRepository) Revisions(ctx context.Context, owner auth.UserID, id task.ID, since task.Version) ([]task.Revision, error) {
	var rows []struct {
		Version int64     `bun:"version"`
		By      string    `bun:"by_user"`
		Fields  string    `bun:"fields"`
		At      time.Time `bun:"at"`
	}
	db := r.on(ctx).idb()
	err := db.NewSelect().TableExpr("task_revisions AS r").
		ColumnExpr("r.version, COALESCE(r.by_user, r.user_id) AS by_user, r.fields, r.at").
		Where("r.task_id = ?", int64(id)).Where("r.user_id = ?", string(owner)).
		Where("r.version > ?", int64(since)).
		OrderExpr("r.version DESC").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("select revisions: %w", err)
	}
	if len(rows) == 0 {
		ok, err := db.NewSelect().TableExpr("tasks AS t").
			Where("t.id = ?", int64(id)).Where("t.user_id = ?", string(owner)).Exists(ctx)
		if err != nil {
			return nil, fmt.Errorf("select task: %w", err)
		}
		if !ok {
			return nil, task.ErrNotFound
		}
	}
	out := make([]task.Revision, len(rows))
	for i, row := range rows {
		var changed map[string]task.FieldChange
		if err := json.Unmarshal([]byte(row.Fields), &changed); err != nil {
			return nil, fmt.Errorf("read revision %d of task %d: %w", row.Version, id, err)
		}
		for f, c := range changed {
			if row.Version == 1 {
				// The creation: a field the task's tags triggers added
				// at version 1 holds its column's empty value as from.
				c.From = json.RawMessage("null")
			}
			switch f {
			case "priority":
				c.From, c.To = priorityJSON(c.From), priorityJSON(c.To)
			case "completed":
				c.From, c.To = boolJSON(c.From), boolJSON(c.To)
			}
			changed[f] = c
		}
		out[i] = task.Revision{Version: task.Version(row.Version), At: row.At.UTC(), By: auth.UserID(row.By), Changed: changed}
	}
	return out, nil
}

// Lock takes owner's scope lock, then locks owner's tasks ids in id order
// (lockRows), in ctx's transaction, on PostgreSQL: the order of every
// writer (tree.go). Outside a transaction the locks would go at once, and
// SQLite's transaction holds the database's write lock: nothing to do.
func (r *TaskRepository) Lock(ctx context.Context, owner auth.UserID, ids []task.ID) error {
	if _, ok := txOf(ctx, r.db); !ok || !r.pg {
		return nil
	}
	ids = task.UniqueIDs(ids)
	slices.Sort(ids)
	x := r.on(ctx)
	if err := lockScope(ctx, x, owner); err != nil {
		return err
	}
	return lockRows(ctx, x, owner, ids)
}

func priorityJSON(raw json.RawMessage) json.RawMessage {
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return raw
	}
	p, _ := task.PriorityOfRank(n)
	b, _ := json.Marshal(p) // a string always marshals
	return b
}

func boolJSON(raw json.RawMessage) json.RawMessage {
	switch string(raw) {
	case "0":
		return json.RawMessage("false")
	case "1":
		return json.RawMessage("true")
	}
	return raw
}
