package transfer

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// checkFolding holds every physical line of an iCalendar file to RFC 5545
// section 3.1: CRLF ends, at most 75 octets, valid UTF-8 (so no fold split
// a character).
func checkFolding(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatal("the file does not end with CRLF")
	}
	for i, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\r\n")), []byte("\r\n")) {
		if len(l) > 75 || !utf8.Valid(l) || bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d (%d octets) breaks RFC 5545 3.1: %q", i+1, len(l), l)
		}
	}
}

// icsText is what a TEXT value of s reads back as: line breaks as LF, other
// control characters gone.
func icsText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// TestICSParsesBack writes generated documents as iCalendar, parses them with
// go-ical (a real parser, test-only) and checks that each VTODO says what
// its task does.
func TestICSParsesBack(t *testing.T) {
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 3))
		doc := genDocument(r, r.IntN(3), r.IntN(25))
		var buf bytes.Buffer
		if err := WriteICS(&buf, DocumentSource(doc), ICSOptions{Host: "example.org", CalendarName: "Mine"}); err != nil {
			t.Fatal(err)
		}
		checkFolding(t, buf.Bytes())
		cal, err := ical.NewDecoder(bytes.NewReader(buf.Bytes())).Decode()
		if err != nil {
			t.Fatalf("seed %d: go-ical: %v\n%s", seed, err, buf.String())
		}
		// Every TZID has its VTIMEZONE before it is used.
		zonesSeen := map[string]bool{}
		var todos []*ical.Component
		for _, c := range cal.Children {
			switch c.Name {
			case ical.CompTimezone:
				zonesSeen[c.Props.Get(ical.PropTimezoneID).Value] = true
			case ical.CompToDo:
				if due := c.Props.Get(ical.PropDue); due != nil {
					if tz := due.Params.Get(ical.ParamTimezoneID); tz != "" && !zonesSeen[tz] {
						t.Fatalf("seed %d: TZID %s used before its VTIMEZONE", seed, tz)
					}
				}
				todos = append(todos, c)
			}
		}
		var live []Task
		for _, task := range doc.Tasks {
			if !task.Trashed() {
				live = append(live, task)
			}
		}
		if len(todos) != len(live) {
			t.Fatalf("seed %d: %d VTODOs for %d live tasks", seed, len(todos), len(live))
		}
		for i, task := range live {
			checkVTodo(t, todos[i], task)
		}
	}
}

func checkVTodo(t *testing.T, c *ical.Component, task Task) {
	t.Helper()
	text := func(name string) string {
		p := c.Props.Get(name)
		if p == nil {
			return ""
		}
		s, err := p.Text()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	fail := func(what string, got, want any) {
		t.Helper()
		t.Errorf("task %s: %s = %v, want %v", task.Ref, what, got, want)
	}
	if got := text(ical.PropUID); got != "task-"+task.Ref+"@example.org" {
		fail("UID", got, task.Ref)
	}
	if got := text(ical.PropSummary); got != icsText(task.Title) {
		fail("SUMMARY", got, task.Title)
	}
	if got, want := text(ical.PropDescription), icsText(deref(task.Description)); got != want {
		fail("DESCRIPTION", got, want)
	}
	status := map[bool]string{true: "COMPLETED", false: "NEEDS-ACTION"}[task.Completed]
	if got := c.Props.Get(ical.PropStatus).Value; got != status {
		fail("STATUS", got, status)
	}
	if task.Completed && task.CompletedAt != nil {
		got, err := c.Props.Get(ical.PropCompleted).DateTime(time.UTC)
		if err != nil || !got.Equal(task.CompletedAt.Truncate(time.Second)) {
			fail("COMPLETED", got, task.CompletedAt)
		}
	}
	if got, _ := c.Props.Get(ical.PropPriority).Int(); got != priorityToICS(task.Priority) {
		fail("PRIORITY", got, task.Priority)
	} else if p, _ := icsPriority(c.Props.Get(ical.PropPriority).Value); p != task.Priority {
		fail("PRIORITY read back", p, task.Priority)
	}
	due := c.Props.Get(ical.PropDue)
	switch task.Due.Kind {
	case DueNone:
		if due != nil {
			fail("DUE", due.Value, "none")
		}
	case DueDate:
		got, err := due.DateTime(time.UTC)
		if err != nil || due.ValueType() != ical.ValueDate || !got.Equal(task.Due.Time) {
			fail("DUE", due.Value, task.Due)
		}
	case DueFloating:
		got, err := due.DateTime(time.UTC)
		if err != nil || strings.HasSuffix(due.Value, "Z") || due.Params.Get(ical.ParamTimezoneID) != "" || !got.Equal(task.Due.Time.Truncate(time.Second)) {
			fail("DUE", due.Value, task.Due)
		}
	case DueInstant:
		got, err := due.DateTime(time.UTC)
		if err != nil || !got.Equal(task.Due.Time.Truncate(time.Second)) {
			fail("DUE", due.Value+" "+due.Params.Get(ical.ParamTimezoneID), task.Due)
		}
		if tz := due.Params.Get(ical.ParamTimezoneID); !isUTCZone(task.Due.Zone) && tz != task.Due.Zone {
			fail("DUE TZID", tz, task.Due.Zone)
		}
	}
	if rr := c.Props.Get(ical.PropRecurrenceRule); (rr != nil) != (task.Recurrence != nil) {
		fail("RRULE", rr, task.Recurrence)
	} else if rr != nil {
		if rr.Value != task.Recurrence.Rule {
			fail("RRULE", rr.Value, task.Recurrence.Rule)
		}
		if _, err := rrule.StrToRRule(rr.Value); err != nil {
			fail("RRULE parses", err, nil)
		}
		if !task.Due.IsZero() {
			if _, err := c.RecurrenceSet(time.UTC); err != nil {
				fail("recurrence set", err, nil)
			}
		}
	}
	rel := c.Props.Get(ical.PropRelatedTo)
	if task.ParentRef == "" && rel != nil || task.ParentRef != "" && (rel == nil || rel.Params.Get(ical.ParamRelationshipType) != "PARENT" || text(ical.PropRelatedTo) != "task-"+task.ParentRef+"@example.org") {
		fail("RELATED-TO", rel, task.ParentRef)
	}
	var cats []string
	if p := c.Props.Get(ical.PropCategories); p != nil {
		cats, _ = p.TextList()
	}
	if want := task.Tags; !slices.Equal(cats, want) && !(len(cats) == 0 && len(want) == 0) {
		fail("CATEGORIES", cats, want)
	}
	var alarms []*ical.Component
	for _, ch := range c.Children {
		if ch.Name == ical.CompAlarm {
			alarms = append(alarms, ch)
		}
	}
	var want []Reminder
	for _, rm := range task.Reminders {
		if rm.Before == "" || !task.Due.IsZero() {
			want = append(want, rm)
		}
	}
	if len(alarms) != len(want) {
		fail("VALARMs", len(alarms), len(want))
		return
	}
	for i, a := range alarms {
		tr := a.Props.Get(ical.PropTrigger)
		if want[i].Before != "" {
			d, err := tr.Duration()
			wantD := isoDuration(t, want[i].Before)
			if err != nil || tr.Params.Get(ical.ParamRelated) != "END" || d != -wantD {
				fail("TRIGGER", tr.Value, want[i].Before)
			}
		} else if got, err := tr.DateTime(time.UTC); err != nil || !got.Equal(want[i].At.Truncate(time.Second)) {
			fail("TRIGGER", tr.Value, want[i].At)
		}
	}
}

// isoDuration reads the durations the generator uses, independently of the
// code under test.
func isoDuration(t *testing.T, s string) time.Duration {
	d, ok := map[string]time.Duration{"PT15M": 15 * time.Minute, "PT1H30M": 90 * time.Minute, "P1D": 24 * time.Hour, "P1W": 7 * 24 * time.Hour, "PT0S": 0, "P2DT12H": 60 * time.Hour}[s]
	if !ok {
		t.Fatalf("no duration for %q", s)
	}
	return d
}

func TestICSFoldsLongUnicodeLines(t *testing.T) {
	title := strings.Repeat("日本語のタスク🎉", 30)
	var buf bytes.Buffer
	doc := &Document{Tasks: []Task{{Ref: "1", Title: title, Priority: PriorityHigh}}}
	if err := WriteICS(&buf, DocumentSource(doc), ICSOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFolding(t, buf.Bytes())
	cal, err := ical.NewDecoder(&buf).Decode()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cal.Children[0].Props.Get(ical.PropSummary).Text(); got != title {
		t.Errorf("SUMMARY = %q", got)
	}
}

// TestVTimezoneRules evaluates the VTIMEZONEs we write with an independent
// RRULE implementation (rrule-go) and checks the offset they give against
// Go's database at every transition and every week from 1970 to 2099, for
// zones with DST in either hemisphere, a 30-minute shift, DST abolished, and
// irregular rules.
func TestVTimezoneRules(t *testing.T) {
	for _, name := range []string{"Europe/Paris", "America/New_York", "Australia/Sydney", "Pacific/Auckland", "Europe/London",
		"Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo", "Asia/Tehran", "Asia/Jerusalem", "America/Santiago", "Africa/Casablanca", "Asia/Tokyo"} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			iw := &icsWriter{bw: newBufWriter(&buf)}
			iw.line("BEGIN", "VCALENDAR")
			iw.line("VERSION", "2.0")
			iw.line("PRODID", "test")
			if err := writeVTimezone(iw, name); err != nil {
				t.Fatal(err)
			}
			iw.line("END", "VCALENDAR")
			iw.bw.Flush()
			checkFolding(t, buf.Bytes())
			size := buf.Len()
			cal, err := ical.NewDecoder(&buf).Decode()
			if err != nil {
				t.Fatal(err)
			}
			type onset struct {
				at  time.Time
				off int
			}
			var onsets []onset
			rules := 0
			for _, obs := range cal.Children[0].Children {
				from := parseOffset(t, obs.Props.Get("TZOFFSETFROM").Value)
				to := parseOffset(t, obs.Props.Get("TZOFFSETTO").Value)
				start, err := time.Parse(icsLocal, obs.Props.Get(ical.PropDateTimeStart).Value)
				if err != nil {
					t.Fatal(err)
				}
				locals := []time.Time{start}
				if p := obs.Props.Get(ical.PropRecurrenceDates); p != nil {
					for v := range strings.SplitSeq(p.Value, ",") {
						l, err := time.Parse(icsLocal, v)
						if err != nil {
							t.Fatal(err)
						}
						locals = append(locals, l)
					}
				}
				if p := obs.Props.Get(ical.PropRecurrenceRule); p != nil {
					rules++
					opt, err := rrule.StrToROption(p.Value)
					if err != nil {
						t.Fatal(err)
					}
					opt.Dtstart = start
					opt.Until = tzTo
					rr, err := rrule.NewRRule(*opt)
					if err != nil {
						t.Fatal(err)
					}
					locals = rr.All()
				}
				for _, l := range locals {
					onsets = append(onsets, onset{l.Add(-time.Duration(from) * time.Second), to})
				}
			}
			sort.Slice(onsets, func(i, j int) bool { return onsets[i].at.Before(onsets[j].at) })
			loc, _ := time.LoadLocation(name)
			offsetAt := func(at time.Time) int {
				i := sort.Search(len(onsets), func(i int) bool { return onsets[i].at.After(at) })
				if i == 0 {
					return onsets[0].off
				}
				return onsets[i-1].off
			}
			var samples []time.Time
			for at := tzFrom; at.Before(tzTo); at = at.Add(7 * 24 * time.Hour) {
				samples = append(samples, at)
			}
			_, ts := zoneTransitions(loc)
			for _, tr := range ts {
				samples = append(samples, tr.at, tr.at.Add(-time.Second))
			}
			bad := 0
			for _, at := range samples {
				_, want := at.In(loc).Zone()
				if got := offsetAt(at); got != want {
					if bad++; bad < 5 {
						t.Errorf("at %v: VTIMEZONE offset %d, Go %d", at, got, want)
					}
				}
			}
			t.Logf("%s: %d transitions, %d observances (%d by RRULE), %d octets, %d samples", name, len(ts), len(cal.Children[0].Children), rules, size, len(samples))
		})
	}
}

func parseOffset(t *testing.T, s string) int {
	t.Helper()
	tm, err := time.Parse("-0700", s[:5])
	if err != nil {
		t.Fatalf("offset %q: %v", s, err)
	}
	_, off := tm.Zone()
	if len(s) == 7 {
		sec := int(s[5]-'0')*10 + int(s[6]-'0')
		if off < 0 {
			sec = -sec
		}
		off += sec
	}
	return off
}
