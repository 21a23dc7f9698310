package task

import (
	"bytes"
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
)

// Sort names the order of a list.
type Sort string

// The orders a list can have.
const (
	SortCreated  Sort = "created"
	SortUpdated  Sort = "updated"
	SortTitle    Sort = "title"
	SortDue      Sort = "due_date"
	SortPriority Sort = "priority"
	// SortPosition is the order the user gave (Task.Position): meaningful
	// within one scope (a list and a parent), which the filters name.
	SortPosition Sort = "position"
)

// Sorts lists every Sort, the default first.
func Sorts() []Sort {
	return []Sort{SortCreated, SortUpdated, SortTitle, SortDue, SortPriority, SortPosition}
}

// ParseSort reads a sort name; field names the input in the problem.
func ParseSort(field, s string) (Sort, error) {
	if slices.Contains(Sorts(), Sort(s)) {
		return Sort(s), nil
	}
	return "", EnumError(field, s, stringsOf(Sorts()))
}

// DefaultOrder is the order a sort has when none is asked for: oldest first
// for created (the base contract), most recent first for updated, A to Z for
// title, soonest first for due_date, most important first for priority, top
// to bottom for position.
func (s Sort) DefaultOrder() Order {
	switch s {
	case SortUpdated, SortPriority:
		return OrderDesc
	}
	return OrderAsc
}

// Order is the direction of a sort.
type Order string

// The directions.
const (
	OrderAsc  Order = "asc"
	OrderDesc Order = "desc"
)

// ParseOrder reads asc or desc, in lower or upper case.
func ParseOrder(field, s string) (Order, error) {
	switch s {
	case "asc", "ASC":
		return OrderAsc, nil
	case "desc", "DESC":
		return OrderDesc, nil
	}
	return "", EnumError(field, s, []string{"asc", "desc"})
}

// TagsMatch says whether a task must carry any or all of the tags a list
// asks for.
type TagsMatch string

// The ways tags match.
const (
	MatchAny TagsMatch = "any"
	MatchAll TagsMatch = "all"
)

// ParseTagsMatch reads any or all.
func ParseTagsMatch(field, s string) (TagsMatch, error) {
	switch TagsMatch(s) {
	case MatchAny, MatchAll:
		return TagsMatch(s), nil
	}
	return "", EnumError(field, s, []string{"any", "all"})
}

// EnumError is the problem of a value s of field that is not one of
// allowed, which it lists.
func EnumError(field, s string, allowed []string) error {
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = "'" + a + "'"
	}
	return &ValidationError{Problems: []Problem{{
		Field: field,
		Msg:   fmt.Sprintf("Input should be %s, not %q", strings.Join(quoted, ", "), s),
		Type:  "enum",
	}}}
}

func stringsOf[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Limits of a list.
const (
	// MaxPageSize is the most tasks a client may ask for in one page.
	MaxPageSize = 200
	// MaxSearchLen bounds a search, in code points: longer text cannot be in
	// any title or description.
	MaxSearchLen = MaxDescriptionLen
)

// ParseLimit reads a page size a client asks for: 1 to MaxPageSize.
func ParseLimit(field, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &ValidationError{Problems: []Problem{{Field: field,
			Msg: "Input should be a valid integer", Type: "int_parsing"}}}
	}
	if n < 1 || n > MaxPageSize {
		return 0, &ValidationError{Problems: []Problem{{Field: field,
			Msg: fmt.Sprintf("Input should be between 1 and %d, not %d", MaxPageSize, n), Type: "value_error"}}}
	}
	return n, nil
}

// Query asks a store for one page of a user's tasks: the filters (all of
// which must hold), the order, and where the page starts. Build it from
// client input with the Parse functions, then call Normalized.
type Query struct {
	// Statuses must each hold. Several come from the peer spellings of
	// status; contradicting ones (pending and completed) match nothing.
	Statuses []Status
	// Priorities: a task matches when it has any of them (none: no filter).
	Priorities []Priority
	// Tags, compared case-insensitively; TagsMatch says any or all of them.
	Tags      []string
	TagsMatch TagsMatch
	// Search is a case-insensitive substring of the title or the
	// description; surrounding white space is ignored, so a blank search is
	// no filter.
	Search string
	// DueFrom and DueTo bound the due date, both inclusive; a date bound
	// covers its whole day. Tasks without a due date never match a bound.
	DueFrom, DueTo Due
	// Overdue, when set, keeps only tasks that are (true) or are not (false)
	// overdue at Now in Zone.
	Overdue *bool
	// List, when set, keeps the tasks of one list, or of the inbox
	// (list.Inbox).
	List *list.ID
	// Assignee, when set, keeps the tasks assigned to that user.
	Assignee *auth.UserID
	// Parent, when set, keeps the subtasks of one task, or the top-level
	// tasks (TopLevel).
	Parent *ID
	// Now is the present; Zone the user's time zone (nil: UTC). They decide
	// what is overdue and which day a date bound covers for timed tasks.
	Now  time.Time
	Zone *time.Location
	// Sort and Order; ties are broken by id in the same direction. Tasks
	// without a due date come last in both orders of SortDue.
	Sort  Sort
	Order Order
	// Limit is the page size (at least 1); 0 means every task. Offset skips
	// tasks (for old clients); After starts after a cursor. Not both.
	Limit  int
	Offset int
	After  *Cursor

	// normalized marks a query Normalized returned, so that normalizing it
	// again (a store normalizing what the service already did) costs
	// nothing. Fields changed after Normalized are not checked again:
	// set them before.
	normalized bool
}

// Page is one page of a list.
type Page struct {
	Tasks []*Task // never nil
	Total int     // how many tasks match the filters, on every page alike
	Next  *Cursor // where the next page starts; nil on the last page
}

// Normalized checks q and returns it in the form stores read: defaults
// filled in (sort created, its default order, any, UTC, Now if zero),
// statuses and priorities without duplicates, tags as their keys. Problems
// name the parameter. The service normalizes each list request once; a
// query that Normalized returned comes back as it is, so the stores, which
// also normalize for callers that did not, repeat no work.
func (q Query) Normalized() (Query, error) {
	if q.normalized {
		return q, nil
	}
	var v validator
	if q.Sort == "" {
		q.Sort = SortCreated
	} else if _, err := ParseSort("sort", string(q.Sort)); err != nil {
		v.merge(err)
	}
	if q.Order == "" {
		q.Order = q.Sort.DefaultOrder()
	} else if q.Order != OrderAsc && q.Order != OrderDesc {
		v.merge(EnumError("order", string(q.Order), []string{"asc", "desc"}))
	}
	if q.TagsMatch == "" {
		q.TagsMatch = MatchAny
	} else if _, err := ParseTagsMatch("tags_match", string(q.TagsMatch)); err != nil {
		v.merge(err)
	}
	if q.Zone == nil {
		q.Zone = time.UTC
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	q.Now = clean(q.Now)

	var statuses []Status
	for _, s := range q.Statuses {
		if st, err := ParseStatus(string(s)); err != nil {
			v.merge(err)
		} else if st != StatusAll && !slices.Contains(statuses, st) {
			statuses = append(statuses, st)
		}
	}
	q.Statuses = statuses

	var prios []Priority
	for _, p := range q.Priorities {
		pr, err := ParsePriority(string(p))
		if err != nil {
			v.merge(err)
		} else if !slices.Contains(prios, pr) {
			prios = append(prios, pr)
		}
	}
	slices.SortFunc(prios, func(a, b Priority) int { return cmp.Compare(a.Rank(), b.Rank()) })
	q.Priorities = prios

	var keys []string
	for i, raw := range q.Tags {
		if tag, ok := v.tag("tags", i, raw); ok && !slices.Contains(keys, TagKey(tag)) {
			keys = append(keys, TagKey(tag))
		}
	}
	slices.Sort(keys)
	q.Tags = keys

	q.Search = strings.TrimSpace(q.Search) // "milk " typed in a search box is "milk"
	switch n := utf8.RuneCountInString(q.Search); {
	case !utf8.ValidString(q.Search):
		v.add("search", "must be valid UTF-8", "string_unicode")
	case strings.ContainsRune(q.Search, 0):
		v.add("search", "must not contain a NUL character", "string_nul")
	case n > MaxSearchLen:
		v.add("search", fmt.Sprintf("must be at most %d characters", MaxSearchLen), "string_too_long")
	}

	if q.List != nil && *q.List < 0 {
		v.add("list_id", "must be a positive integer", "greater_than")
	}
	if q.Parent != nil && *q.Parent < 0 {
		v.add("parent_id", "must be a positive integer", "greater_than")
	}
	q.List, q.Parent = clonePtr(q.List), clonePtr(q.Parent)

	if q.Limit < 0 {
		v.add("limit", "must not be negative", "greater_than_equal")
	}
	if q.Offset < 0 {
		v.add("offset", "must not be negative", "greater_than_equal")
	}
	if q.Offset > 0 && q.After != nil {
		v.add("offset", "cannot be combined with cursor", "value_error")
	}
	if c := q.After; c != nil && len(v.problems) == 0 {
		switch {
		case c.Sort != q.Sort || c.Order != q.Order:
			v.add("cursor", fmt.Sprintf("belongs to sort=%s&order=%s, not sort=%s&order=%s", c.Sort, c.Order, q.Sort, q.Order), "value_error")
		case c.Query != q.fingerprint():
			v.add("cursor", "belongs to a list with other filters", "value_error")
		}
	}
	if err := v.err(); err != nil {
		return Query{}, err
	}
	q.normalized = true
	return q, nil
}

// fingerprint identifies the filters of a normalized query, so that a
// cursor is not used on another list. Now is left out: it moves between
// pages.
func (q Query) fingerprint() string {
	var b strings.Builder
	for _, s := range q.Statuses {
		b.WriteString("s=" + string(s) + "\x00")
	}
	for _, p := range q.Priorities {
		b.WriteString("p=" + string(p) + "\x00")
	}
	for _, t := range q.Tags {
		b.WriteString("t=" + t + "\x00")
	}
	b.WriteString("m=" + string(q.TagsMatch) + "\x00")
	b.WriteString("q=" + Fold(q.Search) + "\x00")
	b.WriteString("f=" + q.DueFrom.String() + "\x00")
	b.WriteString("u=" + q.DueTo.String() + "\x00")
	if q.Overdue != nil {
		b.WriteString("o=" + strconv.FormatBool(*q.Overdue) + "\x00")
	}
	if q.List != nil {
		b.WriteString("l=" + strconv.FormatInt(int64(*q.List), 10) + "\x00")
	}
	if q.Parent != nil {
		b.WriteString("r=" + strconv.FormatInt(int64(*q.Parent), 10) + "\x00")
	}
	if q.Zone != nil {
		b.WriteString("z=" + q.Zone.String())
	}
	h := fnv.New64a()
	h.Write([]byte(b.String()))
	return strconv.FormatUint(h.Sum64(), 36)
}

// Cutoffs are the bounds of "overdue" for q (see Moment.Cutoffs).
func (q Query) Cutoffs() Cutoffs { return Moment{Now: q.Now, Zone: q.Zone}.Cutoffs() }

// DueRange is the due-date window of a query in the form stores compare
// due keys (Due.Time) with. An all-day task is in range when AllDayFrom <=
// key < AllDayTo; a timed one when TimedFrom <= instant < TimedTo. A zero
// time is no bound. A bound that is a date covers its whole day: in the
// user's zone for timed tasks. A bound that is an instant includes the
// all-day tasks of its day.
//
// A floating task is compared by its wall-clock reading (its key) with the
// bounds as the user's clock reads them: FloatingFrom <= key < FloatingTo.
type DueRange struct {
	AllDayFrom, AllDayTo     time.Time
	TimedFrom, TimedTo       time.Time
	FloatingFrom, FloatingTo time.Time
}

// IsZero reports whether the range bounds nothing.
func (r DueRange) IsZero() bool {
	return r.AllDayFrom.IsZero() && r.AllDayTo.IsZero()
}

// Contains reports whether d is in the range; no due date never is.
func (r DueRange) Contains(d Due) bool {
	if r.IsZero() {
		return true
	}
	if d.IsZero() {
		return false
	}
	from, to := r.TimedFrom, r.TimedTo
	if d.AllDay() {
		from, to = r.AllDayFrom, r.AllDayTo
	} else if d.Floating() {
		from, to = r.FloatingFrom, r.FloatingTo
	}
	return (from.IsZero() || !d.Time().Before(from)) && (to.IsZero() || d.Time().Before(to))
}

// DueRange computes the due-date window of q.
func (q Query) DueRange() DueRange {
	zone := q.Zone
	if zone == nil {
		zone = time.UTC
	}
	var r DueRange
	dayOf := func(d Due) (int, time.Month, int) {
		if d.AllDay() {
			return d.Time().Date()
		}
		return d.Time().In(zone).Date()
	}
	if f := q.DueFrom; !f.IsZero() {
		y, m, d := dayOf(f)
		r.AllDayFrom = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		r.TimedFrom = f.Time()
		r.FloatingFrom = DueFloating(f.Time().In(zone)).at
		if f.AllDay() {
			r.TimedFrom = clean(time.Date(y, m, d, 0, 0, 0, 0, zone))
			r.FloatingFrom = r.AllDayFrom
		}
	}
	if t := q.DueTo; !t.IsZero() {
		y, m, d := dayOf(t)
		r.AllDayTo = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
		r.TimedTo = t.Time().Add(time.Microsecond)
		r.FloatingTo = DueFloating(t.Time().In(zone)).at.Add(time.Microsecond)
		if t.AllDay() {
			r.TimedTo = clean(time.Date(y, m, d+1, 0, 0, 0, 0, zone))
			r.FloatingTo = r.AllDayTo
		}
	}
	return r
}

// Matches reports whether t passes every filter of the normalized query q.
// It is the reference the stores' own filtering must agree with.
func (q Query) Matches(t *Task) bool { return q.matcher()(t) }

// matcher returns Matches with the bounds computed once.
func (q Query) matcher() func(*Task) bool {
	dueRange, cutoffs, needle := q.DueRange(), q.Cutoffs(), Fold(q.Search)
	return func(t *Task) bool {
		for _, s := range q.Statuses {
			if s == StatusPending && t.completed || s == StatusCompleted && !t.completed {
				return false
			}
		}
		if len(q.Priorities) > 0 && !slices.Contains(q.Priorities, t.priority) {
			return false
		}
		if q.Assignee != nil && (t.assignee == nil || *t.assignee != *q.Assignee) {
			return false
		}
		if len(q.Tags) > 0 {
			n := 0
			for _, tag := range t.tags {
				if slices.Contains(q.Tags, TagKey(tag)) {
					n++
				}
			}
			if n == 0 || q.TagsMatch == MatchAll && n < len(q.Tags) {
				return false
			}
		}
		if needle != "" {
			desc := ""
			if t.description != nil {
				desc = *t.description
			}
			if !strings.Contains(TitleKey(t.title), needle) && !strings.Contains(Fold(desc), needle) {
				return false
			}
		}
		if !dueRange.Contains(t.due) {
			return false
		}
		if q.Overdue != nil && *q.Overdue != (!t.completed && cutoffs.Overdue(t.due)) {
			return false
		}
		if q.List != nil && t.Scope().List != *q.List {
			return false
		}
		if q.Parent != nil && t.Scope().Parent != *q.Parent {
			return false
		}
		return true
	}
}

// CursorAt returns the position of t in q's order: a page that ends with t
// continues after it.
func (q Query) CursorAt(t *Task) Cursor {
	c := q.keyOf(t)
	c.Query = q.fingerprint()
	return c
}

// keyOf is t's position in q's order, without the fingerprint (which
// comparisons do not need).
func (q Query) keyOf(t *Task) Cursor {
	c := Cursor{Sort: q.Sort, Order: q.Order, ID: t.id}
	switch q.Sort {
	case SortUpdated:
		c.Time = t.updatedAt
	case SortTitle:
		c.Text = TitleKey(t.title)
	case SortPosition:
		c.Text = t.Position()
	case SortPriority:
		c.Rank = t.priority.Rank()
	case SortDue:
		if t.due.IsZero() {
			c.NoDue = true
		} else {
			c.Time = t.due.Time()
		}
	default:
		c.Time = t.createdAt
	}
	return c
}

// Compare orders two tasks as q lists them.
func (q Query) Compare(a, b *Task) int {
	if q.Sort == SortPosition {
		return q.comparePositions(a, b)
	}
	return q.compareKeys(q.keyOf(a), q.keyOf(b))
}

// comparePositions is compareKeys on two tasks' keys in SortPosition (by
// key, then id), with the keys written into buffers on the stack: keyOf
// makes a string for each key never moved (Position), and a sort compares
// each task about log n times.
func (q Query) comparePositions(a, b *Task) int {
	var ka, kb [position.MaxLen]byte
	c := bytes.Compare(a.AppendPosition(ka[:0]), b.AppendPosition(kb[:0]))
	if c == 0 {
		c = cmp.Compare(a.id, b.id)
	}
	if q.Order == OrderDesc {
		return -c
	}
	return c
}

// IsAfter reports whether t comes after q's cursor (always, without one).
func (q Query) IsAfter(t *Task) bool {
	return q.After == nil || q.compareKeys(q.keyOf(t), *q.After) > 0
}

// compareKeys orders two positions: by the sort key in q's direction, then
// by id in the same direction; for SortDue, no due date last either way.
func (q Query) compareKeys(a, b Cursor) int {
	if q.Sort == SortDue && a.NoDue != b.NoDue {
		if a.NoDue {
			return 1
		}
		return -1
	}
	c := a.Time.Compare(b.Time)
	if c == 0 {
		c = strings.Compare(a.Text, b.Text)
	}
	if c == 0 {
		c = cmp.Compare(a.Rank, b.Rank)
	}
	if c == 0 {
		c = cmp.Compare(a.ID, b.ID)
	}
	if q.Order == OrderDesc {
		return -c
	}
	return c
}

// Apply lists one page of tasks from all the user's tasks as a store must:
// the reference implementation (the memory store uses it; the SQL stores
// push the same work into SQL). q must be normalized.
func (q Query) Apply(all []*Task) Page {
	var matched []*Task
	matches := q.matcher()
	for _, t := range all {
		if matches(t) {
			matched = append(matched, t)
		}
	}
	slices.SortFunc(matched, q.Compare)
	page := Page{Tasks: []*Task{}, Total: len(matched)}
	rest := matched
	if q.After != nil {
		i, _ := slices.BinarySearchFunc(rest, *q.After, func(t *Task, c Cursor) int {
			return q.compareKeys(q.keyOf(t), c)
		})
		for i < len(rest) && !q.IsAfter(rest[i]) {
			i++
		}
		rest = rest[i:]
	}
	rest = rest[min(q.Offset, len(rest)):]
	if q.Limit > 0 && len(rest) > q.Limit {
		next := q.CursorAt(rest[q.Limit-1])
		page.Next = &next
		rest = rest[:q.Limit]
	}
	page.Tasks = append(page.Tasks, rest...)
	return page
}
