package transfer

import (
	"bytes"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ReadJSON reads our JSON export (WriteJSON's format) strictly: the file
// must open with "format": "todo-export" and "version": 1, members no
// version defines are refused, and each list and task is decoded on its own
// into its typed shape, never into generic values, from a streaming decoder
// whose input is bounded (Limits): deep nesting or a huge value costs at most
// MaxRowBytes before it is refused. A list or task that cannot be read is
// left out with an error Problem naming its line; a syntax error or invalid
// UTF-8 stops the reading with a *FileError naming the line.
func ReadJSON(r io.Reader, lim Limits) (*Result, error) {
	lim = withDefaults(lim)
	in := newInput(r, lim, true)
	dec := jsontext.NewDecoder(in)
	rd := &jsonReader{in: in, dec: dec, lim: lim, probs: problems{max: lim.MaxProblems}}
	res, err := rd.read()
	if err != nil {
		return nil, err
	}
	return res, nil
}

type jsonReader struct {
	in    *input
	dec   *jsontext.Decoder
	lim   Limits
	probs problems
	items int
	doc   Document
}

// fail turns a decoder error into a *FileError naming its line: a limit the
// input hit, or the syntax error at its offset.
func (rd *jsonReader) fail(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FileError{Line: rd.in.lineAt(rd.in.read), Msg: "the file ends in the middle of the JSON document", Err: ErrFormat}
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		msg := strings.TrimPrefix(se.Err.Error(), "jsontext: ")
		return &FileError{Line: rd.in.lineAt(se.ByteOffset), Msg: "not valid JSON (" + msg + ")", Err: ErrFormat}
	}
	return &FileError{Line: rd.in.lineAt(rd.dec.InputOffset()), Msg: "not valid JSON (" + err.Error() + ")", Err: ErrFormat}
}

func (rd *jsonReader) token() (jsontext.Token, error) {
	tok, err := rd.dec.ReadToken()
	if err != nil {
		return jsontext.Token{}, rd.fail(err)
	}
	return tok, nil
}

func (rd *jsonReader) line() int { return rd.in.lineAt(rd.dec.InputOffset()) }

func (rd *jsonReader) refuse(msg string) error {
	return &FileError{Line: rd.line(), Msg: msg, Err: ErrFormat}
}

func (rd *jsonReader) read() (*Result, error) {
	if tok, err := rd.token(); err != nil {
		return nil, err
	} else if tok.Kind() != '{' {
		return nil, rd.refuse("the file is not a JSON object; an export starts with {\"format\": \"todo-export\"")
	}
	// The header comes first, so that a foreign file is refused before its
	// body is read.
	for _, want := range []string{"format", "version"} {
		tok, err := rd.token()
		if err != nil {
			return nil, err
		}
		if tok.Kind() != '"' || tok.String() != want {
			return nil, rd.refuse(fmt.Sprintf("an export starts with \"format\" and then \"version\"; %q came instead", tokenText(tok)))
		}
		tok, err = rd.token()
		if err != nil {
			return nil, err
		}
		switch want {
		case "format":
			if tok.Kind() != '"' || tok.String() != JSONFormat {
				return nil, rd.refuse(fmt.Sprintf("format %s is not %q", tokenText(tok), JSONFormat))
			}
		case "version":
			if tok.Kind() != '0' || tok.String() != fmt.Sprint(JSONVersion) {
				return nil, rd.refuse(fmt.Sprintf("version %s is not one this service reads (%d)", tokenText(tok), JSONVersion))
			}
		}
	}
	seen := map[string]bool{}
	for {
		tok, err := rd.token()
		if err != nil {
			return nil, err
		}
		if tok.Kind() == '}' {
			break
		}
		name := tok.String()
		if seen[name] {
			return nil, rd.refuse(fmt.Sprintf("%q is given twice", name))
		}
		seen[name] = true
		switch name {
		case "exported_at":
			if err := rd.exportedAt(); err != nil {
				return nil, err
			}
		case "lists":
			if err := rd.array(rd.list); err != nil {
				return nil, err
			}
		case "tasks":
			if err := rd.array(rd.task); err != nil {
				return nil, err
			}
		default:
			return nil, rd.refuse(fmt.Sprintf("version %d has no member %q", JSONVersion, name))
		}
	}
	if _, err := rd.dec.ReadToken(); err != io.EOF {
		if err == nil {
			return nil, rd.refuse("there is more after the JSON document")
		}
		return nil, rd.fail(err)
	}
	if err := linkDocument(&rd.doc, rd.lim.MaxDepth, &rd.probs); err != nil {
		return nil, err
	}
	return &Result{Document: rd.doc, Problems: rd.probs.list}, nil
}

func tokenText(tok jsontext.Token) string {
	if tok.Kind() == '"' {
		return fmt.Sprintf("%q", tok.String())
	}
	return tok.String()
}

func (rd *jsonReader) exportedAt() error {
	line := rd.line()
	v, err := rd.dec.ReadValue()
	if err != nil {
		return rd.fail(err)
	}
	var s *string
	if err := json.Unmarshal(v, &s); err != nil {
		return &FileError{Line: line, Msg: "exported_at must be an RFC 3339 date-time or null", Err: ErrFormat}
	}
	if s != nil {
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			return &FileError{Line: line, Msg: "exported_at must be an RFC 3339 date-time or null", Err: ErrFormat}
		}
		rd.doc.ExportedAt = t.UTC()
	}
	return nil
}

// array reads a JSON array of items, one at a time, each as a raw value
// bounded by the row guard, handing each to item with its line.
func (rd *jsonReader) array(item func(v jsontext.Value, line int) error) error {
	if tok, err := rd.token(); err != nil {
		return err
	} else if tok.Kind() != '[' {
		return rd.refuse("lists and tasks must be arrays")
	}
	for rd.dec.PeekKind() != ']' {
		if rd.dec.PeekKind() == 0 { // an error: let ReadValue report it
			if _, err := rd.dec.ReadValue(); err != nil {
				return rd.fail(err)
			}
		}
		// The item starts after the separators still unread.
		unread := rd.dec.UnreadBuffer()
		skip := len(unread) - len(bytes.TrimLeft(unread, " \t\r\n,"))
		off := rd.dec.InputOffset() + int64(skip)
		rd.in.startRow(off, rd.in.lineAt(off))
		v, err := rd.dec.ReadValue()
		if err != nil {
			return rd.fail(err)
		}
		start := rd.dec.InputOffset() - int64(len(v))
		line := rd.in.lineAt(start)
		if len(v) > rd.lim.MaxRowBytes {
			return &FileError{Line: line, Msg: fmt.Sprintf("the item starting here is longer than %d bytes", rd.lim.MaxRowBytes), Err: ErrRowTooLong}
		}
		rd.items++
		if rd.items > rd.lim.MaxItems {
			return &FileError{Line: line, Msg: fmt.Sprintf("the file has more than %d lists and tasks", rd.lim.MaxItems), Err: ErrTooManyItems}
		}
		if err := item(v, line); err != nil {
			return err
		}
	}
	_, err := rd.token()
	return err
}

// strict decodes one item: unknown members and duplicate names are refused.
var strict = json.JoinOptions(json.RejectUnknownMembers(true))

// semantic turns an unmarshal error into the field and message of a Problem,
// and the line within the item where it happened.
func semantic(v jsontext.Value, line int, err error) (int, string, string) {
	var se *json.SemanticError
	if errors.As(err, &se) {
		field := strings.TrimPrefix(string(se.JSONPointer), "/")
		if se.ByteOffset > 0 && se.ByteOffset <= int64(len(v)) {
			line += bytes.Count(v[:se.ByteOffset], []byte{'\n'})
		}
		msg := "has the wrong type"
		if se.Err != nil {
			msg = se.Err.Error()
		}
		if se.JSONKind != 0 && se.GoType != nil {
			msg = fmt.Sprintf("cannot be JSON %s here", se.JSONKind)
		}
		if errors.Is(err, json.ErrUnknownName) {
			msg = "is not a member version 1 defines"
		}
		return line, field, msg
	}
	return line, "", err.Error()
}

func (rd *jsonReader) list(v jsontext.Value, line int) error {
	var w listWire
	if err := json.Unmarshal(v, &w, strict); err != nil {
		l, field, msg := semantic(v, line, err)
		return rd.probs.add(l, field, SeverityError, "list left out: %s", msg)
	}
	l := List{Ref: w.Ref, Name: w.Name, Line: line}
	var errs fieldErrors
	errs.ref("ref", w.Ref)
	errs.text("name", w.Name)
	if w.Color != nil {
		l.Color = *w.Color
		if !isColor(l.Color) {
			errs.add("color", "must be #rrggbb")
		}
	}
	if w.Position != nil {
		l.Position = *w.Position
		errs.position("position", l.Position)
	}
	l.CreatedAt = errs.time("created_at", w.CreatedAt)
	l.UpdatedAt = errs.time("updated_at", w.UpdatedAt)
	l.DeletedAt = errs.timePtr("deleted_at", w.DeletedAt)
	if len(errs) > 0 {
		return rd.addAll(line, "list", errs)
	}
	rd.doc.Lists = append(rd.doc.Lists, l)
	return nil
}

func (rd *jsonReader) task(v jsontext.Value, line int) error {
	var w taskWire
	if err := json.Unmarshal(v, &w, strict); err != nil {
		l, field, msg := semantic(v, line, err)
		return rd.probs.add(l, field, SeverityError, "task left out: %s", msg)
	}
	t, errs := fromTaskWire(w)
	t.Line = line
	if len(errs) > 0 {
		return rd.addAll(line, "task", errs)
	}
	rd.doc.Tasks = append(rd.doc.Tasks, t)
	return nil
}

func (rd *jsonReader) addAll(line int, what string, errs fieldErrors) error {
	for _, e := range errs {
		if err := rd.probs.add(line, e.field, SeverityError, "%s left out: %s", what, e.msg); err != nil {
			return err
		}
	}
	return nil
}

func fromTaskWire(w taskWire) (Task, fieldErrors) {
	var errs fieldErrors
	t := Task{Ref: w.Ref, Title: w.Title, Description: w.Description, Completed: w.Completed, Tags: w.Tags}
	errs.ref("ref", w.Ref)
	if w.ListRef != nil {
		t.ListRef = *w.ListRef
		errs.ref("list_ref", t.ListRef)
	}
	if w.ParentRef != nil {
		t.ParentRef = *w.ParentRef
		errs.ref("parent_ref", t.ParentRef)
	}
	errs.text("title", w.Title)
	if strings.TrimSpace(w.Title) == "" {
		errs.add("title", "must not be empty")
	}
	if w.Description != nil {
		errs.textOK("description", *w.Description)
	}
	t.CompletedAt = errs.timePtr("completed_at", w.CompletedAt)
	if p, ok := parsePriority(w.Priority); ok && p == Priority(w.Priority) {
		t.Priority = p
	} else if w.Priority == "" {
		t.Priority = DefaultPriority
	} else {
		errs.add("priority", fmt.Sprintf("must be low, medium or high, not %q", w.Priority))
	}
	due, err := parseDue(deref(w.DueDate), w.DueTZ, w.DueFloating)
	if err != nil {
		errs.add("due_date", err.Error())
	}
	t.Due = due
	for i, tag := range w.Tags {
		if err := checkText(tag); err != nil || strings.TrimSpace(tag) == "" || strings.ContainsRune(tag, ',') {
			errs.add("tags", fmt.Sprintf("tag %d must be text without commas", i+1))
		}
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if w.Position != nil {
		t.Position = *w.Position
		errs.position("position", t.Position)
	}
	if r := w.Recurrence; r != nil {
		if err := checkRule(r.Rule); err != nil {
			errs.add("recurrence.rule", err.Error())
		}
		from := RecurFrom(r.From)
		if from != FromDue && from != FromCompletion {
			errs.add("recurrence.from", fmt.Sprintf("must be due or completion, not %q", r.From))
		}
		t.Recurrence = &Recurrence{Rule: r.Rule, From: from}
	}
	for i, r := range w.Reminders {
		switch {
		case (r.At == nil) == (r.Before == nil):
			errs.add("reminders", fmt.Sprintf("reminder %d must have either at or before", i+1))
		case r.Before != nil:
			if err := checkDuration(*r.Before); err != nil {
				errs.add("reminders", fmt.Sprintf("reminder %d: %v", i+1, err))
			}
			t.Reminders = append(t.Reminders, Reminder{Before: *r.Before})
		default:
			at := errs.time("reminders", r.At)
			t.Reminders = append(t.Reminders, Reminder{At: at})
		}
	}
	t.CreatedAt = errs.time("created_at", w.CreatedAt)
	t.UpdatedAt = errs.time("updated_at", w.UpdatedAt)
	t.DeletedAt = errs.timePtr("deleted_at", w.DeletedAt)
	if w.TrashedWith != nil {
		t.TrashedWith = *w.TrashedWith
		kind, ref, ok := strings.Cut(t.TrashedWith, ":")
		if !ok || (kind != "task" && kind != "list") || ref == "" {
			errs.add("trashed_with", "must be task:<ref> or list:<ref>")
		}
	}
	return t, errs
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type fieldError struct{ field, msg string }

// fieldErrors collects what is wrong with one item's fields.
type fieldErrors []fieldError

func (e *fieldErrors) add(field, msg string) { *e = append(*e, fieldError{field, msg}) }

func (e *fieldErrors) ref(field, s string) {
	switch {
	case s == "":
		e.add(field, "must not be empty")
	case len(s) > MaxRefLen:
		e.add(field, fmt.Sprintf("must be at most %d bytes", MaxRefLen))
	default:
		e.textOK(field, s)
	}
}

func (e *fieldErrors) text(field, s string) {
	e.textOK(field, s)
}

func (e *fieldErrors) textOK(field, s string) {
	if err := checkText(s); err != nil {
		e.add(field, err.Error())
	}
}

func (e *fieldErrors) position(field, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') || len(s) > 64 {
			e.add(field, "must be an order key of up to 64 characters 0-9, A-Z, a-z")
			return
		}
	}
}

func (e *fieldErrors) time(field string, s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		e.add(field, fmt.Sprintf("%q is not an RFC 3339 date-time", *s))
		return time.Time{}
	}
	return t.UTC()
}

func (e *fieldErrors) timePtr(field string, s *string) *time.Time {
	if s == nil {
		return nil
	}
	t := e.time(field, s)
	return &t
}

func isColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
