package transfer

import "strconv"

// icsPriority reads an RFC 5545 PRIORITY (section 3.8.1.9): 1-4 are high,
// 5 is medium, 6-9 are low (the CUA three-level scheme); 0 means undefined,
// which is our default.
func icsPriority(s string) (Priority, bool) {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || n < 0 || n > 9:
		return "", false
	case n == 0:
		return DefaultPriority, true
	case n <= 4:
		return PriorityHigh, true
	case n == 5:
		return PriorityMedium, true
	}
	return PriorityLow, true
}

// priorityToICS is the RFC 5545 PRIORITY of a priority: 1 high, 5 medium,
// 9 low, the values the RFC names for its three levels.
func priorityToICS(p Priority) int {
	switch p {
	case PriorityHigh:
		return 1
	case PriorityLow:
		return 9
	}
	return 5
}
