package application

import "github.com/todo-backend/todo/domain/task"

// sinceArrival is what a member of a shared list sees of the history revs
// of one of its tasks (as the store returns them, in any order): the
// revisions after the task's last change of list, the one that brought it
// to the list where the member reaches it (task.Revision records every
// change of list_id). Before that the task was elsewhere, in a list of the
// owner's the member may not see, and the move's revision itself tells
// where from (list_id and parent_id, and any field the same write changed,
// from values the member never saw). A task created in the list keeps its
// creation. With no change of list among revs (the creation pruned, or
// revs read from a later version on), every revision is after it.
func sinceArrival(revs []task.Revision) []task.Revision {
	var arrived task.Version
	for _, r := range revs {
		if _, ok := r.Changed["list_id"]; ok && r.Version > arrived {
			arrived = r.Version
		}
	}
	if arrived == 0 {
		return revs
	}
	out := revs[:0:0]
	for _, r := range revs {
		if r.Version > arrived || r.Version == arrived && r.Creation() {
			out = append(out, r)
		}
	}
	return out
}
