package sharing

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/bootstrap"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/internal/testenv"
)

// secret plays BETTER_AUTH_SECRET.
const secret = "sharing-test-secret-0123456789abcdef-0123456789"

// server is the whole service (bootstrap.App) on one store, in the test
// process: its router, and the store's list.Members port, through which
// fixtures make memberships without depending on the member routes.
type server struct {
	name    string
	h       http.Handler
	members list.Members
	db      *bun.DB // nil on memory
	svc     *application.Service
	sharers *sqlstore.Sharers // nil on memory
}

// stores names the stores and the DATABASE_URL of a fresh one of each.
var stores = []struct {
	name string
	url  func(*testing.T) string
}{
	{"memory", func(*testing.T) string { return "memory:" }},
	{"sqlite", func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "todo.db") + "?_pragma=synchronous(NORMAL)"
	}},
	{"postgres", func(t *testing.T) string {
		u, err := url.Parse(testenv.FreshSchema(t, "sharing"))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("synchronous_commit", "off") // nothing here must survive a crash
		u.RawQuery = q.Encode()
		return u.String()
	}},
}

// start runs the service on databaseURL until the test ends.
// extra are more fx options, invoked before the service starts (and its
// background work with it: a hook added to its *bun.DB then races with
// nothing).
func start(t *testing.T, name, databaseURL string, extra ...fx.Option) *server {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": databaseURL, "BETTER_AUTH_SECRET": secret, "PORT": "0",
		"LOG_LEVEL": "error", "METRICS_ADDR": "",
	}
	c, err := bootstrap.LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	s := &server{name: name}
	opts := []fx.Option{bootstrap.App(c), fx.Populate(&s.h, &s.svc)}
	var mem *memory.Store
	// On SQL stores, the service's own members repository: it tells the
	// service's Sharers of each new member, as a membership accepted
	// through the API does (a second repository would be a second process,
	// which an SQLite database never has).
	var sm application.Memberships
	if c.StorageKind() == "memory" {
		opts = append(opts, fx.Populate(&mem))
	} else {
		opts = append(opts, fx.Populate(&s.db, &sm, &s.sharers))
	}
	app := fx.New(append(opts, extra...)...)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("start the service on %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := app.Stop(ctx); err != nil {
			t.Errorf("stop the service on %s: %v", name, err)
		}
	})
	s.members = sm
	if mem != nil {
		s.members = mem.Members()
	}
	return s
}

// caller is a user with a valid token carrying their own email.
type caller struct {
	id, token string
}

func (c caller) email() string { return c.id + "@example.com" }

// newCaller makes a user with a fresh id and a token, and lets the service
// learn them (a user exists once a token of theirs has been seen), so that
// invitations to their email find them.
func (s *server) newCaller(t *testing.T) caller {
	t.Helper()
	id := "u_" + strings.ToLower(rand.Text()[:12])
	tok, err := jwks.SignHS256([]byte(secret), auth.Identity{UserID: auth.UserID(id), Email: id + "@example.com", Name: "User " + id},
		2*time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	c := caller{id: id, token: tok}
	s.mustDo(t, c, http.MethodGet, "/api/"+id+"/tasks", "", http.StatusOK)
	return c
}

// answer is a response: its status and body.
type answer struct {
	status int
	body   []byte
	header http.Header
}

func (a answer) String() string {
	b := string(a.body)
	if len(b) > 300 {
		b = b[:300] + "..."
	}
	return fmt.Sprintf("%d %s", a.status, b)
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// do sends one request through the router, in the process.
func (s *server) do(t *testing.T, c caller, method, path, body string, header ...string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, "http://todo.test"+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return answer{status: rec.Code, body: rec.Body.Bytes(), header: rec.Header()}
}

// mustDo is do, failing the test unless the status is want.
func (s *server) mustDo(t *testing.T, c caller, method, path, body string, want int) answer {
	t.Helper()
	a := s.do(t, c, method, path, body)
	if a.status != want {
		t.Fatalf("%s: %s %s = %s, want %d", s.name, method, path, a, want)
	}
	return a
}

// create posts body to path and returns the new object's id.
func (s *server) create(t *testing.T, c caller, path, body string) int64 {
	t.Helper()
	a := s.mustDo(t, c, http.MethodPost, path, body, http.StatusCreated)
	var out struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.ID == 0 {
		t.Fatalf("%s: POST %s: no id in %s", s.name, path, a)
	}
	return out.ID
}

// join makes c a member of list id with role, as an invitation the owner
// sent and c accepted; with removed, the membership then ends.
func (s *server) join(t *testing.T, owner, c caller, id int64, role list.Role, removed bool) {
	t.Helper()
	ctx := t.Context()
	inv, err := s.members.Invite(ctx, list.Invitation{ListID: list.ID(id), Email: c.email(), Role: role, InvitedBy: auth.UserID(owner.id), CreatedAt: time.Now()})
	if err != nil {
		t.Fatalf("%s: invite %s as %s: %v", s.name, c.id, role, err)
	}
	if _, err := s.members.Accept(ctx, auth.UserID(c.id), inv.ID, time.Now()); err != nil {
		t.Fatalf("%s: %s accepts: %v", s.name, c.id, err)
	}
	if removed {
		if err := s.members.Remove(ctx, list.ID(id), auth.UserID(c.id)); err != nil {
			t.Fatalf("%s: remove %s: %v", s.name, c.id, err)
		}
	}
}
