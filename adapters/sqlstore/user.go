package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/todo-backend/todo/domain/user"
)

// emailConstraint names the unique constraint on users.email in both
// dialects' migrations.
const emailConstraint = "users_email_key"

// userRow is a users row. An empty email is stored as NULL, which never
// conflicts with another NULL.
type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID        string    `bun:"id,pk"`
	Email     string    `bun:"email,nullzero"`
	Name      string    `bun:"name,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// UserRepository is a user.Repository in PostgreSQL or SQLite. Its
// statements run in the transaction their context carries (tx.go).
type UserRepository struct {
	db  *bun.DB
	now func() time.Time
}

var _ user.Repository = (*UserRepository)(nil)

// NewUserRepository returns a repository on a migrated db.
func NewUserRepository(db *bun.DB) *UserRepository {
	return &UserRepository{db: db, now: time.Now}
}

// Save inserts u or updates its email and name in one statement. The unique
// constraint on email decides races: when another id holds the email the
// statement fails as a whole and Save returns user.ErrEmailTaken.
//
// A user's first requests can reach two instances at once, and both insert
// the same new row. PostgreSQL's ON CONFLICT only arbitrates on id, so the
// loser can trip over the winner's email in the other unique index before it
// sees the id conflict. By then the winner has committed (a unique check
// waits for the inserting transaction), so one more try takes the ON
// CONFLICT path; a second email violation is another id's and is final.
func (r *UserRepository) Save(ctx context.Context, u user.User) error {
	err := r.upsert(ctx, u)
	if isEmailTaken(err) {
		err = r.upsert(ctx, u)
	}
	if isEmailTaken(err) {
		return user.ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("upsert user: %w", err)
	}
	return nil
}

func (r *UserRepository) upsert(ctx context.Context, u user.User) error {
	now := r.now().UTC()
	row := userRow{ID: string(u.ID), Email: u.Email, Name: u.Name, CreatedAt: now, UpdatedAt: now}
	// Save may try again after a violation: in a transaction, the
	// statement runs in a savepoint, so that the transaction survives it.
	return alone(ctx, r.db, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&row).
			On("CONFLICT (id) DO UPDATE").
			Set("email = EXCLUDED.email").
			Set("name = EXCLUDED.name").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		return err
	})
}

// isEmailTaken reports whether err is a violation of the unique email
// constraint. The id conflict is handled by ON CONFLICT, so in SQLite, where
// a primary key violation has its own code, any UNIQUE violation on users is
// the email.
func isEmailTaken(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && pgErr.ConstraintName == emailConstraint
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}
