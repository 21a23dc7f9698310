// Package transfer reads and writes the files tasks travel in: our own
// lossless JSON export, a CSV for spreadsheets, iCalendar (RFC 5545 VTODOs),
// Todoist's CSV export and any CSV with a column mapping.
//
// It works on a neutral document model (Document, List, Task) rather than on
// the domain's types, so that the formats can be built, fuzzed and tested on
// their own, and the use cases only map domain objects to and from it. It
// touches no database and no HTTP.
//
// Writers stream: they take iterators and write to an io.Writer, holding one
// task at a time (plus the lists' names and the time zones already written),
// so exporting 100,000 tasks takes the memory of one.
//
// Readers hold the document they build (bounded by Limits) and never stop at
// the first bad row: they return every problem with its 1-based line in the
// file (the header is line 1), the field and why, so that a caller can show
// a dry-run preview or refuse the file. A row they cannot read is left out of
// the document and always named by an error Problem; what they read with a
// loss (a natural-language Todoist date kept as text, an iCalendar property
// we have no field for) is named by a warning. Only a file that cannot be
// read at all (not the format, over a limit) is an error, a *FileError.
//
// Decisions, each explained where it is made:
//   - Todoist's PRIORITY 1 (p1, the highest) is high, 2 and 3 are medium, 4
//     (p4, Todoist's "no priority") and an empty cell are low: the order of
//     Todoist's priority sort is kept (todoist.go).
//   - Todoist sections become lists named "<project> / <section>" (todoist.go).
//   - iCalendar DUE with a zone is written with TZID=<IANA name> and a
//     VTIMEZONE generated from Go's time zone database for each zone used,
//     as RFC 5545 requires (ics_timezone.go).
//   - CSV cells starting with = + - @ tab or CR get a leading single quote
//     (OWASP's advice against formula injection); our CSV readers take it off
//     again, so an export reads back exactly (csv_cell.go).
package transfer
