package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/internal/testenv"
)

// BenchmarkSharers compares what a task query pays to learn whether its
// caller may be a member of a shared list: Sharers.MayRead (a map lookup
// under a read lock) against the statement it replaces, an EXISTS probe of
// list_members_user_idx, on PostgreSQL and SQLite. 10,000 members; the
// caller is not one (nearly every caller).
//
//	go test ./adapters/sqlstore -run '^$' -bench 'Sharers' -benchtime 2s
func BenchmarkSharers(b *testing.B) {
	const members = 10000
	ctx := context.Background()
	seed := func(b *testing.B, db *bun.DB, series string) {
		b.Helper()
		if err := sqlstore.Migrate(ctx, db); err != nil {
			b.Fatal(err)
		}
		l, err := list.New("u_bench_owner", "Shared", nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		sum, err := sqlstore.NewListRepository(db).Add(ctx, l)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at)"+
			" SELECT ?, 'u_member_' || g, 'viewer', 'u_bench_owner', ? FROM "+series,
			int64(sum.List.ID()), time.Now().UTC(), members); err != nil {
			b.Fatal(err)
		}
	}
	probe := func(b *testing.B, db *bun.DB) {
		b.Helper()
		var yes bool
		for i := 0; b.Loop(); i++ {
			if err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM list_members WHERE user_id = ?)", fmt.Sprint("u_caller_", i%1000)).
				Scan(ctx, &yes); err != nil {
				b.Fatal(err)
			}
			if yes {
				b.Fatal("a caller is a member")
			}
		}
	}

	sqlite, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "todo.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sqlite.Close() })
	seed(b, sqlite, "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ?) SELECT g FROM s)")
	s := sqlstore.NewSharers(sqlite, sqlstore.SharersOptions{})
	if err := s.Load(ctx); err != nil {
		b.Fatal(err)
	}
	if s.Len() != members {
		b.Fatalf("Len() = %d, want %d", s.Len(), members)
	}
	callers := make([]auth.UserID, 1000)
	for i := range callers {
		callers[i] = auth.UserID(fmt.Sprint("u_caller_", i))
	}
	b.Run("MayRead", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if ok, _ := s.MayRead(ctx, callers[i%len(callers)]); ok {
				b.Fatal("a caller may read")
			}
		}
	})
	b.Run("MayRead-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if ok, _ := s.MayRead(ctx, callers[i%len(callers)]); ok {
					b.Error("a caller may read")
					return
				}
			}
		})
	})
	b.Run("probe/sqlite", func(b *testing.B) { probe(b, sqlite) })
	b.Run("probe/postgres", func(b *testing.B) {
		if testing.Short() {
			b.Skip("needs PostgreSQL (-short)")
		}
		pg, err := sqlstore.Open(ctx, testenv.FreshSchema(b, "sharersbench"), sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = pg.Close() })
		seed(b, pg, "generate_series(1, ?) AS g")
		b.ResetTimer()
		probe(b, pg)
	})
}
