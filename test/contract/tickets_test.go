package contract

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// ticketStores opens a fresh application.TicketStore of each kind.
var ticketStores = map[string]func(*testing.T) application.TicketStore{
	"memory":   func(*testing.T) application.TicketStore { return memory.NewTicketStore() },
	"sqlite":   func(t *testing.T) application.TicketStore { return sqlstore.NewTicketStore(openSQLiteDB(t)) },
	"postgres": func(t *testing.T) application.TicketStore { return sqlstore.NewTicketStore(openPostgresDB(t)) },
}

// TestTickets: the tickets of live events (issue 16) on every store. A
// ticket is taken once, with the identity and token expiry it was stored
// with; of 20 connections racing for one ticket exactly one gets it; an
// issued ticket is refused after TicketTTL; putting a ticket drops the
// expired ones.
func TestTickets(t *testing.T) {
	t.Parallel()
	for name, open := range ticketStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			id := auth.Identity{UserID: auth.UserID("u_" + uniq()), Email: uniqEmail(), Name: "Ada", Expires: now.Add(10 * time.Minute)}

			put := application.Ticket{Hash: "h-" + uniq(), Identity: id, Expires: now.Add(time.Minute)}
			if err := store.PutTicket(ctx, put, now); err != nil {
				t.Fatalf("PutTicket: %v", err)
			}
			got, err := store.TakeTicket(ctx, put.Hash)
			if err != nil {
				t.Fatalf("TakeTicket: %v", err)
			}
			if got.Hash != put.Hash || got.Identity.UserID != id.UserID || got.Identity.Email != id.Email ||
				got.Identity.Name != id.Name || !got.Identity.Expires.Equal(id.Expires) || !got.Expires.Equal(put.Expires) {
				t.Errorf("TakeTicket = %+v, want %+v", got, put)
			}
			if _, err := store.TakeTicket(ctx, put.Hash); !errors.Is(err, application.ErrNoTicket) {
				t.Errorf("second TakeTicket: err = %v, want ErrNoTicket", err)
			}

			// One winner among racers.
			race := application.Ticket{Hash: "r-" + uniq(), Identity: auth.Identity{UserID: id.UserID}, Expires: now.Add(time.Minute)}
			if err := store.PutTicket(ctx, race, now); err != nil {
				t.Fatalf("PutTicket: %v", err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := store.TakeTicket(ctx, race.Hash)
					switch {
					case err == nil:
						mu.Lock()
						wins++
						mu.Unlock()
					case !errors.Is(err, application.ErrNoTicket):
						t.Errorf("TakeTicket racing: %v", err)
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Errorf("%d of 20 racers took the ticket, want exactly 1", wins)
			}

			// A put drops what expired: the old ticket is gone.
			old := application.Ticket{Hash: "o-" + uniq(), Identity: auth.Identity{UserID: id.UserID}, Expires: now.Add(time.Minute)}
			if err := store.PutTicket(ctx, old, now); err != nil {
				t.Fatal(err)
			}
			later := now.Add(2 * time.Minute)
			if err := store.PutTicket(ctx, application.Ticket{Hash: "n-" + uniq(), Identity: auth.Identity{UserID: id.UserID}, Expires: later.Add(time.Minute)}, later); err != nil {
				t.Fatal(err)
			}
			if _, err := store.TakeTicket(ctx, old.Hash); !errors.Is(err, application.ErrNoTicket) {
				t.Errorf("TakeTicket of an expired ticket after a later put: err = %v, want ErrNoTicket", err)
			}
		})
	}
}

// TestTicketUseCase: application.Events issues a ticket that redeems once
// for the identity it was issued to, not after TicketTTL, and never for
// longer than the token it came from.
func TestTicketUseCase(t *testing.T) {
	t.Parallel()
	for name, open := range ticketStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			now := time.Now().UTC().Truncate(time.Second) // as a token's exp
			clock := func() time.Time { return now }
			ev := application.NewEvents(nil, nil, open(t), clock)
			svc := application.New(memory.NewTaskRepository(), memory.NewUserRepository(), clock)
			id := auth.Identity{UserID: auth.UserID("u_" + uniq()), Email: uniqEmail(), Expires: now.Add(time.Hour)}
			a, err := svc.Authorize(context.Background(), id, string(id.UserID))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			tk, err := ev.IssueTicket(ctx, a, id)
			if err != nil {
				t.Fatalf("IssueTicket: %v", err)
			}
			if want := now.Add(application.TicketTTL); tk.Expires.After(want) || tk.Expires.Before(want.Add(-time.Second)) {
				t.Errorf("ticket expires %v, want about %v", tk.Expires, want)
			}
			got, err := ev.RedeemTicket(ctx, tk.Ticket)
			if err != nil || got.UserID != id.UserID || !got.Expires.Equal(id.Expires) {
				t.Errorf("RedeemTicket = %+v, %v; want %+v", got, err, id)
			}
			if _, err := ev.RedeemTicket(ctx, tk.Ticket); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("second RedeemTicket: err = %v, want ErrUnauthenticated", err)
			}

			late, err := ev.IssueTicket(ctx, a, id)
			if err != nil {
				t.Fatal(err)
			}
			now = now.Add(application.TicketTTL)
			if _, err := ev.RedeemTicket(ctx, late.Ticket); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("RedeemTicket after TicketTTL: err = %v, want ErrUnauthenticated", err)
			}

			short := id
			short.Expires = now.Add(10 * time.Second)
			tk, err = ev.IssueTicket(ctx, a, short)
			if err != nil {
				t.Fatal(err)
			}
			if !tk.Expires.Equal(short.Expires) {
				t.Errorf("ticket of a token expiring in 10 s expires %v, want %v", tk.Expires, short.Expires)
			}
		})
	}
}
