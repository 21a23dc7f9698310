// Package auth holds who is calling: the verified identity carried by a bearer
// token, and the port through which adapters verify tokens.
package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// UserID identifies a user as the identity provider (Better Auth) names it.
type UserID string

// Identity is what a verified token says about its bearer.
type Identity struct {
	UserID UserID
	Email  string
	Name   string
	// Expires is when the token stops vouching for the bearer (its exp
	// claim); zero when it does not say. A long-lived answer, such as a
	// stream of live events, ends then.
	Expires time.Time
}

// Bounds on an identity. Better Auth lets users choose their own email and
// name, and a signed token carries whatever they chose, so a verifier holds
// every identity to these before anything stores it: every store must be able
// to keep and index it, and refuse it the same way.
const (
	// MaxUserIDBytes bounds the user id. Better Auth's ids are 32 characters
	// (36 as UUIDs); 255 bytes fits any id scheme, an email address included,
	// and stays far below what PostgreSQL can index (about 2,700 bytes per
	// B-tree entry; the id is indexed with every task).
	MaxUserIDBytes = 255
	// MaxEmailBytes is RFC 5321's limit: a path is at most 256 octets,
	// angle brackets included.
	MaxEmailBytes = 254
	// MaxNameRunes bounds the display name, in code points as task titles
	// are: room for any real name, not for a page of text.
	MaxNameRunes = 256
)

// Reasons for an identity a verifier must refuse; they name the claim, never
// its value.
var (
	errNoUserID  = Unauthenticated("missing subject")
	errBadUserID = Unauthenticated("invalid subject")
	errBadEmail  = Unauthenticated("invalid email")
	errBadName   = Unauthenticated("invalid name")
)

// Validate reports whether id may be trusted as an identity: a user id is
// present, each part is within its bound (see MaxUserIDBytes, MaxEmailBytes,
// MaxNameRunes) and is valid UTF-8 without control characters (NUL, which no
// store keeps the same way, least of all). The user id and email must not
// hold U+FFFD either: a JSON decoder puts it in place of what it could not
// read, so two different ids or emails could arrive as the same string. The
// error wraps ErrUnauthenticated with a reason naming the claim.
func (id Identity) Validate() error {
	switch {
	case id.UserID == "":
		return errNoUserID
	case len(id.UserID) > MaxUserIDBytes || !clean(string(id.UserID), true):
		return errBadUserID
	case len(id.Email) > MaxEmailBytes || !clean(id.Email, true):
		return errBadEmail
	case utf8.RuneCountInString(id.Name) > MaxNameRunes || !clean(id.Name, false):
		return errBadName
	}
	return nil
}

// clean reports whether s is valid UTF-8 without control characters (C0,
// DEL and C1) and, when exact, without U+FFFD.
func clean(s string, exact bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || exact && r == utf8.RuneError {
			return false
		}
	}
	return true
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
