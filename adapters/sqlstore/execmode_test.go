package sqlstore

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestExecModeFallBack: only a missing or duplicate prepared statement of a
// statement run as one, in a mode the URL left to us, falls back; the
// first to see it tells, once; every connection then reads exec.
func TestExecModeFallBack(t *testing.T) {
	missing := fmt.Errorf("select task: %w", &pgconn.PgError{Code: "26000"})
	duplicate := &pgconn.PgError{Code: "42P05"}
	unique := &pgconn.PgError{Code: "23505"}
	cache, exec := pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec

	var told []Event
	m := newExecMode(cache, true, func(e Event) { told = append(told, e) })
	for _, tt := range []struct {
		name string
		used pgx.QueryExecMode
		err  error
		want bool
	}{
		{"another error", cache, unique, false},
		{"run unprepared", exec, missing, false},
		{"missing", cache, missing, true},
		{"duplicate, after the switch", cache, duplicate, true},
	} {
		if got := m.fallBack(tt.used, tt.err); got != tt.want {
			t.Errorf("fallBack(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
	if m.load() != exec || len(told) != 1 || told[0].Kind != ExecModeFallback || told[0].Err != missing {
		t.Errorf("after falling back: mode %v, told %v; want exec, one ExecModeFallback with the first error", m.load(), told)
	}

	named := newExecMode(cache, false, func(e Event) { t.Errorf("told %v of a mode the URL names", e) })
	if named.fallBack(cache, missing) || named.load() != cache {
		t.Errorf("a mode the URL names fell back")
	}
}
