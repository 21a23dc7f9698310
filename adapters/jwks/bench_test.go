package jwks

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify measures one Verify of a Better Auth shaped token, with
// the token cache (the common case: a client reuses its token) and without
// (one signature check per call).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"HS256", "EdDSA", "ES256", "RS256"} {
		for _, cached := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/cached=%v", alg, cached), func(b *testing.B) {
				cfg := Config{Issuer: origin, Audience: origin}
				if !cached {
					cfg.CacheSize = -1
				}
				var token string
				if alg == "HS256" {
					cfg.Secret = secret
					token = signWith(b, jwt.SigningMethodHS256, "", secret, claimsAt(time.Now()))
				} else {
					k := newKey(b, alg)
					cfg.JWKSURL = newKeyServer(b, k.jwk(b)).URL
					token = k.sign(b, claimsAt(time.Now()))
				}
				v := newVerifier(b, cfg)
				waitReady(b, v)
				ctx := b.Context()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
