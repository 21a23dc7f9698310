package httpapi

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// jsonPieces are what the generated strings are made of: plain text,
// everything encoding/json escapes or treats specially, multi-byte UTF-8,
// and bytes that are not UTF-8.
var jsonPieces = []string{
	"a", "Buy milk", " ", "0", "\"", "\\", "/", "'", "<", ">", "&", "<script>", "&amp;",
	"\x00", "\x01", "\x07", "\b", "\t", "\n", "\v", "\f", "\r", "\x1b", "\x1f", "\x7f",
	"é", "ß", "日本語", "🎉", "\u00a0", "\u2027", "\u2028", "\u2029", "\u202a", "\ufeff", "\ufffd", "\U0010ffff",
	"\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
}

func randomJSONString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(jsonPieces[r.IntN(len(jsonPieces))])
	}
	return b.String()
}

var jsonZones = []*time.Location{
	time.UTC, time.FixedZone("", 0), time.FixedZone("IST", 5*3600+1800), time.FixedZone("PST", -8*3600),
	time.FixedZone("odd", 3600+61), time.FixedZone("max", 23*3600+59*60),
}

func randomJSONTime(r *rand.Rand) time.Time {
	nanos := []int{0, 1, 120_000_000, 123_000, 123_456_789, 999_999_999}[r.IntN(6)]
	sec := r.Int64N(4_000_000_000) // 1970 to 2096
	t := time.Unix(sec, int64(nanos)).In(jsonZones[r.IntN(len(jsonZones))])
	switch r.IntN(20) {
	case 0:
		t = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	case 1:
		t = time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	case 2:
		t = time.Time{}
	}
	return t
}

func randomTask(r *rand.Rand) Task {
	optString := func() *string {
		if r.IntN(3) == 0 {
			return nil
		}
		s := randomJSONString(r)
		return &s
	}
	t := Task{
		ID:          []int64{1, 42, 0, -7, math.MaxInt64, math.MinInt64}[r.IntN(6)],
		UserID:      randomJSONString(r),
		Title:       randomJSONString(r),
		Description: optString(),
		Completed:   r.IntN(2) == 0,
		CreatedAt:   randomJSONTime(r),
		UpdatedAt:   randomJSONTime(r),
		Priority:    []string{"low", "medium", "high", ""}[r.IntN(4)],
		Version:     r.Int64N(1000),
	}
	switch r.IntN(4) {
	case 0:
		d := "2026-03-01"
		t.DueDate = &d
	case 1:
		d := "2026-03-01T10:30:00Z"
		t.DueDate = &d
	case 2:
		t.DueDate = optString()
	}
	switch r.IntN(3) {
	case 0: // nil
	case 1:
		t.Tags = []string{}
	case 2:
		for range 1 + r.IntN(4) {
			t.Tags = append(t.Tags, randomJSONString(r))
		}
	}
	if r.IntN(2) == 0 {
		c := randomJSONTime(r)
		t.CompletedAt = &c
	}
	optID := func() *int64 {
		if r.IntN(3) == 0 {
			return nil
		}
		id := []int64{1, 42, 0, -7, math.MaxInt64, math.MinInt64}[r.IntN(6)]
		return &id
	}
	t.ListID, t.ParentID = optID(), optID()
	switch r.IntN(3) {
	case 0:
		t.Position = "z0000000000000000042"
	case 1:
		t.Position = "m0000000003V"
	case 2:
		t.Position = randomJSONString(r)
	}
	if r.IntN(3) == 0 {
		t.DueTZ = optString()
	}
	t.DueFloating = r.IntN(2) == 0
	if r.IntN(3) == 0 {
		t.Recurrence = &Recurrence{Rule: randomJSONString(r), From: "due", Description: randomJSONString(r)}
	}
	switch r.IntN(3) {
	case 0: // nil
	case 1:
		t.Reminders = []Reminder{}
	case 2:
		for range 1 + r.IntN(3) {
			t.Reminders = append(t.Reminders, Reminder{At: optString(), Before: optString(), FiresAt: optString()})
		}
	}
	return t
}

// encodeBoth runs v through marshalJSON and through huma's default JSON
// format (encoding/json) and fails t unless both write the same bytes, or
// both fail with the same error.
func encodeBoth(t *testing.T, name string, v any) {
	t.Helper()
	var got, want bytes.Buffer
	gotErr := marshalJSON(&got, v)
	wantErr := huma.DefaultJSONFormat.Marshal(&want, v)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, encoding/json's %v", name, gotErr, wantErr)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("%s: marshalJSON wrote\n%q\nencoding/json\n%q", name, got.Bytes(), want.Bytes())
	}
}

func TestTaskJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		task := randomTask(r)
		encodeBoth(t, fmt.Sprintf("task %d", i), task)
		encodeBoth(t, fmt.Sprintf("*task %d", i), &task)
		list := make([]Task, r.IntN(5))
		trash := make([]TrashedTask, len(list))
		for j := range list {
			list[j] = randomTask(r)
			trash[j] = TrashedTask{Task: list[j], DeletedAt: randomJSONTime(r)}
		}
		encodeBoth(t, fmt.Sprintf("list %d", i), list)
		encodeBoth(t, fmt.Sprintf("trash %d", i), trash)
	}
	// Every piece alone, and every byte, in every string field.
	var pieces []string
	pieces = append(pieces, jsonPieces...)
	for c := range 256 {
		pieces = append(pieces, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, p := range pieces {
		d := p
		encodeBoth(t, fmt.Sprintf("piece %q", p), Task{UserID: p, Title: p, Description: &d, Priority: p, DueDate: &d, Tags: []string{p, p}, Position: p,
			DueTZ: &d, Recurrence: &Recurrence{Rule: p, From: p, Description: p}, Reminders: []Reminder{{At: &d, Before: &d, FiresAt: &d}}})
	}
	for _, v := range []any{[]Task(nil), []Task{}, []TrashedTask(nil), []TrashedTask{}, (*Task)(nil), Task{}} {
		encodeBoth(t, fmt.Sprintf("%T %v", v, v), v)
	}
	// Times encoding/json refuses: marshalJSON must fail the same way.
	for _, bad := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -25*3600)),
	} {
		encodeBoth(t, "created "+bad.String(), Task{CreatedAt: bad})
		encodeBoth(t, "completed "+bad.String(), []Task{{}, {CompletedAt: &bad}})
		encodeBoth(t, "deleted "+bad.String(), []TrashedTask{{DeletedAt: bad}})
	}
	// Other bodies go to encoding/json untouched.
	for _, v := range []any{Stats{}, []Tag{{Name: "<b>", Count: 1}}, &HTTPError{Detail: "a<b"}, map[string]any{"x": []int{1}}} {
		encodeBoth(t, fmt.Sprintf("%T", v), v)
	}
}

// TestTaskJSONKnowsEveryField fails when Task or TrashedTask gains a field:
// appendTaskFields must then learn it (an omitempty field would slip past
// the comparison above).
func TestTaskJSONKnowsEveryField(t *testing.T) {
	names := func(typ reflect.Type) []string {
		var out []string
		for f := range typ.Fields() {
			out = append(out, f.Name+" "+string(f.Tag.Get("json")))
		}
		return out
	}
	want := []string{"_ -", "ID id", "UserID user_id", "Title title", "Description description", "Completed completed",
		"CreatedAt created_at", "UpdatedAt updated_at", "Priority priority", "DueDate due_date", "Tags tags",
		"CompletedAt completed_at", "Version version", "ListID list_id", "ParentID parent_id", "Position position",
		"DueTZ due_tz", "DueFloating due_floating", "Recurrence recurrence", "Reminders reminders",
		"CreatedBy created_by", "AssigneeID assignee_id"}
	if got := names(reflect.TypeFor[Task]()); !reflect.DeepEqual(got, want) {
		t.Errorf("Task fields = %q,\nappendTaskFields knows %q", got, want)
	}
	if got, want := names(reflect.TypeFor[TrashedTask]()), []string{"_ -", "Task ", "DeletedAt deleted_at"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TrashedTask fields = %q, the appender knows %q", got, want)
	}
}
