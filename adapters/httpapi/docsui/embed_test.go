package docsui

import (
	"io/fs"
	"strings"
	"testing"
)

// TestEmbeddedFiles keeps the binary to what the page needs: one bundle, no
// ES-module copies, no source maps.
func TestEmbeddedFiles(t *testing.T) {
	const limit = 1 << 20 // 1 MiB; swagger-ui-dist 5.35.0 gzipped needs 0.5 MiB of it
	total := 0
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".map") {
			t.Errorf("embedded %s: source maps are not shipped", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += int(info.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > limit {
		t.Errorf("embedded files total %d bytes, want at most %d", total, limit)
	}
	if n := len(loadAssets()); n != 7 {
		t.Errorf("embedded %d files, want 7 (bundle, css, icon, init.js, 3 license files)", n)
	}
}
