// Command seed fills a fresh PostgreSQL database for `make bench`: the
// service's schema (its own migrations), users × tasks written with COPY,
// and the bench_users lookup table that pgbench scripts use.
//
//	seed -db postgres://... -users 2000 -tasks 20 [-lists]
//	seed -db postgres://... -growth        # 1,000,000 tasks, 10,000 users
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/todo-backend/todo/bench/seed"
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
	return nil
}
