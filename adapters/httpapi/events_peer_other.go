//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package httpapi

import (
	"net"
	"syscall"
)

// rawOf is nil here: an idle stream's keepalive is written by its
// goroutine, and a client that left is found when a write fails.
func rawOf(net.Conn) syscall.RawConn { return nil }

func peerClosed(syscall.RawConn) bool { return false }

func writeNow(syscall.RawConn, []byte) (int, bool) { return 0, false }
