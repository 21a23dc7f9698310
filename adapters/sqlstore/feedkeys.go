package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

var _ application.ChangeKeyReader = (*ChangeLog)(nil)

// ChangeKeys reads owner's feed after since without the entities' data
// (application.ChangeKeyReader): two statements, no transaction (one on
// PostgreSQL: changeKeysSQL), where a page with data takes a read-only
// transaction and four. Each change read
// was committed; the head is read first, so a page with no change never
// reports a Next past a change it did not return.
func (c *ChangeLog) ChangeKeys(ctx context.Context, owner auth.UserID, since application.Seq, limit int) (application.ChangePage, error) {
	page := application.ChangePage{Changes: []application.Change{}}
	limit = max(limit, 1)
	if _, inTx := txOf(ctx, c.db); c.pg && !inTx {
		return c.changeKeysPG(ctx, owner, since, limit)
	}
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

// changeKeysSQL is ChangeKeys on PostgreSQL in one prepared statement: the
// head, and the entries after $2 (at most $3) beside it, in one snapshot.
// A stream reads it at every wake (a live event on another instance's
// write costs the streams' instance this statement).
const changeKeysSQL = `SELECT h.seq, h.pruned_seq, c.seq, c.entity, c.id, c.purged
FROM change_heads AS h LEFT JOIN LATERAL (
	SELECT l.seq, l.entity, l.id, l.purged_at IS NOT NULL AS purged FROM change_log AS l
	WHERE l.user_id = h.user_id AND l.seq > $2 ORDER BY l.seq LIMIT $3
) AS c ON true
WHERE h.user_id = $1 ORDER BY c.seq`

func (c *ChangeLog) changeKeysPG(ctx context.Context, owner auth.UserID, since application.Seq, limit int) (application.ChangePage, error) {
	page := application.ChangePage{Changes: []application.Change{}}
	var head, pruned int64
	err := withPgx(ctx, c.db, func(ctx context.Context, pc *pgx.Conn, mode pgx.QueryExecMode) error {
		page.Changes = page.Changes[:0]
		rows, err := pc.Query(ctx, changeKeysSQL, mode, string(owner), sqlSeq(since), limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				seq, id *int64
				entity  *string
				purged  *bool
			)
			if err := rows.Scan(&head, &pruned, &seq, &entity, &id, &purged); err != nil {
				return err
			}
			if seq == nil {
				continue
			}
			ch := application.Change{Seq: application.Seq(*seq), Entity: application.Entity(*entity), ID: *id, Op: application.OpUpsert}
			if *purged {
				ch.Op = application.OpDelete
			}
			page.Changes = append(page.Changes, ch)
		}
		return rows.Err()
	})
	if err != nil {
		return application.ChangePage{Changes: []application.Change{}}, fmt.Errorf("read change keys: %w", err)
	}
	page.Head = application.Seq(head)
	if application.ReadFloor(since, false).Expired(application.Seq(pruned)) {
		return application.ChangePage{Changes: []application.Change{}, Head: page.Head}, application.ErrChangesExpired
	}
	if len(page.Changes) > limit {
		page.Changes, page.More = page.Changes[:limit], true
	}
	page.Next = max(page.Head, since)
	if n := len(page.Changes); n > 0 && (page.More || page.Changes[n-1].Seq > page.Next) {
		page.Next = page.Changes[n-1].Seq
	}
	return page, nil
}
