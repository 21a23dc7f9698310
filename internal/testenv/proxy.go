package testenv

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to upstream (the
// machine's PostgreSQL), and plays the network failing in between, so that
// outage tests need not touch PostgreSQL itself (other tests use it
// meanwhile):
//   - Stop: the port refuses connections and every open one is closed, as
//     when PostgreSQL goes down;
//   - Blackhole: connections are accepted and kept, but no byte passes in
//     either direction, as when a network path silently drops packets;
//   - Heal: back to forwarding (after Stop, on the same port).
type Proxy struct {
	upstream string
	// Addr is 127.0.0.1:port, fixed for the proxy's life.
	Addr string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	holed  bool
	healed chan struct{} // closed when not holed
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to upstream (host:port), stopped when the test
// ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p := &Proxy{upstream: upstream, conns: map[net.Conn]bool{}, healed: make(chan struct{})}
	close(p.healed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

func (p *Proxy) serve(ln net.Listener) {
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

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil { // stopped meanwhile
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.healed
}

func (p *Proxy) forward(client net.Conn) {
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

// Stop refuses new connections and cuts the open ones.
func (p *Proxy) Stop() {
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

// Blackhole holds every byte and every new connection until Heal.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.holed {
		p.holed = true
		p.healed = make(chan struct{})
	}
}

// Heal forwards again: on the same port after Stop, and releasing what a
// blackhole held.
func (p *Proxy) Heal(t testing.TB) {
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
	ln, err := net.Listen("tcp", p.Addr) // SO_REUSEADDR: the port is free again at once
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.Addr, err)
	}
	p.serve(ln)
}

func (p *Proxy) close() {
	p.mu.Lock()
	if p.holed {
		p.holed = false
		close(p.healed)
	}
	p.mu.Unlock()
	p.Stop()
	p.wg.Wait()
}
