package transfer

import (
	"bufio"
	"encoding/json/v2"
	"fmt"
	"io"
	"time"
)

// The name and version our JSON export declares. A reader refuses any other:
// a new version gets a new number and its own reading code.
const (
	JSONFormat  = "todo-export"
	JSONVersion = 1
)

// listWire and taskWire are the JSON shapes of a list and a task, in the
// order their members are written. Every member is always written (null when
// unset), so a file says explicitly what it does not hold.
type listWire struct {
	Ref       string  `json:"ref"`
	Name      string  `json:"name"`
	Color     *string `json:"color"`
	Position  *string `json:"position"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
	DeletedAt *string `json:"deleted_at"`
}

type taskWire struct {
	Ref         string          `json:"ref"`
	ListRef     *string         `json:"list_ref"`
	ParentRef   *string         `json:"parent_ref"`
	Title       string          `json:"title"`
	Description *string         `json:"description"`
	Completed   bool            `json:"completed"`
	CompletedAt *string         `json:"completed_at"`
	Priority    string          `json:"priority"`
	DueDate     *string         `json:"due_date"`
	DueTZ       *string         `json:"due_tz"`
	DueFloating bool            `json:"due_floating"`
	Tags        []string        `json:"tags"`
	Position    *string         `json:"position"`
	Recurrence  *recurrenceWire `json:"recurrence"`
	Reminders   []reminderWire  `json:"reminders"`
	CreatedAt   *string         `json:"created_at"`
	UpdatedAt   *string         `json:"updated_at"`
	DeletedAt   *string         `json:"deleted_at"`
	TrashedWith *string         `json:"trashed_with"`
}

type recurrenceWire struct {
	Rule string `json:"rule"`
	From string `json:"from"`
}

// reminderWire is {"at": "<RFC 3339>"} or {"before": "PT15M"}.
type reminderWire struct {
	At     *string `json:"at,omitempty"`
	Before *string `json:"before,omitempty"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func optTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return optTime(*t)
}

func toListWire(l List) listWire {
	return listWire{
		Ref: l.Ref, Name: l.Name, Color: optString(l.Color), Position: optString(l.Position),
		CreatedAt: optTime(l.CreatedAt), UpdatedAt: optTime(l.UpdatedAt), DeletedAt: optTimePtr(l.DeletedAt),
	}
}

func toTaskWire(t Task) taskWire {
	w := taskWire{
		Ref: t.Ref, ListRef: optString(t.ListRef), ParentRef: optString(t.ParentRef),
		Title: t.Title, Description: t.Description, Completed: t.Completed,
		CompletedAt: optTimePtr(t.CompletedAt), Priority: string(t.Priority),
		DueDate: optString(t.Due.String()), DueFloating: t.Due.Kind == DueFloating,
		Tags: t.Tags, Position: optString(t.Position),
		CreatedAt: optTime(t.CreatedAt), UpdatedAt: optTime(t.UpdatedAt), DeletedAt: optTimePtr(t.DeletedAt),
		TrashedWith: optString(t.TrashedWith), Reminders: make([]reminderWire, 0, len(t.Reminders)),
	}
	if t.Due.Kind == DueInstant {
		w.DueTZ = optString(t.Due.Zone)
	}
	if w.Tags == nil {
		w.Tags = []string{}
	}
	if w.Priority == "" {
		w.Priority = string(DefaultPriority)
	}
	if r := t.Recurrence; r != nil {
		w.Recurrence = &recurrenceWire{Rule: r.Rule, From: string(r.From)}
		if r.From == "" {
			w.Recurrence.From = string(FromDue)
		}
	}
	for _, r := range t.Reminders {
		if r.Before != "" {
			w.Reminders = append(w.Reminders, reminderWire{Before: optString(r.Before)})
		} else {
			w.Reminders = append(w.Reminders, reminderWire{At: optTime(r.At)})
		}
	}
	return w
}

// WriteJSON writes src as our JSON export: {"format", "version",
// "exported_at", "lists": [...], "tasks": [...]}, one list or task per line
// (so that a reader's errors name a useful line, and a diff of two exports
// reads well). It holds one item at a time. It refuses text that is not
// valid UTF-8 rather than write a file its reader would refuse.
func WriteJSON(w io.Writer, src Source) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	head := struct {
		Format     string  `json:"format"`
		Version    int     `json:"version"`
		ExportedAt *string `json:"exported_at"`
	}{JSONFormat, JSONVersion, optTime(src.ExportedAt)}
	b, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("write export header: %w", err)
	}
	bw.Write(b[:len(b)-1]) // leave the object open
	bw.WriteString(",\n\"lists\": [")
	if err := writeJSONItems(bw, src.Lists, toListWire); err != nil {
		return fmt.Errorf("write lists: %w", err)
	}
	bw.WriteString("],\n\"tasks\": [")
	if err := writeJSONItems(bw, src.Tasks, toTaskWire); err != nil {
		return fmt.Errorf("write tasks: %w", err)
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

func writeJSONItems[T any, W any](bw *bufio.Writer, items func(func(T, error) bool), wire func(T) W) error {
	if items == nil {
		return nil
	}
	first := true
	var failed error
	for item, err := range items {
		if err != nil {
			failed = err
			break
		}
		if first {
			bw.WriteString("\n")
		} else {
			bw.WriteString(",\n")
		}
		first = false
		if err := json.MarshalWrite(bw, wire(item), json.Deterministic(true)); err != nil {
			failed = err
			break
		}
	}
	if failed != nil {
		return failed
	}
	if !first {
		bw.WriteString("\n")
	}
	return nil
}
