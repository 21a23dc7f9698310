package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testSecret is the HS256 secret the HS256-mode binaries run with.
const testSecret = "e2e-test-secret-0123456789abcdef0123456789abcdef"

// newUserID returns a user id no other test uses, shaped like Better Auth's
// 32-character ids, so that tests sharing a binary never see each other's data.
func newUserID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// userClaims are the claims Better Auth puts in its tokens, for id, valid for
// 15 minutes.
func userClaims(id string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"sub":   id,
		"id":    id,
		"email": id + "@example.test",
		"name":  "User " + id[:6],
		"iat":   now.Unix(),
		"exp":   now.Add(15 * time.Minute).Unix(),
	}
}

// signHS256 signs claims with secret.
func signHS256(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatalf("sign HS256 token: %v", err)
	}
	return s
}

// signNone returns an unsigned token with header alg "none".
func signNone(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatalf("sign alg none token: %v", err)
	}
	return s
}

// user is one caller of the API: an id and a token for it.
type user struct {
	ID    string
	Token string
}

// newHS256User returns a fresh user with a valid HS256 token signed with testSecret.
func newHS256User(t *testing.T) user {
	t.Helper()
	id := newUserID(t)
	return user{ID: id, Token: signHS256(t, testSecret, userClaims(id))}
}

// withHeader returns token with its header replaced by header (JSON), payload
// and signature kept.
func withHeader(t *testing.T, token, header string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("withHeader: %q is not a JWS", token)
	}
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

// tamperSub returns token with its sub and id claims changed to id, header
// and signature kept: a forgery whose signature no longer matches.
func tamperSub(t *testing.T, token, id string) string {
	t.Helper()
	claims := claimsOf(t, token)
	claims["sub"], claims["id"] = id, id
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("tamperSub: encode payload: %v", err)
	}
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// claimsOf decodes a token's payload without verifying it.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("claimsOf: %q is not a JWS", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("claimsOf: decode payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("claimsOf: payload: %v", err)
	}
	return claims
}
