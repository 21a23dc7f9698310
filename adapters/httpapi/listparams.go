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

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// DefaultListMax is how many tasks a list returns when the request sets no
// limit (LIST_MAX); a Link header leads to the rest.
const DefaultListMax = 1000

// listInput is the list request. Its query parameters are read from the
// table listParams, by parseList, and documented from it, by
// listParamDocs: huma would take each peer spelling apart, and cannot read
// a list both repeated and comma-separated.
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

// listParam is one query parameter of the list, once: its name and the
// peer spellings that mean the same, how the document shows it, and how
// parseList reads it into a task.Query. The domain keeps the values and
// their rules (task.Parse*, Query.Normalized); the spellings peer
// frontends send, of parameters and of values, are the HTTP API's and live
// here.
type listParam struct {
	name    string
	aliases []string // peer spellings of name, read and documented as it
	arity   arity

	// values, when set, are the values the domain knows (canonical), and
	// valueAliases the peer spellings of some of them: any other value is
	// an enum problem listing both. parse gets the canonical value.
	values       []string
	valueAliases []valueAlias

	schema *huma.Schema // of name; each alias shows it without the default
	doc    string
	// aliasSchema and aliasDoc document the aliases when they differ from
	// name's (status's aliases show incomplete, which status's enum, the
	// base contract's, does not).
	aliasSchema *huma.Schema
	aliasDoc    string

	// parse reads one value, sent under the spelling name (which problems
	// name), into q and returns it. (The query goes by value: a pointer
	// passed to a function value escapes, which would cost every list
	// request an allocation.)
	parse func(q task.Query, name, value string) (task.Query, error)
}

// arity is how many values a parameter takes, and how they are read.
type arity int

const (
	// one value under any spelling: an empty value is as if absent, the
	// same value twice is one, two different values are a 422.
	one arity = iota
	// each value is read, empty ones too (each status filter must hold).
	each
	// items: the parameter may be repeated, comma-separated, or both;
	// empty items are dropped. The document shows an exploded array.
	items
)

// valueAlias is a peer spelling of a value (sort=created_at is
// sort=created).
type valueAlias struct{ alias, value string }

// names is the parameter's name, then its aliases.
func (p *listParam) names() []string { return append([]string{p.name}, p.aliases...) }

// spellings are the values the parameter accepts, canonical ones first.
func (p *listParam) spellings() []string {
	out := slices.Clone(p.values)
	for _, a := range p.valueAliases {
		out = append(out, a.alias)
	}
	return out
}

// canonical returns the domain's value for s, and whether s is accepted.
func (p *listParam) canonical(s string) (string, bool) {
	for _, a := range p.valueAliases {
		if s == a.alias {
			return a.value, true
		}
	}
	return s, slices.Contains(p.values, s)
}

// assigneeMe is the value of assignee that names the caller.
const assigneeMe = "me"

// listParams are the list's parameters: parseList reads them in this order
// (so problems come in it) and listParamDocs documents them in it. A new
// filter is one entry here and its rule in the domain (task.Query).
var listParams = []listParam{
	{
		name: "status", aliases: []string{"status_filter", "status_param"}, arity: each,
		values: stringsOf(task.Statuses()), valueAliases: []valueAlias{{"incomplete", string(task.StatusPending)}},
		// status keeps the base contract's enum, so that clients typed
		// from the document see no difference; incomplete is accepted all
		// the same.
		schema:      enum(string(task.StatusAll), stringsOf(task.Statuses())...),
		doc:         "Which tasks by completion. `incomplete` (a peer spelling of `pending`) is accepted too.",
		aliasSchema: enum("", append(stringsOf(task.Statuses()), "incomplete")...),
		aliasDoc:    "Peer spelling of `status`; `incomplete` is `pending`.",
		parse: func(q task.Query, _, s string) (task.Query, error) {
			st, err := task.ParseStatus(s)
			q.Statuses = append(q.Statuses, st)
			return q, err
		},
	},
	{
		name: "completed", arity: each,
		schema: &huma.Schema{Type: huma.TypeBoolean},
		doc:    "`true` is `status=completed`, `false` is `status=pending`.",
		parse: func(q task.Query, name, s string) (task.Query, error) {
			if s == "" {
				return q, nil // as if absent
			}
			b, err := parseBool(name, s)
			if err != nil {
				return q, err
			}
			if b {
				q.Statuses = append(q.Statuses, task.StatusCompleted)
			} else {
				q.Statuses = append(q.Statuses, task.StatusPending)
			}
			return q, nil
		},
	},
	{
		name: "priority", arity: items,
		schema: &huma.Schema{Type: huma.TypeArray, Items: &huma.Schema{Type: huma.TypeString, Pattern: priorityListPattern()}},
		doc:    "Tasks with any of these priorities: repeat the parameter or separate with commas.",
		parse: func(q task.Query, _, s string) (task.Query, error) {
			p, err := task.ParsePriority(s)
			if err == nil {
				q.Priorities = append(q.Priorities, p)
			}
			return q, err
		},
	},
	{
		name: "tags", arity: items,
		schema: &huma.Schema{Type: huma.TypeArray, Items: &huma.Schema{Type: huma.TypeString}},
		doc:    "Tasks with these tags (compared ignoring case): repeat the parameter or separate with commas.",
		parse: func(q task.Query, _, s string) (task.Query, error) {
			q.Tags = append(q.Tags, s) // checked by Query.Normalized
			return q, nil
		},
	},
	{
		name:   "tags_match",
		schema: enum(string(task.MatchAny), string(task.MatchAny), string(task.MatchAll)),
		doc:    "Whether a task needs `any` of the `tags` or `all` of them.",
		parse: func(q task.Query, name, s string) (_ task.Query, err error) {
			q.TagsMatch, err = task.ParseTagsMatch(name, s)
			return q, err
		},
	},
	{
		name: "search", aliases: []string{"q"},
		schema: &huma.Schema{Type: huma.TypeString, MaxLength: ptrInt(task.MaxSearchLen)},
		doc:    "Tasks whose title or description contains this text, ignoring case and surrounding white space.",
		parse: func(q task.Query, _, s string) (task.Query, error) {
			q.Search = s // checked by Query.Normalized
			return q, nil
		},
	},
	{
		name: "due_from", aliases: []string{"due_date_from", "due_start"},
		schema: &huma.Schema{Type: huma.TypeString, Pattern: duePattern},
		doc: "Tasks due at or after this date (YYYY-MM-DD, from the start of that day) or RFC 3339 date-time. " +
			"Tasks without a due date never match.",
		parse: func(q task.Query, name, s string) (_ task.Query, err error) {
			q.DueFrom, err = task.ParseDue(name, s)
			return q, err
		},
	},
	{
		name: "due_to", aliases: []string{"due_date_to", "due_end"},
		schema: &huma.Schema{Type: huma.TypeString, Pattern: duePattern},
		doc:    "Tasks due at or before this date (YYYY-MM-DD, to the end of that day) or RFC 3339 date-time.",
		parse: func(q task.Query, name, s string) (_ task.Query, err error) {
			q.DueTo, err = task.ParseDue(name, s)
			return q, err
		},
	},
	{
		name: "overdue", aliases: []string{"is_overdue"},
		schema: &huma.Schema{Type: huma.TypeBoolean},
		doc: "`true`: only tasks not completed and due before now (an all-day task once its day is over in `tz`); " +
			"`false`: only the others.",
		parse: func(q task.Query, name, s string) (task.Query, error) {
			b, err := parseBool(name, s)
			if err == nil {
				q.Overdue = &b
			}
			return q, err
		},
	},
	{
		name:   "list_id",
		schema: &huma.Schema{Type: huma.TypeString, Pattern: idOrPattern(inboxWord), Examples: []any{"3"}},
		doc:    "Tasks of this list (its id), or of the inbox (`inbox`: the tasks in no list). A list that is not the caller's gives `[]`.",
		parse: func(q task.Query, name, s string) (task.Query, error) {
			id, err := parseIDOr(name, s, inboxWord)
			l := list.ID(id)
			q.List = &l
			return q, err
		},
	},
	{
		name:   "assignee",
		schema: &huma.Schema{Type: huma.TypeString, MinLength: ptrInt(1), MaxLength: ptrInt(255), Examples: []any{"me"}},
		doc:    "Tasks assigned to this user: `me` (the caller) or a user id.",
		parse: func(q task.Query, name, s string) (task.Query, error) {
			who := auth.UserID(s)
			q.Assignee = &who
			return q, nil
		},
	},
	{
		name:   "parent_id",
		schema: &huma.Schema{Type: huma.TypeString, Pattern: idOrPattern(noneWord), Examples: []any{"12"}},
		doc: "Subtasks of this task (its id), or the top-level tasks (`none`). With `list_id` and `sort=position`: " +
			"one level of a list, in the user's order.",
		parse: func(q task.Query, name, s string) (task.Query, error) {
			id, err := parseIDOr(name, s, noneWord)
			p := task.ID(id)
			q.Parent = &p
			return q, err
		},
	},
	{
		name: "sort", aliases: []string{"sort_by", "sortBy"},
		values: stringsOf(task.Sorts()), valueAliases: []valueAlias{
			{"created_at", string(task.SortCreated)}, {"updated_at", string(task.SortUpdated)},
			{"manual", string(task.SortPosition)},
		},
		schema: enum(string(task.SortCreated), append(stringsOf(task.Sorts()), "created_at", "updated_at", "manual")...),
		doc: "The order: `created` (`created_at`), `updated` (`updated_at`), `title` (ignoring case), `due_date` " +
			"(tasks without one last, in both orders), `priority` (by rank: high > medium > low) or `position` " +
			"(`manual`: the order the user dragged, by `position`; meant for one list and parent, see `list_id` and " +
			"`parent_id`). Ties are broken by id in the same direction.",
		parse: func(q task.Query, name, s string) (_ task.Query, err error) {
			q.Sort, err = task.ParseSort(name, s)
			return q, err
		},
	},
	{
		name: "order", aliases: []string{"sort_order", "sortOrder"},
		schema: enum("", "asc", "desc", "ASC", "DESC"),
		doc:    "`asc` or `desc`. Default: `asc` for created, title and due_date; `desc` for updated and priority.",
		parse: func(q task.Query, name, s string) (_ task.Query, err error) {
			q.Order, err = task.ParseOrder(name, s)
			return q, err
		},
	},
	{
		name:   "limit",
		schema: &huma.Schema{Type: huma.TypeInteger, Minimum: ptrFloat(1), Maximum: ptrFloat(task.MaxPageSize)},
		doc:    "Page size. Without it, the whole list up to the server's ceiling.",
		parse: func(q task.Query, name, s string) (_ task.Query, err error) {
			q.Limit, err = task.ParseLimit(name, s)
			return q, err
		},
	},
	{
		name:   "cursor",
		schema: &huma.Schema{Type: huma.TypeString},
		doc: "Where the page starts: the opaque cursor of the previous page's `Link`. Only valid with the same " +
			"filters, sort and order.",
		parse: func(q task.Query, _, s string) (task.Query, error) {
			c, err := task.ParseCursor(s)
			if err == nil {
				q.After = &c
			}
			return q, err
		},
	},
	{
		name:   "offset",
		schema: &huma.Schema{Type: huma.TypeInteger, Minimum: ptrFloat(0)},
		doc:    "Skip this many tasks, for old clients; prefer `cursor`. Not with `cursor`.",
		parse: func(q task.Query, name, s string) (task.Query, error) {
			n, err := strconv.Atoi(s)
			q.Offset = n
			if err != nil || n < 0 {
				return q, &task.ValidationError{Problems: []task.Problem{{Field: name,
					Msg: "Input should be a non-negative integer", Type: "int_parsing"}}}
			}
			return q, nil
		},
	},
	{
		name:   "tz",
		schema: &huma.Schema{Type: huma.TypeString, Examples: []any{"Europe/Paris"}},
		doc: "The user's IANA time zone (default UTC): when an all-day task is overdue, and which instants a date " +
			"in `due_from`/`due_to` covers for timed tasks.",
		parse: func(q task.Query, _, s string) (_ task.Query, err error) {
			q.Zone, err = task.ParseTimeZone(s)
			return q, err
		},
	},
}

// listParamNames holds each listParam's names(), made once: parseList
// looks every spelling up on every request.
var listParamNames = func() [][]string {
	out := make([][]string, len(listParams))
	for i := range listParams {
		out[i] = listParams[i].names()
	}
	return out
}()

func stringsOf[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// enum is the schema of a string that is one of values, with a default
// ("" for none).
func enum(def string, values ...string) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString}
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	if def != "" {
		s.Default = def
	}
	return s
}

// priorityListPattern is a comma-separated list of priorities, in lower or
// upper case, as task.ParsePriority reads them.
func priorityListPattern() string {
	var spellings []string
	for _, p := range task.Priorities() {
		spellings = append(spellings, string(p))
	}
	for _, p := range task.Priorities() {
		spellings = append(spellings, strings.ToUpper(string(p)))
	}
	one := "(" + strings.Join(spellings, "|") + ")"
	return "^" + one + "(," + one + ")*$"
}

// listParamDocs documents every parameter of the list and every peer
// spelling, for the OpenAPI document.
func listParamDocs() []*huma.Param {
	var out []*huma.Param
	explode := true
	for i := range listParams {
		p := &listParams[i]
		for j, name := range listParamNames[i] {
			doc, schema := p.doc, p.schema
			if j > 0 {
				doc, schema = p.aliasDoc, p.aliasSchema
				if doc == "" {
					doc = fmt.Sprintf("Peer spelling of `%s`.", p.name)
				}
				if schema == nil {
					c := *p.schema
					c.Default = nil
					schema = &c
				}
			}
			param := &huma.Param{Name: name, In: "query", Description: doc, Schema: schema}
			if p.arity == items {
				param.Explode = &explode
			}
			out = append(out, param)
		}
	}
	return out
}

// The words that stand for "none" in list_id (the inbox, list.Inbox) and
// parent_id (the top level, task.TopLevel).
const (
	inboxWord = "inbox"
	noneWord  = "none"
)

// idOrPattern is the pattern of an id parameter that also takes word.
func idOrPattern(word string) string { return "^(" + word + "|[1-9][0-9]*)$" }

// parseIDOr reads an id (a positive 64-bit integer), or word as 0: the
// inbox (list.Inbox) or the top level (task.TopLevel).
func parseIDOr(name, s, word string) (int64, error) {
	if s == word {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, &task.ValidationError{Problems: []task.Problem{{Field: name,
			Msg: fmt.Sprintf("Input should be an id (a positive integer) or %s", word), Type: "int_parsing"}}}
	}
	return n, nil
}

func ptrInt(n int) *int           { return &n }
func ptrFloat(f float64) *float64 { return &f }

// listQuery is a parsed list request: the domain query, and which spelling
// of each parameter the client used, so that problems name it.
type listQuery struct {
	q    task.Query
	used map[string]string // canonical name -> the peer spelling sent; nil when none
}

// parseList reads every list parameter (listParams) into a task.Query.
// Every problem is reported, each naming the parameter as sent. listMax is
// the page size when no limit is given.
func parseList(v url.Values, listMax int) (listQuery, error) {
	var lq listQuery
	lq.q.Limit = listMax
	var problems []task.Problem
	read := func(p *listParam, name, s string) {
		if p.values != nil {
			canonical, ok := p.canonical(s)
			if !ok {
				problems = appendProblems(problems, name, task.EnumError(name, s, p.spellings()))
				return
			}
			s = canonical
		}
		var err error
		lq.q, err = p.parse(lq.q, name, s)
		problems = appendProblems(problems, name, err)
	}
	for i := range listParams {
		p, names := &listParams[i], listParamNames[i]
		switch p.arity {
		case each:
			for _, name := range names {
				for _, s := range v[name] {
					read(p, name, s)
				}
			}
		case items:
			for _, name := range names {
				for _, s := range splitList(v[name]) {
					read(p, name, s)
				}
			}
		case one:
			if name, s, ok := lq.single(v, &problems, names...); ok {
				read(p, name, s)
			}
		}
	}
	if len(problems) > 0 {
		return lq, &task.ValidationError{Problems: problems}
	}
	return lq, nil
}

// appendProblems adds the problems of err, a ValidationError about one
// value of a parameter, each naming the spelling sent (the domain's parsers
// name the canonical parameter, or none).
func appendProblems(problems []task.Problem, name string, err error) []task.Problem {
	if ve, ok := errors.AsType[*task.ValidationError](err); ok {
		for _, p := range ve.Problems {
			p.Field = name
			problems = append(problems, p)
		}
	}
	return problems
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
				// Only a peer spelling is kept: rename leaves the
				// canonical name as it is, so the common request (every
				// parameter spelt canonically) makes no map.
				if n != names[0] {
					if lq.used == nil {
						lq.used = map[string]string{}
					}
					lq.used[names[0]] = n
				}
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
	if who := lq.q.Assignee; who != nil && *who == assigneeMe {
		me := a.Owner()
		lq.q.Assignee = &me
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
