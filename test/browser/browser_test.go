package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/todo-backend/todo/test/browser/apibin"
)

// tabTimeout bounds each subtest's work in its browser tab.
const tabTimeout = 60 * time.Second

// TestBrowser runs the built binary and one headless Chromium for all the
// subtests: each opens its own tab.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser; skipped with -short")
	}
	chromium := findChromium(t)

	// Two more origins on other ports: the frontend's, which CORS_ORIGINS
	// allows, and a stranger's.
	frontend := httptest.NewServer(http.HandlerFunc(blankPage))
	defer frontend.Close()
	stranger := httptest.NewServer(http.HandlerFunc(blankPage))
	defer stranger.Close()

	api := apibin.Start(t, apibin.Build(t), "CORS_ORIGINS="+frontend.URL)
	browser := startBrowser(t, chromium)

	t.Run("docs", func(t *testing.T) { testDocs(t, browser, api.URL) })
	t.Run("cors", func(t *testing.T) { testCORS(t, browser, api.URL, frontend.URL, stranger.URL) })
}

// findChromium returns the path of Debian's chromium, or skips the test
// (fails it on CI) when it is not installed.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; CI must run: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed; to run the browser tests: apt-get install chromium")
	return ""
}

// startBrowser starts headless Chromium with a fresh profile (chromedp makes a
// temporary user-data-dir and removes it) and nothing that calls home.
func startBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.WindowSize(1280, 1024),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first action starts the browser.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	return browserCtx
}

// recorder keeps what a tab requested and what went wrong in it.
type recorder struct {
	mu       sync.Mutex
	requests []*network.EventRequestWillBeSent
	failed   []*network.EventLoadingFailed
	errors   []string
}

// listen runs in the tab's event loop, so it only stores.
func (r *recorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requests = append(r.requests, ev)
	case *network.EventLoadingFailed:
		r.failed = append(r.failed, ev)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			r.errors = append(r.errors, fmt.Sprintf("log %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		r.errors = append(r.errors, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			r.errors = append(r.errors, "console.error: "+strings.Join(args, " "))
		}
	}
}

func (r *recorder) snapshot() (requests []*network.EventRequestWillBeSent, failed []*network.EventLoadingFailed, errs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests), slices.Clone(r.failed), slices.Clone(r.errors)
}

// newTab opens a tab that records its events into rec. It returns the tab's
// context and one that ends after tabTimeout, for the test's steps; the tab
// closes when the test ends.
func newTab(t *testing.T, browser context.Context, rec *recorder) (tab, ctx context.Context) {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithListener(rec.listen))
	ctx, cancel := context.WithTimeout(tab, tabTimeout)
	t.Cleanup(func() {
		cancel()
		cancelTab()
	})
	// The first action opens the tab and ties it to its context: use tab, so
	// that the tab outlives ctx's deadline for screenshots of a failure.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return tab, ctx
}

// waitTrue evaluates expr until it returns true. chromedp.Poll would compile
// the predicate with new Function, which the page's CSP forbids.
func waitTrue(ctx context.Context, expr string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", expr, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", expr, ctx.Err())
		case <-tick.C:
		}
	}
}

// renderedOp is one operation as Swagger UI shows it.
type renderedOp struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	OperationID string `json:"operationId"`
	Summary     string `json:"summary"`
}

const renderedOpsJS = `[...document.querySelectorAll(".opblock")].map(op => ({
	method: (op.querySelector(".opblock-summary-method")?.textContent ?? "").trim(),
	path: op.querySelector(".opblock-summary-path")?.dataset.path ?? "",
	operationId: (op.querySelector(".opblock-summary-operation-id")?.textContent ?? "").trim(),
	summary: (op.querySelector(".opblock-summary-description")?.textContent ?? "").trim(),
}))`

// cspViolationsJS collects the page's Content-Security-Policy violations.
const cspViolationsJS = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
	e => window.__cspViolations.push(e.violatedDirective + " blocked " + e.blockedURI));`

// testDocs opens /docs, waits for the task operations, authorizes with a
// token and calls "List tasks" with Try it out, as a user would.
func testDocs(t *testing.T, browser context.Context, apiURL string) {
	rec := &recorder{}
	tab, ctx := newTab(t, browser, rec)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: cspViolationsJS}); err != nil {
		t.Fatalf("add CSP listener: %v", err)
	}

	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(apiURL+"/docs"))
	if err != nil {
		t.Fatalf("open %s/docs: %v", apiURL, err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("GET /docs: status %d, want 200", res.Status)
	}
	if err := waitTrue(ctx, `document.querySelectorAll(".opblock .opblock-summary-path").length >= 6`); err != nil {
		shot(t, tab, "docs-not-rendered.png")
		t.Fatalf("operations did not render: %v", err)
	}
	ops, err := chromedp.Run(ctx, chromedp.Evaluate[[]renderedOp](renderedOpsJS))
	if err != nil {
		t.Fatalf("read operations: %v", err)
	}
	t.Logf("rendered operations: %+v", ops)

	// Every API operation of the served document renders, the contract's six
	// among them, each with a summary and an operationId.
	want := documentedOperations(t, apiURL)
	for _, op := range []string{
		"GET /api/{user_id}/tasks", "POST /api/{user_id}/tasks", "GET /api/{user_id}/tasks/{id}",
		"PUT /api/{user_id}/tasks/{id}", "DELETE /api/{user_id}/tasks/{id}", "PATCH /api/{user_id}/tasks/{id}/complete",
	} {
		if !slices.Contains(want, op) {
			t.Errorf("the document lacks the contract's %s", op)
		}
	}
	var got []string
	for _, op := range ops {
		if !strings.HasPrefix(op.Path, "/api/") {
			continue
		}
		got = append(got, strings.ToUpper(op.Method)+" "+op.Path)
		if op.Summary == "" {
			t.Errorf("%s %s renders no summary", op.Method, op.Path)
		}
		if op.OperationID == "" {
			t.Errorf("%s %s renders no operationId", op.Method, op.Path)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("/docs renders task operations\n%v\nwant\n%v", got, want)
	}

	tryListTasks(t, tab, ctx)
	shot(t, tab, "docs.png")

	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__cspViolations`))
	if err != nil {
		t.Errorf("read CSP violations: %v", err)
	}
	for _, v := range violations {
		t.Errorf("Content-Security-Policy violation: %s", v)
	}

	requests, failed, errs := rec.snapshot()
	for _, e := range errs {
		t.Errorf("browser reported: %s", e)
	}
	urls := map[network.RequestID]string{}
	for _, r := range requests {
		urls[r.RequestID] = r.Request.URL
	}
	for _, f := range failed {
		t.Errorf("request for %s failed: %s %s", urls[f.RequestID], f.ErrorText, f.BlockedReason)
	}
	// Nothing may come from anywhere but the service itself.
	loaded := map[string]bool{}
	for _, r := range requests {
		u, err := url.Parse(r.Request.URL)
		if err != nil {
			t.Errorf("unparsable request URL %q: %v", r.Request.URL, err)
			continue
		}
		if u.Scheme == "data" || u.Scheme == "blob" {
			continue
		}
		if u.Hostname() != "127.0.0.1" {
			t.Errorf("the docs page requested %s; want requests to 127.0.0.1 only", r.Request.URL)
		}
		loaded[u.Path] = true
	}
	// The recorder did see the page's requests, so the check above means something.
	for _, p := range []string{"/docs", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/openapi.json", "/api/alice/tasks"} {
		if !loaded[p] {
			t.Errorf("the docs page did not request %s; requested %v", p, slices.Sorted(maps.Keys(loaded)))
		}
	}
}

// tryListTasks authorizes with a bearer token in the docs page and runs
// "Try it out" on GET /api/{user_id}/tasks, which must answer 200.
func tryListTasks(t *testing.T, tab, ctx context.Context) {
	t.Helper()
	token, err := apibin.Token(apibin.Secret, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Mark the operation so that plain CSS selectors reach its inputs.
	marked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const op = [...document.querySelectorAll(".opblock-get")].find(
			op => op.querySelector(".opblock-summary-path")?.dataset.path === "/api/{user_id}/tasks");
		if (!op) return false;
		op.setAttribute("data-test", "list-tasks");
		return true;
	})()`))
	if err != nil || !marked {
		t.Fatalf("find GET /api/{user_id}/tasks in the page: %v", err)
	}
	const op = `[data-test="list-tasks"] `
	steps := []struct {
		name string
		do   chromedp.Action[chromedp.Void]
	}{
		{"open Authorize", chromedp.Click(chromedp.CSS(".auth-wrapper .authorize"))},
		{"paste the token", chromedp.SendKeys(chromedp.CSS(".modal-ux input"), token)},
		{"authorize", chromedp.Click(chromedp.CSS(".modal-ux .auth-btn-wrapper .authorize"))},
		{"close the dialog", chromedp.Click(chromedp.CSS(".modal-ux .btn-done"))},
		{"wait for the dialog to go", chromedp.WaitNotPresent(chromedp.CSS(".modal-ux"))},
		{"expand the operation", chromedp.Click(chromedp.CSS(op + ".opblock-summary-control"))},
		{"fill user_id", chromedp.SendKeys(chromedp.CSS(op+`input[placeholder="user_id"]`), "alice")},
		{"execute", chromedp.Click(chromedp.CSS(op + ".execute"))},
	}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.do); err != nil {
			shot(t, tab, "docs-try-it-out.png")
			t.Fatalf("Try it out: %s: %v", s.name, err)
		}
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(op+".live-responses-table tbody .response-col_status")))
	if err != nil {
		shot(t, tab, "docs-try-it-out.png")
		t.Fatalf("read the response of Try it out: %v", err)
	}
	if got := strings.Fields(status); len(got) == 0 || got[0] != "200" {
		t.Errorf("Try it out on GET /api/alice/tasks shows status %q, want 200", status)
	}
}

// fetchResult is what the page's fetch calls saw.
type fetchResult struct {
	Error        string          `json:"error"`
	CreateStatus int             `json:"createStatus"`
	Created      json.RawMessage `json:"created"`
	ListStatus   int             `json:"listStatus"`
	List         []listedTask    `json:"list"`
}

type listedTask struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
}

// fetchJS creates a task and lists the tasks with fetch from the page's
// origin: both requests carry Authorization, so the browser preflights them.
const fetchJS = `(async (api, token, title) => {
	try {
		const created = await fetch(api + "/api/alice/tasks", {
			method: "POST",
			headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json"},
			body: JSON.stringify({title: title}),
		});
		const createdBody = await created.json();
		const listed = await fetch(api + "/api/alice/tasks", {headers: {"Authorization": "Bearer " + token}});
		return {createStatus: created.status, created: createdBody, listStatus: listed.status, list: await listed.json()};
	} catch (e) {
		return {error: e.name + ": " + e.message};
	}
})(%q, %q, %q)`

// testCORS calls the API with fetch from the frontend's origin (allowed) and
// from a stranger's (blocked), in the same browser.
func testCORS(t *testing.T, browser context.Context, apiURL, frontendURL, strangerURL string) {
	token, err := apibin.Token(apibin.Secret, "alice")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("allowed origin", func(t *testing.T) {
		rec := &recorder{}
		_, ctx := newTab(t, browser, rec)
		if err := chromedp.Do(ctx, chromedp.Navigate(frontendURL)); err != nil {
			t.Fatalf("open %s: %v", frontendURL, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[fetchResult](
			fmt.Sprintf(fetchJS, apiURL, token, "from the frontend"), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("fetch from %s: %v", frontendURL, err)
		}
		if got.Error != "" {
			t.Fatalf("fetch from %s (allowed): %s", frontendURL, got.Error)
		}
		if got.CreateStatus != http.StatusCreated {
			t.Errorf("POST from %s: status %d, want 201; body %s", frontendURL, got.CreateStatus, got.Created)
		}
		if got.ListStatus != http.StatusOK || !slices.ContainsFunc(got.List, func(x listedTask) bool { return x.Title == "from the frontend" }) {
			t.Errorf("GET from %s: status %d, list %+v; want 200 with the created task", frontendURL, got.ListStatus, got.List)
		}

		// The browser did preflight: the requests are not simple.
		requests, _, _ := rec.snapshot()
		preflights := 0
		for _, r := range requests {
			if r.Initiator != nil && r.Initiator.Type == network.InitiatorTypePreflight {
				preflights++
			}
		}
		if preflights == 0 {
			var seen []string
			for _, r := range requests {
				seen = append(seen, r.Request.Method+" "+r.Request.URL)
			}
			t.Errorf("saw no CORS preflight from %s; requests: %v", frontendURL, seen)
		}
	})

	t.Run("other origin", func(t *testing.T) {
		rec := &recorder{}
		_, ctx := newTab(t, browser, rec)
		if err := chromedp.Do(ctx, chromedp.Navigate(strangerURL)); err != nil {
			t.Fatalf("open %s: %v", strangerURL, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[fetchResult](
			fmt.Sprintf(fetchJS, apiURL, token, "from a stranger"), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("fetch from %s: %v", strangerURL, err)
		}
		if !strings.HasPrefix(got.Error, "TypeError") {
			t.Errorf("fetch from %s (not allowed) = %+v, want a TypeError", strangerURL, got)
		}
		// It failed for CORS, not for anything else.
		_, failed, _ := rec.snapshot()
		corsBlocked := false
		for _, f := range failed {
			if f.CorsErrorStatus != nil {
				corsBlocked = true
				t.Logf("blocked as expected: %s %s", f.CorsErrorStatus.CorsError, f.CorsErrorStatus.FailedParameter)
			}
		}
		if !corsBlocked {
			t.Errorf("no request from %s failed with a CORS error; failures: %+v", strangerURL, failed)
		}

		// The preflight stopped the POST: the service holds no such task.
		if titles := listTitles(t, apiURL, token); slices.Contains(titles, "from a stranger") {
			t.Errorf("the blocked origin created a task; tasks: %v", titles)
		}
	})
}

// listTitles lists alice's tasks from Go, outside the browser.
func listTitles(t *testing.T, apiURL, token string) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, apiURL+"/api/alice/tasks", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/alice/tasks: %v", err)
	}
	defer res.Body.Close()
	var tasks []struct {
		Title string `json:"title"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tasks); err != nil {
		t.Fatalf("GET /api/alice/tasks: status %d, decode: %v", res.StatusCode, err)
	}
	var titles []string
	for _, x := range tasks {
		titles = append(titles, x.Title)
	}
	return titles
}

// shot writes a full-page PNG screenshot of the tab to the test's artifact
// folder and logs its path. Run go test with -artifacts to keep it.
func shot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Errorf("write screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", p)
}

// blankPage is the page of the other origins; the test runs its scripts.
func blankPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<!doctype html><html lang=en><title>another origin</title><p>another origin</p></html>")
}

// documentedOperations lists "METHOD /path" of every /api operation in the
// document the binary serves.
func documentedOperations(t *testing.T, apiURL string) []string {
	t.Helper()
	res, err := http.Get(apiURL + "/openapi.json")
	if err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatalf("decode /openapi.json: %v", err)
	}
	var ops []string
	for p, methods := range doc.Paths {
		if !strings.HasPrefix(p, "/api/") {
			continue
		}
		for m := range methods {
			ops = append(ops, strings.ToUpper(m)+" "+p)
		}
	}
	return ops
}
