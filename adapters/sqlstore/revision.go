package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// Revisions reads the history the row trigger tasks_revision keeps
// (migrations 20261210000002 and 20261212000010), newest first, each with
// the user whose request wrote it (by_user; the owner on rows written
// before it was kept). The trigger keeps a priority
// as its rank and a boolean on SQLite as 0 or 1: they are read back as the
// API's values.
//
// The history is that of a task caller reaches for reading (live or in
// the trash), in one statement: the revisions' owner (task_revisions
// .user_id, the task's) is the caller, or the owner of the task when
// caller reaches it (reachable), a subquery run only for a caller whose
// own rows these are not. An empty answer asks whether the task is there.
func (r *TaskRepository) Revisions(ctx context.Context, caller auth.UserID, id task.ID, since task.Version) ([]task.Revision, error) {
	var rows []struct {
		Version int64     `bun:"version"`
		By      string    `bun:"by_user"`
		Fields  string    `bun:"fields"`
		At      time.Time `bun:"at"`
	}
	db := r.on(ctx).idb()
	whose := reachable((&sqlText{pg: r.pg}).add("(r.user_id = ? OR r.user_id = (SELECT t.user_id FROM tasks AS t WHERE t.id = ? AND ",
		string(caller), int64(id)), "t", caller, list.ActRead).add("))")
	err := db.NewSelect().TableExpr("task_revisions AS r").
		ColumnExpr("r.version, COALESCE(r.by_user, r.user_id) AS by_user, r.fields, r.at").
		Where("r.task_id = ?", int64(id)).Where(whose.String(), whose.args...).
		Where("r.version > ?", int64(since)).
		OrderExpr("r.version DESC").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("select revisions: %w", err)
	}
	if len(rows) == 0 {
		there := reachable((&sqlText{pg: r.pg}).add("t.id = ? AND ", int64(id)), "t", caller, list.ActRead)
		ok, err := db.NewSelect().TableExpr("tasks AS t").Where(there.String(), there.args...).Exists(ctx)
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
