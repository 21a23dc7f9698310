package httpapi

import (
	"encoding/json/jsontext"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"
)

func TestParseJSONInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		kind int
	}{
		{"0", 0, intValue},
		{"-0", 0, intValue},
		{"0.000", 0, intValue},
		{"0e999999999999", 0, intValue},
		{"1", 1, intValue},
		{"-1", -1, intValue},
		{"1.0", 1, intValue},
		{"1.000000000000000000000000000000", 1, intValue},
		{"1e3", 1000, intValue},
		{"1E+3", 1000, intValue},
		{"10e-1", 1, intValue},
		{"0.001e3", 1, intValue},
		{"12345.6789e4", 123456789, intValue},
		{"9223372036854775807", 9223372036854775807, intValue},
		{"-9223372036854775808", -9223372036854775808, intValue},
		{"9.223372036854775807e18", 9223372036854775807, intValue},
		{"1.5", 0, intFraction},
		{"1.00000000000000000001", 0, intFraction},
		{"1e-1", 0, intFraction},
		{"5e-9999999999", 0, intFraction},
		{"9223372036854775808", 0, intRange},
		{"-9223372036854775809", 0, intRange},
		{"18446744073709551616", 0, intRange},
		{"123456789012345678901234567890", 0, intRange},
		{"1e19", 0, intRange},
		{"1e999", 0, intRange},
		{"1e9999999999999", 0, intRange},
		{"-1e9999999999999", 0, intRange},
	}
	for _, tt := range tests {
		if got, kind := parseJSONInt(tt.in); got != tt.want || kind != tt.kind {
			t.Errorf("parseJSONInt(%s) = %d, %d; want %d, %d", tt.in, got, kind, tt.want, tt.kind)
		}
	}
}

// requestSchemas are the body schemas of the API's operations, by
// operation id, and the registry they refer to.
func requestSchemas(t *testing.T) (map[string]*huma.Schema, huma.Registry) {
	t.Helper()
	_, api := build(Deps{Log: zap.NewNop()})
	out := map[string]*huma.Schema{}
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			// An import reads its file itself, unfiltered (transfer.go).
			if op != nil && op.RequestBody != nil && op.RequestBody.Content["application/json"] != nil && op.OperationID != "import-tasks" {
				out[op.OperationID] = op.RequestBody.Content["application/json"].Schema
			}
		}
	}
	if len(out) < 7 {
		t.Fatalf("found the bodies of %d operations, want the 7 there are", len(out))
	}
	return out, api.OpenAPI().Components.Schemas
}

// TestRequestSchemasAreFiltered holds every request body schema to what
// bodyFilter understands: a type on every schema, no combinators, objects
// with properties that allow others (which the filter drops), arrays with
// maxItems (which bound what the filter keeps). A body type that breaks
// one of these needs the filter taught first.
func TestRequestSchemasAreFiltered(t *testing.T) {
	bodies, reg := requestSchemas(t)
	var walk func(op, at string, s *huma.Schema)
	walk = func(op, at string, s *huma.Schema) {
		for s.Ref != "" {
			s = reg.SchemaFromRef(s.Ref)
		}
		where := op + " " + at
		if s.Extensions[opaqueObject] == true {
			// A command's args and entity_id: the filter copies them, and
			// the command's route filters args as its own body.
			return
		}
		if s.OneOf != nil || s.AnyOf != nil || s.AllOf != nil || s.Not != nil {
			t.Errorf("%s: a combinator (oneOf, anyOf, allOf, not)", where)
		}
		switch s.Type {
		case huma.TypeObject:
			if len(s.Properties) == 0 {
				t.Errorf("%s: an object without properties", where)
			}
			if s.AdditionalProperties != nil && s.AdditionalProperties != true {
				t.Errorf("%s: additionalProperties %v, want others allowed (the filter drops them)", where, s.AdditionalProperties)
			}
			for name, p := range s.Properties {
				walk(op, at+"."+name, p)
			}
		case huma.TypeArray:
			if s.MaxItems == nil || s.Items == nil {
				t.Errorf("%s: an array without maxItems or items", where)
				return
			}
			walk(op, at+"[]", s.Items)
		case huma.TypeString, huma.TypeBoolean, huma.TypeInteger:
		default:
			t.Errorf("%s: type %q", where, s.Type)
		}
	}
	for op, s := range bodies {
		walk(op, "body", s)
	}
}

// filterOf runs bodyFilter's pass over body with the schema of operation
// op, and returns what huma would get and the problems kept.
func filterOf(t *testing.T, op, body string) (string, map[string]ValidationItem, error) {
	t.Helper()
	bodies, reg := requestSchemas(t)
	f := schemaFilter{reg: reg, dec: jsontext.NewDecoder(strings.NewReader(body),
		jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))}
	out, err := f.document(bodies[op])
	return string(out), f.problems, err
}

func TestSchemaFilter(t *testing.T) {
	tests := []struct {
		op, in, want string
	}{
		{"create-task", `{"title": "a", "description": null}`, `{"title":"a","description":null}`},
		{"create-task", `{"title":"a","x":[[],[{"y":1}],{}],"id":5,"user_id":"b"}`, `{"title":"a"}`},
		{"create-task", `{"title":[[],[],[]],"description":{"a":[1]}}`, `{"title":[],"description":{}}`},
		{"create-task", `{"title":"a","title":5}`, `{"title":5}`},
		{"create-task", `{"TITLE":"a"}`, `{"title":"a"}`},
		{"create-task", `{"title":"a","TITLE":5}`, `{"title":"a"}`},
		{"create-task", `{"TITLE":5,"title":"a","Title":6}`, `{"title":"a"}`},
		{"create-task", `{"Title":5,"tITLE":"a"}`, `{"title":"a"}`},
		{"create-task", "{\"title\":\"\xff\\ud800\"}", "{\"title\":\"\xff\\ud800\"}"},
		{"create-task", `{"title":1e999}`, `{"title":1e999}`},
		{"create-task", `{"title":"a","tags":["a",["b"],{"c":1},1,null]}`, `{"title":"a","tags":["a",[],{},1,null]}`},
		{"create-task", `"title"`, `"title"`},
		{"create-task", `[{"title":"a"}]`, `[]`},
		{"delete-tasks", `{"ids":[1,1.0,1e3,-0,10e-1,"2",1.5]}`, `{"ids":[1,1,1000,0,1,"2",1.5]}`},
		{"delete-tasks", `{"ids":[9223372036854775808,1.00000000000000000001]}`, `{"ids":["",""]}`},
		{"update-tasks", `{"ids":[1],"set":{"completed":true,"x":[],"SET":1},"Set":{}}`, `{"ids":[1],"set":{"completed":true}}`},
		{"create-tasks", `[{"title":"a","x":1},5,[],{"TITLE":"b"}]`, `[{"title":"a"},5,[],{"title":"b"}]`},
	}
	for _, tt := range tests {
		got, _, err := filterOf(t, tt.op, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s %s = %s, %v; want %s", tt.op, tt.in, got, err, tt.want)
		}
	}

	// Arrays keep maxItems+1 items.
	long := "[" + strings.Repeat(`{"title":"a"},`, 300) + `{"title":"a"}]`
	if got, _, err := filterOf(t, "create-tasks", long); err != nil || strings.Count(got, "title") != 101 {
		t.Errorf("301 items: %d kept (%v), want 101", strings.Count(got, "title"), err)
	}

	// Where an integer has no int64 value, the problem to report instead of
	// huma's; a later duplicate of the member drops it.
	_, problems, _ := filterOf(t, "delete-tasks", `{"ids":[1,9223372036854775808]}`)
	if p, ok := problems["body.ids[1]"]; !ok || p.Type != "int_parsing" || len(problems) != 1 {
		t.Errorf("problems = %v, want one at body.ids[1]", problems)
	}
	if _, problems, _ := filterOf(t, "delete-tasks", `{"ids":[9223372036854775808],"ids":[1]}`); len(problems) != 0 {
		t.Errorf("problems of a replaced member = %v, want none", problems)
	}

	// Not JSON, or not one value: an error (huma then answers its own).
	for _, in := range []string{``, ` `, `{`, `{"title":"a",}`, `{"title":"a"} {}`, `{"title":"a"}x`, "\ufeff{}", `{"title":"a" /* */}`,
		`{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`} {
		if got, _, err := filterOf(t, "create-task", in); err == nil {
			t.Errorf("%.40q = %s, want an error", in, got)
		}
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"": true, "application/json": true, "application/json; charset=utf-8": true, "application/merge-patch+json": true,
		"application/vnd.x+json;v=1": true, "text/plain": false, "APPLICATION/JSON": false, "application/xml": false,
		"text/plain; x=a+json": false,
	} {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %v, want %v", ct, got, want)
		}
	}
}
