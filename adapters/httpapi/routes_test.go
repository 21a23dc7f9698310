package httpapi

import "testing"

// TestRoutesHaveDocs: every route has its prose in opDocs, and every text
// there belongs to a route.
func TestRoutesHaveDocs(t *testing.T) {
	h := &handlers{}
	ids := map[string]bool{}
	for _, rt := range h.routes() {
		if ids[rt.id] {
			t.Errorf("route %s is listed twice", rt.id)
		}
		ids[rt.id] = true
		if d := opDocs[rt.id]; d.summary == "" || d.description == "" {
			t.Errorf("route %s has no summary or description in opDocs", rt.id)
		}
	}
	for id := range opDocs {
		if !ids[id] {
			t.Errorf("opDocs has %s, which no route registers", id)
		}
	}
}
