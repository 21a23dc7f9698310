package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/domain/auth"
)

// user is a caller with a token valid for the whole drill.
type user struct {
	id    string
	token string
}

func newUser(t *testing.T) user {
	t.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	id := "rel_" + hex.EncodeToString(b)
	tok, err := jwks.SignHS256([]byte(testSecret), auth.Identity{UserID: auth.UserID(id), Email: id + "@example.test", Name: id},
		time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return user{id: id, token: tok}
}

func (u user) tasks() string          { return "/api/" + u.id + "/tasks" }
func (u user) task(id int64) string   { return fmt.Sprintf("/api/%s/tasks/%d", u.id, id) }
func (u user) toggle(id int64) string { return u.task(id) + "/complete" }

// apiTask is what the drills read of a task.
type apiTask struct {
	ID        int64  `json:"id"`
	UserID    string `json:"user_id"`
	Title     string `json:"title"`
	Completed bool   `json:"completed"`
}

// outcome is one request's fate, as the client saw it.
type outcome struct {
	requestID string
	status    int   // 0 when no answer came
	err       error // the transport error when no answer came
	body      []byte
	header    http.Header
	at        time.Time // when it was sent
	took      time.Duration
}

// refused reports whether the connection was refused: nothing listened, so
// the server never saw the request.
func (o outcome) refused() bool { return errors.Is(o.err, syscall.ECONNREFUSED) }

var requestSeq atomic.Int64

// client sends requests with unique X-Request-IDs, so that each can be
// matched with the service's log line for it.
type client struct {
	base string
	hc   *http.Client
	tag  string
}

func newClient(base string, timeout time.Duration) *client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	b := make([]byte, 4)
	rand.Read(b)
	return &client{base: base, hc: &http.Client{Timeout: timeout, Transport: tr}, tag: hex.EncodeToString(b)}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

func (c *client) do(ctx context.Context, method, path, token string, body any) outcome {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return outcome{err: err}
	}
	id := fmt.Sprintf("rel-%s-%d", c.tag, requestSeq.Add(1))
	req.Header.Set("X-Request-ID", id)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return outcome{requestID: id, err: err, at: start, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	o := outcome{requestID: id, status: resp.StatusCode, body: b, header: resp.Header, at: start, took: time.Since(start)}
	if err != nil {
		o.status, o.err = 0, fmt.Errorf("read body of a %d: %w", resp.StatusCode, err)
	}
	return o
}

func (o outcome) task() (apiTask, error) {
	var tk apiTask
	err := json.Unmarshal(o.body, &tk)
	if err == nil && tk.ID <= 0 {
		err = fmt.Errorf("task without an id: %s", o.body)
	}
	return tk, err
}

func (o outcome) tasks() ([]apiTask, error) {
	var ts []apiTask
	err := json.Unmarshal(o.body, &ts)
	return ts, err
}

func (o outcome) String() string {
	if o.err != nil {
		return fmt.Sprintf("%s: %v", o.requestID, o.err)
	}
	return fmt.Sprintf("%s: %d %.200s", o.requestID, o.status, o.body)
}

// isDetail reports whether the body is exactly {"detail": "<text>"}.
func (o outcome) isDetail() bool {
	var m map[string]any
	if json.Unmarshal(o.body, &m) != nil || len(m) != 1 {
		return false
	}
	s, ok := m["detail"].(string)
	return ok && s != ""
}

// percentile returns the p-th percentile (0-100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
