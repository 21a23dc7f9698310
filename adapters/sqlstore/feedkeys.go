package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

var _ application.ChangeKeyReader = (*ChangeLog)(nil)

// ChangeKeys reads owner's feed after since without the entities' data
// (application.ChangeKeyReader): two statements, no transaction, where a
// page with data takes a read-only transaction and four. Each change read
// was committed; the head is read first, so a page with no change never
// reports a Next past a change it did not return.
func (c *ChangeLog) ChangeKeys(ctx context.Context, owner auth.UserID, since application.Seq, limit int) (application.ChangePage, error) {
	page := application.ChangePage{Changes: []application.Change{}}
	limit = max(limit, 1)
	x := bunRunner{db: conn(ctx, c.db), pg: c.pg}
	var head, pruned int64
	err := x.ints(ctx, x.sql().add("SELECT seq, pruned_seq FROM change_heads WHERE user_id = ?", string(owner)), &head, &pruned)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return page, fmt.Errorf("read change head: %w", err)
	}
	page.Head = application.Seq(head)
	if application.ReadFloor(since, false).Expired(application.Seq(pruned)) {
		return page, application.ErrChangesExpired
	}
	var rows []struct {
		Seq    int64  `bun:"seq"`
		Entity string `bun:"entity"`
		ID     int64  `bun:"id"`
		Purged bool   `bun:"purged"`
	}
	s := x.sql().add("SELECT seq, entity, id, purged_at IS NOT NULL AS purged FROM change_log WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?",
		string(owner), sqlSeq(since), limit+1)
	if err := x.db.NewRaw(s.String(), s.args...).Scan(ctx, &rows); err != nil {
		return page, fmt.Errorf("read change keys: %w", err)
	}
	if len(rows) > limit {
		rows, page.More = rows[:limit], true
	}
	for _, r := range rows {
		ch := application.Change{Seq: application.Seq(r.Seq), Entity: application.Entity(r.Entity), ID: r.ID, Op: application.OpUpsert}
		if r.Purged {
			ch.Op = application.OpDelete
		}
		page.Changes = append(page.Changes, ch)
	}
	page.Next = max(page.Head, application.Seq(since))
	if n := len(page.Changes); n > 0 && (page.More || page.Changes[n-1].Seq > page.Next) {
		page.Next = page.Changes[n-1].Seq
	}
	return page, nil
}
