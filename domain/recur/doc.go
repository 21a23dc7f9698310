// Package recur holds the rules of repeating tasks: a restricted RFC 5545
// RRULE (Parse, Rule), its canonical text and English description, what an
// occurrence is counted from (Recurrence), and the expansion of a rule from
// its anchor, the task's due (Series), in wall-clock time.
//
// It is written here rather than taken from a library because the domain
// imports the standard library only, and because the Go library for it,
// github.com/teambition/rrule-go (a port of python-dateutil), gets the part
// that matters here wrong: it makes occurrences with time.Date, which does
// not resolve a local time in a clock change as RFC 5545 asks (it reads New
// York's missing 02:30 as 01:30 EST, and London's repeated 01:30 as the
// second one), and it reads BYDAY=MO,-1FR as "Mondays that are the last
// Friday" rather than both. The grammar is small (FREQ DAILY to YEARLY,
// INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, COUNT, UNTIL, WKST), so
// all of it fits in a few hundred lines. The tests hold it against RFC
// 5545's own examples, against properties over the clock changes of five
// zones, and against rrule-go over thousands of random rules, where every
// difference is one of those named in rrulego_test.go. Only the tests
// import rrule-go.
//
// # Time
//
// Occurrences are Civil values: a date, and for a timed task the anchor's
// time of day. They are computed with no zone at all and turned into
// instants afterwards (Civil.In), so a task due on Fridays at 17:00 is due
// at 17:00 local on both sides of a clock change, and a daily task never
// lands twice on one day. A time that a clock change skips or repeats
// resolves as RFC 5545 section 3.3.5 says: the first of two, or read with
// the offset before the gap (02:30 on the morning clocks go from 02:00 to
// 03:00 is 03:30).
//
// # Semantics, where RFC 5545 leaves a choice
//
//   - The anchor (DTSTART) is always the first occurrence and counts for
//     COUNT, even when the rule would not produce it (RFC 5545 3.3.10).
//   - A date that does not exist is skipped, not moved: the 31st of a
//     30-day month, 29 February in other years. BYMONTHDAY=-1 or BYSETPOS
//     say "the last day".
//   - UNTIL is inclusive. A date UNTIL includes its whole day; a UTC UNTIL
//     is an instant for a zoned task and, for a floating or all-day one,
//     compared with its UTC reading.
//   - YEARLY with BYMONTHDAY and no BYMONTH means every month, and BYDAY
//     ordinals in a YEARLY rule count within the month when BYMONTH is
//     given and within the year otherwise, as python-dateutil and rrule-go
//     read them.
//
// # Bounds
//
// INTERVAL and COUNT are at most 1,000 (MaxInterval, MaxCount). A search
// for the next occurrence gives up once it has seen the rule's whole cycle
// (400 years for most rules) or HorizonYears (1,000) years after the
// previous one, so a rule that can never match again ends instead of
// looping, and no occurrence falls after year 9999. Next costs a few
// hundred nanoseconds for the rules people write and allocates nothing; the
// worst (a rule that never matches again, walked through its cycle) about
// 0.2 ms; see BenchmarkNext.
package recur
