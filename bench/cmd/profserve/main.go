// Command profserve is the service exactly as `todo-api serve` builds it
// (bootstrap.App from the same environment variables) plus net/http/pprof on
// PPROF_ADDR (default 127.0.0.1:6060), so that `make bench PROFILE=1` can
// take a CPU profile of the real request path under load. The production
// binary serves no pprof; this one is for benchmarks only.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/bootstrap"
)

func main() {
	c, err := bootstrap.LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "profserve: configuration:\n%v\n", err)
		os.Exit(1)
	}
	c.Version = "profserve"
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	fx.New(bootstrap.App(c), fx.Invoke(func(lc fx.Lifecycle, log *zap.Logger) {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					return fmt.Errorf("pprof listen: %w", err)
				}
				go func() {
					if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
						log.Error("pprof server stopped", zap.Error(err))
					}
				}()
				return nil
			},
			OnStop: srv.Shutdown,
		})
	})).Run()
}
