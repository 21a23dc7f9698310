package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The change feed (issue 16) in SQL. The numbers are handed out by
// triggers on tasks and lists (migration 20261208000001), so that every
// statement that writes them, whichever path sent it (a group-committed
// batch, a move, a bulk change, a trash, a purge), numbers its changes in
// its own transaction: change_log holds each entity's last number, a
// tombstone for one deleted for good, and change_heads each user's last
// number and the highest number retention pruned.

// ChangeLog is application.ChangeLog on a migrated db.
type ChangeLog struct {
	db *bun.DB
	pg bool
}

var _ application.ChangeLog = (*ChangeLog)(nil)

// NewChangeLog returns the feed of db.
func NewChangeLog(db *bun.DB) *ChangeLog {
	return &ChangeLog{db: db, pg: db.Dialect().Name() == dialect.PG}
}

// Head returns owner's last number.
func (c *ChangeLog) Head(ctx context.Context, owner auth.UserID) (application.Seq, error) {
	x := bunRunner{db: conn(ctx, c.db), pg: c.pg}
	var head int64
	err := x.ints(ctx, x.sql().add("SELECT seq FROM change_heads WHERE user_id = ?", string(owner)), &head)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read change head: %w", err)
	}
	return application.Seq(head), nil
}

// Changes reads a page of owner's feed (see application.ChangeLog).
func (c *ChangeLog) Changes(ctx context.Context, owner auth.UserID, since application.Seq, limit int, live bool) (application.ChangePage, error) {
	return c.Read(ctx, owner, application.ReadFloor(since, live), limit)
}

// maxInt64 bounds a number passed to SQL: both databases take int64.
func sqlSeq(s application.Seq) int64 {
	if s > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(s)
}

// Read reads a page of owner's feed (see application.ChangeLog.Read), in
// one snapshot: a read-only transaction, REPEATABLE READ on PostgreSQL.
func (c *ChangeLog) Read(ctx context.Context, owner auth.UserID, r application.ChangeRead, limit int) (application.ChangePage, error) {
	var page application.ChangePage
	if limit < 1 {
		limit = 1
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if c.pg {
		opts.Isolation = sql.LevelRepeatableRead
	}
	run := func(ctx context.Context, db bun.IDB) error {
		var err error
		page, err = c.read(ctx, bunRunner{db: db, pg: c.pg}, owner, r, limit)
		return err
	}
	if tx, ok := txOf(ctx, c.db); ok {
		return page, run(ctx, tx)
	}
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return page, fmt.Errorf("begin feed read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := run(ctx, tx); err != nil {
		return page, err
	}
	return page, nil
}

func (c *ChangeLog) read(ctx context.Context, x bunRunner, owner auth.UserID, r application.ChangeRead, limit int) (application.ChangePage, error) {
	page := application.ChangePage{Changes: []application.Change{}}
	var head, pruned int64
	err := x.ints(ctx, x.sql().add("SELECT seq, pruned_seq FROM change_heads WHERE user_id = ?", string(owner)), &head, &pruned)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return page, fmt.Errorf("read change head: %w", err)
	}
	page.Head = application.Seq(head)
	if r.Expired(application.Seq(pruned)) {
		return page, application.ErrChangesExpired
	}
	s := x.sql().add("SELECT c.seq, c.entity, c.id, c.purged_at IS NOT NULL AS purged,"+
		" coalesce(t.deleted_at, l.deleted_at) IS NOT NULL AS trashed, coalesce(t.user_id, '') AS task_owner"+
		" FROM change_log AS c"+
		" LEFT JOIN tasks AS t ON c.entity = 'task' AND t.id = c.id"+
		" LEFT JOIN lists AS l ON c.entity = 'list' AND l.id = c.id"+
		" WHERE c.user_id = ? AND c.seq > ?", string(owner), sqlSeq(r.Since))
	if r.Floor > r.Since {
		s.add(" AND (c.seq > ? OR (c.purged_at IS NULL AND coalesce(t.deleted_at, l.deleted_at) IS NULL))", sqlSeq(r.Floor))
	}
	s.add(" ORDER BY c.seq LIMIT ?", limit+1)
	type entryRow struct {
		Seq     int64  `bun:"seq"`
		Entity  string `bun:"entity"`
		ID      int64  `bun:"id"`
		Purged  bool   `bun:"purged"`
		Trashed bool   `bun:"trashed"`
		Owner   string `bun:"task_owner"`
	}
	var rows []entryRow
	if err := x.db.NewRaw(s.String(), s.args...).Scan(ctx, &rows); err != nil {
		return page, fmt.Errorf("read changes: %w", err)
	}
	if len(rows) > limit {
		rows, page.More = rows[:limit], true
	}
	// An entry that is not a tombstone is in owner's feed because owner
	// reaches the entity (its own, or a shared list's, the triggers keep
	// it so): the data is read by id, each task as its owner's.
	taskIDs := map[auth.UserID][]int64{}
	var listIDs []int64
	for _, e := range rows {
		if e.Purged {
			continue
		}
		if e.Entity == string(application.EntityTask) {
			if e.Owner != "" {
				taskIDs[auth.UserID(e.Owner)] = append(taskIDs[auth.UserID(e.Owner)], e.ID)
			}
		} else {
			listIDs = append(listIDs, e.ID)
		}
	}
	tasks := map[int64]*task.Task{}
	trashedAt := map[string]time.Time{}
	for taskOwner, ids := range taskIDs {
		s := in(x.sql().add("SELECT "+selectList+", t.deleted_at, t.trashed_with FROM tasks AS t WHERE t.user_id = ? AND t.id IN ", string(taskOwner)), ids)
		s.extra = extraTrash
		got, err := x.tasks(ctx, taskOwner, s)
		if err != nil {
			return page, fmt.Errorf("read changed tasks: %w", err)
		}
		for i, t := range got.tasks {
			tasks[int64(t.ID())] = t
			if at := got.trash[i].at; at != nil {
				trashedAt[fmt.Sprintf("task:%d", t.ID())] = *at
			}
		}
	}
	lists := map[int64]list.Summary{}
	if len(listIDs) > 0 {
		// Each at owner's place: a member's key is their membership's
		// (sidebar.go).
		s := in(x.sql().add("SELECT "+feedListColumns+listFrom+
			" LEFT JOIN list_members AS m ON m.list_id = l.id AND m.user_id = ? WHERE l.id IN ", string(owner)), listIDs)
		var got []listRow
		if err := x.db.NewRaw(s.String(), s.args...).Scan(ctx, &got); err != nil {
			return page, fmt.Errorf("read changed lists: %w", err)
		}
		for _, row := range got {
			sum, err := row.summary()
			if err != nil {
				return page, err
			}
			lists[row.ID] = sum
			if row.DeletedAt != nil {
				trashedAt[fmt.Sprintf("list:%d", row.ID)] = row.DeletedAt.UTC()
			}
		}
	}
	for _, e := range rows {
		ch := application.Change{Seq: application.Seq(e.Seq), Entity: application.Entity(e.Entity), ID: e.ID, Op: application.OpUpsert}
		switch {
		case e.Purged:
			ch.Op = application.OpDelete
		case ch.Entity == application.EntityTask && tasks[e.ID] != nil:
			ch.Task = tasks[e.ID]
		case ch.Entity == application.EntityList && lists[e.ID].List != nil:
			l := lists[e.ID]
			ch.List = &l
		default: // gone in this snapshot without a tombstone: cannot happen, but say it is gone
			ch.Op = application.OpDelete
		}
		if at, ok := trashedAt[e.Entity+":"+fmt.Sprint(e.ID)]; ok && ch.Op == application.OpUpsert {
			ch.Deleted = &at
		}
		page.Changes = append(page.Changes, ch)
	}
	page.Next = page.Head
	if page.More {
		page.Next = page.Changes[len(page.Changes)-1].Seq
	}
	return page, nil
}

// feedListColumns is listColumns with the reader's key: their membership's
// when they have one.
var feedListColumns = strings.Replace(listColumns, "l.sort_key", "coalesce(m.sort_key, l.sort_key) AS sort_key", 1)

// Prune deletes the tombstones of entities purged before cutoff, and
// raises their users' pruned_seq to the highest number it deleted, in one
// statement on PostgreSQL (one transaction on SQLite).
func (c *ChangeLog) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	if c.pg {
		err := c.db.NewRaw("WITH d AS (DELETE FROM change_log WHERE purged_at IS NOT NULL AND purged_at < ? RETURNING user_id, seq),"+
			" h AS (INSERT INTO change_heads AS h (user_id, pruned_seq) SELECT user_id, max(seq) FROM d GROUP BY user_id ORDER BY user_id"+
			" ON CONFLICT (user_id) DO UPDATE SET pruned_seq = greatest(h.pruned_seq, EXCLUDED.pruned_seq) RETURNING 1)"+
			" SELECT count(*) FROM d", cutoff.UTC()).Scan(ctx, &n)
		if err != nil {
			return 0, fmt.Errorf("prune changes: %w", err)
		}
		return int(n), nil
	}
	err := inTx(ctx, c.db, func(ctx context.Context) error {
		db := conn(ctx, c.db)
		if _, err := db.ExecContext(ctx, "INSERT INTO change_heads (user_id, pruned_seq) SELECT user_id, max(seq) FROM change_log"+
			" WHERE purged_at IS NOT NULL AND purged_at < ? GROUP BY user_id"+
			" ON CONFLICT (user_id) DO UPDATE SET pruned_seq = max(pruned_seq, excluded.pruned_seq)", cutoff.Unix()); err != nil {
			return err
		}
		var err error
		n, err = affected(db.ExecContext(ctx, "DELETE FROM change_log WHERE purged_at IS NOT NULL AND purged_at < ?", cutoff.Unix()))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune changes: %w", err)
	}
	return int(n), nil
}

// PublishChanges has the commits that change data on db told (see
// application.ChangePublisher). On SQLite, p is told: a query hook hears
// every write and every COMMIT, and wakes a goroutine that reads which
// heads moved since it last looked (change_heads.stamp) and publishes
// them; it reads on the pool, so it sees only what was committed. On
// PostgreSQL (a db that Open opened) every instance hears: the publisher
// of publish.go, woken by this pool's commits, notifies the moved heads of
// watched users on channel application.ChangeChannel, and each instance's
// Listener hands them to its hub (p, here too). stop ends the goroutine;
// call it before closing db.
func PublishChanges(db *bun.DB, p application.ChangePublisher) (stop func()) {
	if p == nil {
		return func() {}
	}
	if db.Dialect().Name() == dialect.PG {
		return publishPG(db)
	}
	h := &publishHook{wake: make(chan struct{}, 1)}
	var last int64
	_ = db.NewRaw("SELECT coalesce(max(stamp), 0) FROM change_heads").Scan(context.Background(), &last)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-h.wake:
			}
			var rows []struct {
				UserID string `bun:"user_id"`
				Seq    int64  `bun:"seq"`
				Stamp  int64  `bun:"stamp"`
			}
			if err := db.NewRaw("SELECT user_id, seq, stamp FROM change_heads WHERE stamp > ? ORDER BY stamp", last).
				Scan(context.Background(), &rows); err != nil {
				continue
			}
			for _, r := range rows {
				p.Publish(auth.UserID(r.UserID), application.Seq(r.Seq))
				last = max(last, r.Stamp)
			}
		}
	}()
	// On db itself, not on a WithQueryHook clone: the repositories and the
	// Transactor must share one *bun.DB (tx.go finds a transaction by it).
	//lint:ignore SA1019 a clone would split the repositories from their transactions
	db.AddQueryHook(h)
	var once sync.Once
	return func() {
		once.Do(func() {
			h.stopped.Store(true)
			close(done)
			<-finished
		})
	}
}

type publishHook struct {
	wake    chan struct{}
	stopped atomic.Bool
}

func (h *publishHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *publishHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if e.Err != nil || h.stopped.Load() || !mayWrite(e.Query) {
		return
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// mayWrite says whether q may change data: COMMIT, or a statement that
// starts with a writing keyword (or WITH, which may hold one).
func mayWrite(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	if len(q) > 8 {
		q = q[:8]
	}
	q = strings.ToUpper(q)
	for _, k := range []string{"COMMIT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "END"} {
		if strings.HasPrefix(q, k) {
			return true
		}
	}
	return false
}
