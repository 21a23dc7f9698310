package task

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/todo-backend/todo/domain/check"
)

// Limits on tags: per tag in Unicode code points after trimming, and per task.
const (
	MaxTagLen = 50
	MaxTags   = 20
	tagsField = "tags"
)

// TagKey is what two tags are compared by: the tag lower-cased, so that
// "Work" and "work" are one tag. Stores keep it next to the tag and index
// it, so that every store compares tags exactly alike.
func TagKey(tag string) string { return check.Fold(tag) }

// TitleKey is what titles sort by: the title lower-cased, so that "apple"
// comes before "Banana". Stores keep it, computed here, so that every store
// sorts alike whatever its collation.
func TitleKey(title string) string { return check.Fold(title) }

// Fold is what search compares: text lower-cased (check.Fold, the domain's
// one fold).
func Fold(s string) string { return check.Fold(s) }

// normalizeTags applies the tag rules: each tag trimmed, 1 to MaxTagLen code
// points, valid UTF-8 with no NUL and no comma (the list filter separates
// tags with commas, so a tag with one could never be filtered on); the
// first spelling of tags equal but for case kept, order kept; at most
// MaxTags once duplicates are dropped.
func (v *validator) tags(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, raw := range in {
		tag, ok := v.tag(tagsField, i, raw)
		if !ok {
			continue
		}
		if k := TagKey(tag); !seen[k] {
			seen[k] = true
			out = append(out, tag)
		}
	}
	if len(out) > MaxTags {
		v.add(tagsField, fmt.Sprintf("must have at most %d tags (duplicates aside), not %d", MaxTags, len(out)), "too_long")
	}
	return out
}

// tag checks one tag and returns it trimmed; ok is false when it breaks a
// rule (and the problem is recorded).
func (v *validator) tag(field string, i int, raw string) (tag string, ok bool) {
	tag = strings.TrimSpace(raw)
	problem := ""
	typ := "value_error"
	switch n := utf8.RuneCountInString(tag); {
	case !utf8.ValidString(tag):
		problem, typ = "must be valid UTF-8", "string_unicode"
	case strings.ContainsRune(tag, 0):
		problem, typ = "must not contain a NUL character", "string_nul"
	case strings.ContainsRune(tag, ','):
		problem = "must not contain a comma"
	case n == 0:
		problem, typ = "must not be empty", "string_too_short"
	case n > MaxTagLen:
		problem, typ = fmt.Sprintf("must be at most %d characters", MaxTagLen), "string_too_long"
	}
	if problem != "" {
		v.add(field, fmt.Sprintf("tag %d %s", i+1, problem), typ)
		return "", false
	}
	return tag, true
}

// NormalizeTags applies the tag rules to a task's tags and returns them as
// the task keeps them, or a ValidationError naming "tags".
func NormalizeTags(in []string) ([]string, error) {
	var v validator
	out := v.tags(in)
	if err := v.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// TagCount is one of a user's tags and how many of their tasks carry it.
type TagCount struct {
	Name  string // one spelling of the tag: the smallest, byte-wise, of those in use
	Count int
}
