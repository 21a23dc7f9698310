// Command seed fills a fresh PostgreSQL database for `make bench`: the
// service's schema (its own migrations), users × tasks written with COPY,
// and the bench_users lookup table that pgbench scripts use.
//
//	seed -db postgres://... -users 2000 -tasks 20 [-lists]
//	seed -db postgres://... -growth        # 1,000,000 tasks, 10,000 users
//	seed ... -cursors FILE -back 5          # and each user's feed cursor 5 changes back
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/bench/seed"
	"github.com/todo-backend/todo/domain/auth"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run() error {
	dbURL := flag.String("db", os.Getenv("DATABASE_URL"), "PostgreSQL URL of the database to fill (default $DATABASE_URL)")
	users := flag.Int("users", 2000, "number of users")
	tasks := flag.Int("tasks", 20, "tasks per user (default layout)")
	lists := flag.Bool("lists", false, "default layout: one list per user (id n+1) holding all their tasks, in reverse order of creation")
	growth := flag.Bool("growth", false, "growth layout: -total tasks across -users (default 10,000), user 0 with -big, user 1 with -small")
	total := flag.Int("total", seed.DefaultGrowth.Total, "growth layout: tasks in the table")
	big := flag.Int("big", seed.DefaultGrowth.BigUser, "growth layout: tasks of user 0")
	small := flag.Int("small", seed.DefaultGrowth.SmallUser, "growth layout: tasks of user 1")
	cursors := flag.String("cursors", "", "write each user's change feed cursor, -back changes before the head, to this file: \"<user id> <cursor>\" lines, user 0 first")
	back := flag.Int("back", 5, "with -cursors: how many changes before the head")
	flag.Parse()
	if *dbURL == "" {
		return fmt.Errorf("no database: pass -db or set DATABASE_URL")
	}
	o := seed.Options{Users: *users, TasksPerUser: *tasks, InLists: *lists}
	if *growth {
		usersSet := false
		flag.Visit(func(f *flag.Flag) { usersSet = usersSet || f.Name == "users" })
		if !usersSet {
			o.Users = 10_000
		}
		o.Growth = &seed.Growth{Total: *total, BigUser: *big, SmallUser: *small}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := seed.Run(ctx, *dbURL, o)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d users, %d tasks in %.1fs\n", res.Users, res.Tasks, res.Took.Seconds())
	if *cursors != "" {
		return writeCursors(ctx, *dbURL, *cursors, *back)
	}
	return nil
}

// writeCursors writes each seeded user's cursor back changes before their
// head (the bench's changes scenario: a device catching up).
func writeCursors(ctx context.Context, dbURL, path string, back int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT b.id, coalesce(h.seq, 0) FROM "+seed.LookupTable+" AS b LEFT JOIN change_heads AS h ON h.user_id = b.id ORDER BY b.n")
	if err != nil {
		return fmt.Errorf("read change heads: %w", err)
	}
	var b strings.Builder
	for rows.Next() {
		var id string
		var head int64
		if err := rows.Scan(&id, &head); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %s\n", id, application.ChangeCursor(auth.UserID(id), application.Seq(max(head-int64(back), 0))))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
