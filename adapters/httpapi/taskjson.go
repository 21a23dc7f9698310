package httpapi

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// JSONFormat is the router's JSON format (exported for the benchmarks):
// huma's, with a faster Marshal for the task bodies (Task, []Task,
// []TrashedTask) that the hot endpoints answer. Their bytes are exactly
// encoding/json's as huma.DefaultJSONFormat writes them (no HTML escaping,
// a trailing newline): TestTaskJSONMatchesEncodingJSON compares the two over
// thousands of varied tasks. Every other body, and a task with a time
// encoding/json refuses to write (year past 9999), goes to
// huma.DefaultJSONFormat, which fails as before. Request bodies are decoded
// as before.
//
// Why hand-written (20 tasks, measured side by side): encoding/json takes
// ~18 µs and 40 allocations (time.Time's MarshalJSON, twice per task), the
// appender ~4 µs and none. goccy/go-json (~12 µs) allocates as much and
// escapes \b and \f differently; segmentio/encoding (~5 µs, no allocation)
// reaches into the runtime's internals through unsafe (the kind of library
// that breaks on a new Go release), brings two modules, and writes the
// times encoding/json refuses instead of failing. The appender is plain
// code over one type: a field added to Task must be added to
// appendTaskFields, which TestTaskJSONKnowsEveryField enforces.
var JSONFormat = huma.Format{Marshal: marshalJSON, Unmarshal: huma.DefaultJSONFormat.Unmarshal}

var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// maxPooledJSON is the largest buffer put back in jsonBufs, so that one
// huge list does not keep its memory alive in the pool.
const maxPooledJSON = 256 << 10

func marshalJSON(w io.Writer, v any) error {
	switch v.(type) {
	case Task, *Task, []Task, []TrashedTask:
	default:
		return huma.DefaultJSONFormat.Marshal(w, v)
	}
	bp := jsonBufs.Get().(*[]byte)
	b, ok := appendTaskBody((*bp)[:0], v)
	var err error
	if ok {
		_, err = w.Write(b)
	} else {
		err = huma.DefaultJSONFormat.Marshal(w, v)
	}
	if cap(b) <= maxPooledJSON {
		*bp = b[:0]
		jsonBufs.Put(bp)
	}
	return err
}

// appendTaskBody appends v, one of the types marshalJSON takes, and a
// newline. It reports false when a time is not one encoding/json can write.
func appendTaskBody(b []byte, v any) ([]byte, bool) {
	ok := true
	switch x := v.(type) {
	case Task:
		b, ok = appendTask(b, &x)
	case *Task:
		if x == nil {
			b = append(b, "null"...)
		} else {
			b, ok = appendTask(b, x)
		}
	case []Task:
		b, ok = appendArray(b, x, appendTask)
	case []TrashedTask:
		b, ok = appendArray(b, x, func(b []byte, t *TrashedTask) ([]byte, bool) {
			b, ok := appendTaskFields(b, &t.Task)
			if !ok {
				return b, false
			}
			b = append(b, `,"deleted_at":`...)
			if b, ok = appendTime(b, t.DeletedAt); !ok {
				return b, false
			}
			return append(b, '}'), true
		})
	default:
		return b, false
	}
	return append(b, '\n'), ok
}

// appendArray appends xs as encoding/json writes a slice (null when nil),
// each element by each; it stops at the first element each refuses.
func appendArray[T any](b []byte, xs []T, each func([]byte, *T) ([]byte, bool)) ([]byte, bool) {
	if xs == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = each(b, &xs[i]); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendTask appends t as encoding/json writes a Task.
func appendTask(b []byte, t *Task) ([]byte, bool) {
	b, ok := appendTaskFields(b, t)
	return append(b, '}'), ok
}

// appendTaskFields appends t's object without its closing brace.
func appendTaskFields(b []byte, t *Task) ([]byte, bool) {
	var ok1, ok2, ok3 bool
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, t.ID, 10)
	b = append(b, `,"user_id":`...)
	b = appendJSONString(b, t.UserID)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, t.Title)
	b = append(b, `,"description":`...)
	b = appendStringPtr(b, t.Description)
	b = append(b, `,"completed":`...)
	b = strconv.AppendBool(b, t.Completed)
	b = append(b, `,"created_at":`...)
	b, ok1 = appendTime(b, t.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b, ok2 = appendTime(b, t.UpdatedAt)
	b = append(b, `,"priority":`...)
	b = appendJSONString(b, t.Priority)
	b = append(b, `,"due_date":`...)
	b = appendStringPtr(b, t.DueDate)
	b = append(b, `,"tags":`...)
	if t.Tags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, tag := range t.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, tag)
		}
		b = append(b, ']')
	}
	b = append(b, `,"completed_at":`...)
	ok3 = true
	if t.CompletedAt == nil {
		b = append(b, "null"...)
	} else {
		b, ok3 = appendTime(b, *t.CompletedAt)
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, t.Version, 10)
	b = append(b, `,"list_id":`...)
	b = appendIntPtr(b, t.ListID)
	b = append(b, `,"parent_id":`...)
	b = appendIntPtr(b, t.ParentID)
	b = append(b, `,"position":`...)
	b = appendJSONString(b, t.Position)
	b = append(b, `,"due_tz":`...)
	b = appendStringPtr(b, t.DueTZ)
	b = append(b, `,"due_floating":`...)
	b = strconv.AppendBool(b, t.DueFloating)
	b = append(b, `,"recurrence":`...)
	if r := t.Recurrence; r == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"rule":`...)
		b = appendJSONString(b, r.Rule)
		b = append(b, `,"from":`...)
		b = appendJSONString(b, r.From)
		b = append(b, `,"description":`...)
		b = appendJSONString(b, r.Description)
		b = append(b, '}')
	}
	b = append(b, `,"reminders":`...)
	if t.Reminders == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range t.Reminders {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"at":`...)
			b = appendStringPtr(b, r.At)
			b = append(b, `,"before":`...)
			b = appendStringPtr(b, r.Before)
			b = append(b, `,"fires_at":`...)
			b = appendStringPtr(b, r.FiresAt)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"created_by":`...)
	b = appendJSONString(b, t.CreatedBy)
	b = append(b, `,"assignee_id":`...)
	b = appendStringPtr(b, t.AssigneeID)
	return b, ok1 && ok2 && ok3
}

func appendIntPtr(b []byte, n *int64) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *n, 10)
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendTime appends t quoted, as time.Time.MarshalJSON writes it (RFC
// 3339 with nanoseconds), and reports false where MarshalJSON fails: a
// year outside [0,9999] or a zone offset of 24 hours or more.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	// The checks of time.Time.appendStrictRFC3339.
	switch {
	case b[n0+len("9999")] != '-':
		return b, false
	case b[len(b)-1] != 'Z':
		c := b[len(b)-len("Z07:00")]
		h := b[len(b)-len("07:00"):]
		if ('0' <= c && c <= '9') || 10*(h[0]-'0')+(h[1]-'0') >= 24 {
			return b, false
		}
	}
	return append(b, '"'), true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does with HTML
// escaping off (json.Encoder.SetEscapeHTML(false), huma's format): `"` and
// `\` escaped, \b \f \n \r \t by name and other control characters as
// \u00XX, each invalid UTF-8 byte as U+FFFD (unescaped), and U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...) // the replacement character itself, as encoding/json writes it since Go 1.27
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
