package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/domain/task"
)

// DefaultListMax is how many tasks a list returns when the request sets no
// limit (LIST_MAX); a Link header leads to the rest.
const DefaultListMax = 1000

var listDescription = fmt.Sprintf("The caller's tasks, oldest first (creation time, then id) unless `sort` says "+
	"otherwise; `[]` when there are none. Every filter must hold; contradicting filters "+
	"(`status=completed&overdue=true`) give `[]`, not an error. Peer spellings of a parameter are "+
	"accepted; the same parameter twice with different values is a 422, except the status filters, "+
	"which must all hold. An empty value is as if absent, except for `status` and its spellings (422, as the "+
	"base contract says).\n\n"+
	"Paging: the body stays a plain array. `X-Total-Count` is the number of tasks that match the "+
	"filters (not the page); `Link: <url>; rel=\"next\"` is the URL of the next page (same "+
	"parameters and a `cursor`; relative to the request unless the server knows its public URL), absent on the last page. Without `limit` the list is returned whole, "+
	"up to the server's ceiling (%d by default), with `Link` when there is more. Pages are keyset "+
	"pages: tasks added between requests never make a page skip or repeat a task.", DefaultListMax)

// listInput is the list request. Its query parameters are parsed by hand
// (parseList): huma would take each peer spelling apart, and cannot read a
// list both repeated and comma-separated. They are documented by
// listParamDocs.
type listInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`

	origin origin // the query and where the request came from
}

// Resolve keeps what the handler parses after authorization, so that a bad
// token is 401 and another user's URL 403 before any 422.
func (in *listInput) Resolve(ctx huma.Context) []error {
	in.origin = originOf(ctx)
	return nil
}

type listOutput struct {
	TotalCount int    `header:"X-Total-Count" doc:"How many tasks match the filters, whatever the page."`
	Link       string `header:"Link" doc:"<url>; rel=\"next\": the next page, relative to this request unless the server knows its public URL. Absent on the last page."`
	Body       []Task `nullable:"false"` // never null: `[]` when there are none
}

// Parameter spellings: the name first, then what peer frontends send.
var (
	statusNames   = []string{"status", "status_filter", "status_param"}
	searchNames   = []string{"search", "q"}
	dueFromNames  = []string{"due_from", "due_date_from", "due_start"}
	dueToNames    = []string{"due_to", "due_date_to", "due_end"}
	overdueNames  = []string{"overdue", "is_overdue"}
	sortNames     = []string{"sort", "sort_by", "sortBy"}
	orderNames    = []string{"order", "sort_order", "sortOrder"}
	priorityItems = "low|medium|high|LOW|MEDIUM|HIGH"
)

// listParamDocs documents every parameter of the list and every peer
// spelling, for the OpenAPI document.
func listParamDocs() []*huma.Param {
	var out []*huma.Param
	explode := true
	add := func(names []string, s *huma.Schema, doc string, list bool) {
		for i, name := range names {
			d := doc
			schema := s
			if i > 0 {
				d = fmt.Sprintf("Peer spelling of `%s`.", names[0])
				c := *s
				c.Default = nil
				schema = &c
			}
			p := &huma.Param{Name: name, In: "query", Description: d, Schema: schema}
			if list {
				p.Explode = &explode
			}
			out = append(out, p)
		}
	}
	str := func(s huma.Schema) *huma.Schema { s.Type = huma.TypeString; return &s }
	boolean := &huma.Schema{Type: huma.TypeBoolean}

	// status keeps the base contract's enum, so that clients typed from the
	// document see no difference; incomplete is accepted all the same.
	add([]string{"status"}, str(huma.Schema{Enum: []any{"all", "pending", "completed"}, Default: "all"}),
		"Which tasks by completion. `incomplete` (a peer spelling of `pending`) is accepted too.", false)
	for _, name := range statusNames[1:] {
		add([]string{name}, str(huma.Schema{Enum: []any{"all", "pending", "completed", "incomplete"}}),
			"Peer spelling of `status`; `incomplete` is `pending`.", false)
	}
	add([]string{"completed"}, boolean, "`true` is `status=completed`, `false` is `status=pending`.", false)
	add([]string{"priority"}, &huma.Schema{Type: huma.TypeArray, Items: str(huma.Schema{
		Pattern: "^(" + priorityItems + ")(,(" + priorityItems + "))*$"})},
		"Tasks with any of these priorities: repeat the parameter or separate with commas.", true)
	add([]string{"tags"}, &huma.Schema{Type: huma.TypeArray, Items: str(huma.Schema{})},
		"Tasks with these tags (compared ignoring case): repeat the parameter or separate with commas.", true)
	add([]string{"tags_match"}, str(huma.Schema{Enum: []any{"any", "all"}, Default: "any"}),
		"Whether a task needs `any` of the `tags` or `all` of them.", false)
	add(searchNames, str(huma.Schema{MaxLength: ptrInt(task.MaxSearchLen)}),
		"Tasks whose title or description contains this text, ignoring case and surrounding white space.", false)
	add(dueFromNames, str(huma.Schema{Pattern: duePattern}),
		"Tasks due at or after this date (YYYY-MM-DD, from the start of that day) or RFC 3339 date-time. "+
			"Tasks without a due date never match.", false)
	add(dueToNames, str(huma.Schema{Pattern: duePattern}),
		"Tasks due at or before this date (YYYY-MM-DD, to the end of that day) or RFC 3339 date-time.", false)
	add(overdueNames, boolean,
		"`true`: only tasks not completed and due before now (an all-day task once its day is over in `tz`); "+
			"`false`: only the others.", false)
	sorts := []any{}
	for _, s := range task.SortSpellings() {
		sorts = append(sorts, s)
	}
	add(sortNames, str(huma.Schema{Enum: sorts, Default: string(task.SortCreated)}),
		"The order: `created` (`created_at`), `updated` (`updated_at`), `title` (ignoring case), `due_date` "+
			"(tasks without one last, in both orders) or `priority` (by rank: high > medium > low). "+
			"Ties are broken by id in the same direction.", false)
	add(orderNames, str(huma.Schema{Enum: []any{"asc", "desc", "ASC", "DESC"}}),
		"`asc` or `desc`. Default: `asc` for created, title and due_date; `desc` for updated and priority.", false)
	add([]string{"limit"}, &huma.Schema{Type: huma.TypeInteger, Minimum: ptrFloat(1), Maximum: ptrFloat(task.MaxPageSize)},
		"Page size. Without it, the whole list up to the server's ceiling.", false)
	add([]string{"cursor"}, str(huma.Schema{}),
		"Where the page starts: the opaque cursor of the previous page's `Link`. Only valid with the same "+
			"filters, sort and order.", false)
	add([]string{"offset"}, &huma.Schema{Type: huma.TypeInteger, Minimum: ptrFloat(0)},
		"Skip this many tasks, for old clients; prefer `cursor`. Not with `cursor`.", false)
	add([]string{"tz"}, str(huma.Schema{Examples: []any{"Europe/Paris"}}),
		"The user's IANA time zone (default UTC): when an all-day task is overdue, and which instants a date "+
			"in `due_from`/`due_to` covers for timed tasks.", false)
	return out
}

func ptrInt(n int) *int           { return &n }
func ptrFloat(f float64) *float64 { return &f }

// listQuery is a parsed list request: the domain query, and which spelling
// of each parameter the client used, so that problems name it.
type listQuery struct {
	q    task.Query
	used map[string]string // canonical name -> the spelling sent
}

// parseList reads every list parameter into a task.Query. Every problem is
// reported, each naming the parameter as sent. listMax is the page size
// when no limit is given.
func parseList(v url.Values, listMax int) (listQuery, error) {
	lq := listQuery{used: map[string]string{}}
	q := &lq.q
	var problems []task.Problem
	fail := func(err error) {
		if ve, ok := errors.AsType[*task.ValidationError](err); ok {
			problems = append(problems, ve.Problems...)
		}
	}

	// status and its spellings: each value is a filter; all must hold.
	for _, name := range statusNames {
		for _, s := range v[name] {
			st, err := task.ParseStatusFor(name, s)
			if err != nil {
				fail(err)
				continue
			}
			q.Statuses = append(q.Statuses, st)
		}
	}
	for _, s := range nonEmpty(v["completed"]) {
		b, err := parseBool("completed", s)
		if err != nil {
			fail(err)
			continue
		}
		if b {
			q.Statuses = append(q.Statuses, task.StatusCompleted)
		} else {
			q.Statuses = append(q.Statuses, task.StatusPending)
		}
	}
	for _, s := range splitList(v["priority"]) {
		p, err := task.ParsePriority(s)
		if err != nil {
			fail(err)
			continue
		}
		q.Priorities = append(q.Priorities, p)
	}
	q.Tags = splitList(v["tags"])

	if name, s, ok := lq.single(v, &problems, "tags_match"); ok {
		m, err := task.ParseTagsMatch(name, s)
		fail(err)
		q.TagsMatch = m
	}
	if _, s, ok := lq.single(v, &problems, searchNames...); ok {
		q.Search = s
	}
	if name, s, ok := lq.single(v, &problems, dueFromNames...); ok {
		d, err := task.ParseDue(name, s)
		fail(err)
		q.DueFrom = d
	}
	if name, s, ok := lq.single(v, &problems, dueToNames...); ok {
		d, err := task.ParseDue(name, s)
		fail(err)
		q.DueTo = d
	}
	if name, s, ok := lq.single(v, &problems, overdueNames...); ok {
		b, err := parseBool(name, s)
		fail(err)
		if err == nil {
			q.Overdue = &b
		}
	}
	if name, s, ok := lq.single(v, &problems, sortNames...); ok {
		so, err := task.ParseSort(name, s)
		fail(err)
		q.Sort = so
	}
	if name, s, ok := lq.single(v, &problems, orderNames...); ok {
		o, err := task.ParseOrder(name, s)
		fail(err)
		q.Order = o
	}
	q.Limit = listMax
	if name, s, ok := lq.single(v, &problems, "limit"); ok {
		n, err := task.ParseLimit(name, s)
		fail(err)
		q.Limit = n
	}
	if _, s, ok := lq.single(v, &problems, "cursor"); ok {
		c, err := task.ParseCursor(s)
		fail(err)
		if err == nil {
			q.After = &c
		}
	}
	if name, s, ok := lq.single(v, &problems, "offset"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			problems = append(problems, task.Problem{Field: name,
				Msg: "Input should be a non-negative integer", Type: "int_parsing"})
		}
		q.Offset = n
	}
	if name, s, ok := lq.single(v, &problems, "tz"); ok {
		z, err := task.ParseTimeZone(s)
		if ve, ok := errors.AsType[*task.ValidationError](err); ok {
			for _, p := range ve.Problems {
				p.Field = name
				problems = append(problems, p)
			}
		}
		q.Zone = z
	}
	if len(problems) > 0 {
		return lq, &task.ValidationError{Problems: problems}
	}
	return lq, nil
}

// single reads a parameter that takes one value, under any of its
// spellings. Empty values count as absent; the same value twice is one;
// two different values are a problem.
func (lq *listQuery) single(v url.Values, problems *[]task.Problem, names ...string) (name, value string, ok bool) {
	for _, n := range names {
		for _, s := range nonEmpty(v[n]) {
			switch {
			case !ok:
				name, value, ok = n, s, true
				lq.used[names[0]] = n
			case s != value:
				*problems = append(*problems, task.Problem{Field: n,
					Msg: fmt.Sprintf("conflicts with %s=%q: give one value", name, value), Type: "value_error"})
				return name, value, ok
			}
		}
	}
	return name, value, ok
}

// rename makes the problems the domain reports under a parameter's name
// (Query.Normalized) name the spelling the client sent.
func (lq *listQuery) rename(err error) error {
	ve, ok := errors.AsType[*task.ValidationError](err)
	if !ok {
		return err
	}
	out := &task.ValidationError{Problems: slices.Clone(ve.Problems)}
	for i, p := range out.Problems {
		if sent, ok := lq.used[p.Field]; ok {
			out.Problems[i].Field = sent
		}
	}
	return out
}

func nonEmpty(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, s := range vs {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitList reads a parameter that may be repeated, comma-separated, or
// both; empty items are dropped.
func splitList(vs []string) []string {
	var out []string
	for _, s := range vs {
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// parseBool reads a boolean as FastAPI does: true/false, 1/0, yes/no,
// on/off, in any case.
func parseBool(name, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on", "t", "y":
		return true, nil
	case "false", "0", "no", "off", "f", "n":
		return false, nil
	}
	return false, &task.ValidationError{Problems: []task.Problem{{Field: name,
		Msg: "Input should be a valid boolean", Type: "bool_parsing"}}}
}

func (h *handlers) list(ctx context.Context, in *listInput) (*listOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	listMax := h.listMax
	if listMax <= 0 {
		listMax = DefaultListMax
	}
	lq, err := parseList(in.origin.query, listMax)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "query")
	}
	page, err := h.svc.ListTasks(ctx, a, lq.q)
	if err != nil {
		return nil, h.errs.toResponse(ctx, lq.rename(err), "query")
	}
	out := &listOutput{
		TotalCount: page.Total,
		Link:       h.links.next(in.origin, page.Next),
		Body:       tasksOut(page.Tasks),
	}
	return out, nil
}
