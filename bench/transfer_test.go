package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/adapters/transfer"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// Import and export (issue 20): BenchmarkExport writes a 10,000-task user
// in each format from each store (MB/s, and the peak of the live heap above
// what it was before the export: what the export itself holds);
// BenchmarkImport imports a 1,000-row file of each format into SQLite
// (rows/s). bench.sh runs both in its transfer scenario.

// transferStore is one store's repositories, as bootstrap wires them.
type transferStore struct {
	tasks task.Repository
	lists list.Repository
	svc   *application.Service
	db    *bun.DB // the SQL stores' database (nil: the memory store)
}

func openTransferStores(b *testing.B) map[string]func() transferStore {
	stores := map[string]func() transferStore{
		"memory": memoryTransferStore,
		"sqlite": func() transferStore {
			return sqlTransferStore(b, "sqlite:"+filepath.Join(b.TempDir(), "todo.db")+"?_pragma=synchronous(NORMAL)")
		},
	}
	if os.Getenv("BENCH_TRANSFER_PG") != "0" {
		stores["postgres"] = func() transferStore { return sqlTransferStore(b, testenv.FreshSchema(b, "bench_transfer")) }
	}
	return stores
}

func sqlTransferStore(b *testing.B, url string) transferStore { return sqlTransferStoreT(b, url) }

func sqlTransferStoreT(b testing.TB, url string) transferStore {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	b.Cleanup(func() { db.Close() })
	if err := sqlstore.Migrate(ctx, db); err != nil {
		b.Fatalf("migrate: %v", err)
	}
	tasks, lists := sqlstore.NewTaskRepository(db), sqlstore.NewListRepository(db)
	return transferStore{tasks: tasks, lists: lists, db: db, svc: application.New(tasks, sqlstore.NewUserRepository(db), nil,
		application.WithLists(lists), application.WithTransactor(sqlstore.NewTransactor(db)),
		application.WithFormats(transfer.Formats(transfer.FormatsOptions{})))}
}

// seedExport gives a new user n tasks in 10 lists, every third a subtask,
// with tags, dues in zones, recurrence and reminders.
func seedExport(b testing.TB, s transferStore, n int) application.Actor {
	ctx := context.Background()
	id := fmt.Sprintf("bench-export-%d", time.Now().UnixNano())
	a, err := s.svc.Authorize(ctx, auth.Identity{UserID: auth.UserID(id), Email: id + "@example.com"}, id)
	if err != nil {
		b.Fatal(err)
	}
	var lists []list.ID
	for i := range 10 {
		l, err := s.svc.CreateList(ctx, a, fmt.Sprintf("List %d", i), nil)
		if err != nil {
			b.Fatal(err)
		}
		lists = append(lists, l.List.ID())
	}
	now := time.Now()
	before := "PT15M"
	for start := 0; start < n; start += 500 {
		batch := make([]*task.Task, 0, 500)
		for i := start; i < min(start+500, n); i++ {
			l := lists[i%len(lists)]
			desc := strings.Repeat("notes ", i%20)
			t, err := task.New(a.Owner(), fmt.Sprintf("Task %d: call @home about =SUM(A1)", i), &desc, now,
				task.WithPriority([]string{"low", "medium", "high"}[i%3]), task.WithTags([]string{"work", fmt.Sprintf("t%d", i%7)}),
				task.WithDue(fmt.Sprintf("2027-03-%02dT09:30:00", 1+i%28)), task.WithDueZone([]string{"Europe/Paris", "America/New_York", "Asia/Tokyo"}[i%3]),
				task.WithRecurrence("FREQ=WEEKLY;BYDAY=MO,WE", "due"), task.WithReminders([]task.ReminderInput{{Before: &before}}),
				task.InList(&l))
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, t)
		}
		if _, err := s.tasks.AddAll(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	return a
}

// seedPeriod is the period of seedExport's tasks: task i's fields (all but
// its title) are task i mod seedPeriod's, the least common multiple of the
// moduli they cycle with (lists 10, priority and zone 3, tag 7, notes 20,
// day 28).
const seedPeriod = 420

// seedChunk is how many copies seedExportSQL writes a transaction.
const seedChunk = 2000

// seedExportSQL gives a new user of SQLite store s the n tasks seedExport
// would: the first seedPeriod through the repository (seedExport itself),
// the others as copies of those, task i of task i mod seedPeriod with its
// own title, by an INSERT ... SELECT and their tags by another, seedChunk
// tasks a transaction. The triggers of the tasks table (counts, change
// feed, revisions) run on the copies as on any insert; that of task_tags,
// which writes the tags column the copies already have, is set aside. Under -race, SQLite (a C
// library translated to Go) takes ~30 ms a task to prepare each insert of
// AddAll and its triggers: 20,000 tasks one by one took 8 to 10 minutes.
func seedExportSQL(tb testing.TB, s transferStore, n int) application.Actor {
	start := time.Now()
	a := seedExport(tb, s, min(n, seedPeriod))
	if n <= seedPeriod {
		return a
	}
	tb.Logf("seeded %d tasks through the repository in %v, the other %d copy them", seedPeriod, time.Since(start).Round(time.Millisecond), n-seedPeriod)
	ctx := context.Background()
	owner := string(a.Owner())
	var first, last, count int64
	// The template: ids first..first+seedPeriod-1, task j's title "Task j:
	// ..." and its folded title "task j: ...".
	if err := s.db.QueryRowContext(ctx, `SELECT min(id), max(id), count(*) FROM tasks
		WHERE user_id = ? AND CAST(substr(title, 6) AS INTEGER) = id - (SELECT min(id) FROM tasks WHERE user_id = ?)
		  AND title LIKE 'Task %' AND title_key LIKE 'task ' || CAST(substr(title, 6) AS INTEGER) || ':%'`,
		owner, owner).Scan(&first, &last, &count); err != nil {
		tb.Fatal(err)
	}
	if count != seedPeriod || last-first+1 != seedPeriod {
		tb.Fatalf("seed template: %d tasks numbered by id from %d to %d, want %d", count, first, last, seedPeriod)
	}
	columns := func(tx bun.Tx, table string, not ...string) string {
		var names []string
		if err := tx.NewRaw("SELECT name FROM pragma_table_info(?) ORDER BY cid", table).Scan(ctx, &names); err != nil {
			tb.Fatal(err)
		}
		names = slices.DeleteFunc(names, func(c string) bool { return slices.Contains(not, c) })
		return strings.Join(names, ", ")
	}
	// In transactions of seedChunk tasks, as seedExport commits a batch at
	// a time, rather than one transaction of them all.
	for lo := seedPeriod; lo < n; lo += seedChunk {
		hi := min(lo+seedChunk, n)
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var before int64
			if err := tx.QueryRowContext(ctx, "SELECT max(id) FROM tasks WHERE user_id = ?", owner).Scan(&before); err != nil {
				return err
			}
			// Every column of the template's row but the id (new) and the
			// title and its folded key (which number the task).
			cols := columns(tx, "tasks", "id", "title", "title_key")
			if _, err := tx.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?)
				INSERT INTO tasks (title, title_key, `+cols+`)
				SELECT 'Task ' || seq.i || substr(t.title, length('Task ' || (seq.i % ?)) + 1),
				       'task ' || seq.i || substr(t.title_key, length('task ' || (seq.i % ?)) + 1), t.`+strings.ReplaceAll(cols, ", ", ", t.")+`
				FROM seq JOIN tasks AS t ON t.id = ? + seq.i % ? ORDER BY seq.i`,
				lo, hi, seedPeriod, seedPeriod, first, seedPeriod); err != nil {
				return fmt.Errorf("copy tasks: %w", err)
			}
			// The copies' tags column is their template's already: the
			// trigger that copies task_tags rows into it is set aside while
			// their rows go in (its UPDATE of each task, with the change
			// feed's and the revisions' triggers on it, was half the
			// seed's time), and put back as it was, in this transaction.
			var trigger string
			if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'task_tags_copy_insert'").Scan(&trigger); err != nil {
				return fmt.Errorf("task_tags_copy_insert: %w", err)
			}
			if _, err := tx.ExecContext(ctx, "DROP TRIGGER task_tags_copy_insert"); err != nil {
				return err
			}
			tagCols := columns(tx, "task_tags", "task_id")
			if _, err := tx.ExecContext(ctx, `INSERT INTO task_tags (task_id, `+tagCols+`)
				SELECT c.id, tt.`+strings.ReplaceAll(tagCols, ", ", ", tt.")+`
				FROM tasks AS c JOIN task_tags AS tt ON tt.task_id = ? + CAST(substr(c.title, 6) AS INTEGER) % ?
				WHERE c.user_id = ? AND c.id > ? ORDER BY c.id, tt.position`, first, seedPeriod, owner, before); err != nil {
				return fmt.Errorf("copy tags: %w", err)
			}
			if _, err := tx.ExecContext(ctx, trigger); err != nil {
				return fmt.Errorf("task_tags_copy_insert back: %w", err)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	// Each copy is its template's task but for its id and title, and its
	// tags column what the trigger would have written from its task_tags
	// rows.
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tasks AS c
		JOIN tasks AS t ON t.id = ? + CAST(substr(c.title, 6) AS INTEGER) % ?
		WHERE c.user_id = ? AND c.list_id = t.list_id AND c.reminders = t.reminders AND c.title_key = lower(c.title)
		  AND c.tags = (SELECT json_group_array(tag ORDER BY position) FROM task_tags WHERE task_id = c.id)
		  AND c.tags = t.tags AND json_array_length(c.tags) = 2`,
		first, seedPeriod, owner).Scan(&count); err != nil {
		tb.Fatal(err)
	}
	if count != int64(n) {
		tb.Fatalf("seeded %d tasks like their template, want %d", count, n)
	}
	return a
}

// heapWatch is a writer that counts bytes and samples the live heap every
// 256 KiB written.
type heapWatch struct {
	n, next int64
	every   int64 // bytes between samples
	gc      bool  // collect before each sample
	peak    uint64
	sample  []metrics.Sample
}

func newHeapWatch() *heapWatch {
	return &heapWatch{every: 256 << 10, sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

func (w *heapWatch) heap() uint64 {
	metrics.Read(w.sample)
	return w.sample[0].Value.Uint64()
}

func (w *heapWatch) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n >= w.next {
		w.next = w.n + w.every
		if w.gc {
			runtime.GC() // what is live, not what awaits the sweep
		}
		w.peak = max(w.peak, w.heap())
	}
	return len(p), nil
}

// exportPeak exports a's tasks in format and returns the bytes written and
// the peak of the live heap above its level before the export.
func exportPeak(tb testing.TB, s transferStore, a application.Actor, format string, gc bool) (int64, uint64) {
	f, err := s.svc.ExportFormatOf(format)
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	w := newHeapWatch()
	if gc {
		w.every, w.gc = 2<<20, true
	}
	base := w.heap()
	if err := s.svc.Export(context.Background(), a, f, false, w); err != nil {
		tb.Fatal(err)
	}
	return w.n, max(w.peak, base) - base
}

func BenchmarkExport(b *testing.B) {
	for name, open := range openTransferStores(b) {
		b.Run(name, func(b *testing.B) {
			s := open()
			a := seedExport(b, s, 10_000)
			for _, format := range []string{"json", "csv", "ics"} {
				b.Run(format, func(b *testing.B) {
					var peak uint64
					for b.Loop() {
						n, p := exportPeak(b, s, a, format, false)
						b.SetBytes(n)
						peak = max(peak, p)
					}
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				})
			}
		})
	}
}

// TestExportConstantMemory: exporting 20,000 tasks (100,000 with
// EXPORT_MEMORY_TASKS=100000) from SQLite
// holds a page, not the tasks: the live heap (sampled after a collection
// every 2 MB written) grows by less than 8 MiB over the export (an export
// that read every task first would hold ~1 KB a task: 20 MiB, 100 MiB).
// Measured with 100,000: files of 58.1 (json), 28.8 (csv) and 56.4 MB (ics),
// peak +0.5, +0.4 and +0.4 MiB.
func TestExportConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 tasks")
	}
	s := sqlTransferStoreT(t, "sqlite:"+filepath.Join(t.TempDir(), "todo.db")+"?_pragma=synchronous(OFF)")
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("EXPORT_MEMORY_TASKS")); err == nil && v > 0 {
		n = v
	}
	start := time.Now()
	a := seedExportSQL(t, s, n)
	t.Logf("seeded %d tasks in %v", n, time.Since(start).Round(time.Millisecond))
	for _, format := range []string{"json", "csv", "ics"} {
		start := time.Now()
		n, peak := exportPeak(t, s, a, format, true)
		t.Logf("%s: %.1f MB written in %v, peak live heap +%.1f MiB", format, float64(n)/1e6, time.Since(start).Round(time.Millisecond), float64(peak)/(1<<20))
		if peak > 8<<20 {
			t.Errorf("%s: exporting %d tasks grew the live heap by %.1f MiB, want under 8 (the export holds one page)", format, n, float64(peak)/(1<<20))
		}
	}
}

func memoryTransferStore() transferStore {
	s := memory.NewStore()
	return transferStore{tasks: s.Tasks(), lists: s.Lists(), svc: application.New(s.Tasks(), s.Users(), nil,
		application.WithLists(s.Lists()), application.WithTransactor(s),
		application.WithFormats(transfer.Formats(transfer.FormatsOptions{})))}
}

func BenchmarkImport(b *testing.B) {
	src := sqlTransferStore(b, "sqlite:"+filepath.Join(b.TempDir(), "src.db")+"?_pragma=synchronous(NORMAL)")
	from := seedExport(b, src, 1000)
	files := map[string][]byte{}
	for _, format := range []string{"json", "csv"} {
		var buf bytes.Buffer
		f, _ := src.svc.ExportFormatOf(format)
		if err := src.svc.Export(context.Background(), from, f, false, &buf); err != nil {
			b.Fatal(err)
		}
		files[format] = buf.Bytes()
	}
	files["todoist-csv"] = todoistFile(1000)
	for _, format := range []string{"json", "csv", "todoist-csv"} {
		b.Run(format, func(b *testing.B) {
			s := sqlTransferStore(b, "sqlite:"+filepath.Join(b.TempDir(), "todo.db")+"?_pragma=synchronous(NORMAL)")
			imp, err := s.svc.ImportFormatOf(format)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(files[format])))
			for b.Loop() {
				id := fmt.Sprintf("bench-import-%d", time.Now().UnixNano())
				a, err := s.svc.Authorize(context.Background(), auth.Identity{UserID: auth.UserID(id), Email: id + "@example.com"}, id)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := s.svc.Import(context.Background(), a, imp, bytes.NewReader(files[format]), application.ImportOptions{}, false)
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Tasks) != 1000 {
					b.Fatalf("imported %d tasks, want 1000", len(rep.Tasks))
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// todoistFile is a Todoist CSV of n tasks in sections of 50, every other
// one a subtask, with labels.
func todoistFile(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString("TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n")
	for i := range n {
		if i%50 == 0 {
			fmt.Fprintf(&buf, "section,Section %d,,,,,,,,\n", i/50)
		}
		fmt.Fprintf(&buf, "task,Task %d @home @t%d,Some notes,%d,%d,Ann (1),,2027-03-%02d,en,Europe/Paris\n", i, i%5, 1+i%4, 1+i%2, 1+i%28)
	}
	return buf.Bytes()
}
