package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"go.uber.org/zap"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/application/portable"
)

// Export and import (issue 20). The routes are in routes.go, their prose in
// docs.go. An export streams the file as the stores are paged through; an
// import reads its body (or a multipart form's file part) as a stream,
// under its own bound (IMPORT_MAX_BYTES), not the 1 MiB of JSON bodies.

const (
	exportPath  = "/api/{user_id}/export"
	importsPath = "/api/{user_id}/imports"
)

// The defaults of Config.ImportMaxBytes and Config.ImportMaxRows.
const (
	DefaultImportMaxBytes = 10 << 20
	DefaultImportMaxRows  = 10_000
)

// isImport reports whether r is an import, which has its own body bound.
func isImport(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/") && strings.HasSuffix(strings.TrimRight(r.URL.Path, "/"), "/imports")
}

// isExport tells whether r asks for an export, which the request deadline
// does not bound.
func isExport(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/") && strings.HasSuffix(strings.TrimRight(r.URL.Path, "/"), "/export")
}

// exportWindow is how long one write of an export may take: the server's
// WriteTimeout bounds a whole response, which a large export outlives, so
// each write pushes the connection's deadline this far ahead instead. A
// client that stops reading is cut off after it.
const exportWindow = 30 * time.Second

// exportWriter extends the connection's write deadline before each write.
type exportWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (e exportWriter) Write(p []byte) (int, error) {
	_ = e.rc.SetWriteDeadline(time.Now().Add(exportWindow)) // not every writer has one (a test's recorder)
	return e.w.Write(p)
}

type exportInput struct {
	UserID string `path:"user_id" doc:"The owner; must be the token's user id."`
	Format string `query:"format" enum:"json,csv,ics" default:"json" doc:"json: lossless, what an import reads back (lists, subtasks, order, tags, dues with their zone, recurrence, reminders); csv: one row per task for spreadsheets (cells starting with = + - @ are quoted against formula injection); ics: RFC 5545 VTODOs with VTIMEZONEs."`
	Trash  bool   `query:"trash" doc:"Also export the trash (lists and tasks with their deleted_at); ics leaves the trash out."`
}

func (h *handlers) export(ctx context.Context, in *exportInput) (*huma.StreamResponse, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	f, err := h.svc.ExportFormatOf(in.Format)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", f.MediaType)
		hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="todo-export.%s"`, f.Ext))
		hc.SetHeader("Cache-Control", "no-store")
		hc.SetStatus(http.StatusOK)
		_, w := humachi.Unwrap(hc)
		out := exportWriter{w: hc.BodyWriter(), rc: http.NewResponseController(w)}
		if err := h.svc.Export(hc.Context(), a, f, in.Trash, out); err != nil {
			// The status is sent: cut the connection so that the client
			// sees a broken file, never a short one that looks whole.
			h.errs.log.Warn("export failed", zap.Error(err), mw.RequestIDField(ctx))
			panic(http.ErrAbortHandler)
		}
	}}, nil
}

type importInput struct {
	UserID  string `path:"user_id" doc:"The owner; must be the token's user id."`
	Format  string `query:"format" required:"true" enum:"json,todoist-csv,ics,csv" doc:"json: our export; todoist-csv: Todoist's CSV export (TYPE, CONTENT with @labels, PRIORITY 1 the highest, INDENT as subtasks, DATE, TIMEZONE, sections as lists); ics: iCalendar VTODOs; csv: any CSV with a column mapping."`
	DryRun  bool   `query:"dry_run" doc:"Create nothing: answer 200 with what would be created and every problem, each with its 1-based line of the file (the header is line 1)."`
	Mapping string `query:"mapping" maxLength:"4096" doc:"csv only: a JSON object mapping fields to the headers of their columns, such as {\"title\":\"Task\",\"due_date\":\"Deadline\"} (fields: ref, list, parent_ref, title, description, completed, completed_at, priority, due_date, due_tz, tags, position, recurrence, recurrence_from, reminders, created_at, updated_at, deleted_at). Without it the columns are guessed from the header. A multipart form may give it as its mapping field instead."`
	Project string `query:"project" maxLength:"100" doc:"todoist-csv only: the project's name, the list of the tasks outside sections (default: the uploaded file's name, or the inbox)."`
}

// ImportedList is a list an import created, or the live list of the same
// name it put tasks in (existing).
type ImportedList struct {
	_        struct{} `json:"-" additionalProperties:"false"`
	Ref      string   `json:"ref" doc:"The list's id in the file."`
	Name     string   `json:"name"`
	ID       *int64   `json:"id" doc:"The list's id; null in a dry run of a new list."`
	Existing bool     `json:"existing" doc:"The user had a live list of this name: the tasks went there (of two such lists of the user's own, the first in their sidebar)."`
	Trashed  bool     `json:"trashed" doc:"The file has it in the trash: it was created there, with its tasks, at the file's deletion time."`
	Line     int      `json:"line" doc:"The 1-based line of the file it comes from; 0 when none."`
}

// ImportedTask is a task an import created.
type ImportedTask struct {
	_       struct{} `json:"-" additionalProperties:"false"`
	Ref     string   `json:"ref" doc:"The task's id in the file."`
	Title   string   `json:"title"`
	ID      *int64   `json:"id" doc:"The new task's id; null in a dry run."`
	Trashed bool     `json:"trashed" doc:"The file has it in the trash: it was created there, at the file's deletion time, with what it was trashed with (its parent, its list), so that restoring that restores it."`
	Line    int      `json:"line" doc:"The 1-based line of the file it comes from."`
}

// ImportProblem is a row that could not be read (error: nothing is created
// while there is one) or was read with a loss (warning).
type ImportProblem struct {
	_        struct{} `json:"-" additionalProperties:"false"`
	Line     int      `json:"line" doc:"1-based line of the file; the header is line 1."`
	Field    string   `json:"field" doc:"The field or column; empty for the row as a whole."`
	Message  string   `json:"message"`
	Severity string   `json:"severity" enum:"error,warning"`
}

// ImportCounts count what an import created (or would create).
type ImportCounts struct {
	_     struct{} `json:"-" additionalProperties:"false"`
	Lists int      `json:"lists" doc:"New lists (existing ones that took tasks not counted)."`
	Tasks int      `json:"tasks"`
}

// ImportResult is the answer to an import.
type ImportResult struct {
	_        struct{}        `json:"-" additionalProperties:"false"`
	DryRun   bool            `json:"dry_run"`
	Created  ImportCounts    `json:"created" doc:"What was created; with dry_run, what would be."`
	Lists    []ImportedList  `json:"lists" nullable:"false"`
	Tasks    []ImportedTask  `json:"tasks" nullable:"false"`
	Skipped  int             `json:"skipped" doc:"Items of the file's trash that could not be kept there, left out: a list in the trash whose name one of the user's live lists has, and its tasks. (The rest of the file's trash is created in the trash.)"`
	Problems []ImportProblem `json:"problems" nullable:"false" doc:"Every problem, in the order of the file; a dry run lists errors too (a commit with one is 422)."`
}

type importOutput struct {
	Status int
	Body   ImportResult
}

// importBodyKey carries the request body an import reads, past the
// idempotency middleware (which may have read it already).
type importBodyKey struct{}

// importBody is the import's operation middleware: it hands the body to
// the handler unread, as a stream.
func importBody(ctx huma.Context, next func(huma.Context)) {
	body := importStream{r: ctx.BodyReader(), contentType: ctx.Header("Content-Type")}
	next(huma.WithValue(ctx, importBodyKey{}, body))
}

type importStream struct {
	r           io.Reader
	contentType string
}

// errBadForm is a multipart body without a file part, or one that is not
// multipart at all although it says so.
var errBadForm = errors.New("bad multipart form")

func (h *handlers) importFile(ctx context.Context, in *importInput) (*importOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	f, err := h.svc.ImportFormatOf(in.Format)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	body, ok := ctx.Value(importBodyKey{}).(importStream)
	if !ok {
		return nil, h.errs.toResponse(ctx, errors.New("import: no body stream"), "body")
	}
	opt := application.ImportOptions{Project: in.Project, Limits: portable.Limits{MaxBytes: h.importMax, MaxItems: h.importRows}}
	if in.Mapping != "" {
		if opt.Mapping, err = parseMapping(in.Mapping); err != nil {
			return nil, &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"query", "mapping"}, Msg: err.Error(), Type: "value_error"}}}
		}
	}
	r := body.r
	if mt, params, _ := mime.ParseMediaType(body.contentType); mt == "multipart/form-data" {
		r, err = formFile(multipart.NewReader(body.r, params["boundary"]), &opt)
		if err != nil {
			return nil, &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"body"}, Msg: err.Error(), Type: "value_error"}}}
		}
	}
	rep, err := h.svc.Import(ctx, a, f, r, opt, in.DryRun)
	if err != nil {
		return nil, h.importError(ctx, err)
	}
	out := &importOutput{Status: http.StatusCreated, Body: importResult(rep)}
	if in.DryRun {
		out.Status = http.StatusOK
	}
	return out, nil
}

// parseMapping reads the generic CSV's column mapping, a JSON object of
// strings.
func parseMapping(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, errors.New(`must be a JSON object of field names to column headers, such as {"title":"Task"}`)
	}
	return m, nil
}

// formFile reads a multipart form up to its file part, taking the mapping
// and project fields that come before it, and returns the file's stream.
func formFile(mr *multipart.Reader, opt *application.ImportOptions) (io.Reader, error) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: the form has no file part", errBadForm)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadForm, err)
		}
		switch p.FormName() {
		case "file":
			if opt.Project == "" && p.FileName() != "" {
				name := path.Base(p.FileName())
				opt.Project = strings.TrimSuffix(name, path.Ext(name))
			}
			return p, nil
		case "mapping":
			b, err := io.ReadAll(io.LimitReader(p, 4097))
			if err != nil || len(b) > 4096 {
				return nil, fmt.Errorf("%w: the mapping field is longer than 4096 bytes", errBadForm)
			}
			if opt.Mapping, err = parseMapping(string(b)); err != nil {
				return nil, fmt.Errorf("mapping: %w", err)
			}
		case "project":
			b, err := io.ReadAll(io.LimitReader(p, 101))
			if err != nil || len(b) > 100 {
				return nil, fmt.Errorf("%w: the project field is longer than 100 bytes", errBadForm)
			}
			opt.Project = string(b)
		}
	}
}

// importError maps what an import refused: a file it cannot read (413 over
// a bound, 422 otherwise), or rows that cannot be read (422 naming each
// line), or what any use case fails with.
func (h *handlers) importError(ctx context.Context, err error) error {
	var fe *portable.FileError
	var ie *application.ImportError
	switch {
	case errors.As(err, &fe) && (errors.Is(err, portable.ErrTooLarge) || errors.Is(err, portable.ErrTooManyItems)):
		return newHTTPError(http.StatusRequestEntityTooLarge, "Import too large: "+fe.Error())
	case errors.As(err, &fe):
		loc := []any{"body"}
		if fe.Line > 0 {
			loc = append(loc, "line", fe.Line)
		}
		return &ValidationProblem{Detail: []ValidationItem{{Loc: loc, Msg: fe.Error(), Type: "value_error"}}}
	case errors.As(err, &ie):
		p := &ValidationProblem{Detail: []ValidationItem{}}
		for _, pr := range ie.Report.Problems {
			if pr.Severity != portable.SeverityError {
				continue
			}
			loc := []any{"body", "line", pr.Line}
			if pr.Field != "" {
				loc = append(loc, pr.Field)
			}
			p.Detail = append(p.Detail, ValidationItem{Loc: loc, Msg: pr.Msg, Type: "value_error"})
		}
		return p
	case errors.Is(err, errBadForm):
		return &ValidationProblem{Detail: []ValidationItem{{Loc: []any{"body"}, Msg: err.Error(), Type: "value_error"}}}
	}
	return h.errs.toResponse(ctx, err, "body")
}

func importResult(rep *application.ImportReport) ImportResult {
	out := ImportResult{
		DryRun: rep.DryRun, Skipped: rep.Skipped,
		Lists: make([]ImportedList, len(rep.Lists)), Tasks: make([]ImportedTask, len(rep.Tasks)),
		Problems: make([]ImportProblem, len(rep.Problems)),
	}
	for i, l := range rep.Lists {
		out.Lists[i] = ImportedList{Ref: l.Ref, Name: l.Name, Existing: l.Existing, Trashed: l.Trashed, Line: l.Line}
		if l.ID != 0 {
			id := int64(l.ID)
			out.Lists[i].ID = &id
		}
		if !l.Existing {
			out.Created.Lists++
		}
	}
	for i, t := range rep.Tasks {
		out.Tasks[i] = ImportedTask{Ref: t.Ref, Title: t.Title, Trashed: t.Trashed, Line: t.Line}
		if t.ID != 0 {
			id := int64(t.ID)
			out.Tasks[i].ID = &id
		}
	}
	out.Created.Tasks = len(rep.Tasks)
	for i, p := range rep.Problems {
		out.Problems[i] = ImportProblem{Line: p.Line, Field: p.Field, Message: p.Msg, Severity: string(p.Severity)}
	}
	return out
}

// importRequestBody documents what an import takes: the file as the body,
// or a multipart form with the file as its file part.
func importRequestBody(_ huma.API, op *huma.Operation) {
	file := &huma.Schema{Type: "string"}
	form := &huma.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*huma.Schema{
		"file":    {Type: "string", Description: "The file."},
		"mapping": {Type: "string", Description: "csv only: the column mapping (see the mapping parameter), before the file part."},
		"project": {Type: "string", Description: "todoist-csv only: the project's name, before the file part."},
	}}
	if created := op.Responses["201"]; created != nil {
		dry := *created
		dry.Description = "dry_run: what would be created, and every problem."
		dry.Headers = nil
		op.Responses["200"] = &dry
	}
	op.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"application/json":    {Schema: &huma.Schema{Description: "Our JSON export."}},
		"text/csv":            {Schema: file},
		"text/calendar":       {Schema: file},
		"multipart/form-data": {Schema: form},
	}}
}

// exportResponses documents the export's file, in each format's type.
func exportResponses(_ huma.API, op *huma.Operation) {
	file := &huma.Schema{Type: "string"}
	ok := op.Responses["200"]
	if ok == nil {
		ok = &huma.Response{}
		op.Responses["200"] = ok
	}
	ok.Description = "The file, as an attachment."
	ok.Content = map[string]*huma.MediaType{
		"application/json":             {Schema: &huma.Schema{Type: "object", Description: "json: {format, version, exported_at, lists, tasks}."}},
		"text/csv; charset=utf-8":      {Schema: file},
		"text/calendar; charset=utf-8": {Schema: file},
	}
	ok.Headers = map[string]*huma.Param{"Content-Disposition": {
		Description: "attachment; filename=\"todo-export.<format>\"",
		Schema:      &huma.Schema{Type: huma.TypeString},
	}}
}
