package recur_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/todo-backend/todo/domain/recur"
)

func problemsOf(t *testing.T, err error) []recur.Problem {
	t.Helper()
	var ve *recur.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *recur.ValidationError", err, err)
	}
	return ve.Problems
}

// TestParseCanonical checks what Parse accepts and the canonical String of
// it, and that the canonical form parses back to itself.
func TestParseCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"FREQ=DAILY", "FREQ=DAILY"},
		{"RRULE:FREQ=DAILY", "FREQ=DAILY"},
		{"rrule:freq=weekly;byday=fr;interval=2", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"},
		{"  FREQ=DAILY  ", "FREQ=DAILY"},
		{"FREQ=DAILY;INTERVAL=1", "FREQ=DAILY"},
		{"FREQ=WEEKLY;WKST=MO", "FREQ=WEEKLY"},
		{"FREQ=WEEKLY;WKST=SU;INTERVAL=2", "FREQ=WEEKLY;INTERVAL=2;WKST=SU"},
		{"FREQ=WEEKLY;BYDAY=SU,FR,MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE,FR,SU"},
		{"FREQ=MONTHLY;BYDAY=-1SU,+1SU", "FREQ=MONTHLY;BYDAY=1SU,-1SU"},
		{"FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR"},
		{"FREQ=MONTHLY;BYDAY=MO,2MO,-2MO,-1MO,TU", "FREQ=MONTHLY;BYDAY=MO,2MO,-2MO,-1MO,TU"},
		{"FREQ=MONTHLY;BYMONTHDAY=-1,15,1,-3", "FREQ=MONTHLY;BYMONTHDAY=1,15,-3,-1"},
		{"FREQ=MONTHLY;BYMONTHDAY=+5", "FREQ=MONTHLY;BYMONTHDAY=5"},
		{"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1,1,-2", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-2,-1"},
		{"FREQ=YEARLY;BYMONTH=12,3;BYMONTHDAY=1", "FREQ=YEARLY;BYMONTH=3,12;BYMONTHDAY=1"},
		{"FREQ=YEARLY;BYDAY=20MO", "FREQ=YEARLY;BYDAY=20MO"},
		{"FREQ=YEARLY;BYDAY=-53SU", "FREQ=YEARLY;BYDAY=-53SU"},
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"},
		{"COUNT=5;FREQ=DAILY", "FREQ=DAILY;COUNT=5"},
		{"FREQ=DAILY;COUNT=1000;INTERVAL=1000", "FREQ=DAILY;INTERVAL=1000;COUNT=1000"},
		{"FREQ=DAILY;UNTIL=20271231", "FREQ=DAILY;UNTIL=20271231"},
		{"FREQ=DAILY;UNTIL=20271231t235959z", "FREQ=DAILY;UNTIL=20271231T235959Z"},
		{"FREQ=DAILY;UNTIL=20161231T235960Z", "FREQ=DAILY;UNTIL=20161231T235959Z"},
		{"FREQ=DAILY;BYSETPOS=1;BYDAY=MO", "FREQ=DAILY;BYDAY=MO;BYSETPOS=1"},
		{"FREQ=WEEKLY;BYMONTH=6,7,8", "FREQ=WEEKLY;BYMONTH=6,7,8"},
	} {
		r, err := recur.Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q) = %v, want no error", tc.in, err)
			continue
		}
		if got := r.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		again, err := recur.Parse(r.String())
		if err != nil || again.String() != r.String() {
			t.Errorf("Parse(%q) = %v, %v; want it to round-trip", r.String(), again, err)
		}
	}
}

// TestParseRefuses checks every refusal names its part, with its type.
func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		in, part, typ string
	}{
		{"", "FREQ", "missing"},
		{"RRULE:", "FREQ", "missing"},
		{"INTERVAL=2", "FREQ", "missing"},
		{"FREQ=HOURLY", "FREQ", "enum"},
		{"FREQ=MINUTELY", "FREQ", "enum"},
		{"FREQ=SECONDLY", "FREQ", "enum"},
		{"FREQ=FORTNIGHTLY", "FREQ", "enum"},
		{"FREQ=", "FREQ", "enum"},
		{"FREQ=DAILY;BYHOUR=9", "BYHOUR", "extra_forbidden"},
		{"FREQ=DAILY;BYMINUTE=0", "BYMINUTE", "extra_forbidden"},
		{"FREQ=DAILY;BYSECOND=0", "BYSECOND", "extra_forbidden"},
		{"FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO", "extra_forbidden"},
		{"FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY", "extra_forbidden"},
		{"FREQ=DAILY;X-NAME=1", "X-NAME", "extra_forbidden"},
		{"FREQ=MONTHLY;RSCALE=GREGORIAN", "RSCALE", "extra_forbidden"},
		{"FREQ=DAILY;DTSTART=20260101", "DTSTART", "extra_forbidden"},
		{"FREQ=DAILY;", "", "value_error"},
		{"FREQ=DAILY;;COUNT=2", "", "value_error"},
		{"FREQ=DAILY;COUNT", "COUNT", "value_error"},
		{"FREQ=DAILY;FREQ=WEEKLY", "FREQ", "value_error"},
		{"FREQ=DAILY;COUNT=2;COUNT=3", "COUNT", "value_error"},
		{"FREQ=DAILY;INTERVAL=0", "INTERVAL", "greater_than_equal"},
		{"FREQ=DAILY;INTERVAL=1001", "INTERVAL", "less_than_equal"},
		{"FREQ=DAILY;INTERVAL=99999999999999999999", "INTERVAL", "less_than_equal"},
		{"FREQ=DAILY;INTERVAL=-1", "INTERVAL", "int_parsing"},
		{"FREQ=DAILY;INTERVAL=+2", "INTERVAL", "int_parsing"},
		{"FREQ=DAILY;INTERVAL=two", "INTERVAL", "int_parsing"},
		{"FREQ=DAILY;COUNT=0", "COUNT", "greater_than_equal"},
		{"FREQ=DAILY;COUNT=1001", "COUNT", "less_than_equal"},
		{"FREQ=DAILY;COUNT=1.5", "COUNT", "int_parsing"},
		{"FREQ=DAILY;COUNT=5;UNTIL=20271231", "UNTIL", "value_error"},
		{"FREQ=DAILY;UNTIL=2027-12-31", "UNTIL", "datetime_parsing"},
		{"FREQ=DAILY;UNTIL=20271231T235959", "UNTIL", "datetime_parsing"}, // floating
		{"FREQ=DAILY;UNTIL=20270230", "UNTIL", "datetime_parsing"},
		{"FREQ=DAILY;UNTIL=20271301", "UNTIL", "datetime_parsing"},
		{"FREQ=DAILY;UNTIL=00001231", "UNTIL", "datetime_parsing"},
		{"FREQ=DAILY;UNTIL=20271231T245959Z", "UNTIL", "datetime_parsing"},
		{"FREQ=DAILY;UNTIL=20271231T236000Z", "UNTIL", "datetime_parsing"},
		{"FREQ=DAILY;UNTIL=20271231T235959+0100", "UNTIL", "datetime_parsing"},
		{"FREQ=WEEKLY;WKST=XX", "WKST", "enum"},
		{"FREQ=WEEKLY;WKST=1MO", "WKST", "enum"},
		{"FREQ=WEEKLY;BYDAY=FRI", "BYDAY", "value_error"},
		{"FREQ=WEEKLY;BYDAY=", "BYDAY", "value_error"},
		{"FREQ=WEEKLY;BYDAY=MO,", "BYDAY", "value_error"},
		{"FREQ=WEEKLY;BYDAY=MO,MO", "BYDAY", "value_error"},
		{"FREQ=MONTHLY;BYDAY=1MO,+1MO", "BYDAY", "value_error"},
		{"FREQ=MONTHLY;BYDAY=0MO", "BYDAY", "value_error"},
		{"FREQ=YEARLY;BYDAY=54MO", "BYDAY", "value_error"},
		{"FREQ=YEARLY;BYDAY=+-1MO", "BYDAY", "value_error"},
		{"FREQ=YEARLY;BYDAY=100MO", "BYDAY", "value_error"},
		{"FREQ=WEEKLY;BYDAY=1MO", "BYDAY", "value_error"},
		{"FREQ=DAILY;BYDAY=-1FR", "BYDAY", "value_error"},
		{"FREQ=MONTHLY;BYDAY=6MO", "BYDAY", "value_error"},
		{"FREQ=YEARLY;BYMONTH=3;BYDAY=-6MO", "BYDAY", "value_error"},
		{"FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY", "value_error"},
		{"FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY", "value_error"},
		{"FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY", "value_error"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,1", "BYMONTHDAY", "value_error"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,,2", "BYMONTHDAY", "int_parsing"},
		{"FREQ=MONTHLY;BYMONTHDAY=first", "BYMONTHDAY", "int_parsing"},
		{"FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY", "value_error"},
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,31", "BYMONTHDAY", "value_error"},
		{"FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=-31", "BYMONTHDAY", "value_error"},
		{"FREQ=YEARLY;BYMONTH=0", "BYMONTH", "value_error"},
		{"FREQ=YEARLY;BYMONTH=13", "BYMONTH", "value_error"},
		{"FREQ=YEARLY;BYMONTH=-1", "BYMONTH", "int_parsing"},
		{"FREQ=YEARLY;BYMONTH=3,3", "BYMONTH", "value_error"},
		{"FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS", "value_error"},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS", "value_error"},
		{"FREQ=YEARLY;BYDAY=MO;BYSETPOS=367", "BYSETPOS", "value_error"},
		{"FREQ=DAILY;BYDAY=MO;BYSETPOS=2", "BYSETPOS", "value_error"},
		{"FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3", "BYSETPOS", "value_error"},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-6", "BYSETPOS", "value_error"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,2;BYSETPOS=3", "BYSETPOS", "value_error"},
		{"FREQ=DAILY;" + strings.Repeat("X", recur.MaxRuleLen), "RRULE", "string_too_long"},
	} {
		_, err := recur.Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) = nil error, want a problem on %s", tc.in, tc.part)
			continue
		}
		ps := problemsOf(t, err)
		found := false
		for _, p := range ps {
			if p.Field != "rule" {
				t.Errorf("Parse(%q): problem %+v, want Field rule", tc.in, p)
			}
			if p.Part == tc.part && p.Type == tc.typ {
				found = true
				if tc.part != "" && !strings.Contains(p.Msg, tc.part) {
					t.Errorf("Parse(%q): message %q does not name %s", tc.in, p.Msg, tc.part)
				}
			}
		}
		if !found {
			t.Errorf("Parse(%q) = %+v, want a problem {Part: %q, Type: %q}", tc.in, ps, tc.part, tc.typ)
		}
	}
}

// TestParseReportsEveryProblem: a client learns of every broken part at once.
func TestParseReportsEveryProblem(t *testing.T) {
	ps := problemsOf(t, func() error { _, err := recur.Parse("FREQ=HOURLY;BYHOUR=9;COUNT=0;WKST=XX"); return err }())
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Part)
	}
	if got, want := strings.Join(parts, ","), "FREQ,BYHOUR,COUNT,WKST"; got != want {
		t.Errorf("problems on %s, want %s", got, want)
	}
}
