package mw

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
)

// TestRespWriter checks the cases of respWriter that the router's own
// handlers do not reach: a flush, a handler that sets its own
// Content-Length, a second status, a status with no body, no answer at all.
func TestRespWriter(t *testing.T) {
	var rec *httptest.ResponseRecorder
	serve := func(h http.HandlerFunc) *httptest.ResponseRecorder {
		rec = httptest.NewRecorder()
		AccessLog(zap.NewNop(), nil)(h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
		return rec
	}

	var sentAtFlush string
	serve(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("a"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		sentAtFlush = rec.Body.String()
		_, _ = w.Write([]byte("b"))
	})
	if sentAtFlush != "a" || rec.Body.String() != "ab" || !rec.Flushed || rec.Header().Get("Content-Length") != "" {
		t.Errorf("flush: sent %q at the flush, %q in all (flushed %v, Content-Length %q); want a, ab, true, none",
			sentAtFlush, rec.Body.String(), rec.Flushed, rec.Header().Get("Content-Length"))
	}

	var codeAtWrite int
	serve(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "3")
		w.WriteHeader(http.StatusPartialContent)
		codeAtWrite = rec.Code
		_, _ = w.Write([]byte("abc"))
	})
	if codeAtWrite != http.StatusPartialContent || rec.Body.String() != "abc" {
		t.Errorf("own Content-Length: status %d when written, body %q; want 206 at once, abc", codeAtWrite, rec.Body.String())
	}

	rec = serve(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"a":1}`))
	})
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"a":1}` || rec.Header().Get("Content-Length") != "7" {
		t.Errorf("held: %d %q, Content-Length %q; want 201, the body, 7", rec.Code, rec.Body.String(), rec.Header().Get("Content-Length"))
	}

	rec = serve(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	if rec.Code != http.StatusAccepted || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "0" {
		t.Errorf("status alone: %d, %d bytes, Content-Length %q; want 202, none, 0", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}

	rec = serve(func(http.ResponseWriter, *http.Request) {})
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Errorf("no answer: %d, %d bytes, header %v; want it left to net/http", rec.Code, rec.Body.Len(), rec.Header())
	}
}
