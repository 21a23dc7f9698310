//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package httpapi

import (
	"errors"
	"net"
	"syscall"
)

// peerClosed reports whether c's peer has closed it (or it failed), without
// blocking and without consuming anything: a peek of one byte that reads
// end-of-file. A stream's client sends nothing after its request, so this
// is how an idle stream finds its client gone without a goroutine blocked
// in Read. False when it cannot tell (not a socket, e.g. TLS).
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true // closed already
	}
	closed := false
	err = rc.Read(func(fd uintptr) bool {
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
