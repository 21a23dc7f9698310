package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
)

// TestExportOutlivesRequestTimeout: an export is not bound by
// REQUEST_TIMEOUT, since a large one takes longer than any request should,
// while every other request still is. With a deadline that runs out before
// a statement can finish, on SQLite, a list answers 503 and the export of
// the same user its whole file.
func TestExportOutlivesRequestTimeout(t *testing.T) {
	skipShort(t)
	t.Parallel()
	a := startAPI(t,
		"DATABASE_URL=sqlite:"+filepath.Join(t.TempDir(), "todo.db"),
		"BETTER_AUTH_SECRET="+testSecret,
		"REQUEST_TIMEOUT=1ns",
	)
	id := newUserID(t)
	token := signHS256(t, testSecret, userClaims(id))
	c := newClient(a.URL)

	r := c.do(t, http.MethodGet, "/api/"+id+"/export?format=json", token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("export with REQUEST_TIMEOUT=1ns = %d %s, want 200", r.Status, r.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("export is not a whole JSON document (%v): %.300s", err, r.Body)
	}
	if r := c.do(t, http.MethodGet, tasksPath(id), token, nil); r.Status != http.StatusServiceUnavailable {
		t.Errorf("list with REQUEST_TIMEOUT=1ns = %d %s, want 503", r.Status, r.Body)
	}
}
