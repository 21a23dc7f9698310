package contract

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// TestCalendarFeeds: the calendar feeds of issue 20 on every store. A put
// feed is found by its secret's hash with what it was stored with, listed
// for its owner only (oldest first), deleted by its owner only (another
// user's id is ErrNoCalendarFeed and the feed stays), and not found after.
func TestCalendarFeeds(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(*testing.T) application.CalendarFeedStore{
		"memory": func(*testing.T) application.CalendarFeedStore { return memory.NewCalendarFeedStore() },
		"sqlite": func(t *testing.T) application.CalendarFeedStore {
			return sqlstore.NewCalendarFeedStore(openSQLiteDB(t))
		},
		"postgres": func(t *testing.T) application.CalendarFeedStore {
			return sqlstore.NewCalendarFeedStore(openPostgresDB(t))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			alice, bob := auth.UserID("u_"+uniq()), auth.UserID("u_"+uniq())
			first := application.CalendarFeed{ID: "cf_" + uniq(), Owner: alice, SecretHash: "h1" + uniq(), Name: "Phone", CreatedAt: now}
			second := application.CalendarFeed{ID: "cf_" + uniq(), Owner: alice, SecretHash: "h2" + uniq(), CreatedAt: now.Add(time.Second)}
			bobs := application.CalendarFeed{ID: "cf_" + uniq(), Owner: bob, SecretHash: "h3" + uniq(), CreatedAt: now}
			for _, f := range []application.CalendarFeed{second, first, bobs} {
				if err := store.PutFeed(ctx, f); err != nil {
					t.Fatalf("PutFeed(%s): %v", f.ID, err)
				}
			}
			got, err := store.FeedBySecret(ctx, first.SecretHash)
			if err != nil || got.ID != first.ID || got.Owner != alice || got.Name != "Phone" || got.SecretHash != first.SecretHash || !got.CreatedAt.Equal(now) {
				t.Errorf("FeedBySecret = %+v, %v; want %+v", got, err, first)
			}
			if _, err := store.FeedBySecret(ctx, "nope"+uniq()); !errors.Is(err, application.ErrNoCalendarFeed) {
				t.Errorf("FeedBySecret(unknown): err = %v, want ErrNoCalendarFeed", err)
			}
			list, err := store.ListFeeds(ctx, alice)
			if err != nil || len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
				t.Errorf("ListFeeds(alice) = %+v, %v; want [%s %s]", list, err, first.ID, second.ID)
			}
			if list, err := store.ListFeeds(ctx, auth.UserID("u_"+uniq())); err != nil || list == nil || len(list) != 0 {
				t.Errorf("ListFeeds(nobody) = %#v, %v; want an empty, non-nil slice", list, err)
			}
			if err := store.DeleteFeed(ctx, bob, first.ID); !errors.Is(err, application.ErrNoCalendarFeed) {
				t.Errorf("DeleteFeed of alice's feed by bob: err = %v, want ErrNoCalendarFeed", err)
			}
			if _, err := store.FeedBySecret(ctx, first.SecretHash); err != nil {
				t.Errorf("alice's feed after bob's delete: %v", err)
			}
			if err := store.DeleteFeed(ctx, alice, first.ID); err != nil {
				t.Fatalf("DeleteFeed: %v", err)
			}
			if _, err := store.FeedBySecret(ctx, first.SecretHash); !errors.Is(err, application.ErrNoCalendarFeed) {
				t.Errorf("FeedBySecret after delete: err = %v, want ErrNoCalendarFeed", err)
			}
			if err := store.DeleteFeed(ctx, alice, first.ID); !errors.Is(err, application.ErrNoCalendarFeed) {
				t.Errorf("second DeleteFeed: err = %v, want ErrNoCalendarFeed", err)
			}
			if list, _ := store.ListFeeds(ctx, alice); len(list) != 1 || list[0].ID != second.ID {
				t.Errorf("ListFeeds after delete = %+v, want [%s]", list, second.ID)
			}
		})
	}
}
