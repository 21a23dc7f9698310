// Command jwksserver plays Better Auth for `make bench`: it makes an Ed25519
// key, serves it at /api/auth/jwks on a loopback address, and writes one
// EdDSA token per seeded user (and an HS256 token with the shared secret,
// for the comparison), shaped like Better Auth's: sub, id, email, name, iat,
// exp, iss, aud. Each line of a token file is "<user id> <token>", user 0
// first. It serves until interrupted.
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/bench/seed"
	"github.com/todo-backend/todo/domain/auth"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "jwksserver:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	addrFile := flag.String("addr-file", "", "write the address listened on to this file once tokens are written")
	users := flag.Int("users", 2000, "number of seeded users to sign tokens for")
	issuer := flag.String("issuer", "http://localhost:3000", "iss claim")
	audience := flag.String("audience", "http://localhost:3000", "aud claim")
	ttl := flag.Duration("ttl", 2*time.Hour, "token lifetime")
	eddsaOut := flag.String("eddsa-tokens", "", "write EdDSA tokens here")
	hsOut := flag.String("hs256-tokens", "", "write HS256 tokens here (secret from $BETTER_AUTH_SECRET)")
	flag.Parse()

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	const kid = "bench-key-1"
	now := time.Now()
	if *eddsaOut != "" {
		err := writeTokens(*eddsaOut, *users, func(id auth.Identity) (string, error) {
			c := jwt.MapClaims{
				"sub": string(id.UserID), "id": string(id.UserID), "email": id.Email, "name": id.Name,
				"iat": now.Unix(), "exp": now.Add(*ttl).Unix(), "iss": *issuer, "aud": *audience,
			}
			t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
			t.Header["kid"] = kid
			return t.SignedString(priv)
		})
		if err != nil {
			return err
		}
	}
	if *hsOut != "" {
		secret := []byte(os.Getenv("BETTER_AUTH_SECRET"))
		err := writeTokens(*hsOut, *users, func(id auth.Identity) (string, error) {
			return jwks.SignHS256(secret, id, *ttl, now, *issuer, *audience)
		})
		if err != nil {
			return err
		}
	}

	set, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
		"x": base64.RawURLEncoding.EncodeToString(pub),
	}}})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/auth/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(set)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			_ = ln.Close()
			return err
		}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeTokens writes "<user id> <token>" for users 0..n-1.
func writeTokens(path string, n int, sign func(auth.Identity) (string, error)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range n {
		id := auth.Identity{UserID: auth.UserID(seed.UserID(i)), Email: seed.Email(i), Name: seed.Name(i)}
		tok, err := sign(id)
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("sign token for user %d: %w", i, err)
		}
		fmt.Fprintf(w, "%s %s\n", id.UserID, tok)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
