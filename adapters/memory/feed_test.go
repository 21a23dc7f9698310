package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

type recorder struct {
	got    []application.Seq
	byUser map[auth.UserID]application.Seq
}

func (r *recorder) Publish(u auth.UserID, head application.Seq) {
	r.got = append(r.got, head)
	if r.byUser == nil {
		r.byUser = map[auth.UserID]application.Seq{}
	}
	r.byUser[u] = head
}

// TestPublisher: the memory store tells its publisher the head after each
// commit: a write alone at once, a transaction's writes once, when it
// commits, and nothing for one rolled back.
func TestPublisher(t *testing.T) {
	ctx := context.Background()
	s := memory.NewStore()
	r := &recorder{}
	s.SetPublisher(r)
	add := func(ctx context.Context) error {
		tk, err := task.New("u_a", "t", nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Tasks().Add(ctx, tk)
		return err
	}
	if err := add(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.InTx(ctx, func(ctx context.Context) error {
		if err := add(ctx); err != nil {
			return err
		}
		if len(r.got) != 1 {
			t.Errorf("published %v inside a transaction", r.got)
		}
		return add(ctx)
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.InTx(ctx, func(ctx context.Context) error { _ = add(ctx); return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if want := []application.Seq{1, 3}; len(r.got) != 2 || r.got[0] != want[0] || r.got[1] != want[1] {
		t.Errorf("published %v, want %v", r.got, want)
	}
	if h, _ := s.Changes().Head(ctx, "u_a"); h != 3 {
		t.Errorf("head %d after a rolled back transaction, want 3", h)
	}
}

// BenchmarkToggleStoreSize: one toggle (a write outside a transaction) in
// stores of growing size: what the feed's numbering at commit costs.
func BenchmarkToggleStoreSize(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			s := memory.NewStore()
			var last *task.Task
			for i := range n {
				tk, err := task.New(auth.UserID(fmt.Sprintf("u_%d", i%100)), "t", nil, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				if last, err = s.Tasks().Add(ctx, tk); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Tasks().Update(ctx, last.Owner(), last.ID(), 0, func(t *task.Task) error {
					t.ToggleCompleted(time.Now())
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPublisherMembers (issue 19): a commit that changes a shared list's
// task is published for the list's member too, with the member's head.
func TestPublisherMembers(t *testing.T) {
	ctx := context.Background()
	s := memory.NewStore()
	r := &recorder{}
	s.SetPublisher(r)
	l, err := list.New("u_owner", "Groceries", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Lists().Add(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	id := sum.List.ID()
	if err := s.SetMember(ctx, id, "u_member", list.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if r.byUser["u_member"] != 1 {
		t.Errorf("joining published %v for the member, want head 1", r.byUser)
	}
	tk, err := task.New("u_owner", "milk", nil, time.Now(), task.InList(&id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tasks().Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
	h, _ := s.Changes().Head(ctx, "u_member")
	if h < 2 || r.byUser["u_member"] != h {
		t.Errorf("the owner's write published %v for the member, whose head is %d", r.byUser, h)
	}
}
