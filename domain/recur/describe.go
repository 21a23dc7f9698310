package recur

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Describe is r in plain English, shown beside the rule so that a person
// can check what they asked for: "every 2 weeks on Friday", "every month on
// the last Friday", "every day, 5 times", "every year on 1 March until 31
// December 2027". Parts a series takes from its anchor (the weekday of a
// WEEKLY rule without BYDAY, say) are not named: the rule alone does not
// know them, and the task shows its due beside. "" for the zero Rule.
func (r Rule) Describe() string {
	if r.freq == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(r.describeBody())
	if len(r.setPos) > 0 && !r.setPosInline() && r.freq != Daily { // on a DAILY rule BYSETPOS=1 or -1 changes nothing
		fmt.Fprintf(&b, ", taking the %s of each %s", join(mapInts(r.setPos, position), "and"), unit[r.freq])
	}
	switch {
	case r.count == 1:
		b.WriteString(", once")
	case r.count == 2:
		b.WriteString(", twice")
	case r.count > 2:
		fmt.Fprintf(&b, ", %d times", r.count)
	}
	switch r.until {
	case untilDate:
		b.WriteString(" until " + longDate(r.untilC))
	case untilUTC:
		b.WriteString(" until " + longDate(r.untilC) + r.untilT.Format(" 15:04 UTC"))
	}
	return b.String()
}

// unit names a rule's period.
var unit = [...]string{Daily: "day", Weekly: "week", Monthly: "month", Yearly: "year"}

func (r Rule) describeBody() string {
	every := "every " + unit[r.freq]
	if r.interval > 1 {
		every = fmt.Sprintf("every %d %ss", r.interval, unit[r.freq])
	}
	hasMonthDay := r.mdays|r.nmdays != 0
	hasDay := r.wdays != 0 || len(r.nwdays) > 0
	in := ""
	if r.months != 0 {
		in = " in " + join(mapInts(r.monthList(), func(m int) string { return time.Month(m).String() }), "and")
	}
	switch r.freq {
	case Daily:
		s := every
		if hasMonthDay {
			s += " on " + r.monthDayPhrase()
		}
		if r.wdays != 0 {
			if r.interval == 1 && !hasMonthDay {
				s = "every " + weekdaySetName(r.wdays, "and")
			} else {
				s += ", if a " + weekdaySetName(r.wdays, "or")
			}
		}
		return s + in
	case Weekly:
		if r.wdays != 0 && !r.setPosInline() {
			return every + " on " + weekdaySetPlural(r.wdays, false) + in
		}
	case Monthly, Yearly:
		if r.freq == Yearly && r.months != 0 && r.mdays != 0 && r.nmdays == 0 && !hasDay &&
			len(r.monthList()) == 1 && len(r.monthDays()) == 1 {
			return fmt.Sprintf("%s on %d %s", every, r.monthDays()[0], time.Month(r.monthList()[0]))
		}
		switch {
		case hasMonthDay:
			s := every + " on " + r.monthDayPhrase() + in
			if hasDay {
				s += ", if " + r.limitPhrase()
			}
			return s
		case hasDay && !r.setPosInline():
			return every + " on " + join(r.weekdayPhrases(), "and") + in
		}
	}
	if r.setPosInline() {
		return every + " on " + r.setPosPhrase() + in
	}
	return every + in
}

// setPosInline reports whether BYSETPOS reads as part of the days ("the
// second-to-last weekday"): it chooses among plain weekdays only.
func (r Rule) setPosInline() bool {
	return len(r.setPos) > 0 && r.wdays != 0 && len(r.nwdays) == 0 && r.mdays|r.nmdays == 0 && r.freq != Daily
}

func (r Rule) setPosPhrase() string {
	pos := join(mapInts(r.setPos, position), "and")
	switch r.wdays {
	case weekdaysMask:
		return "the " + pos + " weekday"
	case weekendMask:
		return "the " + pos + " weekend day"
	case 0x7F:
		return "the " + pos + " day"
	}
	if bits.OnesCount8(r.wdays) == 1 {
		return "the " + pos + " " + weekdaySetName(r.wdays, "or")
	}
	return "the " + pos + " day that is a " + weekdaySetName(r.wdays, "or")
}

const (
	weekdaysMask = 0x3E // Monday to Friday
	weekendMask  = 0x41 // Saturday and Sunday
)

// weekdaySetName names plain weekdays: "Monday and Friday", "weekday".
func weekdaySetName(mask uint8, conj string) string {
	switch mask {
	case weekdaysMask:
		return "weekday"
	case weekendMask:
		return "weekend day"
	}
	return join(weekdayNames(mask), conj)
}

// weekdaySetPlural is "Monday and Friday" (plural: "Mondays and Fridays"),
// or "weekdays".
func weekdaySetPlural(mask uint8, plural bool) string {
	switch mask {
	case weekdaysMask:
		return "weekdays"
	case weekendMask:
		return "weekends"
	}
	names := weekdayNames(mask)
	if plural {
		for i := range names {
			names[i] += "s"
		}
	}
	return join(names, "and")
}

func weekdayNames(mask uint8) []string {
	var out []string
	for i := 1; i <= 7; i++ {
		if w := time.Weekday(i % 7); mask&(1<<w) != 0 {
			out = append(out, w.String())
		}
	}
	return out
}

// weekdayPhrases is BYDAY for a MONTHLY or YEARLY rule: "Tuesdays", "the
// first Monday", "the last Friday".
func (r Rule) weekdayPhrases() []string {
	var out []string
	if r.wdays != 0 {
		out = append(out, weekdaySetPlural(r.wdays, true))
	}
	for _, e := range r.nwdays {
		out = append(out, "the "+position(e.n)+" "+e.day.String())
	}
	return out
}

// limitPhrase is BYDAY where it limits BYMONTHDAY: "a Friday", "a Monday or
// the last Friday".
func (r Rule) limitPhrase() string {
	var out []string
	for _, name := range weekdayNames(r.wdays) {
		out = append(out, "a "+name)
	}
	for _, e := range r.nwdays {
		out = append(out, "the "+position(e.n)+" "+e.day.String())
	}
	return join(out, "or")
}

// monthDayPhrase is BYMONTHDAY: "the 1st and the 15th", "the last day".
func (r Rule) monthDayPhrase() string {
	return join(mapInts(r.monthDays(), func(d int) string {
		if d < 0 {
			return "the " + position(d) + " day"
		}
		return "the " + ordinal(d)
	}), "and")
}

// position is an ordinal counted from the start (1: "first") or, when
// negative, from the end (-1: "last", -2: "second-to-last").
func position(n int) string {
	switch {
	case n == -1:
		return "last"
	case n < 0:
		return position(-n) + "-to-last"
	case n <= 5:
		return [...]string{"", "first", "second", "third", "fourth", "fifth"}[n]
	}
	return ordinal(n)
}

// ordinal is 1st, 2nd, 3rd, 4th, 11th, 21st, ...
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// longDate is "31 December 2027".
func longDate(c Civil) string { return fmt.Sprintf("%d %s %d", c.day, c.month, c.year) }

// join is "a", "a and b", "a, b and c" (or "or").
func join(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}

func mapInts(vs []int, f func(int) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}
