package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
)

// TestBodyReadDeadlineCleared: once bodyFilter has read a body, the
// connection keeps no read deadline. With one left (huma sets the
// operation's BodyReadTimeout on the connection and never clears it),
// net/http's background read of a kept-alive connection times out while a
// slow handler still runs, and cancels the context of that request and of
// every later one on the connection: the black-hole drill saw every request
// answered 499 at once, even after PostgreSQL was back.
func TestBodyReadDeadlineCleared(t *testing.T) {
	const readTimeout = 50 * time.Millisecond
	r := chi.NewRouter()
	api := humachi.New(r, huma.DefaultConfig("t", "1"))
	h := &handlers{api: api, maxBody: DefaultMaxBodyBytes}
	type in struct {
		Body struct {
			Title string `json:"title"`
		}
	}
	type out struct{ Body string }
	huma.Register(api, huma.Operation{
		OperationID: "slow", Method: http.MethodPost, Path: "/slow",
		BodyReadTimeout: readTimeout,
		Middlewares:     huma.Middlewares{h.bodyFilter(nil)},
	}, func(ctx context.Context, _ *in) (*out, error) {
		// Well past the read deadline: the background read has timed out
		// by now if the deadline is still set.
		time.Sleep(10 * readTimeout)
		if err := ctx.Err(); err != nil {
			return &out{Body: "canceled: " + err.Error()}, nil
		}
		return &out{Body: "ok"}, nil
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	client := srv.Client() // keeps the connection alive between the two requests
	for i := range 2 {
		resp, err := client.Post(srv.URL+"/slow", "application/json", strings.NewReader(`{"title":"a"}`))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(b)); got != `"ok"` {
			t.Errorf("request %d on one connection: %s %s, want 200 \"ok\"", i, resp.Status, got)
		}
	}
}
