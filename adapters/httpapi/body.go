package httpapi

import (
	"bytes"
	"context"
	"encoding/json/jsontext"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Request bodies are read once, by bodyFilter, in one streaming pass
// against the operation's schema, before huma sees them. huma checks a body
// by decoding it whole into generic values (maps, slices, interfaces) and
// then decodes it again into the request's type; on its own, a 1 MiB body
// of nested empty arrays in a member nobody reads cost 25 MB of heap. What
// huma gets instead holds only what the schema declares, in bounded
// amounts, so both of its decodings stay small whatever was sent:
//
//   - Members the schema does not declare are skipped unread
//     (jsontext.Decoder.SkipValue builds nothing), as FastAPI ignores them.
//   - Each declared member is kept once, under the schema's spelling of its
//     name: the last one spelt so, as encoding/json keeps the last of
//     duplicates; when there is none, the last one spelt so but for case,
//     which huma and encoding/json accept too. huma's check and the decoding
//     into the request's type then see one and the same value (they could
//     differ: huma checked "title" while encoding/json also read "TITLE"
//     into it, whose problems came out in its own words).
//   - An array keeps its first maxItems+1 items (huma then says it is too
//     long); every array of a request schema declares maxItems
//     (TestRequestSchemasAreFiltered).
//   - An array or object where the schema wants something else becomes []
//     or {}: huma's problem there ("expected string") does not depend on
//     what it held.
//   - An integer is written as encoding/json reads an int64 (1.0 and 1e3 as
//     1 and 1000); one that has no int64 value becomes a value huma refuses
//     at that place, and the problem to report there instead is kept for the
//     422 (bodyState.problems): no decoder's error text reaches a client.
//
// Strings, numbers and literals are copied as they came, so that huma and
// encoding/json read them exactly as before. A body that is not JSON is
// still read to its end (for 413), and huma gets "{", so that it answers
// its own JSON decode error along with any problem of the parameters, as it
// did. A body over the limit is 413. One whose Content-Type huma does not
// read as JSON is drained and huma gets a one-byte stand-in: it refuses the
// type (415, a 422 here) without reading the bytes.
//
// Why by hand: huma offers either its generic decoding or none
// (SkipValidateBody), and without it every 422 it writes (types, required
// members, enums, patterns, lengths, of body and parameters together) would
// have to be written again, byte for byte. encoding/json/jsontext, in the
// standard library since Go 1.25 and not experimental since 1.27, does the
// tokenizing and skipping; what is here is the schema walk.

// bodyKey is where bodyFilter leaves its bodyState in the request context.
type bodyKey struct{}

// bodyState is what bodyFilter learned of a body, for the 422 huma may
// write about it (newHumaError).
type bodyState struct {
	// problems replace huma's problem at a location (huma's form:
	// "body.ids[0]") where the filter put a value huma refuses, because
	// what is wrong there is not what huma would say of that value.
	problems map[string]ValidationItem
	// items, when set, are the domain's problems with the items of an
	// array body that the schema accepted (bad holds the indexes of those
	// it did not): see route.itemRules.
	items func(bad map[int]bool) []ValidationItem
}

func bodyStateOf(ctx huma.Context) *bodyState {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Context().Value(bodyKey{}).(*bodyState)
	return st
}

// humaContext names the embedded context of bodyContext, whose own name
// (Context) would hide huma.Context's Context method.
type humaContext = huma.Context

// bodyContext hands huma the filtered body and the bodyState.
type bodyContext struct {
	humaContext
	ctx  context.Context
	body io.Reader
}

func (c *bodyContext) Context() context.Context { return c.ctx }
func (c *bodyContext) BodyReader() io.Reader    { return c.body }

// Unwrap lets humachi.Unwrap reach the request under it.
func (c *bodyContext) Unwrap() huma.Context { return c.humaContext }

// SetReadDeadline does nothing: the body is already read.
func (c *bodyContext) SetReadDeadline(time.Time) error { return nil }

// stateContext is the request's context with its bodyState.
type stateContext struct {
	context.Context
	st bodyState
}

func (c *stateContext) Value(key any) any {
	if key == (bodyKey{}) {
		return &c.st
	}
	return c.Context.Value(key)
}

// bodyRun is the reading and filtering of one request's body, used again
// (bodyRuns) after a small body. Nothing in it outlives the request: what
// a context refers to, which goroutines may hold on to after the handler
// returned (database/sql does), is in a bodyCall.
type bodyRun struct {
	in countingReader
	f  schemaFilter
}

// bodyCall is what huma gets, allocated at once.
type bodyCall struct {
	rd  bytes.Reader
	ctx stateContext
	hc  bodyContext
}

var bodyRuns = sync.Pool{New: func() any {
	return &bodyRun{f: schemaFilter{dec: jsontext.NewDecoder(strings.NewReader(""))}}
}}

// maxPooledBody is the largest body after which a bodyRun is used again,
// so that the pool keeps no large buffer alive.
const maxPooledBody = 64 << 10

// bodyFilter returns the operation middleware that filters the bodies of an
// operation (see above); itemRules, when set, checks the items of an array
// body that the schema accepted, for a 422 that names every bad item.
func (h *handlers) bodyFilter(itemRules func(ctx context.Context, body []byte, bad map[int]bool) []ValidationItem) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		r := ctx.BodyReader()
		if op == nil || op.RequestBody == nil || op.RequestBody.Content["application/json"] == nil || r == nil || r == http.NoBody {
			next(ctx)
			return
		}
		switch {
		case op.BodyReadTimeout > 0:
			_ = ctx.SetReadDeadline(time.Now().Add(op.BodyReadTimeout))
		case op.BodyReadTimeout < 0:
			_ = ctx.SetReadDeadline(time.Time{})
		}
		run := bodyRuns.Get().(*bodyRun)
		defer func() {
			if run.in.read <= maxPooledBody {
				*run = bodyRun{f: schemaFilter{dec: run.f.dec, out: run.f.out[:0], name: run.f.name[:0], path: run.f.path[:0]}}
				bodyRuns.Put(run)
			}
		}()
		in := &run.in
		*in = countingReader{r: r, left: h.maxBody + 1}
		var body []byte
		if isJSON(ctx.Header("Content-Type")) {
			f := &run.f
			f.reg = h.api.OpenAPI().Components.Schemas
			f.dec.Reset(in, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
			var err error
			body, err = f.document(op.RequestBody.Content["application/json"].Schema)
			if err != nil && in.read > 0 {
				body = []byte("{") // huma answers its JSON decode error
			}
		}
		_, _ = io.Copy(io.Discard, in) // to the end, or past the limit
		_ = ctx.SetReadDeadline(time.Time{})
		switch {
		case in.err != nil:
			// huma answers a body it cannot read (408 for a timeout).
			next(&bodyContext{humaContext: ctx, ctx: ctx.Context(), body: &errReader{in.err}})
			return
		case in.read > h.maxBody:
			_ = huma.WriteErr(h.api, ctx, 413, "request body is too large")
			return
		case body == nil && in.read > 0:
			body = []byte("x") // not JSON: huma refuses the type unread
		}
		call := &bodyCall{ctx: stateContext{Context: ctx.Context(), st: bodyState{problems: run.f.problems}}}
		if itemRules != nil {
			call.ctx.st.items = func(bad map[int]bool) []ValidationItem { return itemRules(ctx.Context(), body, bad) }
		}
		call.rd.Reset(body)
		call.hc = bodyContext{humaContext: ctx, ctx: &call.ctx, body: &call.rd}
		next(&call.hc)
	}
}

// isJSON reports whether huma reads a body of this Content-Type as JSON:
// application/json, anything ending in +json, or none (huma's default).
// It follows huma's own choice of format (its parseContentType), given the
// formats apiConfig registers.
func isJSON(contentType string) bool {
	start := strings.IndexByte(contentType, '+') + 1
	end := strings.IndexByte(contentType, ';')
	if end == -1 {
		end = len(contentType)
	}
	if end < start {
		return false
	}
	switch contentType[start:end] {
	case "", "application/json", "json":
		return true
	}
	return false
}

// countingReader reads at most left bytes of r, counts them, and keeps the
// first error other than io.EOF.
type countingReader struct {
	r    io.Reader
	left int64
	read int64
	err  error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	c.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return n, err
}

// errReader fails with err.
type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// schemaFilter is bodyFilter's pass over one body.
type schemaFilter struct {
	reg      huma.Registry
	dec      *jsontext.Decoder
	out      []byte // what huma gets
	name     []byte // a member's name, unquoted
	problems map[string]ValidationItem
	path     []pathStep // where the value being read is
}

// pathStep is one step of a location: a member's name, or an index when
// name is "".
type pathStep struct {
	name  string
	index int
}

// document reads one JSON value, the whole input, filtered by s.
func (f *schemaFilter) document(s *huma.Schema) ([]byte, error) {
	out, err := f.value(f.out[:0], s)
	f.out = out
	if err != nil {
		return nil, err
	}
	if _, err := f.dec.ReadToken(); err != io.EOF {
		return nil, errors.New("data after the top-level value")
	}
	return out, nil
}

// value appends the next value, filtered by s.
func (f *schemaFilter) value(dst []byte, s *huma.Schema) ([]byte, error) {
	for s != nil && s.Ref != "" {
		s = f.reg.SchemaFromRef(s.Ref)
	}
	kind := f.dec.PeekKind()
	switch {
	case kind == 0: // a syntax error, or the end of the input
		_, err := f.dec.ReadToken()
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return dst, err
	case s == nil || kind == 'n':
		return f.copy(dst)
	case kind == '{' && s.Extensions[opaqueObject] == true:
		// A command's args: the body of another route, filtered by that
		// route's schema when the command runs it.
		return f.copy(dst)
	case kind == '{' && s.Type == huma.TypeObject:
		return f.object(dst, s)
	case kind == '[' && s.Type == huma.TypeArray:
		return f.array(dst, s)
	case kind == '{' || kind == '[':
		// Not what the schema wants: huma says so whatever it holds.
		if err := f.dec.SkipValue(); err != nil {
			return dst, err
		}
		if kind == '{' {
			return append(dst, "{}"...), nil
		}
		return append(dst, "[]"...), nil
	case kind == '0' && s.Type == huma.TypeInteger:
		return f.integer(dst)
	}
	return f.copy(dst)
}

// copy appends the next value as it came.
func (f *schemaFilter) copy(dst []byte) ([]byte, error) {
	v, err := f.dec.ReadValue()
	return append(dst, v...), err
}

// memberSpan is where a kept member of an object is in the output: from
// its leading comma to the end of its value.
type memberSpan struct {
	name       string // the schema's spelling
	exact      bool   // spelt so in the body, not only equal but for case
	start, end int
}

// object appends an object with the members s declares, each once.
func (f *schemaFilter) object(dst []byte, s *huma.Schema) ([]byte, error) {
	if _, err := f.dec.ReadToken(); err != nil {
		return dst, err
	}
	open := len(dst)
	dst = append(dst, '{')
	var buf [8]memberSpan
	spans := buf[:0]
	for f.dec.PeekKind() != '}' {
		raw, err := f.dec.ReadValue() // the name, quoted
		if err != nil {
			return dst, err
		}
		name, exact, prop := f.property(s, raw)
		i := -1
		for j := range spans {
			if spans[j].name == name {
				i = j
				break
			}
		}
		if prop == nil || (i >= 0 && spans[i].exact && !exact) {
			// Undeclared, or spelt otherwise than a member already given
			// as declared: the one huma checks.
			if err := f.dec.SkipValue(); err != nil {
				return dst, err
			}
			continue
		}
		f.path = append(f.path, pathStep{name: name})
		if i >= 0 { // a duplicate: the last one counts
			if f.problems != nil {
				f.forget(f.location())
			}
			cut := spans[i].end - spans[i].start
			dst = append(dst[:spans[i].start], dst[spans[i].end:]...)
			for j := i + 1; j < len(spans); j++ {
				spans[j].start -= cut
				spans[j].end -= cut
			}
			spans = slices.Delete(spans, i, i+1)
		}
		m := memberSpan{name: name, exact: exact, start: len(dst)}
		dst = append(dst, ',')
		dst, _ = jsontext.AppendQuote(dst, name)
		dst = append(dst, ':')
		dst, err = f.value(dst, prop)
		f.path = f.path[:len(f.path)-1]
		if err != nil {
			return dst, err
		}
		m.end = len(dst)
		spans = append(spans, m)
	}
	if _, err := f.dec.ReadToken(); err != nil { // '}'
		return dst, err
	}
	if len(spans) > 0 { // the first member's comma
		dst = append(dst[:open+1], dst[open+2:]...)
	}
	return append(dst, '}'), nil
}

// property is the member of s that a name in a body (raw: quoted) stands
// for, as huma and encoding/json match them: the same name (exact), or else
// one equal to it but for case. prop is nil when s declares none.
func (f *schemaFilter) property(s *huma.Schema, raw []byte) (name string, exact bool, prop *huma.Schema) {
	given := raw[1 : len(raw)-1]
	if bytes.IndexByte(given, '\\') >= 0 {
		var err error
		if f.name, err = jsontext.AppendUnquote(f.name[:0], raw); err != nil {
			return "", false, nil
		}
		given = f.name
	}
	for k, p := range s.Properties {
		if k == string(given) {
			return k, true, p
		}
	}
	for k, p := range s.Properties {
		if strings.EqualFold(k, string(given)) && (prop == nil || k < name) {
			name, prop = k, p
		}
	}
	return name, false, prop
}

// array appends an array with at most maxItems+1 items, each filtered by
// the items' schema; the rest is skipped.
func (f *schemaFilter) array(dst []byte, s *huma.Schema) ([]byte, error) {
	if _, err := f.dec.ReadToken(); err != nil {
		return dst, err
	}
	keep := -1 // all
	if s.MaxItems != nil {
		keep = *s.MaxItems + 1
	}
	dst = append(dst, '[')
	for i := 0; f.dec.PeekKind() != ']'; i++ {
		if keep >= 0 && i >= keep {
			if err := f.dec.SkipValue(); err != nil {
				return dst, err
			}
			continue
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		f.path = append(f.path, pathStep{index: i})
		var err error
		dst, err = f.value(dst, s.Items)
		f.path = f.path[:len(f.path)-1]
		if err != nil {
			return dst, err
		}
	}
	if _, err := f.dec.ReadToken(); err != nil { // ']'
		return dst, err
	}
	return append(dst, ']'), nil
}

// integer appends a number where the schema wants an integer (an int64:
// the request types have no other).
func (f *schemaFilter) integer(dst []byte) ([]byte, error) {
	v, err := f.dec.ReadValue()
	if err != nil {
		return dst, err
	}
	n, kind := parseJSONInt(string(v))
	switch kind {
	case intValue:
		return strconv.AppendInt(dst, n, 10), nil
	case intFraction:
		if x, err := strconv.ParseFloat(string(v), 64); err == nil && x != math.Trunc(x) {
			return append(dst, v...), nil // huma: "expected integer"
		}
		// A fraction past float64's precision (1.00000000000000000001),
		// which huma would take for an integer: the stand-in below makes
		// it say "expected integer" all the same.
	case intRange:
		f.problem(ValidationItem{Msg: "Input should be a valid integer between -9223372036854775808 and 9223372036854775807",
			Type: "int_parsing"})
	}
	// A string where an integer is wanted: huma's problem "expected
	// integer", here, and nothing else (no range or enum check after it).
	return append(dst, `""`...), nil
}

// problem records p as the problem at the current location.
func (f *schemaFilter) problem(p ValidationItem) {
	if f.problems == nil {
		f.problems = map[string]ValidationItem{}
	}
	f.problems[f.location()] = p
}

// forget drops the problems recorded at loc and under it.
func (f *schemaFilter) forget(loc string) {
	for k := range f.problems {
		if k == loc || strings.HasPrefix(k, loc+".") || strings.HasPrefix(k, loc+"[") {
			delete(f.problems, k)
		}
	}
}

// location is the current location as huma writes it: body.ids[0].
func (f *schemaFilter) location() string {
	b := []byte("body")
	for _, p := range f.path {
		if p.name != "" {
			b = append(b, '.')
			b = append(b, p.name...)
			continue
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.index), 10)
		b = append(b, ']')
	}
	return string(b)
}

// What parseJSONInt found.
const (
	intValue    = iota // an int64
	intFraction        // a number with a fractional part
	intRange           // an integer out of int64's range
)

// parseJSONInt reads a JSON number (valid: the decoder checked it) exactly,
// as an int64 when it is a whole number in range, whatever its form: 1,
// 1.0, 1e3, 10e-1. It does bounded work for any exponent.
func parseJSONInt(num string) (int64, int) {
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	mantissa, exp, _ := strings.Cut(strings.ToLower(num), "e")
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	trimmed := strings.TrimRight(digits, "0")
	if trimmed == "" {
		return 0, intValue // zero, however written
	}
	// The value is trimmed × 10^e.
	e := len(digits) - len(trimmed) - len(frac)
	expNeg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if len(exp) > 6 { // far beyond int64 either way
		if expNeg {
			return 0, intFraction
		}
		return 0, intRange
	}
	if exp != "" {
		x, _ := strconv.Atoi(exp)
		if expNeg {
			x = -x
		}
		e += x
	}
	switch {
	case e < 0:
		return 0, intFraction
	case len(trimmed)+e > 19:
		return 0, intRange
	}
	u, err := strconv.ParseUint(trimmed+strings.Repeat("0", e), 10, 64)
	switch {
	case err != nil, !neg && u > 1<<63-1, neg && u > 1<<63:
		return 0, intRange
	case neg:
		return int64(-u), intValue // -(1<<63) wraps to itself: MinInt64
	}
	return int64(u), intValue
}
