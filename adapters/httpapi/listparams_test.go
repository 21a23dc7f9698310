package httpapi

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/todo-backend/todo/domain/task"
)

// documentedListParams returns the query parameters list-tasks has in the
// OpenAPI document, by name.
func documentedListParams(t *testing.T) map[string]docParam {
	t.Helper()
	raw, err := OpenAPI("test")
	if err != nil {
		t.Fatalf("OpenAPI: %v", err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string     `json:"operationId"`
			Parameters  []docParam `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("document: %v", err)
	}
	out := map[string]docParam{}
	for _, item := range doc.Paths {
		for _, op := range item {
			if op.OperationID != "list-tasks" {
				continue
			}
			for _, p := range op.Parameters {
				if p.In == "query" {
					out[p.Name] = p
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("list-tasks has no query parameters in the document")
	}
	return out
}

type docParam struct {
	Name        string `json:"name"`
	In          string `json:"in"`
	Description string `json:"description"`
	Explode     *bool  `json:"explode"`
	Schema      struct {
		Type  any   `json:"type"`
		Enum  []any `json:"enum"`
		Items *struct {
			Type any `json:"type"`
		} `json:"items"`
	} `json:"schema"`
}

// TestListParamsAgainstDocument holds the table of list parameters to the
// OpenAPI document and to the parser: every name and peer spelling is
// documented and read; every peer spelling of a value is in a documented
// enum and reads as its value; nothing is documented that is not in the
// table.
func TestListParamsAgainstDocument(t *testing.T) {
	documented := documentedListParams(t)
	empty, err := parseList(url.Values{}, DefaultListMax)
	if err != nil {
		t.Fatalf("parseList(no parameters) = %v", err)
	}
	inTable := map[string]bool{}
	for i := range listParams {
		p := &listParams[i]
		var enums [][]any
		for _, name := range p.names() {
			inTable[name] = true
			d, ok := documented[name]
			if !ok {
				t.Errorf("list parameter %s (%s) is not in the document", name, p.name)
				continue
			}
			if d.Description == "" || d.Schema.Type == nil {
				t.Errorf("%s is documented without a description or a schema type: %+v", name, d)
			}
			if explode := d.Explode != nil && *d.Explode; explode != (p.arity == items) {
				t.Errorf("%s: explode = %v in the document, want %v (repeatable lists only)", name, explode, p.arity == items)
			}
			enums = append(enums, d.Schema.Enum)

			// The parser reads it: a junk value is a problem naming it,
			// or it changes the query.
			got, err := parseList(url.Values{name: {"zz~junk"}}, DefaultListMax)
			if !namesProblem(err, name) && reflect.DeepEqual(got.q, empty.q) {
				t.Errorf("parseList(%s=zz~junk) = %+v, %v: the parser does not read %s", name, got.q, err, name)
			}
		}
		if len(enums) > 0 && enums[0] != nil {
			for _, v := range p.values {
				if !slices.Contains(enums[0], any(v)) {
					t.Errorf("%s: the value %q is not in its documented enum %v", p.name, v, enums[0])
				}
			}
		}
		for _, a := range p.valueAliases {
			found := false
			for _, e := range enums {
				found = found || slices.Contains(e, any(a.alias))
			}
			if !found {
				t.Errorf("%s: the peer spelling %q of %q is in no documented enum of its spellings", p.name, a.alias, a.value)
			}
			for _, name := range p.names() {
				alias, err1 := parseList(url.Values{name: {a.alias}}, DefaultListMax)
				value, err2 := parseList(url.Values{p.name: {a.value}}, DefaultListMax)
				if err1 != nil || err2 != nil || !reflect.DeepEqual(alias.q, value.q) {
					t.Errorf("%s=%s reads as %+v (%v), want what %s=%s does: %+v (%v)", name, a.alias, alias.q, err1, p.name, a.value, value.q, err2)
				}
			}
		}
	}
	for name := range documented {
		if !inTable[name] {
			t.Errorf("the document has the list parameter %s, which is not in listParams (the parser does not read it)", name)
		}
	}
}

// namesProblem reports whether err is a ValidationError with a problem of
// field.
func namesProblem(err error, field string) bool {
	ve, ok := errors.AsType[*task.ValidationError](err)
	return ok && slices.ContainsFunc(ve.Problems, func(p task.Problem) bool { return p.Field == field })
}
