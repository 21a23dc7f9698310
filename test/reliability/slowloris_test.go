package reliability

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowLoris opens slow clients that send their request header one byte
// a second. With READ_HEADER_TIMEOUT=2s the server must drop each of them
// long before its header could end, and keep answering an ordinary client
// throughout. Without a header timeout the slow clients would hold their
// connections for as long as they keep dripping (the test gives up after 15
// bytes, which fails it).
func TestSlowLoris(t *testing.T) {
	heavy(t)
	t.Parallel()
	a := startReady(t, "todo-api", "DATABASE_URL=memory:", "READ_HEADER_TIMEOUT=2s")
	addr := strings.TrimPrefix(a.URL, "http://")
	u := newUser(t)
	const slow, maxBytes = 20, 15
	header := "GET " + u.tasks() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token + "\r\n\r\n"

	type dropped struct {
		sent int
		took time.Duration
		err  error
	}
	drops := make([]dropped, slow)
	var wg sync.WaitGroup
	for i := range slow {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				drops[i].err = err
				return
			}
			defer conn.Close()
			start := time.Now()
			// A reader notices the server closing the connection even
			// between two writes.
			closed := make(chan struct{})
			go func() {
				buf := make([]byte, 512)
				for {
					if _, err := conn.Read(buf); err != nil {
						close(closed)
						return
					}
				}
			}()
			for n := 0; n < maxBytes; n++ {
				if _, err := conn.Write([]byte{header[n]}); err != nil {
					break
				}
				drops[i].sent = n + 1
				select {
				case <-closed:
					drops[i].took = time.Since(start)
					return
				case <-time.After(time.Second):
				}
			}
			drops[i].sent = -1 // never dropped
		})
	}

	// An ordinary client meanwhile, every 100 ms until the slow ones end.
	c := newClient(a.URL, 5*time.Second)
	defer c.close()
	done := make(chan struct{})
	var served, failed int
	var ordinary sync.WaitGroup
	ordinary.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if o := c.do(context.Background(), http.MethodGet, u.tasks(), u.token, nil); o.status == http.StatusOK {
				served++
			} else {
				failed++
				t.Errorf("ordinary client during the slow-loris: %v", o)
			}
		}
	})
	wg.Wait()
	close(done)
	ordinary.Wait()

	var longest time.Duration
	for i, d := range drops {
		switch {
		case d.err != nil:
			t.Errorf("slow client %d: %v", i, d.err)
		case d.sent < 0:
			t.Errorf("slow client %d sent %d header bytes, one a second, and was never dropped", i, maxBytes)
		default:
			longest = max(longest, d.took)
		}
	}
	if served == 0 {
		t.Errorf("the ordinary client was never served during the slow-loris")
	}
	t.Logf("figures: slow-loris: %d clients sending one header byte a second were dropped after at most %v (READ_HEADER_TIMEOUT=2s); "+
		"an ordinary client was served %d times meanwhile, %d failures", slow, longest.Round(100*time.Millisecond), served, failed)
}
