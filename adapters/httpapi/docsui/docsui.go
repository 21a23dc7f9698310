// Package docsui serves the interactive API documentation page (Swagger UI) at
// /docs. Its files are embedded in the binary, so the page works with no
// internet: nothing comes from a CDN.
//
// The files in dist/ are copied from the npm package swagger-ui-dist, at the
// version pinned in update.sh, which refreshes them. Only what the page loads
// is shipped (the bundle, the stylesheet, an icon) plus the license files; no
// source maps. The page's own files are in page/: index.html and init.js,
// which starts Swagger UI without an inline script.
package docsui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// Path is where the page is served; its assets are under Path + "/". Mount
// Handler on both patterns without stripping the prefix.
const Path = "/docs"

//go:embed dist/swagger-ui-bundle.js.gz dist/swagger-ui.css.gz dist/favicon-32x32.png
//go:embed dist/LICENSE dist/NOTICE dist/swagger-ui-bundle.js.LICENSE.txt
//go:embed page/init.js
var files embed.FS

//go:embed page/index.html
var indexHTML string

var pageTemplate = template.Must(template.New("index.html").Parse(indexHTML))

// contentTypes maps a file extension to its Content-Type; a name without an
// extension (LICENSE, NOTICE) is plain text.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".png": "image/png",
	".txt": "text/plain; charset=utf-8",
	"":     "text/plain; charset=utf-8",
}

// asset is one embedded file, served at Path + "/" + name.
type asset struct {
	body        []byte // the bytes to send; gzip-encoded when gzipped is set
	gzipped     bool
	plain       func() []byte // gzipped assets inflated, once, for clients without gzip
	contentType string
	// hash is a digest of body. It versions the asset's URL and is its ETag.
	hash string
}

// url is the versioned URL under which the asset may be cached forever.
func (a asset) url(name string) string {
	return Path + "/" + name + "?v=" + a.hash
}

// loadAssets reads the embedded files once; they cannot change at run time.
var loadAssets = sync.OnceValue(func() map[string]asset {
	assets := map[string]asset{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		a := asset{body: body, hash: digest(body)}
		if n, ok := strings.CutSuffix(name, ".gz"); ok {
			name, a.gzipped = n, true
			a.plain = sync.OnceValue(func() []byte { return gunzip(body) })
		}
		a.contentType = contentTypes[path.Ext(name)]
		assets[name] = a
		return nil
	})
	if err != nil {
		// The files are compiled in; failing to read them is a build defect.
		panic("docsui: read embedded files: " + err.Error())
	}
	return assets
})

// gunzip inflates an embedded gzip file; a broken one is a build defect.
func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		panic("docsui: embedded gzip: " + err.Error())
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		panic("docsui: embedded gzip: " + err.Error())
	}
	return out
}

// acceptsGzip reports whether the client takes gzip content coding. Every
// browser does; a q=0 refusal is honoured.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// handler serves the page and its assets.
type handler struct {
	assets map[string]asset
	page   []byte
	etag   string
	csp    string
}

// Handler returns the handler of the docs page, which loads the OpenAPI
// document from specURL (for example "/openapi.json"). It serves the page at
// Path and Path+"/", and the assets under Path+"/", each with a digest in its
// URL so that browsers cache it for good. The page carries a strict
// Content-Security-Policy: scripts, styles, images and fonts come from the
// server itself, and "Try it out" calls reach only the server (and the origin
// of specURL when it is absolute).
func Handler(specURL string) http.Handler {
	assets := loadAssets()
	var page bytes.Buffer
	err := pageTemplate.Execute(&page, map[string]string{
		"SpecURL": specURL,
		"CSS":     assets["swagger-ui.css"].url("swagger-ui.css"),
		"Icon":    assets["favicon-32x32.png"].url("favicon-32x32.png"),
		"Bundle":  assets["swagger-ui-bundle.js"].url("swagger-ui-bundle.js"),
		"Init":    assets["init.js"].url("init.js"),
	})
	if err != nil {
		// Only a broken embedded template gets here.
		panic("docsui: render page: " + err.Error())
	}
	return &handler{
		assets: assets,
		page:   page.Bytes(),
		etag:   `"` + digest(page.Bytes()) + `"`,
		csp:    contentSecurityPolicy(specURL),
	}
}

// contentSecurityPolicy allows what Swagger UI needs and nothing from
// elsewhere: no inline scripts or styles, no eval. Its stylesheet draws icons
// with data: images. The browser test runs the page under this policy and
// fails on any violation.
func contentSecurityPolicy(specURL string) string {
	connect := "'self'"
	if u, err := url.Parse(specURL); err == nil && u.Scheme != "" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Path)
	if !ok || (rest != "" && rest[0] != '/') {
		writeDetail(w, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeDetail(w, http.StatusMethodNotAllowed)
		return
	}
	header := w.Header()
	header.Set("X-Content-Type-Options", "nosniff")
	if rest == "" || rest == "/" {
		header.Set("Content-Type", "text/html; charset=utf-8")
		header.Set("Cache-Control", "no-cache")
		header.Set("Content-Security-Policy", h.csp)
		header.Set("Referrer-Policy", "no-referrer")
		header.Set("ETag", h.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
		return
	}
	a, ok := h.assets[rest[1:]]
	if !ok {
		writeDetail(w, http.StatusNotFound)
		return
	}
	header.Set("Content-Type", a.contentType)
	body, etag := a.body, `"`+a.hash+`"`
	if a.gzipped {
		header.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			header.Set("Content-Encoding", "gzip")
			etag = `"` + a.hash + `-gzip"`
		} else {
			body = a.plain()
		}
	}
	header.Set("ETag", etag)
	if r.URL.Query().Get("v") == a.hash {
		// This URL names these exact bytes; a new version gets a new URL.
		header.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		header.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// writeDetail writes the FastAPI-shaped error body that the rest of the API
// uses, so that /docs/missing looks like any other unknown route.
func writeDetail(w http.ResponseWriter, status int) {
	body, _ := json.Marshal(map[string]string{"detail": http.StatusText(status)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
