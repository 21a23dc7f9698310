package transfer

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ICSOptions says how to write an iCalendar file.
type ICSOptions struct {
	// Host is the right-hand side of each UID (task-<ref>@<host>), which
	// RFC 5545 recommends be a domain the producer controls, so that UIDs
	// stay unique across producers. Default "todo.invalid".
	Host string
	// CalendarName, when set, is written as X-WR-CALNAME, the name calendar
	// apps show for a subscription.
	CalendarName string
}

// The iCalendar properties of our own that carry what RFC 5545 has no
// property for; ReadICS reads them back, other apps ignore them.
const (
	xList           = "X-TODO-LIST"
	xRecurrenceFrom = "X-TODO-RECURRENCE-FROM"
)

const (
	icsUTC   = "20060102T150405Z"
	icsLocal = "20060102T150405"
	icsDate  = "20060102"
)

// icsWriter writes content lines, escaped and folded as RFC 5545 says
// (section 3.1: lines of at most 75 octets, folded with CRLF and a space,
// never inside a UTF-8 sequence).
type icsWriter struct {
	bw  *bufio.Writer
	buf []byte
}

// line writes name (with its params, already formatted) and a value that is
// already escaped for its type.
func (w *icsWriter) line(nameAndParams, value string) {
	w.buf = append(append(append(w.buf[:0], nameAndParams...), ':'), value...)
	b := w.buf
	limit := 75
	for len(b) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		w.bw.Write(b[:cut])
		w.bw.WriteString("\r\n ")
		b = b[cut:]
		limit = 74 // the leading space counts
	}
	w.bw.Write(b)
	w.bw.WriteString("\r\n")
}

// escapeText escapes a TEXT value (section 3.3.11): backslash, semicolon,
// comma and line breaks; other control characters, which TEXT cannot hold,
// are dropped.
func escapeText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteByte(c)
		default:
			if c < 0x20 || c == 0x7f {
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// WriteICS writes src as an RFC 5545 VCALENDAR of VTODOs, one per task not in
// the trash (a calendar has no trash). A zoned due is written with
// TZID=<IANA name>, and the first time a zone is used a VTIMEZONE for it
// (generated from Go's time zone database, ics_timezone.go) is written just
// before, as RFC 5545 requires a VTIMEZONE for every TZID; calendar apps
// that know the IANA names (Google, Apple, Thunderbird) use the name, the
// others the rules. It holds one task at a time, plus the lists' names and
// the set of zones written.
func WriteICS(w io.Writer, src Source, opt ICSOptions) error {
	if opt.Host == "" {
		opt.Host = "todo.invalid"
	}
	lists, err := listNames(src)
	if err != nil {
		return err
	}
	iw := &icsWriter{bw: bufio.NewWriterSize(w, 32<<10)}
	iw.line("BEGIN", "VCALENDAR")
	iw.line("VERSION", "2.0")
	iw.line("PRODID", "-//todo-backend//todo export 1//EN")
	iw.line("CALSCALE", "GREGORIAN")
	if opt.CalendarName != "" {
		iw.line("X-WR-CALNAME", escapeText(opt.CalendarName))
	}
	stamp := src.ExportedAt
	if stamp.IsZero() {
		stamp = time.Now()
	}
	zones := map[string]bool{}
	if src.Tasks != nil {
		for t, err := range src.Tasks {
			if err != nil {
				return fmt.Errorf("write tasks: %w", err)
			}
			if t.Trashed() {
				continue
			}
			if z := t.Due.Zone; t.Due.Kind == DueInstant && !isUTCZone(z) && !zones[z] {
				if err := writeVTimezone(iw, z); err != nil {
					return fmt.Errorf("write task %q: %w", t.Ref, err)
				}
				zones[z] = true
			}
			if err := writeVTodo(iw, &t, lists, opt.Host, stamp); err != nil {
				return fmt.Errorf("write task %q: %w", t.Ref, err)
			}
		}
	}
	iw.line("END", "VCALENDAR")
	return iw.bw.Flush()
}

func isUTCZone(z string) bool { return z == "" || z == "UTC" || z == "Etc/UTC" }

// taskUID is the stable UID of a task: the same ref gives the same UID in
// every export and in the calendar feed, so calendar apps update a task
// rather than add it twice.
func taskUID(ref, host string) string { return "task-" + ref + "@" + host }

// dueProp formats a due as a DUE or DTSTART property name with its params
// and value.
func dueProp(name string, d Due) (string, string) {
	switch d.Kind {
	case DueDate:
		return name + ";VALUE=DATE", d.Time.Format(icsDate)
	case DueFloating:
		return name, d.Time.Format(icsLocal)
	}
	if isUTCZone(d.Zone) {
		return name, d.Time.UTC().Format(icsUTC)
	}
	return name + ";TZID=" + d.Zone, d.Wall().Format(icsLocal)
}

func writeVTodo(iw *icsWriter, t *Task, lists map[string]string, host string, stamp time.Time) error {
	if t.Recurrence != nil {
		if err := checkRule(t.Recurrence.Rule); err != nil {
			return err
		}
	}
	iw.line("BEGIN", "VTODO")
	iw.line("UID", escapeText(taskUID(t.Ref, host)))
	iw.line("DTSTAMP", stamp.UTC().Format(icsUTC))
	if !t.CreatedAt.IsZero() {
		iw.line("CREATED", t.CreatedAt.UTC().Format(icsUTC))
	}
	if !t.UpdatedAt.IsZero() {
		iw.line("LAST-MODIFIED", t.UpdatedAt.UTC().Format(icsUTC))
	}
	iw.line("SUMMARY", escapeText(t.Title))
	if d := deref(t.Description); d != "" {
		iw.line("DESCRIPTION", escapeText(d))
	}
	if t.Completed {
		iw.line("STATUS", "COMPLETED")
		if t.CompletedAt != nil {
			iw.line("COMPLETED", t.CompletedAt.UTC().Format(icsUTC))
		}
	} else {
		iw.line("STATUS", "NEEDS-ACTION")
	}
	iw.line("PRIORITY", strconv.Itoa(priorityToICS(t.Priority)))
	if !t.Due.IsZero() {
		iw.line(dueProp("DUE", t.Due))
		if t.Recurrence != nil {
			// A recurrence is anchored on DTSTART (RFC 5545 section
			// 3.8.5.3), which must have DUE's value type: the same value.
			iw.line(dueProp("DTSTART", t.Due))
		}
	}
	if r := t.Recurrence; r != nil {
		iw.line("RRULE", strings.ToUpper(r.Rule))
		if r.From == FromCompletion {
			iw.line(xRecurrenceFrom, "COMPLETION")
		}
	}
	if t.ParentRef != "" {
		iw.line("RELATED-TO;RELTYPE=PARENT", escapeText(taskUID(t.ParentRef, host)))
	}
	if len(t.Tags) > 0 {
		tags := make([]string, len(t.Tags))
		for i, tag := range t.Tags {
			tags[i] = escapeText(tag)
		}
		iw.line("CATEGORIES", strings.Join(tags, ","))
	}
	if name, ok := lists[t.ListRef]; ok && t.ListRef != "" {
		iw.line(xList, escapeText(name))
	}
	for _, r := range t.Reminders {
		if r.Before != "" && t.Due.IsZero() {
			continue // relative to a due the task does not have
		}
		iw.line("BEGIN", "VALARM")
		iw.line("ACTION", "DISPLAY")
		iw.line("DESCRIPTION", escapeText(t.Title))
		if r.Before != "" {
			if err := checkDuration(r.Before); err != nil {
				return err
			}
			// RELATED=END: relative to DUE (section 3.8.6.3).
			iw.line("TRIGGER;RELATED=END", "-"+r.Before)
		} else {
			iw.line("TRIGGER;VALUE=DATE-TIME", r.At.UTC().Format(icsUTC))
		}
		iw.line("END", "VALARM")
	}
	iw.line("END", "VTODO")
	return nil
}

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 32<<10) }
