package httpapi

import (
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/domain/task"
)

// origin is what a request says about the URL it was sent to, kept for the
// next-page Link: the peer, the Host header, TLS, and what a proxy
// forwards. Which of them count is for links.base to decide.
type origin struct {
	peer, host        string
	tls               bool
	fwdHost, fwdProto string
	path              string
	query             url.Values
}

func originOf(ctx huma.Context) origin {
	u := ctx.URL()
	return origin{
		peer:     ctx.RemoteAddr(),
		host:     ctx.Host(),
		tls:      ctx.TLS() != nil,
		fwdHost:  ctx.Header("X-Forwarded-Host"),
		fwdProto: ctx.Header("X-Forwarded-Proto"),
		path:     u.Path,
		query:    u.Query(),
	}
}

// links writes the URLs the API sends back (the next page's Link).
type links struct {
	// public is the configured public base URL (PUBLIC_URL), without a
	// trailing slash; "" when none.
	public  string
	proxies mw.Proxies
}

// base is what a link starts with, before the path: the public URL when
// one is configured; from a trusted proxy, the scheme and host the client
// used, as the proxy forwards them (the Host header and the connection's
// TLS when it does not); otherwise nothing, so that the link is relative to
// the request. A client that reaches the service directly cannot make it
// write another host into a link, which a client following the link would
// send its token to.
func (l links) base(o origin) string {
	if l.public != "" {
		return l.public
	}
	if !l.proxies.Trusts(o.peer) {
		return ""
	}
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	if p := firstValue(o.fwdProto); p == "http" || p == "https" {
		scheme = p
	}
	host := o.host
	if h := firstValue(o.fwdHost); h != "" && !strings.ContainsAny(h, "/<>\"\\ ") {
		host = h
	}
	return scheme + "://" + host
}

func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}

// next is the Link header of the next page: the request's own URL with the
// cursor of the next page in place of cursor or offset; "" on the last
// page.
func (l links) next(o origin, next *task.Cursor) string {
	if next == nil {
		return ""
	}
	v := url.Values{}
	for k, vs := range o.query {
		if k != "cursor" && k != "offset" {
			v[k] = vs
		}
	}
	v.Set("cursor", next.String())
	return "<" + l.base(o) + o.path + "?" + v.Encode() + `>; rel="next"`
}
