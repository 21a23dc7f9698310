package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/internal/testenv"
)

// TestPublishHeadUpdatesHOT: the writes of a watched user update its
// change head in place (HOT) but for its first write in each block of
// 1,024 transaction ids (migration 20261215000030); with the stamp itself
// indexed none of them was. Each write also leaves stamp_block at the
// stamp's block, which the publisher searches. A database of its own: the
// snapshots of other databases' sessions do not keep the head's old
// versions from being pruned, which HOT needs once the page is full.
func TestPublishHeadUpdatesHOT(t *testing.T) {
	t.Parallel()
	url := testenv.PostgresDatabase(t)
	ctx := context.Background()
	db := openPG(t, url, true)
	tasks := sqlstore.NewTaskRepository(db)
	owner := auth.UserID(fmt.Sprintf("u hot %d", time.Now().UnixNano()))
	if _, err := db.NewRaw("INSERT INTO change_watchers (user_id, instance, expires_at) VALUES (?, 'hot', now() + interval '1 hour')",
		string(owner)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	next := func() int64 {
		var x int64
		if err := db.NewRaw("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(ctx, &x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	const writes = 200
	from := next()
	for i := range writes {
		addTask(t, ctx, tasks, owner, fmt.Sprintf("write %d", i))
	}
	to := next()

	// The pool's connections report their counts when idle (within a
	// second or so).
	var upd, hot int64
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := db.NewRaw("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'change_heads'::regclass").
			Scan(ctx, &upd, &hot); err != nil {
			t.Fatal(err)
		}
		if upd >= writes-1 || time.Now().After(deadline) {
			break
		}
	}
	if upd < writes-1 {
		t.Fatalf("change_heads: %d updates counted, want %d", upd, writes-1)
	}
	// Each block boundary the writes crossed makes one update non-HOT (the
	// cluster's other transactions take ids too); 2 more for slack.
	blocks := to>>10 - from>>10
	t.Logf("change_heads: %d of %d updates HOT (%.1f%%), %d transaction ids, %d block boundaries",
		hot, upd, 100*float64(hot)/float64(upd), to-from, blocks)
	if upd-hot > blocks+2 {
		t.Errorf("change_heads: %d of %d updates not HOT, want at most %d (%d block boundaries crossed, + 2)", upd-hot, upd, blocks+2, blocks)
	}

	var stamp, block int64
	if err := db.NewRaw("SELECT stamp, stamp_block FROM change_heads WHERE user_id = ?", string(owner)).Scan(ctx, &stamp, &block); err != nil {
		t.Fatal(err)
	}
	if stamp < from || stamp >= to || block != max(stamp>>10, 1) {
		t.Errorf("head stamp %d, stamp_block %d; want a stamp in [%d, %d) and its block %d", stamp, block, from, to, max(stamp>>10, 1))
	}
}
