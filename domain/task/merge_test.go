package task

import (
	"slices"
	"testing"
	"time"
)

func TestMerge(t *testing.T) {
	revs := []Revision{
		{Version: 3, Changed: map[string]FieldChange{"title": {}}},
		{Version: 2, Changed: map[string]FieldChange{"due": {}}},
	}
	for _, c := range []struct {
		carried       []string
		base, current Version
		want          []string
	}{
		{[]string{"title", "completed"}, 3, 3, nil},                              // not moved: no conflict
		{[]string{"completed", "priority"}, 1, 3, nil},                           // other fields
		{[]string{"title", "completed", "due"}, 1, 3, []string{"due", "title"}},  // both changed since 1
		{[]string{"due", "completed"}, 2, 3, nil},                                // due changed at 2, not after
		{[]string{"completed"}, 1, 1 + RevisionsKept + 1, []string{"completed"}}, // history no longer complete
	} {
		if got := Merge(c.carried, c.base, c.current, revs); !slices.Equal(got, c.want) {
			t.Errorf("Merge(%v, %d, %d) = %v, want %v", c.carried, c.base, c.current, got, c.want)
		}
	}
}

func TestWithTagChanges(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tk, err := New("u", "t", nil, now, WithTags([]string{"a", "b"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Edit("t", nil, now, WithTagChanges([]string{"C", "A"}, []string{"B", "x"})); err != nil {
		t.Fatal(err)
	}
	if got := tk.Tags(); !slices.Equal(got, []string{"a", "C"}) {
		t.Errorf("tags = %v, want [a C]", got)
	}
}
