package recur

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Freq is how often a rule repeats: the length of one of its periods. Finer
// frequencies (HOURLY and below) are refused: a task repeats at most daily.
type Freq int

// The frequencies a rule may have.
const (
	Daily Freq = iota + 1
	Weekly
	Monthly
	Yearly
)

var freqNames = [...]string{Daily: "DAILY", Weekly: "WEEKLY", Monthly: "MONTHLY", Yearly: "YEARLY"}

// String is the RRULE name of f ("WEEKLY"), "" for none.
func (f Freq) String() string {
	if f < Daily || f > Yearly {
		return ""
	}
	return freqNames[f]
}

// Bounds on a rule. COUNT is bounded because the COUNT of a rule is counted
// from its anchor: finding the occurrence after a given one walks every
// occurrence before it, so at most MaxCount of them; a thousand is more than
// any todo repeats (every day for 2.7 years) and UNTIL or no end serves
// longer series. INTERVAL is bounded so that one period of any rule (at most
// 1,000 years) fits in the search horizon; no schedule needs more (1,000
// days is 2.7 years, 1,000 weeks 19). MaxRuleLen keeps hostile input short:
// the longest sensible rule is far shorter.
const (
	MaxInterval = 1000
	MaxCount    = 1000
	MaxRuleLen  = 1000
)

// weekdayNum is one BYDAY entry with an ordinal: the nth such weekday of
// the period, counted from its end when n is negative.
type weekdayNum struct {
	n   int
	day time.Weekday
}

type untilKind uint8

const (
	untilNone untilKind = iota
	untilDate           // UNTIL=20271231: through that day
	untilUTC            // UNTIL=20271231T230000Z: through that instant
)

// Rule is a parsed, valid recurrence rule: the restricted RFC 5545 RRULE of
// a repeating task. Parse makes one; the zero Rule is "does not repeat".
// A Rule is immutable and safe to share.
type Rule struct {
	freq      Freq
	interval  int
	months    uint16       // BYMONTH: bit m for month m
	mdays     uint32       // BYMONTHDAY: bit d for day d (1..31)
	nmdays    uint32       // BYMONTHDAY: bit d for day -d
	wdays     uint8        // BYDAY without an ordinal: bit w for weekday w
	nwdays    []weekdayNum // BYDAY with an ordinal, in canonical order
	setPos    []int        // BYSETPOS, in canonical order
	count     int          // COUNT, 0 for none
	until     untilKind
	untilC    Civil     // UNTIL as a date, or the UTC reading of a date-time
	untilT    time.Time // UNTIL as an instant (untilUTC only)
	wkst      time.Weekday
	wkstGiven bool // WKST was given (kept in String when it is not MO)
}

// IsZero reports whether r is the zero Rule: no recurrence.
func (r Rule) IsZero() bool { return r.freq == 0 }

// Freq is r's frequency (0 for the zero Rule).
func (r Rule) Freq() Freq { return r.freq }

// Count is r's COUNT, 0 for none: a series whose anchor moves on (a
// repeating task's due) counts the occurrences it passed against it.
func (r Rule) Count() int { return r.count }

var weekdayCodes = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

func parseWeekday(s string) (time.Weekday, bool) {
	for i, c := range weekdayCodes {
		if s == c {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// parser collects every problem of one rule.
type parser struct {
	problems []Problem
}

func (p *parser) add(part, typ, format string, args ...any) {
	p.problems = append(p.problems, Problem{Field: "rule", Part: part, Msg: fmt.Sprintf(format, args...), Type: typ})
}

// Parse reads an RFC 5545 RRULE value, with or without the "RRULE:" prefix,
// in any case. It accepts FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL,
// BYDAY (with ordinals for MONTHLY and YEARLY), BYMONTHDAY (negative counts
// from the month's end), BYMONTH, BYSETPOS, COUNT, UNTIL (a date, or a UTC
// date-time ending in Z) and WKST, each at most once. Anything else, and any
// combination that RFC 5545 forbids or that can never match, is a
// *ValidationError naming the part.
func Parse(s string) (Rule, error) {
	var p parser
	r := p.parse(s)
	if len(p.problems) > 0 {
		return Rule{}, &ValidationError{Problems: p.problems}
	}
	return r, nil
}

func (p *parser) parse(s string) Rule {
	text := strings.TrimSpace(s)
	if len(text) > MaxRuleLen {
		p.add("RRULE", "string_too_long", "the RRULE is longer than %d characters", MaxRuleLen)
		return Rule{}
	}
	if len(text) >= len("RRULE:") && strings.EqualFold(text[:len("RRULE:")], "RRULE:") {
		text = text[len("RRULE:"):]
	}
	r := Rule{interval: 1, wkst: time.Monday}
	if text == "" {
		p.add("FREQ", "missing", "FREQ is required")
		return r
	}
	seen := make(map[string]bool, 8)
	for _, part := range strings.Split(strings.ToUpper(text), ";") {
		name, value, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			p.add(part, "value_error", "%q is not a NAME=VALUE part", part)
			continue
		}
		if seen[name] {
			p.add(name, "value_error", "%s is given more than once", name)
			continue
		}
		seen[name] = true
		switch name {
		case "FREQ":
			r.freq = p.freq(value)
		case "INTERVAL":
			r.interval = p.bounded(name, value, MaxInterval)
		case "COUNT":
			r.count = p.bounded(name, value, MaxCount)
		case "UNTIL":
			r.until, r.untilC, r.untilT = p.untilValue(value)
		case "WKST":
			if w, ok := parseWeekday(value); ok {
				r.wkst, r.wkstGiven = w, true
			} else {
				p.add(name, "enum", "WKST must be one of MO, TU, WE, TH, FR, SA, SU, not %q", value)
			}
		case "BYMONTH":
			for _, v := range p.list(name, value, false, 12) {
				if v < 1 || v > 12 {
					p.add(name, "value_error", "BYMONTH values must be 1 to 12, not %d", v)
					break
				}
				r.months |= 1 << v
			}
		case "BYMONTHDAY":
			for _, v := range p.list(name, value, true, 62) {
				if v == 0 || v > 31 || v < -31 {
					p.add(name, "value_error", "BYMONTHDAY values must be 1 to 31 or -31 to -1, not %d", v)
					break
				}
				if v > 0 {
					r.mdays |= 1 << v
				} else {
					r.nmdays |= 1 << -v
				}
			}
		case "BYSETPOS":
			for _, v := range p.list(name, value, true, 732) {
				if v == 0 || v > 366 || v < -366 {
					p.add(name, "value_error", "BYSETPOS values must be 1 to 366 or -366 to -1, not %d", v)
					break
				}
				r.setPos = append(r.setPos, v)
			}
			sortPositions(r.setPos)
		case "BYDAY":
			r.wdays, r.nwdays = p.byDay(value)
		case "BYHOUR", "BYMINUTE", "BYSECOND":
			p.add(name, "extra_forbidden", "%s is not supported: every occurrence keeps the time of day of the task's due", name)
		case "BYWEEKNO", "BYYEARDAY":
			p.add(name, "extra_forbidden", "%s is not supported", name)
		default:
			p.add(name, "extra_forbidden", "%q is not a supported RRULE part", name)
		}
	}
	if !seen["FREQ"] {
		p.add("FREQ", "missing", "FREQ is required")
	}
	p.check(&r, seen)
	return r
}

func (p *parser) freq(v string) Freq {
	for f := Daily; f <= Yearly; f++ {
		if v == f.String() {
			return f
		}
	}
	switch v {
	case "HOURLY", "MINUTELY", "SECONDLY":
		p.add("FREQ", "enum", "FREQ=%s is not supported: a task repeats at most daily", v)
	default:
		p.add("FREQ", "enum", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not %q", v)
	}
	return 0
}

// bounded reads an unsigned whole number from 1 to hi.
func (p *parser) bounded(name, v string, hi int) int {
	if !isDigits(v) {
		p.add(name, "int_parsing", "%s must be a whole number, not %q", name, v)
		return 0
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n > hi:
		p.add(name, "less_than_equal", "%s must be at most %d", name, hi)
		return 0
	case n < 1:
		p.add(name, "greater_than_equal", "%s must be at least 1", name)
		return 0
	}
	return n
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// list reads a comma-separated list of whole numbers, signed when signed.
// A malformed, repeated or surplus item is a problem; the numbers read so
// far come back either way (their ranges are the caller's to check).
func (p *parser) list(name, v string, signed bool, most int) []int {
	items := strings.Split(v, ",")
	if len(items) > most {
		p.add(name, "value_error", "%s has more than %d values", name, most)
		return nil
	}
	out := make([]int, 0, len(items))
	for _, item := range items {
		digits := item
		if signed && digits != "" && (digits[0] == '+' || digits[0] == '-') {
			digits = digits[1:]
		}
		if !isDigits(digits) || len(digits) > 3 {
			p.add(name, "int_parsing", "%s must be a list of whole numbers, not %q", name, v)
			return out
		}
		n, _ := strconv.Atoi(digits)
		if item[0] == '-' {
			n = -n
		}
		for _, o := range out {
			if o == n {
				p.add(name, "value_error", "%s lists %d twice", name, n)
				return out
			}
		}
		out = append(out, n)
	}
	return out
}

func (p *parser) byDay(v string) (uint8, []weekdayNum) {
	var plain uint8
	var nth []weekdayNum
	for _, item := range strings.Split(v, ",") {
		if len(item) < 2 {
			p.add("BYDAY", "value_error", "BYDAY items are a weekday (MO to SU) with an optional ordinal (2MO, -1FR), not %q", item)
			return plain, nth
		}
		w, ok := parseWeekday(item[len(item)-2:])
		num := item[:len(item)-2]
		digits := strings.TrimLeft(num, "+-")
		if !ok || len(num)-len(digits) > 1 || (num != "" && (!isDigits(digits) || len(digits) > 2)) {
			p.add("BYDAY", "value_error", "BYDAY items are a weekday (MO to SU) with an optional ordinal (2MO, -1FR), not %q", item)
			return plain, nth
		}
		if num == "" {
			if plain&(1<<w) != 0 {
				p.add("BYDAY", "value_error", "BYDAY lists %s twice", item)
				return plain, nth
			}
			plain |= 1 << w
			continue
		}
		n, _ := strconv.Atoi(digits)
		if num[0] == '-' {
			n = -n
		}
		if n == 0 || n > 53 || n < -53 {
			p.add("BYDAY", "value_error", "a BYDAY ordinal must be 1 to 53 or -53 to -1, not %q", item)
			return plain, nth
		}
		e := weekdayNum{n: n, day: w}
		for _, o := range nth {
			if o == e {
				p.add("BYDAY", "value_error", "BYDAY lists %s twice", item)
				return plain, nth
			}
		}
		nth = append(nth, e)
	}
	sortWeekdayNums(nth)
	return plain, nth
}

// untilValue reads UNTIL: a DATE (20271231) or a UTC DATE-TIME
// (20271231T235959Z). RFC 5545 wants a floating UNTIL for a floating start,
// but a rule here is checked before it meets its start, and a floating
// UNTIL under a zoned start would be ambiguous; so UTC it is.
func (p *parser) untilValue(v string) (untilKind, Civil, time.Time) {
	fail := func() (untilKind, Civil, time.Time) {
		p.add("UNTIL", "datetime_parsing", "UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ), not %q", v)
		return untilNone, Civil{}, time.Time{}
	}
	num := func(s string) int {
		if !isDigits(s) {
			return -1
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	if len(v) != 8 && !(len(v) == 16 && v[8] == 'T' && v[15] == 'Z') {
		return fail()
	}
	y, m, d := num(v[0:4]), num(v[4:6]), num(v[6:8])
	if y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return fail()
	}
	if len(v) == 8 {
		return untilDate, Date(y, time.Month(m), d), time.Time{}
	}
	hh, mm, ss := num(v[9:11]), num(v[11:13]), num(v[13:15])
	if hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 {
		return fail()
	}
	ss = min(ss, 59) // a leap second reads as :59, as RFC 5545 3.3.5 asks of those who keep none
	t := time.Date(y, time.Month(m), d, hh, mm, ss, 0, time.UTC)
	return untilUTC, CivilOf(t), t
}

// check applies the rules that tie parts together, once each part is read.
func (p *parser) check(r *Rule, seen map[string]bool) {
	if seen["COUNT"] && seen["UNTIL"] {
		p.add("UNTIL", "value_error", "COUNT and UNTIL cannot both be given")
	}
	if r.freq == 0 {
		return
	}
	hasDay := r.wdays != 0 || len(r.nwdays) > 0
	hasMonthDay := r.mdays|r.nmdays != 0
	if len(r.nwdays) > 0 {
		switch {
		case r.freq == Daily || r.freq == Weekly:
			p.add("BYDAY", "value_error", "BYDAY=%s: a numbered weekday needs FREQ=MONTHLY or YEARLY", weekdayNumString(r.nwdays[0]))
		case r.freq == Monthly || r.months != 0:
			for _, e := range r.nwdays {
				if e.n > 5 || e.n < -5 {
					p.add("BYDAY", "value_error", "BYDAY=%s can never match: a month has at most 5 of each weekday", weekdayNumString(e))
					break
				}
			}
		}
	}
	if hasMonthDay && r.freq == Weekly {
		p.add("BYMONTHDAY", "value_error", "BYMONTHDAY cannot be used with FREQ=WEEKLY")
	}
	if hasMonthDay && r.months != 0 && !r.monthDayFits() {
		p.add("BYMONTHDAY", "value_error", "BYMONTHDAY=%s can never fall in BYMONTH=%s",
			joinInts(r.monthDays()), joinInts(r.monthList()))
	}
	if len(r.setPos) > 0 {
		if !hasDay && !hasMonthDay && r.months == 0 {
			p.add("BYSETPOS", "value_error", "BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to choose from")
		} else if most := r.maxPerPeriod(); most < 366 {
			for _, v := range r.setPos {
				if v > most || -v > most {
					p.add("BYSETPOS", "value_error", "BYSETPOS=%d can never match: each period of this rule has at most %d candidates", v, most)
					break
				}
			}
		}
	}
}

// monthDayFits reports whether some BYMONTHDAY exists in some BYMONTH
// (February counted with 29 days).
func (r Rule) monthDayFits() bool {
	for m := time.January; m <= time.December; m++ {
		if r.months&(1<<m) == 0 {
			continue
		}
		n := daysIn(2000, m) // a leap year
		if r.mdays&(1<<(n+1)-1) != 0 || r.nmdays&(1<<(n+1)-1) != 0 {
			return true
		}
	}
	return false
}

// maxPerPeriod is the most dates one period can hold before BYSETPOS.
func (r Rule) maxPerPeriod() int {
	plain := bits.OnesCount8(r.wdays)
	switch r.freq {
	case Daily:
		return 1
	case Weekly:
		return max(plain, 1)
	case Monthly:
		switch {
		case r.mdays|r.nmdays != 0:
			return min(31, bits.OnesCount32(r.mdays)+bits.OnesCount32(r.nmdays))
		case plain > 0 || len(r.nwdays) > 0:
			return min(31, 5*plain+len(r.nwdays))
		}
		return 1
	}
	if r.mdays|r.nmdays != 0 || plain > 0 || len(r.nwdays) > 0 {
		return 366
	}
	return max(bits.OnesCount16(r.months), 1)
}

// String is r in canonical form: parts in a fixed order (FREQ, INTERVAL,
// BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS, WKST, COUNT, UNTIL), defaults left
// out, lists sorted (weekdays from Monday; negative positions after
// positive ones), upper case, no "RRULE:" prefix. Parse(r.String()) is r.
func (r Rule) String() string {
	if r.freq == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("FREQ=")
	b.WriteString(r.freq.String())
	if r.interval > 1 {
		fmt.Fprintf(&b, ";INTERVAL=%d", r.interval)
	}
	if r.months != 0 {
		b.WriteString(";BYMONTH=" + joinInts(r.monthList()))
	}
	if r.mdays|r.nmdays != 0 {
		b.WriteString(";BYMONTHDAY=" + joinInts(r.monthDays()))
	}
	if r.wdays != 0 || len(r.nwdays) > 0 {
		b.WriteString(";BYDAY=")
		for i, e := range r.byDayList() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(weekdayNumString(e))
		}
	}
	if len(r.setPos) > 0 {
		b.WriteString(";BYSETPOS=" + joinInts(r.setPos))
	}
	if r.wkstGiven && r.wkst != time.Monday {
		b.WriteString(";WKST=" + weekdayCodes[r.wkst])
	}
	if r.count > 0 {
		fmt.Fprintf(&b, ";COUNT=%d", r.count)
	}
	switch r.until {
	case untilDate:
		fmt.Fprintf(&b, ";UNTIL=%04d%02d%02d", r.untilC.year, int(r.untilC.month), r.untilC.day)
	case untilUTC:
		b.WriteString(";UNTIL=" + r.untilT.Format("20060102T150405Z"))
	}
	return b.String()
}

func (r Rule) monthList() []int {
	var out []int
	for m := 1; m <= 12; m++ {
		if r.months&(1<<m) != 0 {
			out = append(out, m)
		}
	}
	return out
}

// monthDays is BYMONTHDAY in canonical order: 1..31, then -31..-1.
func (r Rule) monthDays() []int {
	var out []int
	for d := 1; d <= 31; d++ {
		if r.mdays&(1<<d) != 0 {
			out = append(out, d)
		}
	}
	for d := 31; d >= 1; d-- {
		if r.nmdays&(1<<d) != 0 {
			out = append(out, -d)
		}
	}
	return out
}

// byDayList is BYDAY in canonical order: by weekday from Monday, the plain
// weekday before its ordinals.
func (r Rule) byDayList() []weekdayNum {
	var out []weekdayNum
	for i := 1; i <= 7; i++ {
		w := time.Weekday(i % 7)
		if r.wdays&(1<<w) != 0 {
			out = append(out, weekdayNum{day: w})
		}
		for _, e := range r.nwdays {
			if e.day == w {
				out = append(out, e)
			}
		}
	}
	return out
}

func weekdayNumString(e weekdayNum) string {
	if e.n == 0 {
		return weekdayCodes[e.day]
	}
	return strconv.Itoa(e.n) + weekdayCodes[e.day]
}

func joinInts(vs []int) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

// positionKey orders 1, 2, ..., then -366, ..., -1: from the start of a
// period to its end.
func positionKey(v int) int {
	if v < 0 {
		return 1000 + v
	}
	return v
}

func sortPositions(vs []int) {
	slices.SortFunc(vs, func(a, b int) int { return positionKey(a) - positionKey(b) })
}

func sortWeekdayNums(es []weekdayNum) {
	key := func(e weekdayNum) int { return int((e.day+6)%7)*1000 + positionKey(e.n) }
	slices.SortFunc(es, func(a, b weekdayNum) int { return key(a) - key(b) })
}
