package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// occurrenceRow is a task_occurrences row (migration 20261207000001).
type occurrenceRow struct {
	bun.BaseModel `bun:"table:task_occurrences,alias:o"`

	ID         int64     `bun:"id,pk,autoincrement"`
	TaskID     int64     `bun:"task_id,notnull"`
	UserID     string    `bun:"user_id,notnull"`
	Occurrence string    `bun:"occurrence,notnull"`
	DueAt      time.Time `bun:"due_at,notnull"`
	Kind       string    `bun:"kind,notnull"`
	At         time.Time `bun:"at,notnull"`
}

// OccurrenceLog is a task.OccurrenceLog in the task_occurrences table. Its
// statements run in the transaction their context carries (tx.go), so an
// occurrence is recorded with the write that moved its task on.
type OccurrenceLog struct {
	db *bun.DB
}

var _ task.OccurrenceLog = (*OccurrenceLog)(nil)

// NewOccurrenceLog returns the history on a migrated db.
func NewOccurrenceLog(db *bun.DB) *OccurrenceLog { return &OccurrenceLog{db: db} }

// Record inserts o; the unique key (task, occurrence) makes a second
// record of one occurrence no change (ON CONFLICT DO NOTHING), whichever
// instance writes it.
func (l *OccurrenceLog) Record(ctx context.Context, owner auth.UserID, o task.Occurrence) (bool, error) {
	row := occurrenceRow{TaskID: int64(o.Task), UserID: string(owner), Occurrence: o.Due.String(),
		DueAt: o.Due.Time(), Kind: string(o.Kind), At: o.At.UTC()}
	n, err := affected(conn(ctx, l.db).NewInsert().Model(&row).ExcludeColumn("id").
		On("CONFLICT (task_id, occurrence) DO NOTHING").Exec(ctx))
	if err != nil {
		return false, fmt.Errorf("record occurrence: %w", err)
	}
	return n == 1, nil
}

// Recorded reports whether the occurrence is in the task's history.
func (l *OccurrenceLog) Recorded(ctx context.Context, owner auth.UserID, id task.ID, due task.Due) (bool, error) {
	ok, err := conn(ctx, l.db).NewSelect().Model((*occurrenceRow)(nil)).
		Where("o.task_id = ?", int64(id)).Where("o.user_id = ?", string(owner)).
		Where("o.occurrence = ?", due.String()).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read occurrence: %w", err)
	}
	return ok, nil
}

// History is the task's history, the latest first.
func (l *OccurrenceLog) History(ctx context.Context, owner auth.UserID, id task.ID, limit int) ([]task.Occurrence, error) {
	var rows []occurrenceRow
	err := conn(ctx, l.db).NewSelect().Model(&rows).
		Where("o.task_id = ?", int64(id)).Where("o.user_id = ?", string(owner)).
		OrderExpr("o.id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read occurrences: %w", err)
	}
	out := make([]task.Occurrence, 0, len(rows))
	for _, r := range rows {
		d, err := occurrenceDue(r)
		if err != nil {
			return nil, err
		}
		out = append(out, task.Occurrence{Task: task.ID(r.TaskID), Due: d, Kind: task.OccurrenceKind(r.Kind), At: r.At.UTC()})
	}
	return out, nil
}

// occurrenceDue reads back the due of a row from its text, as the API
// showed it (a day, a local date-time or an instant in UTC).
func occurrenceDue(r occurrenceRow) (task.Due, error) {
	switch {
	case len(r.Occurrence) == len("2006-01-02"):
		return task.RestoreDue(r.DueAt, true, false, "")
	case r.Occurrence[len(r.Occurrence)-1] != 'Z':
		return task.RestoreDue(r.DueAt, false, true, "")
	}
	return task.RestoreDue(r.DueAt, false, false, "")
}
