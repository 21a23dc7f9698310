package application

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/todo-backend/todo/domain/auth"
)

// Live events (issue 16): a stream of a user's changes, read from the feed
// (ChangeLog) whenever a ChangeWatcher says something changed. A browser's
// EventSource cannot send an Authorization header, so a client first trades
// its token for a ticket: a random string good for one connection within
// TicketTTL, kept in the store so that any instance can take it, never a
// token in a URL.

// TicketTTL is how long a ticket may wait for its connection.
const TicketTTL = 60 * time.Second

// Ticket is what a store keeps of a ticket: never the ticket itself, only
// its hash, and the identity it stands for with when that identity's token
// expires (a stream opened with the ticket ends then).
type Ticket struct {
	Hash     string // hex SHA-256 of the ticket
	Identity auth.Identity
	Expires  time.Time // the ticket's own end (issue + TicketTTL)
}

// TicketStore keeps tickets until they are taken or expire.
type TicketStore interface {
	// PutTicket stores t; it may drop tickets that expired before now.
	PutTicket(ctx context.Context, t Ticket, now time.Time) error
	// TakeTicket removes the ticket with this hash and returns it, in one
	// step, so that two connections can never both take it; ErrNoTicket
	// when there is none. It does not check Expires.
	TakeTicket(ctx context.Context, hash string) (Ticket, error)
}

// ErrNoTicket is a ticket that was never issued, was taken already or
// expired: the caller is not authenticated.
var ErrNoTicket = auth.Unauthenticated("unknown, used or expired ticket")

// IssuedTicket is a new ticket, for its client.
type IssuedTicket struct {
	Ticket  string
	Expires time.Time
}

// Events is the use case of live events.
type Events struct {
	changes ChangeLog
	watcher ChangeWatcher
	tickets TicketStore
	now     Clock
}

// NewEvents returns the use case over a store's feed, the watcher that
// wakes readers and the store of tickets.
func NewEvents(changes ChangeLog, watcher ChangeWatcher, tickets TicketStore, now Clock) *Events {
	if now == nil {
		now = time.Now
	}
	return &Events{changes: changes, watcher: watcher, tickets: tickets, now: now}
}

// ChangeKeyReader is a ChangeLog that can read its entries without the
// entities' data, which is all an event says: cheaper for the stores where
// the data is a query of its own (SQL).
type ChangeKeyReader interface {
	// ChangeKeys is Changes(since, limit, false) with Task, List and
	// Deleted left unset.
	ChangeKeys(ctx context.Context, owner auth.UserID, since Seq, limit int) (ChangePage, error)
}

// Changes reads a's changes after since (see ChangeLog.Changes; never the
// snapshot), without their data where the store can (ChangeKeyReader).
func (e *Events) Changes(ctx context.Context, a Actor, since Seq, limit int) (ChangePage, error) {
	read := func(ctx context.Context, owner auth.UserID, since Seq, limit int) (ChangePage, error) {
		return e.changes.Changes(ctx, owner, since, limit, false)
	}
	if k, ok := e.changes.(ChangeKeyReader); ok {
		read = k.ChangeKeys
	}
	p, err := read(ctx, a.owner, since, limit)
	if err != nil {
		return ChangePage{}, fmt.Errorf("read changes: %w", err)
	}
	return p, nil
}

// Head is the number of a's last change.
func (e *Events) Head(ctx context.Context, a Actor) (Seq, error) {
	s, err := e.changes.Head(ctx, a.owner)
	if err != nil {
		return 0, fmt.Errorf("read change head: %w", err)
	}
	return s, nil
}

// Watch wakes the caller after a's changes (see ChangeWatcher).
func (e *Events) Watch(a Actor, notify func()) (<-chan Wake, func()) {
	return e.watcher.Watch(a.owner, notify)
}

// IssueTicket makes a ticket for a, standing for id (the identity a was
// admitted with; its token's expiry ends the stream).
func (e *Events) IssueTicket(ctx context.Context, a Actor, id auth.Identity) (IssuedTicket, error) {
	if id.UserID != a.owner {
		return IssuedTicket{}, auth.ErrForbidden
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return IssuedTicket{}, fmt.Errorf("ticket: %w", err)
	}
	tk := base64.RawURLEncoding.EncodeToString(b[:])
	now := e.now()
	exp := now.Add(TicketTTL).UTC().Truncate(time.Second)
	if !id.Expires.IsZero() && id.Expires.Before(exp) {
		exp = id.Expires // a ticket outlives no token
	}
	if err := e.tickets.PutTicket(ctx, Ticket{Hash: ticketHash(tk), Identity: id, Expires: exp}, now); err != nil {
		return IssuedTicket{}, fmt.Errorf("store ticket: %w", err)
	}
	return IssuedTicket{Ticket: tk, Expires: exp}, nil
}

// RedeemTicket takes ticket, once, and returns the identity it stands for:
// ErrNoTicket when it is unknown, taken or expired.
func (e *Events) RedeemTicket(ctx context.Context, ticket string) (auth.Identity, error) {
	if ticket == "" || len(ticket) > 100 {
		return auth.Identity{}, ErrNoTicket
	}
	t, err := e.tickets.TakeTicket(ctx, ticketHash(ticket))
	if errors.Is(err, ErrNoTicket) {
		return auth.Identity{}, ErrNoTicket
	}
	if err != nil {
		return auth.Identity{}, fmt.Errorf("take ticket: %w", err)
	}
	if !e.now().Before(t.Expires) {
		return auth.Identity{}, ErrNoTicket
	}
	return t.Identity, nil
}

func ticketHash(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}
