package reliability

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// soakDuration is SOAK_DURATION (make soak: 60s), or 5s: the short soak that
// runs with every `go test`, checking what a short run can (no 5xx, every
// acknowledged write stored, goroutines back to where they started) but not
// growth, which needs SOAK_DURATION of at least 30s.
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("SOAK_DURATION")
	if v == "" {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		t.Fatalf("SOAK_DURATION=%q: want a duration of at least 1s such as 60s", v)
	}
	return d
}

// sample is the service's own runtime figures at one moment, from /metrics.
type sample struct {
	at         time.Duration // since the load began
	goroutines float64
	heapInuse  float64
}

func scrape(c *http.Client, url string) (goroutines, heap float64, err error) {
	resp, err := c.Get(url + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET /metrics = %d", resp.StatusCode)
	}
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "go_goroutines":
			goroutines, err = strconv.ParseFloat(value, 64)
			found++
		case "go_memstats_heap_inuse_bytes":
			heap, err = strconv.ParseFloat(value, 64)
			found++
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("/metrics lacks go_goroutines or go_memstats_heap_inuse_bytes")
	}
	return goroutines, heap, sc.Err()
}

// soakWorker is one client with its own user and its own model of what the
// service stored for that user; since nobody else touches the user's tasks,
// every list must equal the model exactly.
type soakWorker struct {
	user     user
	model    map[int64]storedTask
	requests int
	statuses map[int]int
	problems []string
	took     []time.Duration
}

func (w *soakWorker) fail(format string, args ...any) {
	if len(w.problems) < 5 {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

func (w *soakWorker) pick(r *rand.Rand) (int64, bool) {
	if len(w.model) == 0 {
		return 0, false
	}
	n := r.IntN(len(w.model))
	for id := range w.model {
		if n == 0 {
			return id, true
		}
		n--
	}
	return 0, false
}

// step sends one request of the mix: create 30%, list 20%, get 15%, replace
// 15%, toggle 10%, delete 10% (more deletes once a user has 40 tasks).
func (w *soakWorker) step(ctx context.Context, c *client, r *rand.Rand, n int) {
	op := r.IntN(100)
	if len(w.model) >= 40 && op < 30 {
		op = 95
	}
	id, has := w.pick(r)
	if !has && op >= 50 {
		op = 0
	}
	var o outcome
	switch {
	case op < 30:
		title := fmt.Sprintf("soak %d%s", n, strings.Repeat("é", r.IntN(50)))
		o = c.do(ctx, http.MethodPost, w.user.tasks(), w.user.token, map[string]any{"title": title, "description": "d"})
		if o.status == http.StatusCreated {
			if tk, err := o.task(); err == nil && tk.Title == title {
				w.model[tk.ID] = storedTask{Title: title}
			} else {
				w.fail("create answered %v", o)
			}
		}
	case op < 50:
		o = c.do(ctx, http.MethodGet, w.user.tasks(), w.user.token, nil)
		if o.status == http.StatusOK {
			ts, err := o.tasks()
			if err != nil || len(ts) != len(w.model) {
				w.fail("list has %d tasks, the model %d (%v)", len(ts), len(w.model), err)
			}
			for _, tk := range ts {
				if m, ok := w.model[tk.ID]; !ok || m.Title != tk.Title || m.Completed != tk.Completed {
					w.fail("list shows %+v, the model %+v", tk, m)
				}
			}
		}
	case op < 65:
		o = c.do(ctx, http.MethodGet, w.user.task(id), w.user.token, nil)
		if tk, err := o.task(); o.status == http.StatusOK && (err != nil || tk.Title != w.model[id].Title || tk.Completed != w.model[id].Completed) {
			w.fail("get %d = %v, the model %+v", id, o, w.model[id])
		}
	case op < 80:
		title := fmt.Sprintf("replaced %d", n)
		done := r.IntN(2) == 0
		o = c.do(ctx, http.MethodPut, w.user.task(id), w.user.token, map[string]any{"title": title, "completed": done})
		if o.status == http.StatusOK {
			w.model[id] = storedTask{Title: title, Completed: done}
		}
	case op < 90:
		o = c.do(ctx, http.MethodPatch, w.user.toggle(id), w.user.token, nil)
		if o.status == http.StatusOK {
			m := w.model[id]
			m.Completed = !m.Completed
			w.model[id] = m
			if tk, err := o.task(); err != nil || tk.Completed != m.Completed {
				w.fail("toggle %d answered %v, want completed %v", id, o, m.Completed)
			}
		}
	default:
		o = c.do(ctx, http.MethodDelete, w.user.task(id), w.user.token, nil)
		if o.status == http.StatusNoContent {
			delete(w.model, id)
		}
	}
	w.requests++
	w.statuses[o.status]++
	w.took = append(w.took, o.took)
	if o.err != nil {
		w.fail("transport error: %v", o)
	} else if o.status >= 300 {
		w.fail("unexpected answer: %v", o)
	}
}

// TestSoak drives a mixed load at concurrency 64 against the binary on
// PostgreSQL for SOAK_DURATION (5s by default, `make soak`: 60s), then
// checks: no 5xx and no other failure, every acknowledged write (and
// delete) is what the database holds, and, for runs of 30s or more, the
// service's goroutines and heap (from its own /metrics) did not grow between
// the first and the last 10 seconds. After the load, its goroutines must
// fall back to where they were before it.
func TestSoak(t *testing.T) {
	heavy(t)
	t.Parallel()
	d := soakDuration(t)
	concurrency := 64
	if v := os.Getenv("SOAK_CONCURRENCY"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			concurrency = n
		}
	}
	dbURL := testenv.PostgresDatabase(t)
	a := startReady(t, "todo-api", "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
	mc := &http.Client{Timeout: 5 * time.Second}
	baseGoroutines, baseHeap, err := scrape(mc, a.URL)
	if err != nil {
		t.Fatal(err)
	}

	c := newClient(a.URL, 15*time.Second)
	workers := make([]*soakWorker, concurrency)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var samples []sample
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			g, h, err := scrape(mc, a.URL)
			if err != nil {
				t.Errorf("scrape /metrics during the soak: %v", err)
				return
			}
			samples = append(samples, sample{at: time.Since(start), goroutines: g, heapInuse: h})
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	})
	for i := range workers {
		w := &soakWorker{user: newUser(t), model: map[int64]storedTask{}, statuses: map[int]int{}}
		workers[i] = w
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				if ctx.Err() != nil {
					return
				}
				w.step(context.Background(), c, r, n)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	c.close()

	// Every acknowledged write is stored, every acknowledged delete gone.
	conn := connect(t, dbURL)
	var requests, fiveXX, acked, mismatched int
	statuses := map[int]int{}
	var took []time.Duration
	for _, w := range workers {
		requests += w.requests
		for s, n := range w.statuses {
			statuses[s] += n
			if s >= 500 {
				fiveXX += n
			}
		}
		took = append(took, w.took...)
		for _, p := range w.problems {
			t.Errorf("%s: %s", w.user.id, p)
		}
		stored := storedTasks(t, conn, w.user.id)
		acked += len(w.model)
		for id, m := range w.model {
			if s, ok := stored[id]; !ok || s != m {
				mismatched++
				t.Errorf("%s: task %d is %+v in the database (present %v), acknowledged as %+v", w.user.id, id, s, ok, m)
			}
		}
		for id := range stored {
			if _, ok := w.model[id]; !ok {
				mismatched++
				t.Errorf("%s: task %d is in the database but was deleted (or never acknowledged)", w.user.id, id)
			}
		}
	}
	if fiveXX > 0 {
		t.Errorf("%d answers were 5xx, want none", fiveXX)
	}

	// Goroutines fall back once the clients are gone.
	var afterGoroutines, afterHeap float64
	deadline := time.Now().Add(15 * time.Second)
	for {
		afterGoroutines, afterHeap, err = scrape(mc, a.URL)
		if err != nil {
			t.Fatal(err)
		}
		if afterGoroutines <= baseGoroutines+5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if afterGoroutines > baseGoroutines+5 {
		t.Errorf("goroutines after the load = %v, before it %v: something the load started did not end", afterGoroutines, baseGoroutines)
	}

	growth := "not judged (SOAK_DURATION under 30s)"
	if d >= 30*time.Second {
		first, last := window(samples, 0, 10*time.Second), window(samples, elapsed-10*time.Second, elapsed)
		if len(first) == 0 || len(last) == 0 {
			t.Fatalf("too few /metrics samples: %d", len(samples))
		}
		gFirst, gLast := maxOf(first, func(s sample) float64 { return s.goroutines }), maxOf(last, func(s sample) float64 { return s.goroutines })
		hFirst, hLast := meanOf(first, func(s sample) float64 { return s.heapInuse }), meanOf(last, func(s sample) float64 { return s.heapInuse })
		// Goroutines: one per open connection and a few of the runtime;
		// the same load has the same count. Heap: the garbage collector
		// keeps it within a band; a leak climbs steadily out of it.
		if gLast > gFirst+16 {
			t.Errorf("goroutines grew: at most %v in the first 10 s, %v in the last 10 s", gFirst, gLast)
		}
		if hLast > hFirst*1.5+8<<20 {
			t.Errorf("heap in use grew: %.1f MiB on average in the first 10 s, %.1f MiB in the last 10 s", hFirst/(1<<20), hLast/(1<<20))
		}
		growth = fmt.Sprintf("goroutines at most %v in the first 10 s, %v in the last; heap in use %.1f MiB on average in the first 10 s, %.1f MiB in the last",
			gFirst, gLast, hFirst/(1<<20), hLast/(1<<20))
	}
	t.Logf("figures: soak: %v at concurrency %d: %d requests (%.0f/s), statuses %v, %d 5xx; p50 %v, p99 %v, max %v",
		elapsed.Round(100*time.Millisecond), concurrency, requests, float64(requests)/elapsed.Seconds(), statuses, fiveXX,
		percentile(took, 50).Round(10*time.Microsecond), percentile(took, 99).Round(10*time.Microsecond), percentile(took, 100).Round(time.Millisecond))
	t.Logf("figures: soak: %d tasks held at the end as acknowledged, %d differ from the database; goroutines %v before the load, %v after; heap in use %.1f MiB before, %.1f MiB after; %s",
		acked, mismatched, baseGoroutines, afterGoroutines, baseHeap/(1<<20), afterHeap/(1<<20), growth)
}

func window(s []sample, from, to time.Duration) []sample {
	var out []sample
	for _, x := range s {
		if x.at >= from && x.at <= to {
			out = append(out, x)
		}
	}
	return out
}

func maxOf(s []sample, f func(sample) float64) float64 {
	m := 0.0
	for _, x := range s {
		m = max(m, f(x))
	}
	return m
}

func meanOf(s []sample, f func(sample) float64) float64 {
	sum := 0.0
	for _, x := range s {
		sum += f(x)
	}
	return sum / float64(len(s))
}
