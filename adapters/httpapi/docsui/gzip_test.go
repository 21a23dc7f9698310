package docsui_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/todo-backend/todo/adapters/httpapi/docsui"
)

// TestGzipAssets checks that the big assets go out as their embedded gzip
// bytes to clients that accept gzip, inflated to the same content for those
// that do not, with distinct ETags and Vary so caches keep them apart.
func TestGzipAssets(t *testing.T) {
	h := docsui.Handler("/openapi.json")
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css"} {
		zres, zbody := get(t, h, http.MethodGet, "/docs/"+name, http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}})
		pres, pbody := get(t, h, http.MethodGet, "/docs/"+name, nil)
		offRes, _ := get(t, h, http.MethodGet, "/docs/"+name, http.Header{"Accept-Encoding": {"gzip;q=0"}})
		if got := zres.Header.Get("Content-Encoding"); got != "gzip" {
			t.Errorf("%s with Accept-Encoding gzip: Content-Encoding %q, want gzip", name, got)
		}
		for _, r := range []*http.Response{pres, offRes} {
			if got := r.Header.Get("Content-Encoding"); got != "" {
				t.Errorf("%s without gzip: Content-Encoding %q, want none", name, got)
			}
		}
		if zres.Header.Get("Vary") != "Accept-Encoding" || pres.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: Vary %q / %q, want Accept-Encoding", name, zres.Header.Get("Vary"), pres.Header.Get("Vary"))
		}
		if zres.Header.Get("ETag") == pres.Header.Get("ETag") {
			t.Errorf("%s: gzip and plain share ETag %s", name, pres.Header.Get("ETag"))
		}
		zr, err := gzip.NewReader(bytes.NewReader([]byte(zbody)))
		if err != nil {
			t.Fatalf("%s: gzip body: %v", name, err)
		}
		inflated, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: gzip body: %v", name, err)
		}
		if len(pbody) < 10000 || string(inflated) != pbody {
			t.Errorf("%s: inflated gzip (%d bytes) differs from plain body (%d bytes)", name, len(inflated), len(pbody))
		}
	}
}
