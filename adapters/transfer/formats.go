package transfer

import (
	"fmt"
	"io"
	"slices"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/application/portable"
)

// FormatsOptions tune the formats the service is given.
type FormatsOptions struct {
	// Host is the right-hand side of iCalendar UIDs (ICSOptions.Host).
	Host string
	// CalendarName is the iCalendar export's X-WR-CALNAME.
	CalendarName string
}

// Formats are this package's readers and writers as the application's
// port (application.Formats): export json, csv and ics; import json,
// todoist-csv, ics and csv (with ImportOptions.Mapping).
func Formats(o FormatsOptions) application.Formats {
	return application.Formats{
		Export: map[string]application.ExportFormat{
			"json": {MediaType: "application/json", Ext: "json", Write: WriteJSON},
			"csv":  {MediaType: "text/csv; charset=utf-8", Ext: "csv", Write: WriteCSV},
			"ics": {MediaType: "text/calendar; charset=utf-8", Ext: "ics", Write: func(w io.Writer, src portable.Source) error {
				return WriteICS(w, src, ICSOptions(o))
			}},
		},
		Import: map[string]application.ImportFormat{
			"json": func(r io.Reader, opt application.ImportOptions) (*portable.Result, error) {
				return ReadJSON(r, opt.Limits)
			},
			"todoist-csv": func(r io.Reader, opt application.ImportOptions) (*portable.Result, error) {
				return ReadTodoistCSV(r, TodoistOptions{Project: opt.Project}, opt.Limits)
			},
			"ics": func(r io.Reader, opt application.ImportOptions) (*portable.Result, error) {
				return ReadICS(r, ICSReadOptions{}, opt.Limits)
			},
			"csv": func(r io.Reader, opt application.ImportOptions) (*portable.Result, error) {
				m, err := Mapping(opt.Mapping)
				if err != nil {
					return nil, err
				}
				return ReadCSV(r, CSVOptions{Mapping: m}, opt.Limits)
			},
		},
	}
}

// Mapping reads a column mapping given as field name → column header
// (nil: guessed from the header). An unknown field is a *FileError
// wrapping ErrFormat.
func Mapping(in map[string]string) (map[Field]string, error) {
	if in == nil {
		return nil, nil
	}
	m := make(map[Field]string, len(in))
	for k, v := range in {
		f := Field(k)
		if !slices.ContainsFunc(csvColumns, func(c csvColumn) bool { return c.field == f }) {
			return nil, &FileError{Msg: fmt.Sprintf("the mapping names %q, which is no field (%s)", k, fieldNames()), Err: ErrFormat}
		}
		m[f] = v
	}
	return m, nil
}

// Fields are the names a column mapping may use, in WriteCSV's order.
func Fields() []string {
	out := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		out[i] = string(c.field)
	}
	return out
}

func fieldNames() string {
	s := ""
	for i, f := range Fields() {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	return s
}
