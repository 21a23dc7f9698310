package memory

import (
	"context"
	"sync"
	"time"

	"github.com/todo-backend/todo/application"
)

// TicketStore is an application.TicketStore held in memory: tickets are
// good on this process only, which is all a memory: service has.
type TicketStore struct {
	mu sync.Mutex
	m  map[string]application.Ticket
}

var _ application.TicketStore = (*TicketStore)(nil)

// NewTicketStore returns an empty store of tickets.
func NewTicketStore() *TicketStore { return &TicketStore{m: map[string]application.Ticket{}} }

// PutTicket keeps t and drops the tickets that expired before now.
func (s *TicketStore) PutTicket(_ context.Context, t application.Ticket, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, old := range s.m {
		if !now.Before(old.Expires) {
			delete(s.m, h)
		}
	}
	s.m[t.Hash] = t
	return nil
}

// TakeTicket removes the ticket and returns it.
func (s *TicketStore) TakeTicket(_ context.Context, hash string) (application.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[hash]
	if !ok {
		return application.Ticket{}, application.ErrNoTicket
	}
	delete(s.m, hash)
	return t, nil
}
