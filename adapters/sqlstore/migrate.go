package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// The SQL migrations, one directory per dialect. Files named *.tx.up.sql run
// in a transaction, so a failed migration leaves no half-built schema.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Migration is one schema version and whether this database has it.
type Migration struct {
	Name       string // the version, e.g. 20260126000001
	Comment    string // what it does, e.g. init
	Applied    bool
	GroupID    int64     // the Migrate run that applied it; 0 when not applied
	MigratedAt time.Time // zero when not applied
}

func (m Migration) String() string {
	return m.Name + "_" + m.Comment
}

// Migrate brings the schema up to date. Two processes may call it at once
// against one PostgreSQL database: a transaction-scoped advisory lock makes the
// second wait and then find nothing to do. (Transaction-scoped, unlike
// session locks, it also holds through a transaction-mode pooler.)
func Migrate(ctx context.Context, db *bun.DB) error {
	return withMigrator(ctx, db, func(m *migrate.Migrator) error {
		if _, err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		return nil
	})
}

// Rollback undoes the last group of migrations that Migrate applied.
func Rollback(ctx context.Context, db *bun.DB) error {
	return withMigrator(ctx, db, func(m *migrate.Migrator) error {
		if _, err := m.Rollback(ctx); err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		return nil
	})
}

// MigrationStatus lists every known migration, oldest first, with whether it
// is applied. It creates Bun's bookkeeping tables if they are missing.
func MigrationStatus(ctx context.Context, db *bun.DB) ([]Migration, error) {
	var out []Migration
	err := withMigrator(ctx, db, func(m *migrate.Migrator) error {
		ms, err := m.MigrationsWithStatus(ctx)
		if err != nil {
			return fmt.Errorf("migration status: %w", err)
		}
		out = make([]Migration, len(ms))
		for i, mg := range ms {
			out[i] = Migration{
				Name:       mg.Name,
				Comment:    mg.Comment,
				Applied:    mg.IsApplied(),
				GroupID:    mg.GroupID,
				MigratedAt: mg.MigratedAt,
			}
		}
		return nil
	})
	return out, err
}

// withMigrator runs fn with a migrator for db's dialect, its bookkeeping
// tables created, and (on PostgreSQL) the migration lock held.
func withMigrator(ctx context.Context, db *bun.DB, fn func(*migrate.Migrator) error) error {
	var dir string
	switch db.Dialect().Name() {
	case dialect.PG:
		dir = "migrations/postgres"
	case dialect.SQLite:
		dir = "migrations/sqlite"
	default:
		return fmt.Errorf("migrate: unsupported dialect %s", db.Dialect().Name())
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return fmt.Errorf("discover migrations: %w", err)
	}
	// Mark a migration applied only once it succeeded, so a failed one is
	// retried on the next start instead of being skipped.
	m := migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true))

	run := func() error {
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("init migration tables: %w", err)
		}
		return fn(m)
	}
	if db.Dialect().Name() != dialect.PG {
		// SQLite: the single connection already serialises this process.
		return run()
	}
	return withPostgresLock(ctx, db, run)
}

// withPostgresLock holds a transaction-scoped advisory lock, keyed by the
// current schema, on one connection while fn migrates on others. bun's own
// Migrator.Lock fails instead of waiting, and a crashed holder would keep it
// forever; an advisory lock waits and dies with its connection.
func withPostgresLock(ctx context.Context, db *bun.DB, fn func() error) error {
	if n := db.Stats().MaxOpenConnections; n == 1 {
		return errors.New("migrate: PostgreSQL pool needs at least 2 connections (one holds the lock)")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration lock: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx,
		"SELECT pg_advisory_xact_lock(hashtextextended('todo-backend migrations ' || coalesce(current_schema(), ''), 0))",
	); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	if err := fn(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	return nil
}
