package task

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-backend/todo/domain/position"
)

// Cursor is a position in a list: the sort key and id of the last task of a
// page, the sort and order it belongs to, and a fingerprint of the filters.
// Clients get it as an opaque string (String) and hand it back (ParseCursor).
//
// It is not signed. It grants nothing: every list is scoped to its owner, and
// a made-up position only starts a page of the caller's own tasks somewhere
// else, as a filter could. Instead it is decoded strictly (one canonical
// encoding, known fields only, values that fit the sort) so that anything
// not made by String is refused, and no key has to be shared between
// replicas or survive restarts for cursors to keep working.
type Cursor struct {
	Sort  Sort
	Order Order
	ID    ID
	Time  time.Time // created_at, updated_at or the due key (SortCreated, SortUpdated, SortDue)
	Text  string    // the title key (SortTitle) or the position key (SortPosition)
	Rank  int       // the priority rank (SortPriority)
	NoDue bool      // SortDue: the task has no due date
	Query string    // fingerprint of the filters
}

// cursorVersion changes when the encoding does; older cursors are refused.
const cursorVersion = 1

// maxCursorLen bounds what ParseCursor reads: a title key of 200 four-byte
// code points, escaped, in base64, fits with room to spare.
const maxCursorLen = 4096

type cursorJSON struct {
	V int     `json:"v"`
	S string  `json:"s"`
	O string  `json:"o"`
	I int64   `json:"i"`
	T *string `json:"t,omitempty"`
	X *string `json:"x,omitempty"`
	R *int    `json:"r,omitempty"`
	N *bool   `json:"n,omitempty"`
	Q string  `json:"q"`
}

// String encodes the cursor: base64url (no padding) of a small JSON object.
func (c Cursor) String() string {
	j := cursorJSON{V: cursorVersion, S: string(c.Sort), O: string(c.Order), I: int64(c.ID), Q: c.Query}
	switch c.Sort {
	case SortTitle, SortPosition:
		j.X = &c.Text
	case SortPriority:
		j.R = &c.Rank
	case SortDue:
		if c.NoDue {
			j.N = &c.NoDue
			break
		}
		fallthrough
	default:
		t := c.Time.UTC().Format(time.RFC3339Nano)
		j.T = &t
	}
	b, _ := json.Marshal(j) // cannot fail: strings, numbers and booleans
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes a cursor made by String. Anything else (not base64url,
// not the exact JSON String writes, unknown fields, a value that does not
// fit its sort) is a ValidationError naming "cursor".
func ParseCursor(s string) (Cursor, error) {
	c, ok := parseCursor(s)
	if !ok {
		return Cursor{}, &ValidationError{Problems: []Problem{{
			Field: "cursor",
			Msg:   "Input should be a cursor from the Link header of the previous page",
			Type:  "value_error",
		}}}
	}
	return c, nil
}

func parseCursor(s string) (Cursor, bool) {
	if s == "" || len(s) > maxCursorLen {
		return Cursor{}, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return Cursor{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var j cursorJSON
	if err := dec.Decode(&j); err != nil || dec.More() {
		return Cursor{}, false
	}
	c := Cursor{Sort: Sort(j.S), Order: Order(j.O), ID: ID(j.I), Query: j.Q}
	if j.V != cursorVersion || !slices.Contains(Sorts(), c.Sort) ||
		(c.Order != OrderAsc && c.Order != OrderDesc) || c.ID <= 0 || c.Query == "" || len(c.Query) > 16 {
		return Cursor{}, false
	}
	has := func(p bool) int {
		if p {
			return 1
		}
		return 0
	}
	present := has(j.T != nil) + has(j.X != nil) + has(j.R != nil) + has(j.N != nil)
	if present != 1 {
		return Cursor{}, false
	}
	switch {
	case j.T != nil:
		if c.Sort == SortTitle || c.Sort == SortPriority || c.Sort == SortPosition {
			return Cursor{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, *j.T)
		if err != nil || !strings.HasSuffix(*j.T, "Z") || !t.Equal(clean(t)) {
			return Cursor{}, false
		}
		c.Time = t.UTC()
	case j.X != nil:
		switch c.Sort {
		case SortTitle:
			if !utf8.ValidString(*j.X) || strings.ContainsRune(*j.X, 0) || utf8.RuneCountInString(*j.X) > 4*MaxTitleLen {
				return Cursor{}, false
			}
		case SortPosition:
			if !position.Valid(*j.X) {
				return Cursor{}, false
			}
		default:
			return Cursor{}, false
		}
		c.Text = *j.X
	case j.R != nil:
		if _, ok := PriorityOfRank(*j.R); c.Sort != SortPriority || !ok {
			return Cursor{}, false
		}
		c.Rank = *j.R
	case j.N != nil:
		if c.Sort != SortDue || !*j.N {
			return Cursor{}, false
		}
		c.NoDue = true
	}
	// One canonical encoding: what String makes of the decoded cursor must
	// be the input itself, byte for byte.
	if c.String() != s {
		return Cursor{}, false
	}
	return c, true
}
