// Package auth holds who is calling: the verified identity carried by a bearer
// token, and the port through which adapters verify tokens.
package auth

import (
	"context"
	"errors"
	"fmt"
)

// UserID identifies a user as the identity provider (Better Auth) names it.
type UserID string

// Identity is what a verified token says about its bearer.
type Identity struct {
	UserID UserID
	Email  string
	Name   string
}

// Verifier turns a bearer token into the identity it vouches for. It returns
// an error wrapping ErrUnauthenticated for any token that must not be trusted,
// and one wrapping ErrUnavailable when it cannot decide yet (no keys loaded).
type Verifier interface {
	Verify(ctx context.Context, token string) (Identity, error)
}

var (
	// ErrUnauthenticated means the caller did not prove who they are.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden means the caller is known but acts on another user's data.
	ErrForbidden = errors.New("not authorized")
	// ErrUnavailable means tokens cannot be checked right now (the identity
	// provider's keys were never loaded); the client should retry, not log out.
	ErrUnavailable = errors.New("authentication temporarily unavailable")
)

// Unauthenticated returns an error that is ErrUnauthenticated with a reason
// for the logs (expired, bad signature, unknown kid ...). The reason never
// reaches the client.
func Unauthenticated(reason string) error {
	return &ReasonError{Reason: reason}
}

// ReasonError is ErrUnauthenticated with a machine-friendly reason, used for
// logs and metrics.
type ReasonError struct {
	Reason string
}

func (e *ReasonError) Error() string { return fmt.Sprintf("%v: %s", ErrUnauthenticated, e.Reason) }

// Is makes errors.Is(err, ErrUnauthenticated) hold.
func (e *ReasonError) Is(target error) bool { return target == ErrUnauthenticated }
