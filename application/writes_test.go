package application_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/task"
)

func TestPatchTask(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t)
	a := authorize(t, s, alice)
	orig, err := s.CreateTask(ctx, a, "title", ptr("desc"), task.WithPriority("high"), task.WithTags([]string{"x"}))
	if err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)

	got, err := s.PatchTask(ctx, a, orig.ID(), task.AnyVersion, application.Patch{})
	if err != nil || got.Version() != orig.Version() || !got.UpdatedAt().Equal(orig.UpdatedAt()) {
		t.Errorf("PatchTask(empty) = %v, %v, want the task unchanged", got, err)
	}
	got, err = s.PatchTask(ctx, a, orig.ID(), orig.Version(), application.Patch{Completed: ptr(true)})
	if err != nil || !got.Completed() || got.Title() != "title" || *got.Description() != "desc" ||
		got.Priority() != task.PriorityHigh || !slices.Equal(got.Tags(), []string{"x"}) || got.Version() != 2 {
		t.Fatalf("PatchTask(completed) = %v, %v, want only completed changed, at version 2", got, err)
	}
	got, err = s.PatchTask(ctx, a, orig.ID(), 2, application.Patch{Title: ptr("new"), SetDescription: true})
	if err != nil || got.Title() != "new" || got.Description() != nil || !got.Completed() {
		t.Errorf("PatchTask(title, clear description) = %v, %v", got, err)
	}
	// A stale version is a conflict, empty patch or not; a broken rule
	// changes nothing.
	for _, p := range []application.Patch{{}, {Title: ptr("stale")}} {
		if _, err := s.PatchTask(ctx, a, orig.ID(), 2, p); !errors.Is(err, task.ErrVersionMismatch) {
			t.Errorf("PatchTask(%+v, stale version) = %v, want a conflict", p, err)
		}
	}
	var ve *task.ValidationError
	if _, err := s.PatchTask(ctx, a, orig.ID(), task.AnyVersion, application.Patch{Title: ptr(" "), Completed: ptr(false)}); !errors.As(err, &ve) {
		t.Errorf("PatchTask(blank title) = %v, want a ValidationError", err)
	}
	if now, _ := s.GetTask(ctx, a, orig.ID()); now.Version() != 3 || !now.Completed() {
		t.Errorf("after refused patches the task is %v, want version 3, completed", now)
	}
	if _, err := s.PatchTask(ctx, authorize(t, s, bob), orig.ID(), task.AnyVersion, application.Patch{Title: ptr("x")}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("PatchTask(another actor's) = %v, want ErrNotFound", err)
	}
}

func TestCreateTasks(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	a := authorize(t, s, alice)
	got, err := s.CreateTasks(ctx, a, []application.NewTask{{Title: "a"}, {Title: "b", Options: []task.Option{task.WithPriority("low")}}})
	if err != nil || len(got) != 2 || got[0].Title() != "a" || got[1].Priority() != task.PriorityLow {
		t.Fatalf("CreateTasks() = %v, %v", got, err)
	}
	_, err = s.CreateTasks(ctx, a, []application.NewTask{{Title: "ok"}, {Title: ""},
		{Title: "x", Options: []task.Option{task.WithTags([]string{"a,b"}), task.WithPriority("urgent")}}})
	var be *task.BatchError
	if !errors.As(err, &be) || len(be.Items) != 2 || be.Items[0].Index != 1 || be.Items[1].Index != 2 || len(be.Items[1].Problems) != 2 {
		t.Errorf("CreateTasks(bad items 1 and 2) = %v, want a BatchError naming items 1 and 2", err)
	}
	for _, n := range []int{0, task.MaxBatch + 1} {
		var ve *task.ValidationError
		if _, err := s.CreateTasks(ctx, a, make([]application.NewTask, n)); !errors.As(err, &ve) {
			t.Errorf("CreateTasks(%d items) = %v, want a ValidationError", n, err)
		}
	}
	// CheckNewTasks checks as CreateTasks does, storing nothing.
	err = s.CheckNewTasks(ctx, a, []application.NewTask{{Title: "ok"}, {Title: " "}, {Title: "x", Options: []task.Option{task.WithDue("x")}}})
	if !errors.As(err, &be) || len(be.Items) != 2 || be.Items[0].Index != 1 || be.Items[1].Index != 2 {
		t.Errorf("CheckNewTasks(bad items 1 and 2) = %v, want a BatchError naming items 1 and 2", err)
	}
	if err := s.CheckNewTasks(ctx, a, []application.NewTask{{Title: "fine"}}); err != nil {
		t.Errorf("CheckNewTasks(a good item) = %v, want nil", err)
	}
	page, _ := s.ListTasks(ctx, a, task.Query{})
	if len(page.Tasks) != 2 {
		t.Errorf("%d tasks after refused and checked batches, want 2", len(page.Tasks))
	}
}

func TestUpdateAndTrashTasks(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	a := authorize(t, s, alice)
	x, y := create(t, s, a, "x", nil), create(t, s, a, "y", nil)
	got, err := s.UpdateTasks(ctx, a, []task.ID{y.ID(), x.ID()}, application.BulkSet{Completed: ptr(true),
		Options: []task.Option{task.WithTags([]string{"done"})}})
	if err != nil || len(got) != 2 || got[0].ID() != y.ID() || !got[1].Completed() || !slices.Equal(got[1].Tags(), []string{"done"}) {
		t.Fatalf("UpdateTasks() = %v, %v", got, err)
	}
	var ve *task.ValidationError
	for name, set := range map[string]application.BulkSet{
		"nothing to set": {},
		"a bad priority": {Options: []task.Option{task.WithPriority("urgent")}},
	} {
		if _, err := s.UpdateTasks(ctx, a, []task.ID{x.ID()}, set); !errors.As(err, &ve) || ve.Problems[0].Field[:3] != "set" {
			t.Errorf("UpdateTasks(%s) = %v, want a ValidationError under set", name, err)
		}
	}
	if _, err := s.UpdateTasks(ctx, a, nil, application.BulkSet{Completed: ptr(true)}); !errors.As(err, &ve) {
		t.Errorf("UpdateTasks(no ids) = %v, want a ValidationError", err)
	}
	theirs := create(t, s, authorize(t, s, bob), "theirs", nil)
	if n, err := s.TrashTasks(ctx, a, []task.ID{x.ID(), theirs.ID()}); !errors.Is(err, task.ErrNotFound) || n != 0 {
		t.Errorf("TrashTasks(with another actor's) = %d, %v, want ErrNotFound", n, err)
	}
	if n, err := s.ClearCompleted(ctx, a); n != 2 || err != nil {
		t.Errorf("ClearCompleted() = %d, %v, want 2", n, err)
	}
	trash, err := s.ListTrash(ctx, a, 0, 0)
	if err != nil || trash.Total != 2 {
		t.Fatalf("ListTrash() = %v, %v, want 2", trash, err)
	}
	back, err := s.RestoreTask(ctx, a, x.ID())
	if err != nil || back.Version() != got[1].Version() {
		t.Errorf("RestoreTask() = %v, %v, want the task at its version %d", back, err, got[1].Version())
	}
	if err := s.DeleteTaskForGood(ctx, a, x.ID(), 1); !errors.Is(err, task.ErrVersionMismatch) {
		t.Errorf("DeleteTaskForGood(stale) = %v, want a conflict", err)
	}
	if n, err := s.EmptyTrash(ctx, a); n != 1 || err != nil {
		t.Errorf("EmptyTrash() = %d, %v, want 1", n, err)
	}
}

// TestPurge runs the purge use case on a memory store: it removes the task
// trashed longer than the retention and the expired key, and keeps the
// rest.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	c := &clock{t: start}
	s := application.New(store.Tasks(), store.Users(), c.now)
	p := application.NewPurger(store.Tasks(), store.Lists(), store.Keys(), 30*24*time.Hour, c.now)
	a := authorize(t, s, alice)
	old, recent := create(t, s, a, "old", nil), create(t, s, a, "recent", nil)
	if err := s.DeleteTask(ctx, a, old.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	claim := func(key string) application.IdempotencyClaim {
		return application.IdempotencyClaim{Key: application.IdempotencyKey{Owner: alice.UserID, Value: key},
			Fingerprint: "f", Token: key, Now: c.now(), Lease: time.Minute, TTL: 24 * time.Hour}
	}
	if _, err := store.Keys().Begin(ctx, claim("expired")); err != nil {
		t.Fatal(err)
	}
	c.advance(29 * 24 * time.Hour)
	if err := s.DeleteTask(ctx, a, recent.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	c.advance(2 * 24 * time.Hour)
	if _, err := store.Keys().Begin(ctx, claim("fresh")); err != nil {
		t.Fatal(err)
	}
	got, err := p.Purge(ctx)
	want := []application.Purged{{Name: "tasks", Removed: 1}, {Name: "lists"}, {Name: "idempotency_keys", Removed: 1}}
	if !slices.Equal(got, want) || err != nil {
		t.Errorf("Purge() = %v, %v, want %v (the old task, the expired key)", got, err, want)
	}
	if trash, _ := s.ListTrash(ctx, a, 0, 0); trash.Total != 1 || trash.Items[0].Task.ID() != recent.ID() {
		t.Errorf("trash after the purge = %+v, want the recent one", trash)
	}
	if _, err := store.Keys().Begin(ctx, claim("fresh")); !errors.Is(err, application.ErrKeyInFlight) {
		t.Errorf("the fresh key after the purge: %v, want it kept (in flight)", err)
	}
	if got, err := p.Purge(ctx); !slices.Equal(got, []application.Purged{{Name: "tasks"}, {Name: "lists"}, {Name: "idempotency_keys"}}) || err != nil {
		t.Errorf("Purge() again = %v, %v, want nothing removed", got, err)
	}
}

// failingPurge is a task repository whose purge fails.
type failingPurge struct{ task.Repository }

var errPurge = errors.New("purge failed")

func (failingPurge) PurgeTrash(context.Context, time.Time, int) (int, error) { return 0, errPurge }

// TestPurgeStepFails checks that a failing step is reported, named, and
// does not keep the others from running.
func TestPurgeStepFails(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	now := func() time.Time { return start }
	key := application.IdempotencyClaim{Key: application.IdempotencyKey{Owner: "u", Value: "k"}, Fingerprint: "f",
		Token: "t", Now: start.Add(-25 * time.Hour), Lease: time.Minute, TTL: 24 * time.Hour}
	if _, err := store.Keys().Begin(ctx, key); err != nil {
		t.Fatal(err)
	}
	got, err := application.NewPurger(failingPurge{store.Tasks()}, store.Lists(), store.Keys(), time.Hour, now).Purge(ctx)
	if !errors.Is(err, errPurge) || !strings.Contains(err.Error(), "purge tasks: ") {
		t.Errorf("Purge() error = %v, want the failed step's, naming it", err)
	}
	if want := []application.Purged{{Name: "tasks"}, {Name: "lists"}, {Name: "idempotency_keys", Removed: 1}}; !slices.Equal(got, want) {
		t.Errorf("Purge() = %v, want %v: the keys purged all the same", got, want)
	}
}
