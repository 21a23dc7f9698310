package jwks

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/domain/auth"
)

// SignHS256 makes a token for id that a Verifier with the same secret
// accepts, shaped like Better Auth's (sub and id, email, name, iat, exp, and
// iss and aud as single strings when set). It is for development (the
// binary's token subcommand) and tests; production tokens come from Better
// Auth.
func SignHS256(secret []byte, id auth.Identity, ttl time.Duration, now time.Time, issuer, audience string) (string, error) {
	if len(secret) < MinSecretLen {
		return "", fmt.Errorf("sign token: secret has %d bytes, HS256 needs at least %d", len(secret), MinSecretLen)
	}
	if id.UserID == "" {
		return "", errors.New("sign token: empty user id")
	}
	if ttl <= 0 {
		return "", errors.New("sign token: ttl must be positive")
	}
	c := jwt.MapClaims{
		"sub": string(id.UserID),
		"id":  string(id.UserID),
		"iat": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}
	if id.Email != "" {
		c["email"] = id.Email
	}
	if id.Name != "" {
		c["name"] = id.Name
	}
	if issuer != "" {
		c["iss"] = issuer
	}
	if audience != "" {
		c["aud"] = audience
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}
