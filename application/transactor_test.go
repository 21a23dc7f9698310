package application_test

import (
	"context"
	"errors"
	"testing"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/user"
)

// TestAuthorizeInUnitOfWork: a user saved in a unit of work that is rolled
// back is not remembered as saved, so their next request saves them again
// (else the users table would lack them, and their email would be free for
// another id); one saved in a unit that commits is remembered.
func TestAuthorizeInUnitOfWork(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	users := &countingUsers{Repository: store.Users()}
	s := application.New(store.Tasks(), users, (&clock{t: start}).now, application.WithTransactor(store))
	errRollback := errors.New("roll back")
	inTx := func(id auth.Identity, result error) {
		t.Helper()
		err := s.InTx(ctx, func(ctx context.Context) error {
			if _, err := s.Authorize(ctx, id, string(id.UserID)); err != nil {
				return err
			}
			return result
		})
		if !errors.Is(err, result) {
			t.Fatalf("InTx(Authorize(%s)) = %v, want %v", id.UserID, err, result)
		}
	}
	wantSaves := func(what string, want int) {
		t.Helper()
		if users.saves != want {
			t.Errorf("%s: %d saves, want %d", what, users.saves, want)
		}
	}

	inTx(alice, errRollback)
	wantSaves("Authorize in a unit rolled back", 1)
	authorize(t, s, alice)
	wantSaves("Authorize after it", 2)
	thief := auth.Identity{UserID: "u_thief", Email: alice.Email}
	if err := users.Save(ctx, user.FromIdentity(thief)); !errors.Is(err, user.ErrEmailTaken) {
		t.Errorf("another id with alice's email: %v, want ErrEmailTaken", err)
	}

	inTx(bob, nil)
	wantSaves("Authorize in a unit committed", 4)
	authorize(t, s, bob)
	wantSaves("Authorize after it", 4)

	// A nested unit rolled back inside one that commits.
	carol := auth.Identity{UserID: "u_carol", Email: "carol@example.com", Name: "Carol"}
	err := s.InTx(ctx, func(ctx context.Context) error {
		err := s.InTx(ctx, func(ctx context.Context) error {
			if _, err := s.Authorize(ctx, carol, string(carol.UserID)); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantSaves("Authorize in a nested unit rolled back", 5)
	authorize(t, s, carol)
	wantSaves("Authorize after it", 6)

	if err := application.New(store.Tasks(), store.Users(), nil).InTx(ctx, func(context.Context) error { return nil }); !errors.Is(err, application.ErrNoTransactor) {
		t.Errorf("InTx without a Transactor = %v, want ErrNoTransactor", err)
	}
}
