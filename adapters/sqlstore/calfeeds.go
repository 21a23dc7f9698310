package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// calendarFeedRow is a calendar_feeds row.
type calendarFeedRow struct {
	bun.BaseModel `bun:"table:calendar_feeds,alias:cf"`

	ID         string    `bun:"id,pk"`
	UserID     string    `bun:"user_id,notnull"`
	SecretHash string    `bun:"secret_hash,notnull"`
	Name       string    `bun:"name,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

func (r calendarFeedRow) feed() application.CalendarFeed {
	return application.CalendarFeed{ID: r.ID, Owner: auth.UserID(r.UserID), SecretHash: r.SecretHash, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
}

// CalendarFeedStore is an application.CalendarFeedStore in the
// calendar_feeds table, which every instance reads.
type CalendarFeedStore struct {
	db *bun.DB
}

var _ application.CalendarFeedStore = (*CalendarFeedStore)(nil)

// NewCalendarFeedStore returns a store on a migrated db.
func NewCalendarFeedStore(db *bun.DB) *CalendarFeedStore { return &CalendarFeedStore{db: db} }

// PutFeed inserts f.
func (s *CalendarFeedStore) PutFeed(ctx context.Context, f application.CalendarFeed) error {
	row := calendarFeedRow{ID: f.ID, UserID: string(f.Owner), SecretHash: f.SecretHash, Name: f.Name, CreatedAt: f.CreatedAt.UTC()}
	if _, err := conn(ctx, s.db).NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("insert calendar feed: %w", err)
	}
	return nil
}

// ListFeeds returns owner's feeds, oldest first.
func (s *CalendarFeedStore) ListFeeds(ctx context.Context, owner auth.UserID) ([]application.CalendarFeed, error) {
	var rows []calendarFeedRow
	err := conn(ctx, s.db).NewSelect().Model(&rows).Where("user_id = ?", string(owner)).OrderExpr("created_at, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list calendar feeds: %w", err)
	}
	out := make([]application.CalendarFeed, len(rows))
	for i, r := range rows {
		out[i] = r.feed()
	}
	return out, nil
}

// DeleteFeed deletes owner's feed id.
func (s *CalendarFeedStore) DeleteFeed(ctx context.Context, owner auth.UserID, id string) error {
	res, err := conn(ctx, s.db).NewDelete().Model((*calendarFeedRow)(nil)).Where("id = ? AND user_id = ?", id, string(owner)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete calendar feed: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete calendar feed: %w", err)
	} else if n == 0 {
		return application.ErrNoCalendarFeed
	}
	return nil
}

// FeedBySecret returns the feed whose secret hashes to hash.
func (s *CalendarFeedStore) FeedBySecret(ctx context.Context, hash string) (application.CalendarFeed, error) {
	var row calendarFeedRow
	err := conn(ctx, s.db).NewSelect().Model(&row).Where("secret_hash = ?", hash).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return application.CalendarFeed{}, application.ErrNoCalendarFeed
	}
	if err != nil {
		return application.CalendarFeed{}, fmt.Errorf("calendar feed: %w", err)
	}
	return row.feed(), nil
}
