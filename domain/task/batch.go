package task

import "fmt"

// MaxBatch is the most tasks one bulk call creates, changes or deletes.
const MaxBatch = 100

// ItemError is what broke the rules in one item of a batch.
type ItemError struct {
	Index    int // from 0, in the order given
	Problems []Problem
}

// BatchError refuses a whole batch and lists every item at fault.
type BatchError struct {
	Items []ItemError
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("invalid batch: %d items break a rule", len(e.Items))
}

// UniqueIDs drops repeated ids, keeping the first of each in order: a batch
// names each task once, however often the caller repeated it.
func UniqueIDs(ids []ID) []ID {
	seen := make(map[ID]bool, len(ids))
	out := make([]ID, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
