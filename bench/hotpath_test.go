// Package bench holds the load harness of `make bench` (bench.sh, the wrk
// script, the pgbench scripts and the seed, jwksserver and profserve
// commands) and, here, the Go benchmarks of the request's hot paths:
//
//	go test ./bench -run '^$' -bench . -benchmem
//
// BenchmarkTaskJSON    the task JSON encoding (the router's format vs huma's, encoding/json, JSON v2)
// BenchmarkHandler     the whole HTTP handler on the memory adapter (allocs per request)
// BenchmarkRepository  the PostgreSQL repository, next to pgx used directly
//
// Token verification is benchmarked in adapters/jwks (BenchmarkVerify).
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/todo-backend/todo/adapters/httpapi"
	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/bench/seed"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

var secret = []byte("bench-only-hs256-secret-0123456789-abcdefghij")

const tasksPerUser = 20

// sampleTasks returns the 20 tasks the list endpoint answers in the handler
// environment, as httpapi.Task: realistic, whatever fields the API has.
func sampleTasks(tb testing.TB) []httpapi.Task {
	tb.Helper()
	e := newHandlerEnv(tb, envOptions{})
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, e.request(http.MethodGet, "/api/"+e.user+"/tasks", nil))
	var out []httpapi.Task
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out) != tasksPerUser {
		tb.Fatalf("GET list = %d, %d tasks (%v), want 200 and %d", rec.Code, len(out), err, tasksPerUser)
	}
	return out
}

// coreTask is the task of CONTRACT.md, the seven fields every version of
// the API sends. Encoders are compared on it, so that the hand-written one
// needs no change when the API's task grows.
type coreTask struct {
	ID          int64     `json:"id"`
	UserID      string    `json:"user_id"`
	Title       string    `json:"title"`
	Description *string   `json:"description"`
	Completed   bool      `json:"completed"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func coreOf(ts []httpapi.Task) []coreTask {
	out := make([]coreTask, len(ts))
	for i, t := range ts {
		out[i] = coreTask{ID: t.ID, UserID: t.UserID, Title: t.Title, Description: t.Description,
			Completed: t.Completed, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	}
	return out
}

// appendCoreTasks is a hand-written encoder, the floor for BenchmarkTaskJSON:
// the same bytes as encoding/json (TestTaskJSONVariants).
func appendCoreTasks(dst []byte, ts []coreTask) []byte {
	dst = append(dst, '[')
	for i := range ts {
		if i > 0 {
			dst = append(dst, ',')
		}
		t := &ts[i]
		dst = append(dst, `{"id":`...)
		dst = strconv.AppendInt(dst, t.ID, 10)
		dst = append(dst, `,"user_id":`...)
		dst, _ = jsontext.AppendQuote(dst, t.UserID)
		dst = append(dst, `,"title":`...)
		dst, _ = jsontext.AppendQuote(dst, t.Title)
		dst = append(dst, `,"description":`...)
		if t.Description == nil {
			dst = append(dst, "null"...)
		} else {
			dst, _ = jsontext.AppendQuote(dst, *t.Description)
		}
		dst = append(dst, `,"completed":`...)
		dst = strconv.AppendBool(dst, t.Completed)
		dst = append(dst, `,"created_at":"`...)
		dst = t.CreatedAt.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `","updated_at":"`...)
		dst = t.UpdatedAt.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `"}`...)
	}
	return append(dst, ']', '\n')
}

// TestTaskJSONVariants checks that the encoders BenchmarkTaskJSON compares
// do the same work: the same bytes for the core task, the same tasks back
// for the API's.
func TestTaskJSONVariants(t *testing.T) {
	list := sampleTasks(t)
	core := coreOf(list)
	var want, v2 bytes.Buffer
	if err := huma.DefaultJSONFormat.Marshal(&want, core); err != nil {
		t.Fatal(err)
	}
	if err := jsonv2.MarshalWrite(&v2, core); err != nil {
		t.Fatal(err)
	}
	v2.WriteByte('\n')
	for name, got := range map[string][]byte{"json-v2": v2.Bytes(), "append": appendCoreTasks(nil, core)} {
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("core %s encoding =\n%s\nwant (encoding/json)\n%s", name, got, want.Bytes())
		}
	}
	var api bytes.Buffer
	if err := httpapi.JSONFormat.Marshal(&api, list); err != nil {
		t.Fatal(err)
	}
	var humaList bytes.Buffer
	if err := huma.DefaultJSONFormat.Marshal(&humaList, list); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(api.Bytes(), humaList.Bytes()) {
		t.Errorf("API tasks through the router's format =\n%s\nwant (encoding/json)\n%s", api.Bytes(), humaList.Bytes())
	}
	out, err := jsonv2.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	var back []httpapi.Task
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, list) {
		t.Errorf("API tasks through json-v2 and back = %+v (%v), want %+v", back, err, list)
	}
}

// BenchmarkTaskJSON encodes tasks with the router's format
// (httpapi.JSONFormat: hand-written for task bodies, the same bytes), the
// way huma writes a response by default (a json.Encoder without HTML
// escaping), with json.Marshal, and with the JSON v2 encoder
// (go-json-experiment, already in the module graph): one API task and a
// list of 20. On the seven core fields it adds a hand-written encoder, the
// floor.
func BenchmarkTaskJSON(b *testing.B) {
	list := sampleTasks(b)
	core := coreOf(list)
	encoders := []struct {
		name string
		enc  func(*bytes.Buffer, any) error
	}{
		{"api-format", func(w *bytes.Buffer, v any) error { return httpapi.JSONFormat.Marshal(w, v) }},
		{"huma-format", func(w *bytes.Buffer, v any) error { return huma.DefaultJSONFormat.Marshal(w, v) }},
		{"json.Marshal", func(w *bytes.Buffer, v any) error {
			out, err := json.Marshal(v)
			w.Write(out)
			return err
		}},
		{"json-v2", func(w *bytes.Buffer, v any) error { return jsonv2.MarshalWrite(w, v) }},
	}
	for _, tc := range []struct {
		name string
		v    any
	}{{"api-one", list[0]}, {"api-list20", list}, {"core-list20", core}} {
		for _, e := range encoders {
			b.Run(tc.name+"/"+e.name, func(b *testing.B) {
				var buf bytes.Buffer
				b.ReportAllocs()
				for b.Loop() {
					buf.Reset()
					if err := e.enc(&buf, tc.v); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(buf.Len()))
			})
		}
	}
	b.Run("core-list20/append", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = appendCoreTasks(buf[:0], core)
		}
		b.SetBytes(int64(len(buf)))
	})
}

// discard is a ResponseWriter that keeps only the status and the size, so
// that allocations counted are the handler's, not a recorder's.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (w *discard) Header() http.Header         { return w.h }
func (w *discard) WriteHeader(status int)      { w.status = status }
func (w *discard) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discard) reset()                      { clear(w.h); w.status, w.n = 0, 0 }

// handlerEnv is the service's router on memory storage, with the real HS256
// verifier and one user who has 20 tasks.
type handlerEnv struct {
	router  http.Handler
	svc     *application.Service
	ver     *jwks.Verifier
	user    string
	token   string
	taskIDs []int64
	listID  int64 // the list of envOptions.inList
}

// listInPath is the list-in-list request of `make bench` (bench/wrk/api.lua
// mode listin): the list's top-level tasks by position.
func (e *handlerEnv) listInPath() string {
	return fmt.Sprintf("/api/%s/tasks?list_id=%d&parent_id=none&sort=position", e.user, e.listID)
}

type envOptions struct {
	log       *zap.Logger
	cacheSize int  // jwks.Config.CacheSize: 0 default, -1 off
	metrics   bool // count requests in a metrics set, as the service does
	// inList puts the user's tasks in a list of theirs, as `make bench`'s
	// seed (-lists) does, with the service's lists and memberships ports:
	// list-in-list lists it (listInPath).
	inList bool
}

func newHandlerEnv(tb testing.TB, o envOptions) *handlerEnv {
	tb.Helper()
	ctx := context.Background()
	v, err := jwks.New(ctx, jwks.Config{Secret: secret, CacheSize: o.cacheSize})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(v.Close)
	svc := application.New(memory.NewTaskRepository(), memory.NewUserRepository(), nil)
	if o.inList {
		st := memory.NewStore()
		svc = application.New(st.Tasks(), st.Users(), nil, application.WithLists(st.Lists()),
			application.WithMembers(st.Members()), application.WithTransactor(st))
	}
	id := auth.Identity{UserID: auth.UserID(seed.UserID(1)), Email: seed.Email(1), Name: seed.Name(1)}
	a, err := svc.Authorize(ctx, id, string(id.UserID))
	if err != nil {
		tb.Fatal(err)
	}
	e := &handlerEnv{svc: svc, ver: v, user: string(id.UserID)}
	var home application.Home
	if o.inList {
		l, err := svc.CreateList(ctx, a, "Bench list", nil)
		if err != nil {
			tb.Fatal(err)
		}
		e.listID = int64(l.List.ID())
		home.List = new(l.List.ID())
	}
	desc := "Some details about this task, long enough to look real."
	for i := range tasksPerUser {
		var d *string
		if i%2 == 1 {
			d = &desc
		}
		t, err := svc.CreateTaskAt(ctx, a, home, fmt.Sprintf("Task %d of user 1", i+1), d)
		if err != nil {
			tb.Fatal(err)
		}
		e.taskIDs = append(e.taskIDs, int64(t.ID()))
	}
	if e.token, err = jwks.SignHS256(secret, id, time.Hour, time.Now(), "", ""); err != nil {
		tb.Fatal(err)
	}
	if o.log == nil {
		o.log = zap.NewNop()
	}
	var m *mw.Metrics
	if o.metrics {
		m = mw.NewMetrics(metrics.NewSet())
	}
	e.router = httpapi.NewRouter(httpapi.Deps{
		Service: svc, Verifier: v, Log: o.log, Metrics: m,
		Config: httpapi.Config{CORSOrigins: []string{"http://localhost:3000"}},
	})
	return e
}

func (e *handlerEnv) request(method, path string, body []byte) *http.Request {
	var r *http.Request
	if body == nil {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+e.token)
	return r
}

// serve runs one request and fails tb unless it answers want.
func (e *handlerEnv) serve(tb testing.TB, w *discard, r *http.Request, body []byte, want int) {
	w.reset()
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	e.router.ServeHTTP(w, r)
	if w.status != want {
		tb.Fatalf("%s %s = %d, want %d", r.Method, r.URL.Path, w.status, want)
	}
}

// infoLogger is the service's production logger (JSON, info level, as
// bootstrap.NewLogger builds it) writing to ws.
func infoLogger(ws zapcore.WriteSyncer) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "ts"
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), ws, zapcore.InfoLevel), zap.AddCaller()) // as bootstrap's
}

// logFile is a file in tb's temporary directory, as stdout redirected to a
// file is: every access log line is one write(2).
func logFile(tb testing.TB) *os.File {
	f, err := os.Create(filepath.Join(tb.TempDir(), "access.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = f.Close() })
	return f
}

// TestHandlerEnv checks the benchmarks' set-up: the router answers the list
// with the user's 20 tasks, so the benchmarks measure real work, and the
// baseline handler answers the same tasks, so that it does the same work.
func TestHandlerEnv(t *testing.T) {
	e := newHandlerEnv(t, envOptions{})
	list := func(h http.Handler) []httpapi.Task {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, e.request(http.MethodGet, "/api/"+e.user+"/tasks", nil))
		var got []httpapi.Task
		if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil || len(got) != tasksPerUser {
			t.Fatalf("GET list = %d with %d tasks (%v), want 200 with %d", rec.Code, len(got), err, tasksPerUser)
		}
		return got
	}
	if got, want := list(baselineMux(e)), list(e.router); !reflect.DeepEqual(got, want) {
		t.Errorf("baseline list =\n%+v\nwant the router's\n%+v", got, want)
	}
	// list-in-list's environment: the same 20 tasks in a list, by position
	// (created in order, so the default order too).
	in := newHandlerEnv(t, envOptions{inList: true})
	rec := httptest.NewRecorder()
	in.router.ServeHTTP(rec, in.request(http.MethodGet, in.listInPath(), nil))
	var got []httpapi.Task
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil || len(got) != tasksPerUser {
		t.Fatalf("GET list in list = %d with %d tasks (%v), want 200 with %d", rec.Code, len(got), err, tasksPerUser)
	}
	all := httptest.NewRecorder()
	in.router.ServeHTTP(all, in.request(http.MethodGet, "/api/"+in.user+"/tasks", nil))
	if !bytes.Equal(rec.Body.Bytes(), all.Body.Bytes()) {
		t.Errorf("GET list in list =\n%s\nwant GET list's\n%s", rec.Body.Bytes(), all.Body.Bytes())
	}
	for _, tk := range got {
		if tk.ListID == nil || *tk.ListID != in.listID || tk.ParentID != nil || tk.Position == "" {
			t.Fatalf("task %d in list %v under %v at %q, want list %d, top level, a position", tk.ID, tk.ListID, tk.ParentID, tk.Position, in.listID)
		}
	}
}

// baselineMux is the least a list handler can do with the same verifier,
// use case and JSON: http.ServeMux, no middleware, encoding/json. The
// distance from it to the router is what chi, huma and the middleware cost.
func baselineMux(e *handlerEnv) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/{user_id}/tasks", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id, err := e.ver.Verify(ctx, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		a, err := e.svc.Authorize(ctx, id, r.PathValue("user_id"))
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		page, err := e.svc.ListTasks(ctx, a, task.Query{})
		ts := page.Tasks
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		out := make([]httpapi.Task, len(ts))
		for i, t := range ts {
			out[i] = httpapi.Task{ID: int64(t.ID()), UserID: string(t.Owner()), Title: t.Title(), Description: t.Description(),
				Completed: t.Completed(), CreatedAt: t.CreatedAt(), UpdatedAt: t.UpdatedAt(),
				Priority: string(t.Priority()), Tags: t.Tags(), CompletedAt: t.CompletedAt(), Version: int64(t.Version()),
				ListID: (*int64)(t.ListID()), ParentID: (*int64)(t.ParentID()), Position: t.Position(), Reminders: []httpapi.Reminder{},
				CreatedBy: string(t.CreatedBy()), AssigneeID: (*string)(t.Assignee())}
			if d := t.Due(); !d.IsZero() {
				s := d.String()
				out[i].DueDate = &s
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	return mux
}

// BenchmarkHandler serves requests through httpapi.NewRouter (the whole
// middleware chain, huma, the use case) on the memory adapter, with an HS256
// verifier and its token cache, so that only the HTTP layer's cost remains.
// Sub-benchmarks vary one thing: the access log at info level, the request
// metrics on, the token cache off, and a bare net/http baseline for the list.
// The log=info variants put the production access log back (the service's
// default LOG_LEVEL is info; make bench runs warn): encoded and discarded,
// written to a file line by line as stdout is, and through zap's buffered
// writer.
func BenchmarkHandler(b *testing.B) {
	listRun := func(b *testing.B, e *handlerEnv, h http.Handler) {
		path := "/api/" + e.user + "/tasks"
		if e.listID != 0 {
			path = e.listInPath()
		}
		w := &discard{h: http.Header{}}
		r := e.request(http.MethodGet, path, nil)
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			h.ServeHTTP(w, r)
			if w.status != 0 && w.status != http.StatusOK {
				b.Fatalf("GET list = %d", w.status)
			}
		}
		b.SetBytes(int64(w.n))
	}
	b.Run("list20", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{})
		listRun(b, e, e.router)
	})
	// make bench's list and list-in-list: the same 20 tasks, in a list.
	b.Run("list20/in-list", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{inList: true})
		id := e.listID
		e.listID = 0 // GET /tasks
		listRun(b, e, e.router)
		e.listID = id
	})
	b.Run("list-in-list20", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{inList: true})
		listRun(b, e, e.router)
	})
	b.Run("list20/log=info-discard", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{log: infoLogger(zapcore.AddSync(io.Discard))})
		listRun(b, e, e.router)
	})
	b.Run("list20/log=info-file", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{log: infoLogger(zapcore.AddSync(logFile(b)))})
		listRun(b, e, e.router)
	})
	b.Run("list20/log=info-buffered-file", func(b *testing.B) {
		ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(logFile(b))}
		b.Cleanup(func() { _ = ws.Stop() })
		e := newHandlerEnv(b, envOptions{log: infoLogger(ws)})
		listRun(b, e, e.router)
	})
	b.Run("list20/metrics", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{metrics: true})
		listRun(b, e, e.router)
	})
	b.Run("list20/token-cache=off", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{cacheSize: -1})
		listRun(b, e, e.router)
	})
	b.Run("list20/baseline-net-http", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{})
		listRun(b, e, baselineMux(e))
	})
	b.Run("get", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{})
		w := &discard{h: http.Header{}}
		r := e.request(http.MethodGet, fmt.Sprintf("/api/%s/tasks/%d", e.user, e.taskIDs[5]), nil)
		b.ReportAllocs()
		for b.Loop() {
			e.serve(b, w, r, nil, http.StatusOK)
		}
	})
	b.Run("toggle", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{})
		w := &discard{h: http.Header{}}
		r := e.request(http.MethodPatch, fmt.Sprintf("/api/%s/tasks/%d/complete", e.user, e.taskIDs[5]), nil)
		b.ReportAllocs()
		for b.Loop() {
			e.serve(b, w, r, nil, http.StatusOK)
		}
	})
	b.Run("create", func(b *testing.B) {
		e := newHandlerEnv(b, envOptions{})
		w := &discard{h: http.Header{}}
		body := []byte(`{"title":"bench task","description":null}`)
		r := e.request(http.MethodPost, "/api/"+e.user+"/tasks", body)
		b.ReportAllocs()
		for b.Loop() {
			e.serve(b, w, r, body, http.StatusCreated)
		}
	})
}

// BenchmarkRepository runs the PostgreSQL repository (Bun on database/sql
// and pgx, exec mode, as the service does) on 1,000 seeded users × 20
// tasks, one call at a time: each op is a round trip plus the query. The
// pgx/* sub-benchmarks send the same list query on one pgx connection
// directly, with a bound parameter, in exec mode and in prepared-statement
// mode, to price the layers and the statement mode.
func BenchmarkRepository(b *testing.B) {
	ctx := context.Background()
	url := testenv.FreshSchema(b, "bench_repo")
	const users = 1000
	if _, err := seed.Run(ctx, url, seed.Options{Users: users, TasksPerUser: tasksPerUser, InLists: true}); err != nil {
		b.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	repo := sqlstore.NewTaskRepository(db)
	owners := make([]auth.UserID, users)
	for n := range owners {
		owners[n] = auth.UserID(seed.UserID(n))
	}

	b.Run("List20", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			page, err := repo.List(ctx, owners[i%users], task.Query{})
			ts := page.Tasks
			if err != nil || len(ts) != tasksPerUser {
				b.Fatalf("List = %d tasks, %v", len(ts), err)
			}
			i++
		}
	})
	// A list view: one list's top level in the user's order (the seed
	// puts each user's tasks in their list).
	b.Run("ListInList20", func(b *testing.B) {
		i := 0
		top := task.TopLevel
		b.ReportAllocs()
		for b.Loop() {
			n := i % users
			l := list.ID(seed.ListID(n))
			page, err := repo.List(ctx, owners[n], task.Query{List: &l, Parent: &top, Sort: task.SortPosition})
			if err != nil || len(page.Tasks) != tasksPerUser {
				b.Fatalf("List = %d tasks, %v", len(page.Tasks), err)
			}
			i++
		}
	})
	b.Run("Get", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			n := i % users
			if _, err := repo.Get(ctx, owners[n], task.ID(seed.TaskID(n, i%tasksPerUser, users))); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Update-toggle", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			n := i % users
			_, err := repo.Update(ctx, owners[n], task.ID(seed.TaskID(n, i%tasksPerUser, users)), task.AnyVersion, func(t *task.Task) error {
				t.ToggleCompleted(time.Now())
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	// A drag: one task of a user right after another of the same
	// scope, one call at a time (the scope lock, the trees, the anchor and
	// its neighbour, one UPDATE).
	b.Run("Move", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			n := i % users
			j, k := (i/users)%tasksPerUser, (i/users+7)%tasksPerUser
			after := task.ID(seed.TaskID(n, k, users))
			_, err := repo.Move(ctx, owners[n], task.Move{IDs: []task.ID{task.ID(seed.TaskID(n, j, users))}, To: task.Placement{After: &after}, At: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Add", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			// Another user's tasks, so that the lists above keep 20.
			t, err := task.New("bench-add-user", "bench task", nil, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := repo.Add(ctx, t); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})

	cfg, err := sqlstore.ParsePostgresURL(url)
	if err != nil {
		b.Fatal(err)
	}
	// The repository's own list query, live tasks only when the schema has
	// a trash (its list indexes are partial on deleted_at IS NULL).
	listSQL := `SELECT id, title, description, completed, created_at, updated_at
		FROM tasks WHERE user_id = $1`
	var trash bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'tasks' AND column_name = 'deleted_at')`).Scan(&trash); err != nil {
		b.Fatal(err)
	}
	if trash {
		listSQL += " AND deleted_at IS NULL"
	}
	listSQL += " ORDER BY created_at, id"
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeExec, pgx.QueryExecModeCacheStatement} {
		b.Run("List20/pgx/"+mode.String(), func(b *testing.B) {
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(ctx)
			type row struct {
				ID          int64
				Title       string
				Description *string
				Completed   bool
				CreatedAt   time.Time
				UpdatedAt   time.Time
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				rows, err := conn.Query(ctx, listSQL, mode, string(owners[i%users]))
				if err != nil {
					b.Fatal(err)
				}
				got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
				if err != nil || len(got) != tasksPerUser {
					b.Fatalf("list = %d rows, %v", len(got), err)
				}
				i++
			}
		})
	}

	// Shared lists (issue 19): a change of a shared list's task is
	// numbered in the feed of the owner and of each member. Creates in a
	// list of one owner with no member, then in one with two; then every
	// seeded list gets two members and the toggles run again (compare
	// with Update-toggle above, same run). Last: they change the data.
	lists := sqlstore.NewListRepository(db)
	addIn := func(b *testing.B, owner auth.UserID, members int) {
		// b.Run calls this more than once (the first with b.N = 1): a new
		// list each time.
		l, err := list.New(owner, fmt.Sprint("bench list ", time.Now().UnixNano()), nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		sum, err := lists.Add(ctx, l)
		if err != nil {
			b.Fatal(err)
		}
		id := sum.List.ID()
		for m := range members {
			if _, err := db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'editor', ?, now())",
				int64(id), fmt.Sprintf("%s-member-%d", owner, m), string(owner)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			t, err := task.New(owner, "bench task", nil, time.Now(), task.InList(&id))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := repo.Add(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("AddInList", func(b *testing.B) { addIn(b, "bench-add-list", 0) })
	b.Run("AddInList/members=2", func(b *testing.B) { addIn(b, "bench-add-shared", 2) })
	if _, err := db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at)"+
		" SELECT l.id, l.user_id || '-member-' || m, 'editor', l.user_id, now() FROM lists AS l CROSS JOIN generate_series(1, 2) AS m"+
		" WHERE l.id <= ?", users); err != nil {
		b.Fatal(err)
	}
	b.Run("Update-toggle/members=2", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			n := i % users
			_, err := repo.Update(ctx, owners[n], task.ID(seed.TaskID(n, i%tasksPerUser, users)), task.AnyVersion, func(t *task.Task) error {
				t.ToggleCompleted(time.Now())
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
