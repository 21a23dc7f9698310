package httpapi

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
)

// optional is a body member where absent (leave it as it is), null (clear
// it) and a value (set it) are three different requests: PUT's and the
// bulk change's due_date, every member of a merge patch. Where absent and
// null mean the same, a pointer says so and is used instead.
type optional[T any] struct {
	set   bool // the member is present
	null  bool
	value T // the zero T when absent or null
}

// UnmarshalJSON runs only when the member is present.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.null = true
		return nil
	}
	return json.Unmarshal(b, &o.value)
}

// Schema documents the member as T or null; the field's tags refine it
// (nullable:"false" for members that cannot be removed).
func (optional[T]) Schema(r huma.Registry) *huma.Schema {
	s := *r.Schema(reflect.TypeFor[T](), false, "")
	s.Nullable = true
	return &s
}
