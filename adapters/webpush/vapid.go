package webpush

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// VAPID is this server's identity towards push services (RFC 8292): a
// P-256 key pair, whose public half browsers subscribe with
// (applicationServerKey), and a contact for the push service's operators.
// Push services refuse messages signed with another key than the one a
// subscription was made with, so the pair must stay the same for as long
// as the subscriptions live.
type VAPID struct {
	// PublicKey is the uncompressed P-256 point (65 bytes), base64url
	// without padding: what the browser's pushManager.subscribe takes.
	PublicKey string
	// PrivateKey is the 32-byte P-256 scalar, base64url without padding.
	PrivateKey string
	// Subject is the JWT's sub: "mailto:" and an address, or an https URL.
	Subject string
}

// String shows the public half only, so that a VAPID printed into a log
// leaks no key.
func (v VAPID) String() string {
	return fmt.Sprintf("VAPID{PublicKey: %s, Subject: %s, PrivateKey: [redacted]}", v.PublicKey, v.Subject)
}

// GoString is String, for %#v.
func (v VAPID) GoString() string { return v.String() }

// ParseVAPID checks a VAPID configuration and returns it with its keys in
// the canonical form (base64url without padding). Keys may come padded or
// not, in base64url as web-push tools print them. It refuses a private key
// that is not a P-256 scalar, a public key that is not the private key's
// own (push services would refuse every message), and a subject that is
// neither mailto: nor https. Errors never quote the private key.
func ParseVAPID(publicKey, privateKey, subject string) (VAPID, error) {
	priv, err := decodeKey(privateKey)
	if err != nil {
		return VAPID{}, errors.New("VAPID private key is not base64url")
	}
	sk, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), priv)
	if err != nil {
		return VAPID{}, fmt.Errorf("VAPID private key is not a P-256 private key (32 bytes, base64url): %d bytes", len(priv))
	}
	own, err := sk.PublicKey.Bytes()
	if err != nil {
		return VAPID{}, fmt.Errorf("VAPID private key: %w", err)
	}
	pub, err := decodeKey(publicKey)
	if err != nil {
		return VAPID{}, fmt.Errorf("VAPID public key is not base64url: %q", publicKey)
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return VAPID{}, fmt.Errorf("VAPID public key is not an uncompressed P-256 point (65 bytes, base64url): %q", publicKey)
	}
	if string(pub) != string(own) {
		return VAPID{}, errors.New("VAPID public key is not the private key's: give the two halves of one key pair")
	}
	if err := checkSubject(subject); err != nil {
		return VAPID{}, err
	}
	return VAPID{
		PublicKey:  base64.RawURLEncoding.EncodeToString(pub),
		PrivateKey: base64.RawURLEncoding.EncodeToString(priv),
		Subject:    subject,
	}, nil
}

// checkSubject accepts what RFC 8292 asks for: a mailto: URI or an https
// URL, so that a push service can reach whoever runs the server.
func checkSubject(s string) error {
	if addr, ok := strings.CutPrefix(s, "mailto:"); ok {
		if a, err := mail.ParseAddress(addr); err == nil && a.Name == "" && a.Address == addr {
			return nil
		}
		return fmt.Errorf("VAPID subject %q: mailto: must be followed by one email address", s)
	}
	if u, err := url.Parse(s); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
		return nil
	}
	return fmt.Errorf("VAPID subject must be mailto:ADDRESS or an https URL, got %q", s)
}

// GenerateVAPIDKeys makes a new VAPID key pair, in the forms ParseVAPID
// reads (the `api vapid-keys` command prints one).
func GenerateVAPIDKeys() (publicKey, privateKey string, err error) {
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate P-256 key: %w", err)
	}
	priv, err := sk.Bytes()
	if err != nil {
		return "", "", fmt.Errorf("encode private key: %w", err)
	}
	pub, err := sk.PublicKey.Bytes()
	if err != nil {
		return "", "", fmt.Errorf("encode public key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(pub), base64.RawURLEncoding.EncodeToString(priv), nil
}

// decodeKey reads base64url (what browsers and web-push tools write) or
// standard base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}
