package contract

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/user"
)

func TestUserRepository(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(*testing.T) user.Repository{
		"memory":   func(*testing.T) user.Repository { return memory.NewUserRepository() },
		"sqlite":   func(t *testing.T) user.Repository { return sqlstore.NewUserRepository(openSQLiteDB(t)) },
		"postgres": func(t *testing.T) user.Repository { return sqlstore.NewUserRepository(openPostgresDB(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runUserSuite(t, open(t))
		})
	}
}

// runUserSuite checks user.Repository. The port can only save, so "nothing
// changed" is observed through which emails stay taken.
func runUserSuite(t *testing.T, repo user.Repository) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, user.Repository)
	}{
		{"save then update email and name", testUserUpdate},
		{"taken email is refused and nothing changes", testUserEmailTaken},
		{"emails compare in lower case", testUserLowerCase},
		{"empty emails never conflict", testUserEmptyEmail},
		{"concurrent claims of one email: one wins", testUserConcurrentClaims},
		{"concurrent first saves of one user all succeed", testUserConcurrentSameUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, repo)
		})
	}
}

func newUserID() auth.UserID { return auth.UserID("u_" + uniq()) }

func save(t *testing.T, repo user.Repository, u user.User, want error) {
	t.Helper()
	err := repo.Save(context.Background(), u)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("Save(%+v) error = %v, want %v", u, err, want)
	}
}

func testUserUpdate(t *testing.T, repo user.Repository) {
	id, other := newUserID(), newUserID()
	first, second := uniqEmail(), uniqEmail()

	save(t, repo, user.User{ID: id, Email: first, Name: "Ann"}, nil)
	save(t, repo, user.User{ID: id, Email: first, Name: "Ann"}, nil) // again: no conflict with itself
	save(t, repo, user.User{ID: id, Email: second, Name: "Ann B."}, nil)
	// The old email was released, the new one is held.
	save(t, repo, user.User{ID: other, Email: second}, user.ErrEmailTaken)
	save(t, repo, user.User{ID: other, Email: first}, nil)
}

func testUserEmailTaken(t *testing.T, repo user.Repository) {
	alice, bob, carol := newUserID(), newUserID(), newUserID()
	aliceEmail, bobEmail := uniqEmail(), uniqEmail()

	save(t, repo, user.User{ID: alice, Email: aliceEmail, Name: "Alice"}, nil)
	save(t, repo, user.User{ID: bob, Email: bobEmail, Name: "Bob"}, nil)

	// Bob tries to take Alice's email: refused, and Bob keeps his own.
	save(t, repo, user.User{ID: bob, Email: aliceEmail, Name: "Bob"}, user.ErrEmailTaken)
	save(t, repo, user.User{ID: carol, Email: bobEmail}, user.ErrEmailTaken)
	// A new id claiming Alice's email is refused and not created with it.
	save(t, repo, user.User{ID: carol, Email: aliceEmail}, user.ErrEmailTaken)
	save(t, repo, user.User{ID: alice, Email: aliceEmail, Name: "Alice"}, nil)
	save(t, repo, user.User{ID: carol, Email: uniqEmail()}, nil)
}

func testUserLowerCase(t *testing.T, repo user.Repository) {
	local := uniq()
	first := user.FromIdentity(auth.Identity{UserID: newUserID(), Email: " " + local + "@Example.COM", Name: "Mixed"})
	second := user.FromIdentity(auth.Identity{UserID: newUserID(), Email: local + "@example.com", Name: "Lower"})
	save(t, repo, first, nil)
	save(t, repo, second, user.ErrEmailTaken)
}

func testUserEmptyEmail(t *testing.T, repo user.Repository) {
	a, b := newUserID(), newUserID()
	email := uniqEmail()
	save(t, repo, user.User{ID: a, Name: "no email"}, nil)
	save(t, repo, user.User{ID: b, Name: "no email either"}, nil)
	save(t, repo, user.User{ID: a, Email: email}, nil)
	save(t, repo, user.User{ID: a, Email: ""}, nil) // gives the email up
	save(t, repo, user.User{ID: b, Email: email}, nil)
}

func testUserConcurrentClaims(t *testing.T, repo user.Repository) {
	const n = 10
	email := uniqEmail()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- repo.Save(context.Background(), user.User{ID: newUserID(), Email: email})
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, user.ErrEmailTaken):
			t.Errorf("concurrent Save() error = %v, want nil or ErrEmailTaken", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent claims of one email: %d succeeded, want 1", n, won)
	}
}

// testUserConcurrentSameUser is a user's first requests reaching two
// instances at once: each saves the same id and email. None of them may be
// told the email belongs to someone else.
func testUserConcurrentSameUser(t *testing.T, repo user.Repository) {
	const n = 16
	for range 5 {
		u := user.User{ID: newUserID(), Email: uniqEmail(), Name: "Same"}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				errs <- repo.Save(context.Background(), u)
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent Save() of the same user %q error = %v, want nil", u.ID, err)
			}
		}
	}
}
