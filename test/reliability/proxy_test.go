package reliability

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// proxy forwards TCP connections from a loopback port to upstream (the
// machine's PostgreSQL), and plays the network failing in between:
//   - stop: the port refuses connections and every open one is closed, as
//     when PostgreSQL goes down;
//   - blackhole: connections are accepted and kept, but no byte passes in
//     either direction, as when a network path silently drops packets;
//   - heal: back to forwarding (after stop, on the same port).
//
// PostgreSQL itself is never touched: other tests use it meanwhile.
type proxy struct {
	upstream string
	addr     string // 127.0.0.1:port, fixed for the proxy's life

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	holed  bool
	healed chan struct{} // closed when not holed
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	p := &proxy{upstream: upstream, conns: map[net.Conn]bool{}, healed: make(chan struct{})}
	close(p.healed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil { // stopped meanwhile
		return false
	}
	p.conns[c] = true
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.healed
}

func (p *proxy) forward(client net.Conn) {
	defer client.Close()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	<-p.gate() // a blackholed connection is accepted but goes nowhere
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				<-p.gate() // hold the bytes while blackholed
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					if tc, ok := dst.(*net.TCPConn); ok {
						tc.CloseWrite()
					}
				}
				return
			}
		}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	client.Close()
	server.Close()
	<-done
}

// stop refuses new connections and cuts the open ones.
func (p *proxy) stop() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	conns := p.conns
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for c := range conns {
		c.Close()
	}
}

// blackhole holds every byte and every new connection until heal.
func (p *proxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.holed {
		p.holed = true
		p.healed = make(chan struct{})
	}
}

// heal forwards again: on the same port after stop, and releasing what a
// blackhole held.
func (p *proxy) heal(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	if p.holed {
		p.holed = false
		close(p.healed)
	}
	listening := p.ln != nil
	p.mu.Unlock()
	if listening {
		return
	}
	ln, err := net.Listen("tcp", p.addr) // SO_REUSEADDR: the port is free again at once
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *proxy) close() {
	p.mu.Lock()
	if p.holed {
		p.holed = false
		close(p.healed)
	}
	p.mu.Unlock()
	p.stop()
	p.wg.Wait()
}
