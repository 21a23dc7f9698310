package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// ticketRow is an event_tickets row.
type ticketRow struct {
	bun.BaseModel `bun:"table:event_tickets,alias:et"`

	Hash           string     `bun:"ticket_hash,pk"`
	UserID         string     `bun:"user_id,notnull"`
	Email          string     `bun:"email,notnull"`
	Name           string     `bun:"name,notnull"`
	SessionExpires *time.Time `bun:"session_expires"`
	ExpiresAt      time.Time  `bun:"expires_at,notnull"`
}

// TicketStore is an application.TicketStore in the event_tickets table, so
// that a ticket issued by one instance opens a stream on any other.
type TicketStore struct {
	db *bun.DB
}

var _ application.TicketStore = (*TicketStore)(nil)

// NewTicketStore returns a store on a migrated db.
func NewTicketStore(db *bun.DB) *TicketStore { return &TicketStore{db: db} }

// PutTicket inserts t, after deleting the tickets that expired (on the
// expires_at index: the table never holds more than the last minute's).
func (s *TicketStore) PutTicket(ctx context.Context, t application.Ticket, now time.Time) error {
	row := ticketRow{
		Hash: t.Hash, UserID: string(t.Identity.UserID), Email: t.Identity.Email, Name: t.Identity.Name,
		ExpiresAt: t.Expires.UTC(),
	}
	if !t.Identity.Expires.IsZero() {
		e := t.Identity.Expires.UTC()
		row.SessionExpires = &e
	}
	db := conn(ctx, s.db)
	if _, err := db.NewDelete().Model((*ticketRow)(nil)).Where("expires_at <= ?", now.UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("drop expired tickets: %w", err)
	}
	if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	return nil
}

// TakeTicket deletes the ticket and returns what it held, in one
// statement (DELETE ... RETURNING).
func (s *TicketStore) TakeTicket(ctx context.Context, hash string) (application.Ticket, error) {
	var row ticketRow
	err := conn(ctx, s.db).NewDelete().Model(&row).Where("ticket_hash = ?", hash).Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return application.Ticket{}, application.ErrNoTicket
	}
	if err != nil {
		return application.Ticket{}, fmt.Errorf("take ticket: %w", err)
	}
	t := application.Ticket{
		Hash:     row.Hash,
		Identity: auth.Identity{UserID: auth.UserID(row.UserID), Email: row.Email, Name: row.Name},
		Expires:  row.ExpiresAt,
	}
	if row.SessionExpires != nil {
		t.Identity.Expires = row.SessionExpires.UTC()
	}
	return t, nil
}
