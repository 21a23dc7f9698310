package transfer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ICSReadOptions says how to read an iCalendar file.
type ICSReadOptions struct {
	// ListName, when set, is the list for tasks that do not name one (with
	// our X-TODO-LIST); otherwise the calendar's X-WR-CALNAME is, and
	// without either they go to the inbox.
	ListName string
}

// Bounds of the iCalendar reader beyond Limits.
const (
	maxICSNesting = 8    // BEGIN inside BEGIN
	maxICSProps   = 1000 // properties of one component
)

// icsProp is one content line, unfolded: its name (upper case), params
// (names upper case) and raw value, and the line it starts on.
type icsProp struct {
	line   int
	name   string
	params map[string][]string
	value  string
}

func (p *icsProp) param(name string) string {
	if v := p.params[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

type icsComp struct {
	name     string
	line     int
	props    []icsProp
	children []*icsComp
	skip     bool // not read (a VEVENT, too many properties, a bad line)
}

func (c *icsComp) get(name string) *icsProp {
	for i := range c.props {
		if c.props[i].name == name {
			return &c.props[i]
		}
	}
	return nil
}

// ReadICS reads the VTODOs of an iCalendar file (RFC 5545): what WriteICS
// writes, and what other apps add (DTSTART, PERCENT-COMPLETE, RELATED-TO
// with CHILD, TZIDs of their own making). VEVENTs and VJOURNALs are skipped
// with a warning each; X- properties of other apps are ignored (one warning
// lists them); a standard property we have no field for is named by a
// warning. Lines are unfolded and bounded by MaxRowBytes, nesting by 8
// levels, and every problem names its line.
func ReadICS(r io.Reader, opt ICSReadOptions, lim Limits) (*Result, error) {
	lim = withDefaults(lim)
	in := newInput(r, lim, false)
	rd := &icsReader{
		br:      bufio.NewReaderSize(skipBOM(in), min(lim.MaxRowBytes+2, 1<<20)),
		in:      in,
		lim:     lim,
		opt:     opt,
		probs:   problems{max: lim.MaxProblems},
		zones:   map[string]string{},
		lists:   map[string]string{},
		xSeen:   map[string]bool{},
		childOf: map[string]string{},
	}
	if err := rd.read(); err != nil {
		return nil, err
	}
	if len(rd.xNames) > 0 {
		if err := rd.probs.add(1, "", SeverityWarning, "properties of other apps were not read: %s", strings.Join(rd.xNames, ", ")); err != nil {
			return nil, err
		}
	}
	if err := linkDocument(&rd.doc, lim.MaxDepth, &rd.probs); err != nil {
		return nil, err
	}
	return &Result{Document: rd.doc, Problems: rd.probs.list}, nil
}

type icsReader struct {
	br      *bufio.Reader
	in      *input
	lim     Limits
	opt     ICSReadOptions
	probs   problems
	doc     Document
	line    int               // physical lines read
	zones   map[string]string // TZID -> IANA name, from VTIMEZONEs
	lists   map[string]string // list name -> ref
	calName string
	xSeen   map[string]bool
	xNames  []string
	items   int
	sawCal  bool
	childOf map[string]string // child UID -> parent UID, from RELTYPE=CHILD
}

// physical reads one physical line without its line end; io.EOF at the end.
func (rd *icsReader) physical() (string, error) {
	b, err := rd.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", &FileError{Line: rd.line + 1, Msg: fmt.Sprintf("the line is longer than %d bytes", rd.lim.MaxRowBytes), Err: ErrRowTooLong}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		var fe *FileError
		if errors.As(err, &fe) {
			return "", fe
		}
		return "", &FileError{Line: rd.line + 1, Msg: "read: " + err.Error(), Err: ErrFormat}
	}
	if len(b) == 0 && err != nil {
		return "", io.EOF
	}
	rd.line++
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return string(b), nil
}

// logical reads one unfolded content line and the line it starts on.
func (rd *icsReader) logical() (string, int, error) {
	var s string
	for {
		l, err := rd.physical()
		if err != nil {
			return "", 0, err
		}
		if l != "" {
			s = l
			break
		}
	}
	start := rd.line
	for {
		next, err := rd.br.Peek(1)
		if err != nil || (next[0] != ' ' && next[0] != '\t') {
			break
		}
		l, err := rd.physical()
		if err != nil {
			return "", 0, err
		}
		s += l[1:]
		if len(s) > rd.lim.MaxRowBytes {
			return "", 0, &FileError{Line: start, Msg: fmt.Sprintf("the property starting here is longer than %d bytes", rd.lim.MaxRowBytes), Err: ErrRowTooLong}
		}
	}
	return s, start, nil
}

// parseContentLine splits name *(";" param) ":" value (RFC 5545 3.1).
func parseContentLine(s string) (icsProp, error) {
	var p icsProp
	i := strings.IndexAny(s, ";:")
	if i <= 0 {
		return p, fmt.Errorf("not a property (NAME:value)")
	}
	p.name = strings.ToUpper(s[:i])
	for _, c := range p.name {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return p, fmt.Errorf("property name %q has a character names cannot have", s[:i])
		}
	}
	s = s[i:]
	for s != "" && s[0] == ';' {
		s = s[1:]
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return p, fmt.Errorf("a parameter of %s has no value", p.name)
		}
		name := strings.ToUpper(s[:eq])
		s = s[eq+1:]
		for {
			var v string
			if s != "" && s[0] == '"' {
				end := strings.IndexByte(s[1:], '"')
				if end < 0 {
					return p, fmt.Errorf("a quoted parameter of %s does not end", p.name)
				}
				v, s = s[1:end+1], s[end+2:]
			} else {
				end := strings.IndexAny(s, ",;:")
				if end < 0 {
					return p, fmt.Errorf("%s has no value", p.name)
				}
				v, s = s[:end], s[end:]
			}
			if p.params == nil {
				p.params = map[string][]string{}
			}
			p.params[name] = append(p.params[name], v)
			if s == "" || s[0] != ',' {
				break
			}
			s = s[1:]
		}
	}
	if s == "" || s[0] != ':' {
		return p, fmt.Errorf("%s has no value", p.name)
	}
	p.value = s[1:]
	return p, nil
}

func (rd *icsReader) read() error {
	var stack []*icsComp
	for {
		s, line, err := rd.logical()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if !utf8.ValidString(s) {
			if len(stack) == 0 {
				return &FileError{Line: line, Msg: "the line is not valid UTF-8", Err: ErrFormat}
			}
			top := stack[len(stack)-1]
			if !top.skip {
				top.skip = true
				if err := rd.probs.add(line, "", SeverityError, "%s left out: the line is not valid UTF-8 (is the file UTF-8?)", top.name); err != nil {
					return err
				}
			}
			continue
		}
		p, err := parseContentLine(s)
		if err != nil {
			if len(stack) == 0 {
				return &FileError{Line: line, Msg: "not an iCalendar file: " + err.Error(), Err: ErrFormat}
			}
			top := stack[len(stack)-1]
			if !top.skip {
				top.skip = true
				if err := rd.probs.add(line, "", SeverityError, "%s left out: %v", top.name, err); err != nil {
					return err
				}
			}
			continue
		}
		p.line = line
		switch p.name {
		case "BEGIN":
			name := strings.ToUpper(p.value)
			if len(stack) == 0 && name != "VCALENDAR" {
				return &FileError{Line: line, Msg: "not an iCalendar file: it must start with BEGIN:VCALENDAR", Err: ErrFormat}
			}
			if len(stack) >= maxICSNesting {
				return &FileError{Line: line, Msg: fmt.Sprintf("components nest deeper than %d levels", maxICSNesting), Err: ErrFormat}
			}
			c := &icsComp{name: name, line: line}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				c.skip = parent.skip
				if !c.skip {
					parent.children = append(parent.children, c)
				}
			}
			stack = append(stack, c)
			if name == "VCALENDAR" {
				rd.sawCal = true
			}
		case "END":
			if len(stack) == 0 || strings.ToUpper(p.value) != stack[len(stack)-1].name {
				return &FileError{Line: line, Msg: fmt.Sprintf("END:%s does not close the component that is open", p.value), Err: ErrFormat}
			}
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if err := rd.done(c, len(stack)); err != nil {
				return err
			}
		default:
			if len(stack) == 0 {
				return &FileError{Line: line, Msg: "not an iCalendar file: it must start with BEGIN:VCALENDAR", Err: ErrFormat}
			}
			top := stack[len(stack)-1]
			if top.skip || !slices.Contains([]string{"VCALENDAR", "VTODO", "VALARM", "VTIMEZONE"}, top.name) {
				continue
			}
			if len(top.props) >= maxICSProps {
				top.skip = true
				if err := rd.probs.add(top.line, "", SeverityError, "%s left out: more than %d properties", top.name, maxICSProps); err != nil {
					return err
				}
				continue
			}
			if top.name == "VCALENDAR" {
				if p.name == "X-WR-CALNAME" {
					rd.calName = unescapeText(p.value)
				}
				continue
			}
			top.props = append(top.props, p)
		}
	}
	if len(stack) > 0 {
		return &FileError{Line: rd.line, Msg: fmt.Sprintf("the file ends inside %s (from line %d)", stack[len(stack)-1].name, stack[len(stack)-1].line), Err: ErrFormat}
	}
	if !rd.sawCal {
		return &FileError{Line: 1, Msg: "the file is empty; an iCalendar file starts with BEGIN:VCALENDAR", Err: ErrFormat}
	}
	return nil
}

// done handles a component once its END is read; depth is how many are
// still open around it.
func (rd *icsReader) done(c *icsComp, depth int) error {
	switch {
	case c.name == "VTIMEZONE":
		if tzid := c.get("TZID"); tzid != nil {
			if loc := c.get("X-LIC-LOCATION"); loc != nil {
				rd.zones[tzid.value] = loc.value
			}
		}
	case c.name == "VTODO" && !c.skip:
		rd.items++
		if rd.items > rd.lim.MaxItems {
			return &FileError{Line: c.line, Msg: fmt.Sprintf("the file has more than %d tasks", rd.lim.MaxItems), Err: ErrTooManyItems}
		}
		return rd.todo(c)
	case depth == 1 && c.name != "VTODO":
		if c.name == "VEVENT" || c.name == "VJOURNAL" || c.name == "VFREEBUSY" {
			return rd.probs.add(c.line, c.name, SeverityWarning, "%s is not a task; it was not read", c.name)
		}
	}
	return nil
}

// unescapeText reads a TEXT value (RFC 5545 3.3.11).
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitText splits a TEXT list on its unescaped commas.
func splitText(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',':
			out = append(out, unescapeText(s[start:i]))
			start = i + 1
		}
	}
	return append(out, unescapeText(s[start:]))
}

// ignoredProps are standard properties with nothing to carry, read silently.
var ignoredProps = []string{"DTSTAMP", "SEQUENCE", "CLASS", "UID", "PERCENT-COMPLETE", "TRANSP", "ORGANIZER", "DTSTART"}

func (rd *icsReader) todo(c *icsComp) error {
	var errs, warns fieldErrors
	t := Task{Line: c.line, Priority: DefaultPriority, Tags: []string{}}
	uid := c.get("UID")
	if uid == nil || uid.value == "" {
		t.Ref = fmt.Sprintf("line:%d", c.line)
	} else if t.Ref = unescapeText(uid.value); len(t.Ref) > MaxRefLen {
		errs.add("UID", fmt.Sprintf("must be at most %d bytes", MaxRefLen))
	}
	if s := c.get("SUMMARY"); s != nil {
		t.Title = unescapeText(s.value)
	}
	if strings.TrimSpace(t.Title) == "" {
		errs.add("SUMMARY", "the task has no title")
	}
	if d := c.get("DESCRIPTION"); d != nil && d.value != "" {
		s := unescapeText(d.value)
		t.Description = &s
	}
	status := ""
	if s := c.get("STATUS"); s != nil {
		status = strings.ToUpper(s.value)
	}
	switch status {
	case "COMPLETED":
		t.Completed = true
	case "CANCELLED":
		t.Completed = true
		warns.add("STATUS", "a cancelled task was imported as completed")
	}
	if p := c.get("PERCENT-COMPLETE"); p != nil && p.value == "100" {
		t.Completed = true
	}
	if p := c.get("COMPLETED"); p != nil {
		at, err := rd.instant(p)
		if err != nil {
			errs.add("COMPLETED", err.Error())
		} else {
			t.Completed, t.CompletedAt = true, &at
		}
	}
	if p := c.get("PRIORITY"); p != nil {
		pr, ok := icsPriority(strings.TrimSpace(p.value))
		if !ok {
			errs.add("PRIORITY", fmt.Sprintf("%q is not 0 to 9", p.value))
		}
		t.Priority = pr
	}
	due, start := c.get("DUE"), c.get("DTSTART")
	var startDue Due
	if start != nil {
		var err error
		if startDue, err = rd.due(start, &warns); err != nil {
			errs.add("DTSTART", err.Error())
		}
	}
	if due != nil {
		d, err := rd.due(due, &warns)
		if err != nil {
			errs.add("DUE", err.Error())
		}
		t.Due = d
	} else if start != nil {
		t.Due = startDue
		warns.add("DTSTART", "the task has a start and no due; the start became the due")
	}
	if p := c.get("RRULE"); p != nil {
		rule := strings.ToUpper(p.value)
		if err := checkRule(rule); err != nil {
			errs.add("RRULE", err.Error())
		}
		t.Recurrence = &Recurrence{Rule: rule, From: FromDue}
		if x := c.get(xRecurrenceFrom); x != nil && strings.EqualFold(x.value, "COMPLETION") {
			t.Recurrence.From = FromCompletion
		}
	}
	if c.get("RDATE") != nil || c.get("EXDATE") != nil {
		warns.add("RDATE", "extra and excluded dates (RDATE, EXDATE) of a recurrence were not imported")
	}
	var children []string
	for _, p := range c.props {
		switch p.name {
		case "RELATED-TO":
			switch rel := strings.ToUpper(p.param("RELTYPE")); rel {
			case "", "PARENT":
				t.ParentRef = unescapeText(p.value)
			case "CHILD":
				children = append(children, unescapeText(p.value))
			default:
				warns.add("RELATED-TO", fmt.Sprintf("a %s relation was not imported", rel))
			}
		case "CATEGORIES":
			for _, tag := range splitText(p.value) {
				tag, changed := cleanTag(strings.TrimSpace(tag))
				if changed {
					warns.add("CATEGORIES", fmt.Sprintf("tags have no commas here; category %q became %q", strings.TrimSpace(unescapeText(p.value)), tag))
				}
				if tag != "" {
					t.Tags = append(t.Tags, tag)
				}
			}
		}
	}
	list := rd.opt.ListName
	if x := c.get(xList); x != nil {
		list = unescapeText(x.value)
	} else if list == "" {
		list = rd.calName
	}
	for _, a := range c.children {
		if a.name != "VALARM" {
			continue
		}
		rm, err := rd.alarm(a, due != nil, start, startDue, t.Due)
		if err != nil {
			warns.add("VALARM", fmt.Sprintf("the alarm on line %d was not imported: %v", a.line, err))
			continue
		}
		t.Reminders = append(t.Reminders, rm)
	}
	if p := c.get("CREATED"); p != nil {
		if at, err := rd.instant(p); err == nil {
			t.CreatedAt = at
		}
	}
	if p := c.get("LAST-MODIFIED"); p != nil {
		if at, err := rd.instant(p); err == nil {
			t.UpdatedAt = at
		}
	}
	var unread []string
	for _, p := range c.props {
		switch {
		case strings.HasPrefix(p.name, "X-"):
			if p.name != xList && p.name != xRecurrenceFrom && !rd.xSeen[p.name] && len(rd.xNames) < 20 {
				rd.xSeen[p.name] = true
				rd.xNames = append(rd.xNames, p.name)
			}
		case slices.Contains([]string{"SUMMARY", "DESCRIPTION", "STATUS", "COMPLETED", "PRIORITY", "DUE", "RRULE", "RDATE", "EXDATE", "RELATED-TO", "CATEGORIES", "CREATED", "LAST-MODIFIED"}, p.name),
			slices.Contains(ignoredProps, p.name):
		default:
			if !slices.Contains(unread, p.name) {
				unread = append(unread, p.name)
			}
		}
	}
	if len(unread) > 0 {
		warns.add(unread[0], fmt.Sprintf("tasks here have no field for %s; not imported", strings.Join(unread, ", ")))
	}
	for _, e := range errs {
		if err := rd.probs.add(c.line, e.field, SeverityError, "task left out: %s", e.msg); err != nil {
			return err
		}
	}
	for _, w := range warns {
		if err := rd.probs.add(c.line, w.field, SeverityWarning, "%s", w.msg); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return nil
	}
	if list != "" {
		ref, ok := rd.lists[list]
		if !ok {
			ref = "list:" + list
			rd.lists[list] = ref
			rd.doc.Lists = append(rd.doc.Lists, List{Ref: ref, Name: list, Line: c.line})
		}
		t.ListRef = ref
	}
	if p, ok := rd.childOf[t.Ref]; ok && t.ParentRef == "" {
		t.ParentRef = p
	}
	rd.doc.Tasks = append(rd.doc.Tasks, t)
	// RELTYPE=CHILD names a subtask from the parent's side: applied to the
	// children read so far, and remembered for the ones to come.
	for _, ch := range children {
		rd.childOf[ch] = t.Ref
		for i := range rd.doc.Tasks {
			if rd.doc.Tasks[i].Ref == ch && rd.doc.Tasks[i].ParentRef == "" {
				rd.doc.Tasks[i].ParentRef = t.Ref
			}
		}
	}
	return nil
}

// zone resolves a TZID: an IANA name as is (what most apps write), the
// X-LIC-LOCATION of the file's VTIMEZONE, or the IANA name at the end of a
// path-like TZID ("/mozilla.org/20050126_1/Europe/Paris").
func (rd *icsReader) zone(tzid string) (string, *time.Location, bool) {
	for _, cand := range []string{tzid, rd.zones[tzid], lastTwo(tzid)} {
		if cand == "" {
			continue
		}
		if loc, err := loadZone(cand); err == nil {
			return cand, loc, true
		}
	}
	return "", nil, false
}

func lastTwo(s string) string {
	parts := strings.Split(strings.Trim(s, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return strings.Join(parts[len(parts)-2:], "/")
}

// due reads a DUE or DTSTART: a date, a UTC date-time, a date-time in a
// TZID, or a floating one.
func (rd *icsReader) due(p *icsProp, warns *fieldErrors) (Due, error) {
	v := p.value
	if strings.EqualFold(p.param("VALUE"), "DATE") || len(v) == len(icsDate) {
		d, err := time.Parse(icsDate, v)
		if err != nil {
			return Due{}, fmt.Errorf("%q is not a date (YYYYMMDD)", v)
		}
		return DueOn(d.Year(), d.Month(), d.Day()), nil
	}
	if strings.HasSuffix(v, "Z") {
		t, err := time.Parse(icsUTC, v)
		if err != nil {
			return Due{}, fmt.Errorf("%q is not a date-time (YYYYMMDDTHHMMSSZ)", v)
		}
		return DueAt(t, ""), nil
	}
	t, err := time.Parse(icsLocal, v)
	if err != nil {
		return Due{}, fmt.Errorf("%q is not a date-time (YYYYMMDDTHHMMSS)", v)
	}
	if tzid := p.param("TZID"); tzid != "" {
		name, loc, ok := rd.zone(tzid)
		if !ok {
			warns.add(p.name, fmt.Sprintf("time zone %q is not one this service knows; the time was kept as a local time", tzid))
			return DueFloatingAt(t), nil
		}
		return DueAt(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc), name), nil
	}
	return DueFloatingAt(t), nil
}

// instant reads a date-time that names an instant (COMPLETED, CREATED): UTC,
// or in a TZID; a floating one is read as UTC.
func (rd *icsReader) instant(p *icsProp) (time.Time, error) {
	var w fieldErrors
	d, err := rd.due(p, &w)
	if err != nil {
		return time.Time{}, err
	}
	return d.Time, nil
}

// alarm reads a VALARM's TRIGGER into a reminder: an absolute one as is, a
// duration before the due (RELATED=END, or the default RELATED=START when
// the start is the due or there is none) as Before, one relative to a start
// that differs from the due as the instant it names.
func (rd *icsReader) alarm(a *icsComp, hasDue bool, start *icsProp, startDue, due Due) (Reminder, error) {
	tr := a.get("TRIGGER")
	if tr == nil {
		return Reminder{}, fmt.Errorf("it has no TRIGGER")
	}
	if strings.EqualFold(tr.param("VALUE"), "DATE-TIME") {
		at, err := rd.instant(tr)
		if err != nil {
			return Reminder{}, err
		}
		return Reminder{At: at}, nil
	}
	v := tr.value
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(strings.TrimPrefix(v, "-"), "+")
	if err := checkDuration(v); err != nil {
		return Reminder{}, err
	}
	zero := strings.Trim(v, "PTWDHMS0") == ""
	if !neg && !zero {
		return Reminder{}, fmt.Errorf("it rings after its anchor, and reminders here come before the due or at a time")
	}
	relEnd := strings.EqualFold(tr.param("RELATED"), "END")
	if relEnd || start == nil || startDue == due {
		if !hasDue && !(start != nil && !relEnd) {
			return Reminder{}, fmt.Errorf("it is relative to a due the task does not have")
		}
		return Reminder{Before: v}, nil
	}
	if startDue.Kind != DueInstant {
		return Reminder{}, fmt.Errorf("it is relative to a start that is not an instant")
	}
	d, err := durationOf(v)
	if err != nil {
		return Reminder{}, err
	}
	return Reminder{At: startDue.Time.Add(-d)}, nil
}

// durationOf is the length of a duration checkDuration accepted, with days
// as 24 hours (used only for an alarm before a start).
func durationOf(s string) (time.Duration, error) {
	var total time.Duration
	n := 0
	for _, c := range s[1:] {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == 'T':
		default:
			unit := map[rune]time.Duration{'W': 7 * 24 * time.Hour, 'D': 24 * time.Hour, 'H': time.Hour, 'M': time.Minute, 'S': time.Second}[c]
			total += time.Duration(n) * unit
			n = 0
		}
	}
	return total, nil
}
