package application

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/todo-backend/todo/application/portable"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The use cases of export and import (issue 20). The file formats are a
// port (Formats), which adapters/transfer implements on the application's
// document model (application/portable); the use cases map the domain to
// and from that model, page through the stores to export and create what
// an import holds in one unit of work.

// ExportFormat is a format tasks can be exported in.
type ExportFormat struct {
	MediaType string // Content-Type of the file, "text/calendar; charset=utf-8"
	Ext       string // the file name's extension, without the dot
	// Write writes src to w, streaming: it holds one item at a time.
	Write func(w io.Writer, src portable.Source) error
}

// ImportOptions are what an import says beside its file.
type ImportOptions struct {
	// Mapping maps a field of the generic CSV to the header of its column
	// (nil: guessed from the header).
	Mapping map[string]string
	// Project names the project of a Todoist file (its file name).
	Project string
	Limits  portable.Limits
}

// ImportFormat reads a file into a document (see portable.Result): a
// *portable.FileError when it cannot read it at all.
type ImportFormat func(r io.Reader, opt ImportOptions) (*portable.Result, error)

// Formats are the file formats the service exports and imports, by name.
type Formats struct {
	Export map[string]ExportFormat
	Import map[string]ImportFormat
}

// WithFormats gives the service its file formats (ErrNoFormats without).
func WithFormats(f Formats) Option { return func(s *Service) { s.formats = f } }

// ErrNoFormats means the service was built without WithFormats.
var ErrNoFormats = errors.New("application: no file formats (WithFormats)")

// exportPage is how many tasks an export reads at once.
const exportPage = 500

// ExportFormatOf returns the export format named name, or a validation
// problem on format.
func (s *Service) ExportFormatOf(name string) (ExportFormat, error) {
	f, ok := s.formats.Export[name]
	if !ok {
		return ExportFormat{}, unknownFormat(name, slices.Sorted(mapKeys(s.formats.Export)))
	}
	return f, nil
}

func mapKeys[V any](m map[string]V) iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func unknownFormat(name string, known []string) error {
	if len(known) == 0 {
		return ErrNoFormats
	}
	return check.Invalid("format", fmt.Sprintf("must be one of %q, not %q", known, name), "enum")
}

// Export writes the actor's lists and tasks (with their trash when trash
// is set) to w in format f, paging through the stores: it never holds more
// than one page of tasks.
func (s *Service) Export(ctx context.Context, a Actor, f ExportFormat, trash bool, w io.Writer) error {
	lists, err := s.listRepo()
	if err != nil {
		return err
	}
	src := portable.Source{
		ExportedAt: s.now().UTC(),
		Lists: func(yield func(portable.List, error) bool) {
			live, err := lists.List(ctx, a.owner)
			if err != nil {
				yield(portable.List{}, err)
				return
			}
			for _, l := range live {
				if !yield(listOut(l.List, nil), nil) {
					return
				}
			}
			if !trash {
				return
			}
			gone, err := lists.ListTrash(ctx, a.owner)
			if err != nil {
				yield(portable.List{}, err)
				return
			}
			for _, l := range gone {
				at := l.DeletedAt
				if !yield(listOut(l.List, &at), nil) {
					return
				}
			}
		},
		Tasks: func(yield func(portable.Task, error) bool) {
			q := task.Query{Limit: exportPage, Sort: task.SortCreated, Order: task.OrderAsc}
			for {
				page, err := s.tasks.List(ctx, a.owner, q)
				if err != nil {
					yield(portable.Task{}, err)
					return
				}
				for _, t := range page.Tasks {
					if t.Owner() != a.owner {
						continue // a shared list's, which is its owner's to export
					}
					if !yield(taskOut(t, nil), nil) {
						return
					}
				}
				if page.Next == nil {
					break
				}
				q.After = page.Next
			}
			if !trash {
				return
			}
			for offset := 0; ; offset += exportPage {
				page, err := s.tasks.ListTrash(ctx, a.owner, exportPage, offset)
				if err != nil {
					yield(portable.Task{}, err)
					return
				}
				for _, t := range page.Items {
					at := t.DeletedAt
					if !yield(taskOut(t.Task, &at), nil) {
						return
					}
				}
				if len(page.Items) < exportPage {
					return
				}
			}
		},
	}
	return f.Write(w, src)
}

func idRef[T ~int64](id T) string { return strconv.FormatInt(int64(id), 10) }

func listOut(l *list.List, deleted *time.Time) portable.List {
	out := portable.List{
		Ref: idRef(l.ID()), Name: l.Name(), Position: l.Position(),
		CreatedAt: l.CreatedAt(), UpdatedAt: l.UpdatedAt(), DeletedAt: deleted,
	}
	if c := l.Color(); c != nil {
		out.Color = *c
	}
	return out
}

func taskOut(t *task.Task, deleted *time.Time) portable.Task {
	out := portable.Task{
		Ref: idRef(t.ID()), Title: t.Title(), Description: t.Description(),
		Completed: t.Completed(), CompletedAt: t.CompletedAt(), Priority: portable.Priority(t.Priority()),
		Due: dueOut(t.Due()), Tags: t.Tags(), Position: t.Position(),
		CreatedAt: t.CreatedAt(), UpdatedAt: t.UpdatedAt(), DeletedAt: deleted,
	}
	if l := t.ListID(); l != nil {
		out.ListRef = idRef(*l)
	}
	if p := t.ParentID(); p != nil {
		out.ParentRef = idRef(*p)
	}
	if r := t.Recurrence(); !r.IsZero() {
		out.Recurrence = &portable.Recurrence{Rule: r.Rule().String(), From: portable.RecurFrom(r.From())}
	}
	for _, r := range t.Reminders() {
		if at, ok := r.At(); ok {
			out.Reminders = append(out.Reminders, portable.Reminder{At: at})
		} else if d, ok := r.Before(); ok {
			out.Reminders = append(out.Reminders, portable.Reminder{Before: task.FormatDuration(d)})
		}
	}
	return out
}

func dueOut(d task.Due) portable.Due {
	switch {
	case d.IsZero():
		return portable.Due{}
	case d.AllDay():
		y, m, day := d.Time().Date()
		return portable.DueOn(y, m, day)
	case d.Floating():
		return portable.DueFloatingAt(d.Time())
	}
	return portable.DueAt(d.Time(), d.ZoneName())
}

// ImportReport is what an import did, or with DryRun would do.
type ImportReport struct {
	DryRun bool
	// Lists and Tasks are what is (or would be) created, in the order of
	// creation; with DryRun their IDs are zero.
	Lists []ImportedList
	Tasks []ImportedTask
	// Skipped counts the items of the file in its trash that could not be
	// kept there: a list in the trash whose name one of the actor's live
	// lists has (a list is created live, then trashed), and its tasks.
	Skipped int
	// Problems are the file's rows that could not be read (errors) or were
	// read with a loss (warnings), and the domain's refusals, each with its
	// 1-based line.
	Problems []portable.Problem
}

// ImportedList is a list an import created or, when it had a live list of
// that name already, put tasks in (Existing).
type ImportedList struct {
	Ref, Name string
	ID        list.ID
	Existing  bool
	Trashed   bool // created in the trash, as the file has it
	Line      int
}

// ImportedTask is a task an import created.
type ImportedTask struct {
	Ref, Title string
	ID         task.ID
	Trashed    bool // created in the trash, as the file has it
	Line       int
}

// ImportError is an import refused for its rows: nothing was created, and
// Report says why.
type ImportError struct{ Report *ImportReport }

func (e *ImportError) Error() string {
	return fmt.Sprintf("the file has %d problems", len(e.Report.Problems))
}

// ImportFormatOf returns the import format named name, or a validation
// problem on format.
func (s *Service) ImportFormatOf(name string) (ImportFormat, error) {
	f, ok := s.formats.Import[name]
	if !ok {
		return nil, unknownFormat(name, slices.Sorted(mapKeys(s.formats.Import)))
	}
	return f, nil
}

// Import reads r in format f and creates its lists and tasks for the
// actor in one unit of work (InTx), or with dryRun only says what it would
// create. What the file has in the trash goes to the trash as it was
// there (runImport): an export with its trash imports losslessly. A file with a row that cannot be read (or that the domain
// refuses) creates nothing: *ImportError. A list whose name one of the
// actor's live lists has already takes the file's tasks into that list.
// Subtasks keep their parents, and each scope its order (the file's
// positions, then the file's order).
func (s *Service) Import(ctx context.Context, a Actor, f ImportFormat, r io.Reader, opt ImportOptions, dryRun bool) (*ImportReport, error) {
	lists, err := s.listRepo()
	if err != nil {
		return nil, err
	}
	res, err := f(r, opt)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rep := &ImportReport{DryRun: dryRun, Problems: res.Problems}
	doc := &res.Document
	plan := s.planImport(a, doc, now, rep)
	slices.SortStableFunc(rep.Problems, func(x, y portable.Problem) int { return cmp.Compare(x.Line, y.Line) })
	if hasErrors(rep.Problems) {
		if dryRun {
			return rep, nil
		}
		return nil, &ImportError{Report: rep}
	}
	if dryRun {
		return rep, nil
	}
	// runImport fills in the report (ids, what was skipped): the store may
	// run the unit again (a deadlock), each run from the planned report.
	planned := *rep
	err = s.InTx(ctx, func(ctx context.Context) error {
		*rep = planned
		rep.Lists, rep.Tasks = slices.Clone(planned.Lists), slices.Clone(planned.Tasks)
		return s.runImport(ctx, a, lists, plan, rep, now)
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func hasErrors(ps []portable.Problem) bool {
	return slices.ContainsFunc(ps, func(p portable.Problem) bool { return p.Severity == portable.SeverityError })
}

// importPlan is a checked document: its live lists in their order, and its
// live tasks by depth, each level in the order of its scopes.
type importPlan struct {
	lists  []*portable.List
	levels [][]plannedTask
	// root is the ref of each task's top-level ancestor (its own for a
	// top-level task): the task is in that task's list.
	root  map[string]string
	byRef map[string]*portable.Task
	// trashedLists and trashedTasks are the refs of the file's items in
	// its trash.
	trashedLists, trashedTasks map[string]bool
}

type plannedTask struct {
	src   *portable.Task
	depth int // 1 for a top-level task
	rep   int // its index in the report's Tasks
}

// planImport builds every task with the domain's rules (their refusals
// become error problems on the task's line) and orders what to create.
func (s *Service) planImport(a Actor, doc *portable.Document, now time.Time, rep *ImportReport) *importPlan {
	p := &importPlan{root: map[string]string{}, byRef: map[string]*portable.Task{}, trashedLists: map[string]bool{}, trashedTasks: map[string]bool{}}
	for i := range doc.Lists {
		l := &doc.Lists[i]
		if l.Trashed() {
			p.trashedLists[l.Ref] = true
		}
		if _, err := list.New(a.owner, l.Name, optStr(l.Color), now); err != nil {
			addDomainProblems(rep, l.Line, "list", err)
			continue
		}
		p.lists = append(p.lists, l)
	}
	slices.SortStableFunc(p.lists, func(x, y *portable.List) int { return cmp.Compare(x.Position, y.Position) })
	for _, l := range p.lists {
		rep.Lists = append(rep.Lists, ImportedList{Ref: l.Ref, Name: l.Name, Line: l.Line, Trashed: l.Trashed()})
	}
	// Depth by parent refs, and the top-level ancestor.
	byRef := make(map[string]*portable.Task, len(doc.Tasks))
	for i := range doc.Tasks {
		byRef[doc.Tasks[i].Ref] = &doc.Tasks[i]
	}
	p.byRef = byRef
	depth := make(map[string]int, len(doc.Tasks))
	var depthOf func(t *portable.Task, n int) int
	depthOf = func(t *portable.Task, n int) int {
		if d, ok := depth[t.Ref]; ok {
			return d
		}
		d := 1
		p.root[t.Ref] = t.Ref
		if parent, ok := byRef[t.ParentRef]; ok && t.ParentRef != "" && n < task.MaxDepth+1 {
			d = depthOf(parent, n+1)
			if d > 0 {
				d++
				p.root[t.Ref] = p.root[parent.Ref]
			}
		}
		depth[t.Ref] = d
		return d
	}
	for i := range doc.Tasks {
		src := &doc.Tasks[i]
		d := depthOf(src, 0)
		if d == 0 {
			rep.Skipped++
			continue
		}
		if src.Trashed() {
			p.trashedTasks[src.Ref] = true
		}
		if _, err := newImportedTask(a, src, now); err != nil {
			addDomainProblems(rep, src.Line, "task", err)
			continue
		}
		for len(p.levels) < d {
			p.levels = append(p.levels, nil)
		}
		p.levels[d-1] = append(p.levels[d-1], plannedTask{src: src, depth: d})
	}
	for _, level := range p.levels {
		slices.SortStableFunc(level, func(x, y plannedTask) int { return cmp.Compare(x.src.Position, y.src.Position) })
		for i, pt := range level {
			level[i].rep = len(rep.Tasks)
			rep.Tasks = append(rep.Tasks, ImportedTask{Ref: pt.src.Ref, Title: pt.src.Title, Line: pt.src.Line, Trashed: pt.src.Trashed()})
		}
	}
	return p
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// newImportedTask is src as a new task of the actor: created when the file
// says (now otherwise), completed as the file says.
func newImportedTask(a Actor, src *portable.Task, now time.Time, home ...task.Option) (*task.Task, error) {
	opts := home
	if src.Priority != "" {
		opts = append(opts, task.WithPriority(string(src.Priority)))
	}
	if len(src.Tags) > 0 {
		opts = append(opts, task.WithTags(src.Tags))
	}
	if !src.Due.IsZero() {
		opts = append(opts, task.WithDue(src.Due.String()))
		if src.Due.Kind == portable.DueInstant && src.Due.Zone != "" {
			opts = append(opts, task.WithDueZone(src.Due.Zone))
		}
		if src.Due.Kind == portable.DueFloating {
			opts = append(opts, task.WithDueFloating(true))
		}
	}
	if r := src.Recurrence; r != nil {
		from := string(r.From)
		if from == "" {
			from = string(portable.FromDue)
		}
		opts = append(opts, task.WithRecurrence(r.Rule, from))
	}
	if len(src.Reminders) > 0 {
		in := make([]task.ReminderInput, len(src.Reminders))
		for i, r := range src.Reminders {
			if r.Before != "" {
				in[i].Before = &r.Before
			} else {
				at := r.At.UTC().Format(time.RFC3339Nano)
				in[i].At = &at
			}
		}
		opts = append(opts, task.WithReminders(in))
	}
	created := now
	if !src.CreatedAt.IsZero() && !src.CreatedAt.After(now) {
		created = src.CreatedAt
	}
	t, err := task.New(a.owner, src.Title, src.Description, created, opts...)
	if err != nil {
		return nil, err
	}
	if src.Completed {
		at := created
		if src.CompletedAt != nil && !src.CompletedAt.Before(created) && !src.CompletedAt.After(now) {
			at = *src.CompletedAt
		}
		t.SetCompleted(true, at)
	}
	return t, nil
}

// addDomainProblems adds the domain's refusal of an item as error problems
// on its line.
func addDomainProblems(rep *ImportReport, line int, what string, err error) {
	var ve *check.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			rep.Problems = append(rep.Problems, portable.Problem{Line: line, Field: p.Field, Msg: p.Msg, Severity: portable.SeverityError})
		}
		return
	}
	rep.Problems = append(rep.Problems, portable.Problem{Line: line, Field: what, Msg: err.Error(), Severity: portable.SeverityError})
}

// runImport creates the plan's lists (or finds the live ones of the same
// name) and tasks, a level of subtasks at a time, filling in rep's ids.
// The file's trash goes to the trash as it was: a list in the trash is
// created with its tasks, their own trashing replayed, then trashed (each
// before the live lists, which may have taken its name since); in the
// live lists and the inbox, the tasks in the trash are trashed after
// every task is created. A trashing is replayed in the order of the
// deletion times, each at its time: a task trashed with its parent or
// list (TrashedWith) goes with it, so that restoring that restores it.
func (s *Service) runImport(ctx context.Context, a Actor, lists list.Repository, p *importPlan, rep *ImportReport, now time.Time) error {
	have, err := lists.List(ctx, a.owner)
	if err != nil {
		return err
	}
	// A name is unique only among the lists one user names (an admin's
	// rename of a shared list is checked against the admin's lists, a
	// hand-over against nobody's): the owner may have two live lists of
	// one name. The file's list goes to the first of them in the owner's
	// sidebar (lists.List's order), the one they see first.
	byName := make(map[string]list.ID, len(have))
	for _, l := range have {
		if _, dup := byName[l.List.NameKey()]; !dup {
			byName[l.List.NameKey()] = l.List.ID()
		}
	}
	listIDs := make(map[string]list.ID, len(p.lists))
	addList := func(i int, src *portable.List) error {
		created := now
		if !src.CreatedAt.IsZero() && src.CreatedAt.Before(now) {
			created = src.CreatedAt
		}
		l, err := list.New(a.owner, src.Name, optStr(src.Color), created)
		if err != nil {
			return err
		}
		sum, err := lists.Add(ctx, l)
		if err != nil {
			return fmt.Errorf("list %q (line %d): %w", src.Name, src.Line, err)
		}
		listIDs[src.Ref] = sum.List.ID()
		rep.Lists[i].ID = sum.List.ID()
		return nil
	}
	taskIDs := make(map[string]task.ID)
	taskLists := make(map[string]*list.ID)
	// inList says whether a task is in the list of ref ("": the inbox and
	// the live lists).
	inList := func(ref string) func(*portable.Task) bool {
		return func(t *portable.Task) bool {
			top := t
			if r, ok := p.byRef[p.root[t.Ref]]; ok {
				top = r
			}
			if ref == "" {
				return !p.trashedLists[top.ListRef]
			}
			return top.ListRef == ref
		}
	}
	addTasks := func(keep func(*portable.Task) bool) error {
		for _, level := range p.levels {
			var batch []*task.Task
			var planned []plannedTask
			for _, pt := range level {
				if !keep(pt.src) {
					continue
				}
				var in *list.ID
				if pt.src.ListRef != "" {
					id, ok := listIDs[pt.src.ListRef]
					if !ok {
						return check.Invalid("list_ref", fmt.Sprintf("line %d: the task's list %q is not a list of the file", pt.src.Line, pt.src.ListRef), "value_error")
					}
					in = &id
				}
				var under *task.ID
				if pt.src.ParentRef != "" {
					// A subtask is in its parent's list, whatever the file says.
					id := taskIDs[pt.src.ParentRef]
					under, in = &id, taskLists[pt.src.ParentRef]
				}
				t, err := newImportedTask(a, pt.src, now, task.InList(in), task.Under(under))
				if err != nil {
					return err
				}
				batch, planned = append(batch, t), append(planned, pt)
			}
			if len(batch) == 0 {
				continue
			}
			added, err := s.tasks.AddAll(ctx, batch)
			if err != nil {
				return err
			}
			for i, t := range added {
				taskIDs[planned[i].src.Ref] = t.ID()
				taskLists[planned[i].src.Ref] = t.ListID()
				rep.Tasks[planned[i].rep].ID = t.ID()
			}
		}
		return nil
	}
	// trashTasks trashes the tasks keep picks that the file has in the
	// trash on their own (or with an item it does not have in the trash),
	// the earliest first, children before parents at one instant.
	trashTasks := func(keep func(*portable.Task) bool) error {
		var own []plannedTask
		for _, level := range p.levels {
			for _, pt := range level {
				if !keep(pt.src) || !pt.src.Trashed() {
					continue
				}
				kind, ref, _ := strings.Cut(pt.src.TrashedWith, ":")
				if kind == "task" && p.trashedTasks[ref] || kind == "list" && p.trashedLists[ref] {
					continue // goes with that item
				}
				own = append(own, pt)
			}
		}
		slices.SortStableFunc(own, func(x, y plannedTask) int {
			if c := x.src.DeletedAt.Compare(*y.src.DeletedAt); c != 0 {
				return c
			}
			return cmp.Compare(y.depth, x.depth)
		})
		for _, pt := range own {
			if err := s.tasks.Trash(ctx, a.owner, taskIDs[pt.src.Ref], task.AnyVersion, *pt.src.DeletedAt); err != nil {
				return fmt.Errorf("trash task %q (line %d): %w", pt.src.Title, pt.src.Line, err)
			}
		}
		return nil
	}
	// The file's trashed lists, the earliest first, each with its tasks.
	var gone []int
	for i, src := range p.lists {
		if src.Trashed() {
			gone = append(gone, i)
		}
	}
	slices.SortStableFunc(gone, func(x, y int) int { return p.lists[x].DeletedAt.Compare(*p.lists[y].DeletedAt) })
	for _, i := range gone {
		src := p.lists[i]
		if _, taken := byName[list.NameKey(src.Name)]; taken {
			// A live list of the user has its name: it cannot be created.
			rep.Lists[i].Trashed = false
			for _, level := range p.levels {
				for _, pt := range level {
					if inList(src.Ref)(pt.src) {
						rep.Tasks[pt.rep].Ref = "" // dropped below
					}
				}
			}
			continue
		}
		if err := addList(i, src); err != nil {
			return err
		}
		keep := inList(src.Ref)
		if err := addTasks(keep); err != nil {
			return err
		}
		if err := trashTasks(keep); err != nil {
			return err
		}
		if err := lists.Trash(ctx, a.owner, listIDs[src.Ref], list.AnyVersion, *src.DeletedAt); err != nil {
			return fmt.Errorf("trash list %q (line %d): %w", src.Name, src.Line, err)
		}
	}
	for i, src := range p.lists {
		if src.Trashed() {
			continue
		}
		key := list.NameKey(src.Name)
		if id, ok := byName[key]; ok {
			listIDs[src.Ref] = id
			rep.Lists[i].ID, rep.Lists[i].Existing = id, true
			continue
		}
		if err := addList(i, src); err != nil {
			return err
		}
		byName[key] = listIDs[src.Ref]
	}
	live := inList("")
	if err := addTasks(live); err != nil {
		return err
	}
	if err := trashTasks(live); err != nil {
		return err
	}
	// What could not be kept: the trashed lists whose name was taken, and
	// their tasks.
	lsBefore, tsBefore := len(rep.Lists), len(rep.Tasks)
	rep.Lists = slices.DeleteFunc(rep.Lists, func(l ImportedList) bool { return l.ID == 0 })
	rep.Tasks = slices.DeleteFunc(rep.Tasks, func(t ImportedTask) bool { return t.Ref == "" && t.ID == 0 })
	rep.Skipped += lsBefore - len(rep.Lists) + tsBefore - len(rep.Tasks)
	return nil
}
