package transfer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// texts are strings a generated document draws from: unicode, quotes,
// separators, newlines and formula starters, the things formats get wrong.
var texts = []string{
	"Buy milk", "Ünïcödé ✓ 日本語 🎉", "a, b; c \\ d", "line one\nline two", "crlf\r\nline",
	"=SUM(A1:A9)", "+1 555", "-minus", "@home", "\ttab", "'=quoted", "''=double", "\"quoted\" text",
	"trailing space ", strings.Repeat("long ", 40), "x", "semi;colon", "colon: value", "emoji 👩‍👩‍👧",
	"𝄞 outside the BMP", "back\\slash", "comma,", "<b>html</b>", "null",
}

var zones = []string{"Europe/Paris", "America/New_York", "Australia/Sydney", "Pacific/Auckland", "Asia/Kolkata", "UTC", ""}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func genTime(r *rand.Rand) time.Time {
	// Whole microseconds, as the domain keeps them; 1970-2100.
	sec := r.Int64N(int64(130 * 365 * 24 * 3600))
	return time.Unix(sec, int64(r.IntN(1_000_000))*1000).UTC()
}

func genTimePtr(r *rand.Rand) *time.Time {
	if r.IntN(2) == 0 {
		return nil
	}
	t := genTime(r)
	return &t
}

func genDue(r *rand.Rand) Due {
	switch r.IntN(5) {
	case 0:
		return Due{}
	case 1:
		t := genTime(r)
		return DueOn(t.Year(), t.Month(), t.Day())
	case 2:
		return DueFloatingAt(genTime(r).Truncate(time.Second))
	}
	return DueAt(genTime(r), pick(r, zones))
}

// genDocument makes a random document with every field used, unicode,
// nulls and a hierarchy at most maxDepth deep.
func genDocument(r *rand.Rand, nLists, nTasks int) *Document {
	d := &Document{ExportedAt: genTime(r)}
	if r.IntN(5) == 0 {
		d.ExportedAt = time.Time{}
	}
	for i := range nLists {
		l := List{Ref: fmt.Sprintf("l%d", i), Name: oneLine(pick(r, texts)) + fmt.Sprint(i), CreatedAt: genTime(r), UpdatedAt: genTime(r), DeletedAt: genTimePtr(r)}
		if r.IntN(2) == 0 {
			l.Color = fmt.Sprintf("#%06x", r.IntN(1<<24))
		}
		if r.IntN(2) == 0 {
			l.Position = fmt.Sprintf("a%dV", r.IntN(1000))
		}
		d.Lists = append(d.Lists, l)
	}
	depth := map[string]int{}
	for i := range nTasks {
		t := Task{
			Ref:       fmt.Sprintf("t%d", i),
			Title:     pick(r, texts),
			Completed: r.IntN(3) == 0,
			Priority:  pick(r, []Priority{PriorityLow, PriorityMedium, PriorityHigh}),
			Due:       genDue(r),
			Tags:      []string{},
			CreatedAt: genTime(r),
			UpdatedAt: genTime(r),
		}
		if strings.TrimSpace(t.Title) == "" {
			t.Title = "blank"
		}
		if r.IntN(3) > 0 {
			s := pick(r, texts)
			if r.IntN(6) == 0 {
				s = ""
			}
			t.Description = &s
		}
		if t.Completed {
			t.CompletedAt = genTimePtr(r)
		}
		if nLists > 0 && r.IntN(3) > 0 {
			t.ListRef = pick(r, d.Lists).Ref
		}
		if i > 0 && r.IntN(2) == 0 {
			p := d.Tasks[r.IntN(i)]
			if depth[p.Ref] < DefaultMaxDepth {
				t.ParentRef, t.ListRef = p.Ref, p.ListRef
			}
		}
		depth[t.Ref] = 1
		if t.ParentRef != "" {
			depth[t.Ref] = depth[t.ParentRef] + 1
		}
		for range r.IntN(4) {
			tag := strings.NewReplacer(",", "", "\n", " ", "\r", " ").Replace(pick(r, texts))
			if strings.TrimSpace(tag) == "" {
				continue
			}
			t.Tags = append(t.Tags, tag)
		}
		if r.IntN(2) == 0 {
			t.Position = fmt.Sprintf("m%dV", r.IntN(100000))
		}
		if r.IntN(3) == 0 {
			t.Recurrence = &Recurrence{
				Rule: pick(r, []string{"FREQ=DAILY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=5", "FREQ=WEEKLY;UNTIL=20301231T235959Z"}),
				From: pick(r, []RecurFrom{FromDue, FromCompletion}),
			}
		}
		for range r.IntN(3) {
			if r.IntN(2) == 0 {
				t.Reminders = append(t.Reminders, Reminder{Before: pick(r, []string{"PT15M", "PT1H30M", "P1D", "P1W", "PT0S", "P2DT12H"})})
			} else {
				t.Reminders = append(t.Reminders, Reminder{At: genTime(r)})
			}
		}
		if r.IntN(5) == 0 {
			t.DeletedAt = genTimePtr(r)
			if t.DeletedAt != nil && r.IntN(2) == 0 && nLists > 0 {
				t.TrashedWith = "list:" + pick(r, d.Lists).Ref
			}
		}
		d.Tasks = append(d.Tasks, t)
	}
	return d
}

// oneLine is s as a name the domain keeps: trimmed, on one line.
func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r", " ", "\n", " ", "\t", " ").Replace(s))
}

func timeOf(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 17, 0, 0, 0, time.UTC) }
