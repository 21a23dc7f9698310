package task

import "time"

// Trashed is a deleted task, kept until it is restored or purged. Every
// other call treats it as gone.
type Trashed struct {
	Task      *Task
	DeletedAt time.Time
}

// TrashPage is a part of a user's trash, the most recently deleted first.
type TrashPage struct {
	Items []Trashed // never nil
	Total int       // every task in the trash
}
