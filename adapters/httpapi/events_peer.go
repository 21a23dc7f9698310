//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package httpapi

import (
	"errors"
	"net"
	"syscall"
)

// rawOf returns c's socket, for the non-blocking system calls below; nil
// when c is not one (TLS).
func rawOf(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// peerClosed reports whether the peer of rc has closed it (or it failed),
// without blocking and without consuming anything: a peek of one byte
// that reads end-of-file. A stream's client sends nothing after its
// request, so this is how an idle stream finds its client gone without a
// goroutine blocked in Read.
func peerClosed(rc syscall.RawConn) bool {
	closed := false
	err := rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			closed = n == 0
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
		default:
			closed = true
		}
		return true // never wait for readability
	})
	return closed || err != nil
}

// writeNow writes what of b the socket takes at once, never waiting: n
// bytes (0 when its buffer is full); failed when the connection is broken.
func writeNow(rc syscall.RawConn, b []byte) (n int, failed bool) {
	err := rc.Write(func(fd uintptr) bool {
		m, err := syscall.Write(int(fd), b)
		switch {
		case err == nil:
			n = m
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
		default:
			failed = true
		}
		return true // never wait for writability
	})
	return n, failed || err != nil
}
