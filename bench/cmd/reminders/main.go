// Command reminders measures the reminder scheduler's throughput (issue
// 18): reminders delivered per second to a local webhook receiver, by one
// and by two instances of the service on one PostgreSQL database. For each
// instance count it creates a fresh database, starts the instances
// (REMINDERS_POLL=100ms, WEBHOOK_ALLOW_PRIVATE=true), registers a webhook
// per user, creates -n reminders all due at the same instant, and times
// from that instant to the last delivery. bench/bench.sh runs it (scenario
// "reminders").
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/domain/auth"
)

const secret = "bench-reminders-secret-0123456789abcdef0123"

func main() {
	bin := flag.String("bin", "bin/todo-api", "the service's binary")
	dbURL := flag.String("db", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "a database on the server to use (a fresh database is made beside it)")
	n := flag.Int("n", 2000, "reminders per run")
	counts := flag.String("instances", "1,2", "instance counts to run")
	flag.Parse()
	for _, c := range strings.Split(*counts, ",") {
		k, err := strconv.Atoi(c)
		if err != nil || k < 1 {
			fail(fmt.Errorf("bad instance count %q", c))
		}
		if err := run(*bin, *dbURL, *n, k); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "reminders:", err)
	os.Exit(1)
}

type receiver struct {
	mu    sync.Mutex
	seen  map[string]int
	last  time.Time
	first time.Time
	done  chan struct{}
	want  int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	now := time.Now()
	if len(rc.seen) == 0 {
		rc.first = now
	}
	rc.seen[r.Header.Get("webhook-id")]++
	rc.last = now
	if len(rc.seen) == rc.want {
		close(rc.done)
	}
	w.WriteHeader(http.StatusNoContent)
}

func run(bin, base string, n, instances int) error {
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "bench_reminders_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return err
	}
	defer func() { _, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") }()
	u, _ := url.Parse(base)
	u.Path = "/" + name
	rc := &receiver{seen: map[string]int{}, done: make(chan struct{}), want: n}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	var urls []string
	for i := range instances {
		port, err := freePort()
		if err != nil {
			return err
		}
		cmd := exec.Command(bin, "serve")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=" + strconv.Itoa(port), "DATABASE_URL=" + u.String(),
			"BETTER_AUTH_SECRET=" + secret, "WEBHOOK_ALLOW_PRIVATE=true", "REMINDERS_POLL=100ms", "LOG_LEVEL=warn"}
		if err := cmd.Start(); err != nil {
			return err
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
		if err := waitReady(urls[i]); err != nil {
			return err
		}
	}
	// 20 users, a webhook each, their tasks due all at once.
	const users = 20
	at := time.Now().Add(time.Duration(5+n/250) * time.Second).Truncate(time.Second)
	for k := range users {
		id := fmt.Sprintf("bench_rem_%d", k)
		tok, err := jwks.SignHS256([]byte(secret), auth.Identity{UserID: auth.UserID(id), Email: id + "@example.test", Name: id}, time.Hour, time.Now(), "", "")
		if err != nil {
			return err
		}
		if err := post(urls[0]+"/api/"+id+"/webhooks", tok, map[string]string{"url": srv.URL + "/" + id}); err != nil {
			return err
		}
		mine := n/users + boolInt(k < n%users)
		for off := 0; off < mine; off += 100 {
			var items []map[string]any
			for i := off; i < min(off+100, mine); i++ {
				items = append(items, map[string]any{"title": fmt.Sprintf("r%d", i), "reminders": []map[string]string{{"at": at.UTC().Format(time.RFC3339)}}})
			}
			if err := post(urls[0]+"/api/"+id+"/tasks/bulk", tok, items); err != nil {
				return err
			}
		}
	}
	if time.Now().After(at) {
		return fmt.Errorf("setting up %d reminders took past their time", n)
	}
	select {
	case <-rc.done:
	case <-time.After(time.Until(at) + 120*time.Second):
	}
	time.Sleep(500 * time.Millisecond)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	dups := 0
	for _, c := range rc.seen {
		dups += c - 1
	}
	took := rc.last.Sub(at)
	fmt.Printf("reminders: instances %d, %d due at one instant, delivered %d (repeats %d), first %v after their time, last %v: %.0f delivered/s\n",
		instances, n, len(rc.seen), dups, rc.first.Sub(at).Round(time.Millisecond), took.Round(time.Millisecond), float64(len(rc.seen))/took.Seconds())
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func post(u, tok string, body any) error {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("POST %s: %d %.200s", u, res.StatusCode, b)
	}
	return nil
}

func waitReady(base string) error {
	for range 200 {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready", base)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
