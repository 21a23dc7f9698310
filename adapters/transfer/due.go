package transfer

import (
	"fmt"
	"strings"
	"time"
)

// parseDue reads the three API fields back into a Due: due_date, due_tz and
// due_floating. It refuses what the API would: a zone on a date or a
// floating time, a floating flag on a value with an offset.
func parseDue(date string, tz *string, floating bool) (Due, error) {
	zone := ""
	if tz != nil {
		zone = *tz
	}
	if date == "" {
		if zone != "" || floating {
			return Due{}, fmt.Errorf("due_tz and due_floating need a due_date")
		}
		return Due{}, nil
	}
	if len(date) == len(dateLayout) {
		t, err := time.Parse(dateLayout, date)
		if err != nil {
			return Due{}, fmt.Errorf("due_date %q is not a date (YYYY-MM-DD)", date)
		}
		if zone != "" || floating {
			return Due{}, fmt.Errorf("a due_date without a time takes no due_tz and is not floating")
		}
		return Due{Kind: DueDate, Time: t}, nil
	}
	if floating {
		t, err := time.Parse(floatingLayout, date)
		if err != nil || strings.ContainsAny(date, "Zz+") || strings.Count(date, "-") > 2 {
			return Due{}, fmt.Errorf("a floating due_date is a local date-time without offset (2026-03-01T09:00:00), not %q", date)
		}
		if zone != "" {
			return Due{}, fmt.Errorf("a floating due_date takes no due_tz")
		}
		return Due{Kind: DueFloating, Time: t}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, date)
	if err != nil {
		return Due{}, fmt.Errorf("due_date %q is not a date (YYYY-MM-DD) or an RFC 3339 date-time", date)
	}
	if zone != "" {
		if _, err := loadZone(zone); err != nil {
			return Due{}, err
		}
	}
	return Due{Kind: DueInstant, Time: t.UTC(), Zone: zone}, nil
}
