package application_test

import (
	"context"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// keyFeed is a ChangeLog whose Changes and ChangeKeys say which was read.
type keyFeed struct{}

func (f *keyFeed) Changes(context.Context, auth.UserID, application.Seq, int, bool) (application.ChangePage, error) {
	return application.ChangePage{Changes: []application.Change{{Seq: 1, Op: application.OpUpsert}}, Next: 1}, nil
}
func (f *keyFeed) Head(context.Context, auth.UserID) (application.Seq, error) { return 1, nil }
func (f *keyFeed) Prune(context.Context, time.Time) (int, error)              { return 0, nil }

func (f *keyFeed) Read(ctx context.Context, o auth.UserID, r application.ChangeRead, n int) (application.ChangePage, error) {
	return f.Changes(ctx, o, r.Since, n, false)
}

type keyReader struct{ keyFeed }

func (f *keyReader) ChangeKeys(context.Context, auth.UserID, application.Seq, int) (application.ChangePage, error) {
	return application.ChangePage{Changes: []application.Change{{Seq: 1, Op: application.OpDelete}}, Next: 1}, nil
}

// TestEventsReadKeysWhenTheyCan: the events read a store's feed without
// data when the store can (ChangeKeyReader), and through Changes when not.
func TestEventsReadKeysWhenTheyCan(t *testing.T) {
	t.Parallel()
	svc := application.New(memory.NewTaskRepository(), memory.NewUserRepository(), nil)
	a, err := svc.Authorize(context.Background(), alice, string(alice.UserID))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		log  application.ChangeLog
		want application.Op
	}{
		"keys":    {&keyReader{}, application.OpDelete},
		"changes": {&keyFeed{}, application.OpUpsert},
	} {
		ev := application.NewEvents(tc.log, application.NewHub(), memory.NewTicketStore(), nil)
		p, err := ev.Changes(context.Background(), a, 0, 10)
		if err != nil || len(p.Changes) != 1 || p.Changes[0].Op != tc.want {
			t.Errorf("%s: Changes = %+v, %v; want the page of %s", name, p, err, name)
		}
	}
}
