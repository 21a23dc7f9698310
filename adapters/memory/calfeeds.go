package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// CalendarFeedStore is an application.CalendarFeedStore held in memory.
type CalendarFeedStore struct {
	mu     sync.Mutex
	byHash map[string]application.CalendarFeed
}

var _ application.CalendarFeedStore = (*CalendarFeedStore)(nil)

// NewCalendarFeedStore returns an empty store of calendar feeds.
func NewCalendarFeedStore() *CalendarFeedStore {
	return &CalendarFeedStore{byHash: map[string]application.CalendarFeed{}}
}

// PutFeed keeps f.
func (s *CalendarFeedStore) PutFeed(_ context.Context, f application.CalendarFeed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byHash[f.SecretHash] = f
	return nil
}

// ListFeeds returns owner's feeds, oldest first.
func (s *CalendarFeedStore) ListFeeds(_ context.Context, owner auth.UserID) ([]application.CalendarFeed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []application.CalendarFeed{}
	for _, f := range s.byHash {
		if f.Owner == owner {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b application.CalendarFeed) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// DeleteFeed removes owner's feed id.
func (s *CalendarFeedStore) DeleteFeed(_ context.Context, owner auth.UserID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, f := range s.byHash {
		if f.Owner == owner && f.ID == id {
			delete(s.byHash, h)
			return nil
		}
	}
	return application.ErrNoCalendarFeed
}

// FeedBySecret returns the feed whose secret hashes to hash.
func (s *CalendarFeedStore) FeedBySecret(_ context.Context, hash string) (application.CalendarFeed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.byHash[hash]
	if !ok {
		return application.CalendarFeed{}, application.ErrNoCalendarFeed
	}
	return f, nil
}
