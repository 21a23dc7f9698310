package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/httpapi"
)

// blockingBody is a request body that sends nothing until released.
type blockingBody struct{ release chan struct{} }

func (b *blockingBody) Read(p []byte) (int, error) {
	<-b.release
	return 0, io.EOF
}

// TestBodyBytesInFlight: with the bodies in flight at the bound, a request
// with a body waits for room until its deadline, then gets 503 with
// Retry-After; one without a body is not held; once room is made the same
// request goes through.
func TestBodyBytesInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *httpapi.Deps) {
		d.Config.BodyBytesInFlight = httpapi.DefaultMaxBodyBytes
		d.Config.RequestTimeout = 300 * time.Millisecond
	})
	u := e.newUser(t)
	hold := &blockingBody{release: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Go(func() {
		// A streamed body of unknown length reserves the largest body:
		// all the room there is.
		req := httptest.NewRequest(http.MethodPost, u.tasks(), hold)
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+u.token)
		e.handler.ServeHTTP(httptest.NewRecorder(), req)
	})
	// The holder is in once a request with a body no longer gets through
	// (until then it is read: 422, and nothing is written).
	var res *response
	for range 100 {
		res = e.do(t, request{method: http.MethodPost, path: u.tasks(), token: u.token, body: `{"title": 5}`, outsideDoc: true})
		if res.status != http.StatusUnprocessableEntity {
			break
		}
	}
	wantDetail(t, "POST while the bodies in flight are at the bound", res, http.StatusServiceUnavailable, "")
	if res.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	wantStatus(t, "GET meanwhile", e.call(t, http.MethodGet, u.tasks(), u.token, ""), http.StatusOK)
	close(hold.release)
	wg.Wait()
	wantStatus(t, "POST once there is room", e.call(t, http.MethodPost, u.tasks(), u.token, `{"title": "in"}`), http.StatusCreated)
}
