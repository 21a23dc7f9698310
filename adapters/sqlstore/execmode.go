package sqlstore

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// execMode is how the hand-written statements run (see withPgx), shared by
// every connection of one DB.
type execMode struct {
	mode atomic.Int32 // a pgx.QueryExecMode
}

func newExecMode(mode pgx.QueryExecMode, _ bool, _ func(Event)) *execMode {
	m := &execMode{}
	m.mode.Store(int32(mode))
	return m
}

func (m *execMode) load() pgx.QueryExecMode { return pgx.QueryExecMode(m.mode.Load()) }

// runPgx runs fn, one hand-written statement on pc (this connection's pgx
// connection), the way guard runs every other statement: refused at once
// while the breaker is open, under the statement deadline, its error
// classified.
func (c *guardConn) runPgx(ctx context.Context, pc *pgx.Conn, fn func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error) error {
	if err := c.g.admit(); err != nil {
		return err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.g.check(fn(ctx, pc, c.g.hot.load()))
}
