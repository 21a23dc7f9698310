package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/transfer"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// secret plays BETTER_AUTH_SECRET.
var secret = []byte("http-test-secret-0123456789abcdef-0123456789")

// frontend is the origin the router is configured to allow.
const frontend = "http://localhost:3000"

// env is one router on fresh memory repositories, with the real HS256
// verifier, and the tokens it minted (which no body or log line may show).
type env struct {
	handler http.Handler
	logs    *observer.ObservedLogs

	mu     sync.Mutex
	tokens []string
}

// newEnv builds the router the way the service does, on memory storage.
// Options adjust its dependencies (a failing ready check, a panicking
// verifier).
func newEnv(t *testing.T, opts ...func(*httpapi.Deps)) *env {
	t.Helper()
	v, err := jwks.New(t.Context(), jwks.Config{Secret: secret})
	if err != nil {
		t.Fatalf("jwks.New: %v", err)
	}
	t.Cleanup(v.Close)
	core, logs := observer.New(zap.DebugLevel)
	store := memory.NewStore()
	d := httpapi.Deps{
		Service: application.New(store.Tasks(), store.Users(), nil, application.WithTransactor(store), application.WithLists(store.Lists()), application.WithMembers(store.Members()), application.WithOccurrences(store.Occurrences()), application.WithChanges(store.Changes()),
			application.WithFormats(transfer.Formats(transfer.FormatsOptions{})), application.WithCalendarFeeds(memory.NewCalendarFeedStore())),
		Verifier:    v,
		Log:         zap.New(core),
		Config:      httpapi.Config{CORSOrigins: []string{frontend}},
		Idempotency: store.Keys(),
		Reminders:   testReminders(t, store),
	}
	for _, o := range opts {
		o(&d)
	}
	e := &env{handler: httpapi.NewRouter(d), logs: logs}
	t.Cleanup(func() { e.checkLogs(t) })
	return e
}

// checkLogs fails the test if a log line shows a token, and shows the logs
// of a failed test.
func (e *env) checkLogs(t *testing.T) {
	e.mu.Lock()
	tokens := append([]string(nil), e.tokens...)
	e.mu.Unlock()
	for _, entry := range e.logs.All() {
		line := fmt.Sprintf("%s %v", entry.Message, entry.ContextMap())
		for _, tok := range tokens {
			if strings.Contains(line, tok) {
				t.Errorf("log line shows a bearer token: %.200s", line)
			}
		}
		if t.Failed() {
			t.Logf("log: %s %s", entry.Level, line)
		}
	}
}

func (e *env) remember(tok string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = append(e.tokens, tok)
	return tok
}

// newUserID returns a user id no other test uses.
func newUserID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "u_" + hex.EncodeToString(b)
}

// user is a caller: their id and a valid token carrying their own email.
type user struct {
	id    string
	token string
}

func (u user) tasks() string                 { return "/api/" + u.id + "/tasks" }
func (u user) task(id int64) string          { return fmt.Sprintf("/api/%s/tasks/%d", u.id, id) }
func (u user) taskPath(id string) string     { return "/api/" + u.id + "/tasks/" + id }
func (u user) complete(id int64) string      { return u.task(id) + "/complete" }
func (u user) completePath(id string) string { return u.taskPath(id) + "/complete" }

// newUser makes a user with a fresh id and email and a valid token.
func (e *env) newUser(t *testing.T) user {
	t.Helper()
	id := newUserID(t)
	return user{id: id, token: e.sign(t, auth.Identity{UserID: auth.UserID(id), Email: id + "@example.com", Name: "User " + id})}
}

// sign makes a token the verifier accepts, with SignHS256 as the service's
// token subcommand does.
func (e *env) sign(t *testing.T, id auth.Identity) string {
	t.Helper()
	tok, err := jwks.SignHS256(secret, id, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatalf("SignHS256(%q): %v", id.UserID, err)
	}
	return e.remember(tok)
}

// forge signs arbitrary claims with golang-jwt: method and key as given.
func (e *env) forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s token: %v", method.Alg(), err)
	}
	return e.remember(tok)
}

// request is one call through the router.
type request struct {
	method string
	path   string // with the query
	token  string // sent as "Authorization: Bearer <token>" when set
	header http.Header
	body   string // sent as application/json when set
	// chunked sends the body with no Content-Length, as a stream of unknown
	// length.
	chunked bool
	// outsideDoc marks a request that deliberately breaks the document (bad
	// JSON, wrong types, ids out of range, no token, unknown routes): it is
	// not validated, its response still is.
	outsideDoc bool
}

// response is what the router answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, truncate(string(r.body), 300))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// do sends r through the router and holds both sides to the contract: the
// request to the OpenAPI document (unless marked outsideDoc), the response
// always, plus the rules every answer obeys (JSON content type, a request
// id, nothing internal in the body).
func (e *env) do(t *testing.T, r request) *response {
	t.Helper()
	req := r.build(t.Context())
	if r.chunked {
		req.Body = io.NopCloser(struct{ io.Reader }{strings.NewReader(r.body)})
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.method, r.path, err)
	}
	got := &response{status: res.StatusCode, header: res.Header, body: body}

	e.checkCommon(t, r, got)
	for _, c := range contracts(t) {
		for _, err := range c.check(t.Context(), r, got) {
			t.Error(err)
		}
	}
	return got
}

// build makes the http.Request for r (with a known length; do streams it
// when r is chunked).
func (r request) build(ctx context.Context) *http.Request {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequestWithContext(ctx, r.method, "http://todo.test"+r.path, body)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, vs := range r.header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	return req
}

// leakRE finds what a body must never show: SQL or driver words, panics,
// stack traces, source files and paths.
var leakRE = regexp.MustCompile(`(?i)sql|panic|goroutine|runtime\.|\.go:\d|\.go\b|/(?:root|home|work|usr|tmp|go)/`)

// feedURLRE finds a calendar feed's URL, whose random base64url secret may
// spell anything leakRE looks for ("sql"): the leak check reads past it.
var feedURLRE = regexp.MustCompile(`/calendar/[A-Za-z0-9_-]{43}\.ics`)

// secretRE finds the random secrets a body shows once (a webhook's signing
// secret, an events ticket), which may spell "sql" too.
var secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+|"ticket":"[A-Za-z0-9_-]+"`)

// decoderRE finds a JSON decoder's words, Go type names and field paths
// (issue 14 item 6: "json: cannot unmarshal number ... into Go struct field
// bulkDeleteBody.ids of type int64").
var decoderRE = regexp.MustCompile(`(?i)json: |go struct|go value|unmarshal|\bu?int(?:8|16|32|64)\b|\b[a-z]+(?:Body|Input)\.`)

func (e *env) checkCommon(t *testing.T, r request, got *response) {
	t.Helper()
	if got.header.Get("X-Request-ID") == "" {
		t.Errorf("%s %s: no X-Request-ID on the response", r.method, r.path)
	}
	if len(got.body) > 0 {
		ct := got.header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" && !isExportFile(r, got, mt) {
			t.Errorf("%s %s: %d with Content-Type %q, want application/json", r.method, r.path, got.status, ct)
		}
	}
	if isDocument(r.path) {
		return // the document describes the API; it may name anything
	}
	body := feedURLRE.ReplaceAll(got.body, []byte("/calendar/SECRET.ics"))
	body = secretRE.ReplaceAll(body, []byte("SECRET"))
	if m := leakRE.Find(body); m != nil {
		t.Errorf("%s %s: body shows %q: %s", r.method, r.path, m, got)
	}
	if m := decoderRE.Find(body); m != nil {
		t.Errorf("%s %s: body shows the decoder's %q: %s", r.method, r.path, m, got)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tok := range e.tokens {
		if bytes.Contains(got.body, []byte(tok)) {
			t.Errorf("%s %s: body shows a bearer token", r.method, r.path)
		}
	}
}

// isExportFile reports whether got is an export's file, which may be CSV or
// iCalendar.
func isExportFile(r request, got *response, mt string) bool {
	return got.status == http.StatusOK && r.method == http.MethodGet && (strings.Contains(r.path, "/export") || strings.HasPrefix(r.path, "/calendar/")) && (mt == "text/csv" || mt == "text/calendar")
}

func isDocument(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	return p == "/openapi.json" || p == "/openapi-3.0.json"
}

// contract is one OpenAPI document the router serves, loaded by kin-openapi.
type contract struct {
	name   string
	doc    *openapi3.T
	router routers.Router
}

var loadContracts = sync.OnceValues(func() ([]*contract, error) {
	h := httpapi.NewRouter(httpapi.Deps{Log: zap.NewNop()})
	var out []*contract
	for _, path := range []string{"/openapi.json", "/openapi-3.0.json"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			return nil, fmt.Errorf("GET %s = %d", path, rec.Code)
		}
		doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			return nil, fmt.Errorf("validate %s: %w", path, err)
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", path, err)
		}
		out = append(out, &contract{name: path, doc: doc, router: router})
	}
	return out, nil
})

// contracts returns the 3.1 document (/openapi.json) and its 3.0 downgrade
// (/openapi-3.0.json): every exchange is checked against both, since tools
// read either.
func contracts(t *testing.T) []*contract {
	t.Helper()
	cs, err := loadContracts()
	if err != nil {
		t.Fatalf("OpenAPI documents: %v", err)
	}
	return cs
}

// bearerOnly accepts a request when it carries what the bearer scheme
// demands; the router decides whether the token is good.
func bearerOnly(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return fmt.Errorf("unexpected security scheme %+v", s)
	}
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// check holds one exchange to the document: the request (unless r is
// outsideDoc) and the response, always. It returns every mismatch.
func (c *contract) check(ctx context.Context, r request, got *response) []error {
	req := r.build(ctx)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return c.checkUndocumented(r, got, err)
	}
	var errs []error
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: bearerOnly,
		},
	}
	if !r.outsideDoc {
		if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
			errs = append(errs, fmt.Errorf("%s: request %s %s breaks the document: %w", c.name, r.method, r.path, err))
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 got.status,
		Header:                 got.header,
		Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	out.SetBodyBytes(got.body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		errs = append(errs, fmt.Errorf("%s: %s %s answered %d, which operation %s does not describe: %w\nresponse: %s",
			c.name, r.method, r.path, got.status, route.Operation.OperationID, err, got))
	}
	return errs
}

// checkUndocumented handles exchanges that have no operation in the
// document: unknown routes and wrong methods must answer the document's
// HTTPError; CORS preflights and the documents themselves are outside the
// API.
func (c *contract) checkUndocumented(r request, got *response, routeErr error) []error {
	switch {
	case isDocument(r.path) && r.method == http.MethodGet:
		return nil // checked by the document tests
	case r.method == http.MethodOptions && r.header.Get("Access-Control-Request-Method") != "":
		if len(got.body) != 0 {
			return []error{fmt.Errorf("%s: CORS preflight %s answered with a body: %s", c.name, r.path, got)}
		}
		return nil
	}
	var errs []error
	if !r.outsideDoc {
		errs = append(errs, fmt.Errorf("%s: request %s %s has no operation in the document (%v); mark it outsideDoc if meant", c.name, r.method, r.path, routeErr))
	}
	if got.status != http.StatusNotFound && got.status != http.StatusMethodNotAllowed {
		return append(errs, fmt.Errorf("%s: %s %s has no operation in the document but answered %s", c.name, r.method, r.path, got))
	}
	ref := c.doc.Components.Schemas["HTTPError"]
	if ref == nil || ref.Value == nil {
		return append(errs, fmt.Errorf("%s: no HTTPError schema in components", c.name))
	}
	var v any
	if err := json.Unmarshal(got.body, &v); err != nil {
		return append(errs, fmt.Errorf("%s: %s %s answered %d with a body that is not JSON: %w", c.name, r.method, r.path, got.status, err))
	}
	var opts []openapi3.SchemaValidationOption
	if c.doc.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	if err := ref.Value.VisitJSON(v, opts...); err != nil {
		errs = append(errs, fmt.Errorf("%s: %s %s answered %d with a body that is not HTTPError: %w", c.name, r.method, r.path, got.status, err))
	}
	return errs
}

// call sends a request the document describes.
func (e *env) call(t *testing.T, method, path, token, body string) *response {
	t.Helper()
	return e.do(t, request{method: method, path: path, token: token, body: body})
}

// taskJSON is a task as the API shows it: the contract's seven fields and
// the four of issue 5.
type taskJSON struct {
	ID          int64    `json:"id"`
	UserID      string   `json:"user_id"`
	Title       string   `json:"title"`
	Description *string  `json:"description"`
	Completed   bool     `json:"completed"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	Priority    string   `json:"priority"`
	DueDate     *string  `json:"due_date"`
	Tags        []string `json:"tags"`
	CompletedAt *string  `json:"completed_at"`
	Version     int64    `json:"version"`
	ListID      *int64   `json:"list_id"`
	ParentID    *int64   `json:"parent_id"`
	Position    string   `json:"position"`
	// Issue 18.
	DueTZ       *string         `json:"due_tz"`
	DueFloating bool            `json:"due_floating"`
	Recurrence  *recurrenceJSON `json:"recurrence"`
	Reminders   []reminderJSON  `json:"reminders"`
	// Issue 19.
	AssigneeID *string `json:"assignee_id"`
}

type reminderJSON struct {
	At      *string `json:"at"`
	Before  *string `json:"before"`
	FiresAt *string `json:"fires_at"`
}

type recurrenceJSON struct {
	Rule        string `json:"rule"`
	From        string `json:"from"`
	Description string `json:"description"`
}

func (a taskJSON) equal(b taskJSON) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Title == b.Title && equalPtr(a.Description, b.Description) &&
		a.Completed == b.Completed && a.CreatedAt == b.CreatedAt && a.UpdatedAt == b.UpdatedAt &&
		a.Priority == b.Priority && equalPtr(a.DueDate, b.DueDate) && slices.Equal(a.Tags, b.Tags) &&
		equalPtr(a.CompletedAt, b.CompletedAt) && a.Version == b.Version &&
		equalPtr(a.ListID, b.ListID) && equalPtr(a.ParentID, b.ParentID) && a.Position == b.Position &&
		equalPtr(a.DueTZ, b.DueTZ) && a.DueFloating == b.DueFloating && equalPtr(a.Recurrence, b.Recurrence) &&
		slices.EqualFunc(a.Reminders, b.Reminders, func(x, y reminderJSON) bool {
			return equalPtr(x.At, y.At) && equalPtr(x.Before, y.Before) && equalPtr(x.FiresAt, y.FiresAt)
		})
}

func (a taskJSON) String() string {
	return fmt.Sprintf("{id:%d user_id:%s title:%q description:%s completed:%v created_at:%s updated_at:%s "+
		"priority:%s due_date:%s tags:%q completed_at:%s version:%d list_id:%s parent_id:%s position:%s due_tz:%s due_floating:%v recurrence:%s}",
		a.ID, a.UserID, a.Title, show(a.Description), a.Completed, a.CreatedAt, a.UpdatedAt,
		a.Priority, show(a.DueDate), a.Tags, show(a.CompletedAt), a.Version, show(a.ListID), show(a.ParentID), a.Position,
		show(a.DueTZ), a.DueFloating, show(a.Recurrence))
}

// taskKeys are every key of a task body: the contract's seven, then issue
// 5's, then issue 6's version, then issue 15's place.
var taskKeys = []string{"id", "user_id", "title", "description", "completed", "created_at", "updated_at",
	"priority", "due_date", "tags", "completed_at", "version", "list_id", "parent_id", "position",
	"due_tz", "due_floating", "recurrence", "reminders", "created_by", "assignee_id"}

// decodeTask reads a task body and checks its shape: exactly taskKeys
// (description, due_date and completed_at present even when null, tags
// never null), RFC 3339 UTC times, and completed_at set exactly when the
// task is completed.
func decodeTask(t *testing.T, raw []byte) taskJSON {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatalf("task body %s: %v", truncate(string(raw), 300), err)
	}
	for _, k := range taskKeys {
		if _, ok := keys[k]; !ok {
			t.Errorf("task body %s has no %q", truncate(string(raw), 300), k)
		}
	}
	if len(keys) != len(taskKeys) {
		t.Errorf("task body %s has keys beyond %v", truncate(string(raw), 300), taskKeys)
	}
	var tk taskJSON
	if err := json.Unmarshal(raw, &tk); err != nil {
		t.Fatalf("task body %s: %v", truncate(string(raw), 300), err)
	}
	checkTime(t, "created_at", tk.CreatedAt)
	checkTime(t, "updated_at", tk.UpdatedAt)
	if tk.Tags == nil {
		t.Errorf("task body %s: tags is null, want an array", truncate(string(raw), 300))
	}
	if tk.Completed != (tk.CompletedAt != nil) {
		t.Errorf("task body %s: completed %v with completed_at %s", truncate(string(raw), 300), tk.Completed, show(tk.CompletedAt))
	}
	if tk.CompletedAt != nil {
		checkTime(t, "completed_at", *tk.CompletedAt)
	}
	if tk.Version < 1 {
		t.Errorf("task body %s: version %d, want at least 1", truncate(string(raw), 300), tk.Version)
	}
	if tk.Position == "" {
		t.Errorf("task body %s: no position", truncate(string(raw), 300))
	}
	return tk
}

func checkTime(t *testing.T, name, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s = %q, want RFC 3339 in UTC ending in Z (%v)", name, s, err)
	}
	return ts
}

func decodeTasks(t *testing.T, res *response) []taskJSON {
	t.Helper()
	var raws []json.RawMessage
	if err := json.Unmarshal(res.body, &raws); err != nil || raws == nil {
		t.Fatalf("list body %s: want a JSON array (%v)", res, err)
	}
	out := make([]taskJSON, len(raws))
	for i, raw := range raws {
		out[i] = decodeTask(t, raw)
	}
	return out
}

// wantStatus stops the test when the status is not want.
func wantStatus(t *testing.T, what string, res *response, want int) {
	t.Helper()
	if res.status != want {
		t.Fatalf("%s = %s, want %d", what, res, want)
	}
}

// wantDetail checks a plain error: the status and exactly {"detail": "..."}
// with a non-empty text (detail, when given).
func wantDetail(t *testing.T, what string, res *response, status int, detail string) {
	t.Helper()
	wantStatus(t, what, res, status)
	var body map[string]any
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatalf("%s: body %s is not a JSON object: %v", what, res, err)
	}
	got, ok := body["detail"].(string)
	if !ok || got == "" || len(body) != 1 {
		t.Fatalf("%s: body %s, want exactly {\"detail\": \"...\"}", what, res)
	}
	if detail != "" && got != detail {
		t.Errorf("%s: detail = %q, want %q", what, got, detail)
	}
}

// problem is one entry of a 422 body.
type problem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// wantProblems checks a 422 in FastAPI's list shape and that every wanted
// location is reported (a location like ["body"] matches any under it).
func wantProblems(t *testing.T, what string, res *response, locs ...[]any) []problem {
	t.Helper()
	wantStatus(t, what, res, http.StatusUnprocessableEntity)
	var body map[string]json.RawMessage
	if err := json.Unmarshal(res.body, &body); err != nil || len(body) != 1 || body["detail"] == nil {
		t.Fatalf("%s: 422 body %s, want exactly {\"detail\": [...]} (%v)", what, res, err)
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(body["detail"], &items); err != nil || len(items) == 0 {
		t.Fatalf("%s: 422 detail %s, want a non-empty list (%v)", what, body["detail"], err)
	}
	var ps []problem
	for _, it := range items {
		if len(it) != 3 || it["loc"] == nil || it["msg"] == nil || it["type"] == nil {
			t.Errorf("%s: 422 item %v, want exactly loc, msg and type", what, it)
		}
	}
	if err := json.Unmarshal(body["detail"], &ps); err != nil {
		t.Fatalf("%s: 422 detail %s: %v", what, body["detail"], err)
	}
	for _, p := range ps {
		if len(p.Loc) == 0 || p.Msg == "" || p.Type == "" {
			t.Errorf("%s: 422 item %+v, want a location, a message and a type", what, p)
		}
	}
	for _, want := range locs {
		if !hasLoc(ps, want) {
			t.Errorf("%s: 422 detail %s, want an entry at %v", what, body["detail"], want)
		}
	}
	return ps
}

func hasLoc(ps []problem, want []any) bool {
	for _, p := range ps {
		if len(p.Loc) < len(want) {
			continue
		}
		match := true
		for i := range want {
			if fmt.Sprint(p.Loc[i]) != fmt.Sprint(want[i]) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// jsonBody marshals v for a request body.
func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// create makes a task through the API and returns it.
func (e *env) create(t *testing.T, u user, title string) taskJSON {
	t.Helper()
	res := e.call(t, http.MethodPost, u.tasks(), u.token, jsonBody(t, map[string]string{"title": title}))
	wantStatus(t, "POST "+u.tasks(), res, http.StatusCreated)
	return decodeTask(t, res.body)
}

func identity(id, email string) auth.Identity {
	return auth.Identity{UserID: auth.UserID(id), Email: email, Name: "User " + id}
}
