package mw

import (
	"net/http"
	"strconv"
	"sync"
)

// maxHeldBody is the largest response respWriter holds back; a larger one
// (a list of hundreds of tasks, the metrics) is streamed as before, chunked.
const maxHeldBody = 64 << 10

// respWriter is the access log's ResponseWriter: it records the status and
// the size for the log and the metrics, as chi's WrapResponseWriter did, and
// holds back the status and body of a response until the handler returns,
// to send them with a Content-Length in one write. Without it net/http
// sends any body over 2 KB chunked, in several writes to the socket.
//
// It passes through at once: HEAD and OPTIONS requests (no body to hold),
// statuses that carry no body (1xx, 204, 304), answers that set their own
// Content-Length (documents served with http.ServeContent), a Flush, and a
// body once it grows past maxHeldBody.
type respWriter struct {
	http.ResponseWriter
	status  int  // the status the handler set; 0 while none
	bytes   int  // body bytes the handler wrote
	holding bool // status and body are held back, not yet sent
	buf     []byte
}

var respWriters = sync.Pool{New: func() any { return new(respWriter) }}

func newRespWriter(w http.ResponseWriter, method string) *respWriter {
	rw := respWriters.Get().(*respWriter)
	rw.ResponseWriter = w
	rw.holding = method != http.MethodHead && method != http.MethodOptions
	return rw
}

// free returns rw to the pool; it must not be used after.
func (rw *respWriter) free() {
	if cap(rw.buf) > maxHeldBody {
		rw.buf = nil
	}
	*rw = respWriter{buf: rw.buf[:0]}
	respWriters.Put(rw)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rw *respWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

func (rw *respWriter) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		rw.ResponseWriter.WriteHeader(code) // informational: more follows
		return
	}
	if rw.status != 0 {
		return // as chi's wrapper: only the first status counts
	}
	rw.status = code
	if rw.holding && (!bodyAllowed(code) || rw.Header().Get("Content-Length") != "") {
		rw.release()
	} else if !rw.holding {
		rw.ResponseWriter.WriteHeader(code)
	}
}

func (rw *respWriter) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.holding && len(rw.buf)+len(p) > maxHeldBody {
		rw.release()
	}
	if !rw.holding {
		n, err := rw.ResponseWriter.Write(p)
		rw.bytes += n
		return n, err
	}
	rw.buf = append(rw.buf, p...)
	rw.bytes += len(p)
	return len(p), nil
}

// Flush sends what is held, then flushes.
func (rw *respWriter) Flush() {
	rw.release()
	if f, ok := rw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// release stops holding back: it sends the status and the body so far,
// with no Content-Length, and lets the rest through.
func (rw *respWriter) release() {
	if !rw.holding {
		return
	}
	rw.holding = false
	if rw.status != 0 {
		rw.ResponseWriter.WriteHeader(rw.status)
	}
	if len(rw.buf) > 0 {
		_, _ = rw.ResponseWriter.Write(rw.buf)
		rw.buf = rw.buf[:0]
	}
}

// finish sends a held response with its Content-Length, after the handler
// returned. A handler that sent nothing is left to net/http (200, empty).
func (rw *respWriter) finish() {
	if !rw.holding {
		return
	}
	rw.holding = false
	if rw.status == 0 {
		return
	}
	h := rw.Header()
	if _, set := h["Content-Length"]; !set {
		h["Content-Length"] = []string{strconv.Itoa(len(rw.buf))}
	}
	rw.ResponseWriter.WriteHeader(rw.status)
	if len(rw.buf) > 0 {
		_, _ = rw.ResponseWriter.Write(rw.buf)
	}
}

// bodyAllowed reports whether a response with this status may have a body
// (RFC 9110: not 1xx, 204 or 304).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
