package task

import "slices"

// WithTagChanges merges tags as sets (issue 17): the task keeps its tags
// but those in remove, and gains those of add it lacks, compared by
// TagKey. Two devices adding or removing tags never conflict.
func WithTagChanges(add, remove []string) Option {
	return func(v *validator, t *Task) {
		out := make([]string, 0, len(t.tags)+len(add))
		for _, tag := range t.tags {
			if !slices.ContainsFunc(remove, func(r string) bool { return TagKey(r) == TagKey(tag) }) {
				out = append(out, tag)
			}
		}
		for _, tag := range add {
			if !slices.ContainsFunc(out, func(o string) bool { return TagKey(o) == TagKey(tag) }) {
				out = append(out, tag)
			}
		}
		t.tags = v.tags(out)
	}
}

// Merge is what an update made on version Base of a task comes to, now
// that the task is at a later version (issue 17): the fields it carries
// (Revision's names) that a revision after Base changed are conflicts,
// the others apply. Revisions must be the task's after Base; when the task
// no longer keeps them all (RevisionsKept), every carried field is a
// conflict.
func Merge(carried []string, base, current Version, revisions []Revision) (conflicts []string) {
	if current <= base {
		return nil
	}
	changed := ChangedSince(revisions, base)
	complete := current-base <= RevisionsKept
	for _, f := range carried {
		if (changed[f] || !complete) && !slices.Contains(conflicts, f) {
			conflicts = append(conflicts, f)
		}
	}
	slices.Sort(conflicts)
	return conflicts
}
