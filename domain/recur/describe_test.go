package recur_test

import "testing"

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ rule, want string }{
		{"FREQ=DAILY", "every day"},
		{"FREQ=DAILY;INTERVAL=3", "every 3 days"},
		{"FREQ=DAILY;COUNT=5", "every day, 5 times"},
		{"FREQ=DAILY;COUNT=1", "every day, once"},
		{"FREQ=DAILY;COUNT=2", "every day, twice"},
		{"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "every weekday"},
		{"FREQ=DAILY;BYDAY=MO,FR", "every Monday and Friday"},
		{"FREQ=DAILY;INTERVAL=2;BYDAY=MO,FR", "every 2 days, if a Monday or Friday"},
		{"FREQ=DAILY;BYMONTH=1", "every day in January"},
		{"FREQ=DAILY;BYMONTHDAY=1,-1", "every day on the 1st and the last day"},
		{"FREQ=WEEKLY", "every week"},
		{"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "every 2 weeks on Friday"},
		{"FREQ=WEEKLY;BYDAY=MO,WE,FR", "every week on Monday, Wednesday and Friday"},
		{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every week on weekdays"},
		{"FREQ=WEEKLY;BYDAY=SA,SU;BYMONTH=6,7,8", "every week on weekends in June, July and August"},
		{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "every week on the last weekday"},
		{"FREQ=MONTHLY", "every month"},
		{"FREQ=MONTHLY;BYDAY=-1FR", "every month on the last Friday"},
		{"FREQ=MONTHLY;BYDAY=2MO", "every month on the second Monday"},
		{"FREQ=MONTHLY;INTERVAL=2;BYDAY=1SU,-1SU;COUNT=10", "every 2 months on the first Sunday and the last Sunday, 10 times"},
		{"FREQ=MONTHLY;BYDAY=-2MO", "every month on the second-to-last Monday"},
		{"FREQ=MONTHLY;INTERVAL=2;BYDAY=TU", "every 2 months on Tuesdays"},
		{"FREQ=MONTHLY;BYMONTHDAY=-3", "every month on the third-to-last day"},
		{"FREQ=MONTHLY;BYMONTHDAY=2,15", "every month on the 2nd and the 15th"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,-1", "every month on the 1st and the last day"},
		{"FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "every month on the 13th, if a Friday"},
		{"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2", "every month on the second-to-last weekday"},
		{"FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3;COUNT=3", "every month on the third day that is a Tuesday, Wednesday or Thursday, 3 times"},
		{"FREQ=MONTHLY;BYDAY=SU;BYSETPOS=-1", "every month on the last Sunday"},
		{"FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", "every month on the 28th, the 29th, the 30th and the 31st, taking the last of each month"},
		{"FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20271231", "every month on the 31st until 31 December 2027"},
		{"FREQ=YEARLY", "every year"},
		{"FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1;UNTIL=20271231", "every year on 1 March until 31 December 2027"},
		{"FREQ=YEARLY;BYMONTH=6,7", "every year in June and July"},
		{"FREQ=YEARLY;BYDAY=20MO", "every year on the 20th Monday"},
		{"FREQ=YEARLY;BYMONTH=3;BYDAY=TH", "every year on Thursdays in March"},
		{"FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
			"every 4 years on the 2nd, the 3rd, the 4th, the 5th, the 6th, the 7th and the 8th in November, if a Tuesday"},
		{"FREQ=DAILY;UNTIL=19971224T000000Z", "every day until 24 December 1997 00:00 UTC"},
		{"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "every year on the fourth Thursday in November"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,2,3;BYDAY=MO,1TU", "every month on the 1st, the 2nd and the 3rd, if a Monday or the first Tuesday"},
		{"FREQ=MONTHLY;BYMONTHDAY=11,12,13,21,22,23", "every month on the 11th, the 12th, the 13th, the 21st, the 22nd and the 23rd"},
	} {
		if got := mustParse(t, tc.rule).Describe(); got != tc.want {
			t.Errorf("Describe(%s) = %q, want %q", tc.rule, got, tc.want)
		}
	}
}
