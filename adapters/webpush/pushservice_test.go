package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/internal/egress"
)

// browser is a user agent's side of a subscription (RFC 8291 §2): a P-256
// key pair and a 16-byte authentication secret, made the way a browser
// makes them.
type browser struct {
	key  *ecdh.PrivateKey
	auth []byte
	// answer, when set, is the push service's answer to a push for this
	// browser instead of 201.
	answer func(w http.ResponseWriter)
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return &browser{key: key, auth: auth}
}

// subscription is what the browser's PushSubscription.toJSON() gives.
func (b *browser) subscription(endpoint string) application.PushSubscription {
	return application.PushSubscription{
		Endpoint: endpoint,
		P256dh:   base64.RawURLEncoding.EncodeToString(b.key.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(b.auth),
	}
}

// pushed is one message the push service accepted, decrypted.
type pushed struct {
	token     string
	plaintext []byte
	header    http.Header
	bodyLen   int
	rs        uint32
}

// pushService is a fake push service (RFC 8030) that checks every push as
// a real one must: the VAPID Authorization header (RFC 8292: an ES256 JWT
// verified with the key in k=, which must be the key the browser subscribed
// with; aud its own origin; exp within 24 hours; sub a contact), the
// aes128gcm body, which it decrypts with the browser's private key (RFC
// 8291), and the TTL, Urgency and Topic headers. A push that fails a check
// fails the test and is answered 400.
type pushService struct {
	*httptest.Server
	t          *testing.T
	serverKey  string // the applicationServerKey browsers subscribed with
	subject    string // the sub the JWT must carry
	mu         sync.Mutex
	browsers   map[string]*browser
	received   []pushed
	requests   int
	jwtExpires []time.Time
}

func newPushService(t *testing.T, serverKey, subject string) *pushService {
	t.Helper()
	ps := &pushService{t: t, serverKey: serverKey, subject: subject, browsers: map[string]*browser{}}
	ps.Server = httptest.NewTLSServer(http.HandlerFunc(ps.serve))
	t.Cleanup(ps.Close)
	return ps
}

// subscribe registers a browser and returns its subscription.
func (ps *pushService) subscribe(token string, b *browser) application.PushSubscription {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.browsers[token] = b
	return b.subscription(ps.URL + "/push/" + token)
}

// client trusts the service's certificate and otherwise is what Sender
// uses by default, with AllowPrivate since the service is on 127.0.0.1.
func (ps *pushService) client() *http.Client {
	c := egress.NewClient(egress.Options{AllowPrivate: true})
	pool := x509.NewCertPool()
	pool.AddCert(ps.Certificate())
	c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	return c
}

func (ps *pushService) messages() []pushed {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]pushed(nil), ps.received...)
}

func (ps *pushService) requestCount() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.requests
}

func (ps *pushService) serve(w http.ResponseWriter, r *http.Request) {
	ps.mu.Lock()
	ps.requests++
	token := strings.TrimPrefix(r.URL.Path, "/push/")
	b := ps.browsers[token]
	ps.mu.Unlock()
	if b == nil {
		http.NotFound(w, r)
		return
	}
	fail := func(format string, args ...any) {
		ps.t.Errorf("push service: "+format, args...)
		http.Error(w, "bad push", http.StatusBadRequest)
	}
	if r.Method != http.MethodPost {
		fail("method %s, want POST", r.Method)
		return
	}
	exp, err := ps.checkVAPID(r.Header.Get("Authorization"))
	if err != nil {
		fail("Authorization: %v", err)
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		fail("Content-Encoding %q, want aes128gcm", ce)
		return
	}
	if ttl, err := strconv.Atoi(r.Header.Get("TTL")); err != nil || ttl < 0 {
		fail("TTL %q, want seconds", r.Header.Get("TTL"))
		return
	}
	switch u := r.Header.Get("Urgency"); u {
	case "", "very-low", "low", "normal", "high":
	default:
		fail("Urgency %q", u)
		return
	}
	if tp := r.Header.Get("Topic"); len(tp) > 32 || strings.Trim(tp, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		fail("Topic %q: at most 32 base64url characters", tp)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail("read body: %v", err)
		return
	}
	if len(body) > 4096 {
		fail("body is %d bytes, more than the 4096 a push service must take", len(body))
		return
	}
	pt, rs, err := decrypt(body, b.key, b.auth)
	if err != nil {
		fail("decrypt: %v", err)
		return
	}
	ps.mu.Lock()
	ps.received = append(ps.received, pushed{token: token, plaintext: pt, header: r.Header.Clone(), bodyLen: len(body), rs: rs})
	ps.jwtExpires = append(ps.jwtExpires, exp)
	ps.mu.Unlock()
	if b.answer != nil {
		b.answer(w)
		return
	}
	w.Header().Set("Location", ps.URL+"/message/1")
	w.WriteHeader(http.StatusCreated)
}

// checkVAPID verifies "vapid t=JWT, k=KEY" (RFC 8292 §3) and returns the
// token's expiry.
func (ps *pushService) checkVAPID(h string) (time.Time, error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return time.Time{}, fmt.Errorf("scheme of %q, want vapid", h)
	}
	params := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[k] = v
	}
	if params["k"] != ps.serverKey {
		return time.Time{}, fmt.Errorf("k=%s, want the key the browser subscribed with, %s", params["k"], ps.serverKey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(params["k"])
	if err != nil {
		return time.Time{}, fmt.Errorf("k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("k: %w", err)
	}
	origin := ps.URL // scheme://host:port, no path
	tok, err := jwt.Parse(params["t"], func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(origin), jwt.WithExpirationRequired())
	if err != nil {
		return time.Time{}, fmt.Errorf("JWT: %w", err)
	}
	exp, err := tok.Claims.GetExpirationTime()
	if err != nil {
		return time.Time{}, err
	}
	if exp.After(time.Now().Add(24 * time.Hour)) {
		return time.Time{}, fmt.Errorf("JWT expires at %v, more than 24 hours ahead", exp)
	}
	if aud, _ := tok.Claims.GetAudience(); len(aud) != 1 || aud[0] != origin {
		return time.Time{}, fmt.Errorf("JWT aud %v, want exactly %s", aud, origin)
	}
	if sub, _ := tok.Claims.GetSubject(); sub != ps.subject {
		return time.Time{}, fmt.Errorf("JWT sub %q, want %q", sub, ps.subject)
	}
	return exp.Time, nil
}

// decrypt reads an aes128gcm body (RFC 8188) encrypted for a Web Push
// subscription (RFC 8291 §3.4) with the user agent's private key and
// authentication secret, and returns the plaintext and the header's record
// size. Written from the RFCs, and held to RFC 8291's own example by
// TestDecryptRFC8291Example.
func decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, uint32, error) {
	const saltLen, rsLen = 16, 4
	if len(body) < saltLen+rsLen+1 {
		return nil, 0, errors.New("body shorter than the aes128gcm header")
	}
	salt := body[:saltLen]
	rs := binary.BigEndian.Uint32(body[saltLen:])
	idlen := int(body[saltLen+rsLen])
	if idlen != 65 {
		return nil, 0, fmt.Errorf("keyid is %d bytes, want the 65-byte application server key", idlen)
	}
	if len(body) < saltLen+rsLen+1+idlen {
		return nil, 0, errors.New("body shorter than its keyid")
	}
	keyID := body[saltLen+rsLen+1 : saltLen+rsLen+1+idlen]
	record := body[saltLen+rsLen+1+idlen:]
	if rs < 18 {
		return nil, 0, fmt.Errorf("record size %d below the minimum, 18", rs)
	}
	if uint32(len(record)) > rs {
		return nil, 0, fmt.Errorf("%d bytes of records with rs=%d: more than one record, which RFC 8291 §4 forbids", len(record), rs)
	}
	asPublic, err := ecdh.P256().NewPublicKey(keyID)
	if err != nil {
		return nil, 0, fmt.Errorf("keyid: %w", err)
	}
	shared, err := ua.ECDH(asPublic)
	if err != nil {
		return nil, 0, fmt.Errorf("ecdh: %w", err)
	}
	keyInfo := "WebPush: info\x00" + string(ua.PublicKey().Bytes()) + string(keyID)
	ikm, err := hkdf.Key(sha256.New, shared, auth, keyInfo, 32)
	if err != nil {
		return nil, 0, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, 0, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, 0, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, 0, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, 0, err
	}
	padded, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("open record: %w", err)
	}
	// The record ends with the delimiter 0x02 (last record), then zeros.
	end := len(padded) - 1
	for end >= 0 && padded[end] == 0 {
		end--
	}
	if end < 0 || padded[end] != 2 {
		return nil, 0, errors.New("no last-record delimiter (0x02) after the plaintext")
	}
	return padded[:end], rs, nil
}
