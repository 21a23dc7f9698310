// Package httpapi is the HTTP adapter: a chi router with huma operations that
// decode requests, call the application's use cases and render the contract's
// JSON. The OpenAPI document is generated from the same Go types (code-first),
// so it cannot drift from what the handlers accept and send.
package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// DefaultMaxBodyBytes is the largest request body accepted (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

var humaErrorsOnce sync.Once

// ReadyCheck is one dependency /readyz asks about (the database, the keys).
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Config tunes the router.
type Config struct {
	CORSOrigins  []string // origins allowed to call from a browser
	MaxBodyBytes int64    // 0 means DefaultMaxBodyBytes
	Version      string   // shown in the OpenAPI document
	// RequestTimeout bounds each request's work (storage, token checks):
	// past it the answer is 503 with Retry-After. 0 means no bound.
	RequestTimeout time.Duration
	// UserRateLimit limits each verified user, IPRateLimit each client IP
	// before its token is checked; the zero RateLimit means no limit. The
	// counters live in the process: each instance counts its own requests.
	UserRateLimit, IPRateLimit mw.RateLimit
	// TrustedProxies are the CIDR prefixes of reverse proxies whose
	// X-Forwarded-For names the client for IPRateLimit, and whose
	// X-Forwarded-Host and X-Forwarded-Proto name the URL clients used, for
	// Link; none means the peer's address is the client's and links are
	// relative. They must parse (bootstrap checks them).
	TrustedProxies []string
	// PublicURL, when set, is the base of the URLs the API writes (Link,
	// calendar feed URLs), such as https://api.example.com: they are absolute on it, whoever
	// asks. Without it, links are relative unless a trusted proxy says
	// where the client sent the request.
	PublicURL string
	// ListMax is how many tasks a list returns when the request sets no
	// limit (LIST_MAX); 0 means DefaultListMax.
	ListMax int
	// Events tunes the streams of live events.
	Events EventsConfig
	// BodyBytesInFlight bounds the bytes of the request bodies read at
	// once (BODY_BYTES_IN_FLIGHT, see mw.BodyBudget); a request waits for
	// room until its deadline, then gets 503. 0 means
	// mw.DefaultBodyBytesInFlight; it is never below MaxBodyBytes.
	BodyBytesInFlight int64
	// ImportMaxBytes bounds an import's file (IMPORT_MAX_BYTES; 0 means
	// DefaultImportMaxBytes), ImportMaxRows its lists and tasks
	// (IMPORT_MAX_ROWS; 0 means DefaultImportMaxRows): past either, 413.
	ImportMaxBytes int64
	ImportMaxRows  int
}

// Deps is what the router needs from the rest of the service.
type Deps struct {
	Service  *application.Service
	Verifier auth.Verifier
	Log      *zap.Logger
	Ready    []ReadyCheck
	Docs     http.Handler // the docs page, mounted at /docs when set
	Config   Config
	// Metrics, when set, counts requests and refused tokens.
	Metrics *mw.Metrics
	// MetricsHandler, when set, serves GET /metrics (Prometheus), with no
	// user auth; leave it unset when metrics have a listener of their own.
	MetricsHandler http.Handler
	// Idempotency keeps Idempotency-Key responses; nil ignores the header.
	// A keyed request's handler and the storing of its response run as one
	// unit of work of the Service (application.Service.InTx), which needs
	// the Transactor of the store that holds the keys and the repositories
	// (application.WithTransactor).
	Idempotency application.IdempotencyStore
	// Events serves live events (GET /api/{user_id}/events and its
	// tickets); nil answers those routes 503.
	Events *application.Events
	// Streams counts and ends the streams of live events (close it before
	// the server's Shutdown); nil makes one with the default cap.
	Streams *Streams
	// Reminders serves the delivery targets (webhooks, push
	// subscriptions); nil answers 503 there.
	Reminders *application.Reminders
}

// NewRouter returns the service's whole HTTP surface.
func NewRouter(d Deps) http.Handler {
	r, _ := build(d)
	return r
}

// OpenAPI returns the OpenAPI 3.1 document of the API as JSON.
func OpenAPI(version string) ([]byte, error) {
	_, api := build(Deps{Log: zap.NewNop(), Config: Config{Version: version}})
	return api.OpenAPI().MarshalJSON()
}

func build(d Deps) (chi.Router, huma.API) {
	hookHumaErrors()
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Config.MaxBodyBytes <= 0 {
		d.Config.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if d.Config.ImportMaxBytes <= 0 {
		d.Config.ImportMaxBytes = DefaultImportMaxBytes
	}
	if d.Config.ImportMaxRows <= 0 {
		d.Config.ImportMaxRows = DefaultImportMaxRows
	}
	if d.Config.Version == "" {
		d.Config.Version = "dev"
	}

	trusted, err := mw.NewProxies(d.Config.TrustedProxies)
	if err != nil {
		panic(err) // bootstrap refuses such a configuration before it gets here
	}

	r := chi.NewRouter()
	errs := errorMapper{log: d.Log}
	r.Use(mw.RequestID, mw.AccessLog(d.Log, d.Metrics), mw.Recoverer(d.Log, errs), mw.SecurityHeaders,
		mw.CORS(d.Config.CORSOrigins), mw.LimitBodyBy(func(r *http.Request) int64 {
			if isImport(r) {
				return d.Config.ImportMaxBytes
			}
			return d.Config.MaxBodyBytes
		}, errs),
		// A stream of live events lives past any request deadline, and
		// an export takes as long as the user's data does (each write
		// has its own deadline instead: see exportWriter).
		mw.Deadline(d.Config.RequestTimeout, func(r *http.Request) bool { return IsEventStream(r) || isExport(r) }))
	if d.Config.IPRateLimit.Enabled() {
		// The client's address is for the IP limit alone: without it,
		// resolving it would cost a copy of every request for nothing.
		r.Use(trusted.ClientIP)
	}
	r.Use(middleware.StripSlashes) // /api/u/tasks/ is /api/u/tasks, as FastAPI's redirect would make it
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, newHTTPError(http.StatusNotFound, msgNotFound))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		writeError(w, newHTTPError(http.StatusMethodNotAllowed, msgMethodNotAllowed).with("Allow", allowHeader(r, req.URL.Path)))
	})

	api := humachi.New(r, apiConfig(d.Config.Version))
	h := &handlers{svc: d.Service, rem: d.Reminders, verifier: d.Verifier, errs: errs, api: api, ready: d.Ready, maxBody: d.Config.MaxBodyBytes, listMax: d.Config.ListMax,
		importMax: d.Config.ImportMaxBytes, importRows: d.Config.ImportMaxRows}
	var tx application.Transactor
	if d.Service != nil {
		tx = d.Service
	}
	h.keys = &mw.Idempotency{
		Store: d.Idempotency, Tx: tx, Lease: max(mw.DefaultIdempotencyLease, 2*d.Config.RequestTimeout),
		MaxBody: d.Config.MaxBodyBytes, Errors: errs, Log: d.Log, Owner: owner,
	}
	h.events, h.streams, h.eventsCfg = d.Events, d.Streams, d.Config.Events
	if h.streams == nil {
		h.streams = NewStreams(0)
	}
	if h.eventsCfg.Keepalive <= 0 {
		h.eventsCfg.Keepalive = DefaultEventsKeepalive
	}
	if h.eventsCfg.WriteTimeout <= 0 {
		h.eventsCfg.WriteTimeout = DefaultEventsWriteTimeout
	}
	importKeys := *h.keys
	importKeys.MaxBody = d.Config.ImportMaxBytes
	importKeys.Stream = true // an import's body is up to IMPORT_MAX_BYTES: never held
	h.importKeys = &importKeys
	h.links = links{public: strings.TrimRight(d.Config.PublicURL, "/"), proxies: trusted}
	limits := mw.NewLimiter(d.Config.IPRateLimit, d.Config.UserRateLimit, errs, userOf)
	if d.Config.BodyBytesInFlight <= 0 {
		d.Config.BodyBytesInFlight = mw.DefaultBodyBytesInFlight
	}
	bodies := mw.NewBodyBudget(d.Config.BodyBytesInFlight, d.Config.MaxBodyBytes, errs)
	bodies.Large(isImport, d.Config.ImportMaxBytes)
	api.UseMiddleware(outerOnly(limits.ByIP), h.authenticate, outerOnly(limits.ByUser), h.authorize, outerOnly(bodies.Middleware))
	h.register(api)
	h.router = r

	spec := newSpecHandler(api)
	r.Get("/openapi.json", spec.serve31)
	r.Get("/openapi-3.0.json", spec.serve30)
	if d.MetricsHandler != nil {
		r.Get("/metrics", d.MetricsHandler.ServeHTTP)
	}
	if d.Docs != nil {
		r.Handle("/docs", d.Docs)
		r.Handle("/docs/*", d.Docs)
	}
	return r, api
}

func apiConfig(version string) huma.Config {
	cfg := huma.DefaultConfig("Todo API", version)
	cfg.Info.Description = apiDescription
	// No $schema fields or Link headers in bodies: the JSON shapes are fixed.
	cfg.CreateHooks = nil
	// Unknown body fields are ignored, as FastAPI does: a frontend may send
	// back a whole task to PUT.
	cfg.AllowAdditionalPropertiesByDefault = true
	cfg.OpenAPIPath = "" // served below, with caching headers
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	// JSONFormat: encoding/json's bytes, written faster for task bodies.
	cfg.Formats = map[string]huma.Format{"application/json": JSONFormat, "json": JSONFormat}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearerScheme: {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: bearerDescription},
	}
	return cfg
}

// specHandler serves the document, built once, with an ETag so that tools
// can cache it.
type specHandler struct {
	api            huma.API
	once           sync.Once
	v31, v30       []byte
	etag31, etag30 string
	err            error
}

func newSpecHandler(api huma.API) *specHandler { return &specHandler{api: api} }

func (s *specHandler) load() {
	s.once.Do(func() {
		if s.v31, s.err = s.api.OpenAPI().MarshalJSON(); s.err != nil {
			return
		}
		if s.v30, s.err = s.api.OpenAPI().Downgrade(); s.err != nil {
			return
		}
		s.etag31, s.etag30 = etagOf(s.v31), etagOf(s.v30)
	})
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

func (s *specHandler) serve31(w http.ResponseWriter, r *http.Request) {
	s.load()
	s.serve(w, r, s.v31, s.etag31)
}

func (s *specHandler) serve30(w http.ResponseWriter, r *http.Request) {
	s.load()
	s.serve(w, r, s.v30, s.etag30)
}

func (s *specHandler) serve(w http.ResponseWriter, r *http.Request, doc []byte, etag string) {
	if s.err != nil {
		writeError(w, newHTTPError(http.StatusInternalServerError, msgInternal))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc))
}

// errorResponses documents the error statuses an operation can answer.
func errorResponses(api huma.API, codes ...int) map[string]*huma.Response {
	reg := api.OpenAPI().Components.Schemas
	plain := reg.Schema(reflect.TypeOf(HTTPError{}), true, "HTTPError")
	list := reg.Schema(reflect.TypeOf(ValidationProblem{}), true, "ValidationProblem")
	out := make(map[string]*huma.Response, len(codes))
	for _, c := range codes {
		s := plain
		if c == http.StatusUnprocessableEntity {
			s = list
		}
		mt := &huma.MediaType{Schema: s}
		if c != http.StatusUnprocessableEntity {
			mt.Example = map[string]any{"detail": errorExamples[c]}
		}
		resp := &huma.Response{
			Description: errorDescriptions[c],
			Content:     map[string]*huma.MediaType{"application/json": mt},
		}
		switch c {
		case http.StatusUnauthorized:
			resp.Headers = map[string]*huma.Param{"WWW-Authenticate": {Description: wwwAuthenticateDoc, Schema: &huma.Schema{Type: "string"}}}
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			resp.Headers = map[string]*huma.Param{"Retry-After": {Description: retryAfterDoc, Schema: &huma.Schema{Type: "string"}}}
		}
		out[httpCode(c)] = resp
	}
	return out
}

// documentRateLimits adds 429 to every operation that needs a token: the
// document does not depend on whether limits are configured.
func documentRateLimits(api huma.API) {
	resp := errorResponses(api, http.StatusTooManyRequests)[httpCode(http.StatusTooManyRequests)]
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op != nil && len(op.Security) > 0 {
				if op.Responses == nil {
					op.Responses = map[string]*huma.Response{}
				}
				op.Responses[httpCode(http.StatusTooManyRequests)] = resp
			}
		}
	}
}

var errorExamples = map[int]string{
	http.StatusBadRequest:            msgBadCursor,
	http.StatusGone:                  msgChangesExpired,
	http.StatusUnauthorized:          msgInvalidToken,
	http.StatusForbidden:             msgForbidden,
	http.StatusNotFound:              msgTaskNotFound,
	http.StatusConflict:              msgEmailTaken,
	http.StatusRequestEntityTooLarge: msgTooLarge,
	http.StatusTooManyRequests:       msgTooManyRequests,
	http.StatusInternalServerError:   msgInternal,
	http.StatusServiceUnavailable:    msgAuthUnavailable,
}

// allowHeader lists the methods a path does answer, for a 405's Allow
// header (RFC 9110, and what FastAPI sends).
func allowHeader(router chi.Routes, path string) string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if router.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}
