// Package user records the people the service has seen in verified tokens, so
// that one email address belongs to exactly one user id.
package user

import (
	"context"
	"errors"
	"strings"

	"github.com/todo-backend/todo/domain/auth"
)

// ErrEmailTaken means the email in a token already belongs to another user id.
var ErrEmailTaken = errors.New("email already registered to another user")

// User is a person as the identity provider described them last.
type User struct {
	ID    auth.UserID
	Email string // lower case; empty when the token carried none
	Name  string
}

// FromIdentity builds the User a verified token describes. Emails compare
// case-insensitively, so they are stored in lower case.
func FromIdentity(id auth.Identity) User {
	return User{
		ID:    id.UserID,
		Email: strings.ToLower(strings.TrimSpace(id.Email)),
		Name:  strings.TrimSpace(id.Name),
	}
}

// Repository stores users.
type Repository interface {
	// Save inserts the user or updates its email and name. It returns
	// ErrEmailTaken when another user id holds the email; nothing changes then.
	Save(ctx context.Context, u User) error
}
