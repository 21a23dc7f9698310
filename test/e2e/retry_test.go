package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// The "done when": under a client that retries every request up to
// three times on network errors, no task is created twice, no edit is
// silently overwritten when If-Match is used, and every delete can be
// undone. The binary runs on PostgreSQL behind a proxy that loses some
// requests before they reach it and, worse, some responses after it acted.

// lossyProxy forwards to target, losing requests and responses at random
// (from a fixed seed, so a run can be replayed): the client sees the
// connection close with no answer. It never loses more than two in a row,
// so that a client allowed three retries always gets through.
type lossyProxy struct {
	target string
	hc     *http.Client

	mu     sync.Mutex
	rng    *mrand.Rand
	streak int

	lostRequests, lostResponses atomic.Int64
}

const (
	fateDeliver = iota
	fateLoseRequest
	fateLoseResponse
)

func newLossyProxy(t *testing.T, target string, seed uint64) (*lossyProxy, string) {
	p := &lossyProxy{
		target: target,
		hc:     &http.Client{Timeout: 10 * time.Second},
		rng:    mrand.New(mrand.NewPCG(seed, seed^0x5eed)),
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *lossyProxy) fate() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := fateDeliver
	switch x := p.rng.Float64(); {
	case p.streak >= 2:
	case x < 0.15:
		f = fateLoseRequest
	case x < 0.35:
		f = fateLoseResponse
	}
	if f == fateDeliver {
		p.streak = 0
	} else {
		p.streak++
	}
	return f
}

func (p *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fate := p.fate()
	if fate == fateLoseRequest {
		p.lostRequests.Add(1)
		hangUp(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		hangUp(w)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		hangUp(w)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.hc.Do(req)
	if err != nil {
		hangUp(w)
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || fate == fateLoseResponse {
		// The service acted; the client never hears of it.
		p.lostResponses.Add(1)
		hangUp(w)
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(data)
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

// retrier is the client under test: every request is tried up to four
// times (three retries) on network errors, and again, after Retry-After,
// when the service says the same idempotent request is still in progress.
type retrier struct {
	base     string
	token    string
	hc       *http.Client
	attempts atomic.Int64
}

func newRetrier(base, token string) *retrier {
	// No keep-alive: a new connection per attempt, so that net/http's own
	// retry of requests on reused connections stays out of the count.
	return &retrier{base: base, token: token, hc: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}}
}

// do sends one logical request; extra are header name/value pairs, sent
// unchanged on every attempt. tries is how many attempts it took.
func (c *retrier) do(t *testing.T, method, path string, body any, extra ...string) (r *response, tries int) {
	t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	var last error
	for tries = 1; tries <= 4; tries++ {
		c.attempts.Add(1)
		req, err := http.NewRequest(method, c.base+path, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		for i := 0; i+1 < len(extra); i += 2 {
			req.Header.Set(extra[i], extra[i+1])
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			last = err
			continue // a network error: try again
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		r = &response{req: method + " " + path, Status: resp.StatusCode, Header: resp.Header, Body: got}
		if r.Status == http.StatusConflict && r.Header.Get("Retry-After") != "" {
			last = fmt.Errorf("%s", r)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		return r, tries
	}
	t.Fatalf("%s %s: no answer after 4 attempts: %v", method, path, last)
	return nil, 0
}

func idempotencyKey() string { return "e2e-" + rand.Text() }

// loose unmarshals r's body into v, ignoring the fields v does not name.
func loose(t *testing.T, r *response, v any) bool {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Errorf("%s: decode into %T: %v", r, v, err)
		return false
	}
	return true
}

func TestRetryingClient(t *testing.T) {
	skipShort(t)
	t.Parallel()
	a := startAPI(t,
		"DATABASE_URL="+testenv.PostgresDatabase(t),
		"BETTER_AUTH_SECRET="+testSecret,
	)
	testenv.WaitHTTP(t, a.Process, a.URL+"/readyz", http.StatusOK, startTimeout)
	id := newUserID(t)
	token := signHS256(t, testSecret, userClaims(id))
	direct := newClient(a.URL) // the truth, without the proxy
	list := func(t *testing.T) []apiTask {
		return tasks(t, direct.do(t, http.MethodGet, tasksPath(id)+"?limit=200", token, nil))
	}

	t.Run("creates with keys happen once", func(t *testing.T) {
		proxy, url := newLossyProxy(t, a.URL, 1)
		c := newRetrier(url, token)
		const n = 25
		var want []string
		for i := range n {
			title := fmt.Sprintf("keyed %02d", i)
			want = append(want, title)
			r, _ := c.do(t, http.MethodPost, tasksPath(id), map[string]any{"title": title}, "Idempotency-Key", idempotencyKey())
			task(t, r, http.StatusCreated)
		}
		r, _ := c.do(t, http.MethodPost, tasksPath(id)+"/bulk",
			[]map[string]any{{"title": "bulk a"}, {"title": "bulk b"}, {"title": "bulk c"}}, "Idempotency-Key", idempotencyKey())
		if !expect(t, r, http.StatusCreated) {
			t.FailNow()
		}
		want = append(want, "bulk a", "bulk b", "bulk c")
		slices.Sort(want)
		var got []string
		for _, tk := range list(t) {
			if strings.HasPrefix(tk.Title, "keyed") || strings.HasPrefix(tk.Title, "bulk") {
				got = append(got, tk.Title)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("after %d keyed creates through the proxy, tasks = %q, want each once: %q", n+1, got, want)
		}
		t.Logf("%d attempts for %d requests; the proxy lost %d requests and %d responses",
			c.attempts.Load(), n+1, proxy.lostRequests.Load(), proxy.lostResponses.Load())
		if proxy.lostResponses.Load() == 0 {
			t.Errorf("the proxy lost no response: the test proved nothing")
		}
	})

	t.Run("creates without keys happen twice", func(t *testing.T) {
		// The control: the same client without keys duplicates tasks, so
		// the proxy does lose answers to requests the service carried out.
		other := newUserID(t)
		otherToken := signHS256(t, testSecret, userClaims(other))
		proxy, url := newLossyProxy(t, a.URL, 1)
		c := newRetrier(url, otherToken)
		const n = 25
		for i := range n {
			r, _ := c.do(t, http.MethodPost, tasksPath(other), map[string]any{"title": fmt.Sprintf("unkeyed %02d", i)})
			task(t, r, http.StatusCreated)
		}
		got := tasks(t, direct.do(t, http.MethodGet, tasksPath(other)+"?limit=200", otherToken, nil))
		if len(got) != n+int(proxy.lostResponses.Load()) || len(got) == n {
			t.Errorf("without keys: %d tasks from %d creates and %d lost responses, want one extra per lost response",
				len(got), n, proxy.lostResponses.Load())
		}
	})

	t.Run("edits with If-Match are never lost", func(t *testing.T) {
		r := direct.do(t, http.MethodPost, tasksPath(id), token, map[string]any{"title": "shared", "description": ""})
		shared := task(t, r, http.StatusCreated)
		const edits = 8
		var wg sync.WaitGroup
		for w, seed := range []uint64{2, 3, 4} {
			proxy, url := newLossyProxy(t, a.URL, seed)
			c := newRetrier(url, token)
			wg.Go(func() {
				conflicts := 0
				for i := range edits {
					conflicts += appendMark(t, c, id, shared.ID, fmt.Sprintf("[w%d.%d]", w, i))
				}
				t.Logf("writer %d: %d edits, %d conflicts, %d attempts; the proxy lost %d requests and %d responses",
					w, edits, conflicts, c.attempts.Load(), proxy.lostRequests.Load(), proxy.lostResponses.Load())
			})
		}
		wg.Wait()
		final := direct.do(t, http.MethodGet, taskPath(id, shared.ID), token, nil)
		var got struct{ Description string }
		if !expect(t, final, http.StatusOK) || !loose(t, final, &got) {
			t.FailNow()
		}
		for w := range 3 {
			for i := range edits {
				if mark := fmt.Sprintf("[w%d.%d]", w, i); strings.Count(got.Description, mark) != 1 {
					t.Errorf("mark %s appears %d times in %q, want once: an edit was lost or applied twice",
						mark, strings.Count(got.Description, mark), got.Description)
				}
			}
		}
	})

	t.Run("deletes are undone", func(t *testing.T) {
		proxy, url := newLossyProxy(t, a.URL, 5)
		c := newRetrier(url, token)
		var before []apiTask
		for i := range 6 {
			r := direct.do(t, http.MethodPost, tasksPath(id), token, map[string]any{"title": fmt.Sprintf("undo %d", i), "tags": []string{"undo"}})
			before = append(before, task(t, r, http.StatusCreated))
		}
		for _, tk := range before {
			r, tries := c.do(t, http.MethodDelete, taskPath(id, tk.ID), nil)
			// A retried delete whose first answer was lost finds it gone.
			if r.Status != http.StatusNoContent && !(tries > 1 && r.Status == http.StatusNotFound) {
				t.Errorf("%s after %d attempts, want 204 (or 404 on a retry)", r, tries)
			}
		}
		trash := direct.do(t, http.MethodGet, "/api/"+id+"/trash", token, nil)
		var trashed []apiTask
		if !expect(t, trash, http.StatusOK) || !loose(t, trash, &trashed) || len(trashed) != len(before) {
			t.Fatalf("trash = %s, want the %d deleted tasks", trash, len(before))
		}
		for _, tk := range before {
			r, _ := c.do(t, http.MethodPost, taskPath(id, tk.ID)+"/restore", nil, "Idempotency-Key", idempotencyKey())
			back := task(t, r, http.StatusOK)
			if back.UpdatedAt != tk.UpdatedAt || back.Title != tk.Title || r.Header.Get("ETag") == "" {
				t.Errorf("restored %s = %+v, want it as it was: %+v", taskPath(id, tk.ID), back, tk)
			}
		}
		var undone []int64
		for _, tk := range list(t) {
			if strings.HasPrefix(tk.Title, "undo") {
				undone = append(undone, tk.ID)
			}
		}
		if !slices.Equal(undone, ids(before)) {
			t.Errorf("after restoring, tasks %v, want %v", undone, ids(before))
		}
		t.Logf("the proxy lost %d requests and %d responses", proxy.lostRequests.Load(), proxy.lostResponses.Load())
	})
}

// appendMark adds mark to the task's description the way a careful client
// does: read, change, write with If-Match; on 412 look at the task as it
// is now (the 412 carries it), and stop if the mark is there (an earlier
// attempt landed but its answer was lost) or try again on the new version.
// It returns how many conflicts it met.
func appendMark(t *testing.T, c *retrier, userID string, taskID int64, mark string) int {
	t.Helper()
	r, _ := c.do(t, http.MethodGet, taskPath(userID, taskID), nil)
	var cur struct{ Description string }
	if !expect(t, r, http.StatusOK) || !loose(t, r, &cur) {
		t.FailNow()
	}
	etag := r.Header.Get("ETag")
	for conflicts := 0; ; conflicts++ {
		if strings.Contains(cur.Description, mark) {
			return conflicts
		}
		r, _ = c.do(t, http.MethodPatch, taskPath(userID, taskID), map[string]any{"description": cur.Description + mark},
			"If-Match", etag, "Content-Type", "application/merge-patch+json")
		switch r.Status {
		case http.StatusOK:
			return conflicts
		case http.StatusPreconditionFailed:
			var body struct {
				Current struct{ Description string }
			}
			if !loose(t, r, &body) {
				t.FailNow()
			}
			cur.Description, etag = body.Current.Description, r.Header.Get("ETag")
		default:
			t.Fatalf("%s, want 200 or 412", r)
		}
		if conflicts > 100 {
			t.Fatalf("%s: more than 100 conflicts", mark)
		}
	}
}
