package transfer

// Formula injection: a spreadsheet that opens a CSV runs a cell starting with
// = + - or @ as a formula (and some also after a tab or CR), so a task titled
// =HYPERLINK(...) could act on the machine of whoever opens the export.
// OWASP's advice is to prefix such cells with a single quote, which
// spreadsheets show as text. We do that, and a little more, so that our CSV
// readers can take the quote off again and an export reads back exactly:
// a cell that starts with a quote followed by what would need one gets one
// more. neutralise and unneutralise are inverse on every string.

// needsQuote reports whether a spreadsheet could read s as a formula, or s
// could be mistaken for a cell we quoted.
func needsQuote(s string) bool {
	for len(s) > 0 && s[0] == '\'' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// neutralise is how a cell is written.
func neutralise(s string) string {
	if needsQuote(s) {
		return "'" + s
	}
	return s
}

// unneutralise is how a cell is read: the quote neutralise added comes off.
func unneutralise(s string) string {
	if len(s) > 1 && s[0] == '\'' && needsQuote(s[1:]) {
		return s[1:]
	}
	return s
}
