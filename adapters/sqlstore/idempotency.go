package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
)

// keyRow is an idempotency_keys row. Status 0 means the first request is
// still running.
type keyRow struct {
	bun.BaseModel `bun:"table:idempotency_keys,alias:k"`

	UserID      string    `bun:"user_id,pk"`
	Key         string    `bun:"idem_key,pk"`
	Fingerprint string    `bun:"fingerprint,notnull"`
	Token       string    `bun:"token,notnull"`
	Status      int       `bun:"status,notnull"`
	Headers     *string   `bun:"headers"`
	Body        []byte    `bun:"body"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	LockedUntil time.Time `bun:"locked_until,notnull"`
	ExpiresAt   time.Time `bun:"expires_at,notnull"`
}

// IdempotencyStore is an application.IdempotencyStore in the idempotency_keys table,
// so that every instance of the service on one database sees every key.
// Its statements run in the transaction their context carries (tx.go):
// a response stored (Finish) in the transaction that wrote what it
// reports is kept or lost with it.
type IdempotencyStore struct {
	db *bun.DB
}

var _ application.IdempotencyStore = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns a store on a migrated db.
func NewIdempotencyStore(db *bun.DB) *IdempotencyStore {
	return &IdempotencyStore{db: db}
}

func claimRow(c application.IdempotencyClaim) keyRow {
	now := c.Now.UTC().Truncate(time.Microsecond)
	return keyRow{
		UserID:      string(c.Key.Owner),
		Key:         c.Key.Value,
		Fingerprint: c.Fingerprint,
		Token:       c.Token,
		CreatedAt:   now,
		LockedUntil: now.Add(c.Lease),
		ExpiresAt:   now.Add(c.TTL),
	}
}

// Begin inserts the key (INSERT ... ON CONFLICT DO NOTHING: of two
// requests racing on one key, on any instances, exactly one inserts). When
// it exists, it is replayed, refused, or, expired or abandoned past its
// lease, taken over by a compare-and-set on its token.
func (s *IdempotencyStore) Begin(ctx context.Context, c application.IdempotencyClaim) (*application.StoredResponse, error) {
	row := claimRow(c)
	db := conn(ctx, s.db)
	for range 3 {
		n, err := affected(db.NewInsert().Model(&row).On("CONFLICT (user_id, idem_key) DO NOTHING").Exec(ctx))
		if err != nil {
			return nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		if n == 1 {
			return nil, nil
		}
		var old keyRow
		err = db.NewSelect().Model(&old).
			Where("k.user_id = ?", row.UserID).
			Where("k.idem_key = ?", row.Key).
			Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			continue // purged or abandoned meanwhile: insert again
		}
		if err != nil {
			return nil, fmt.Errorf("read idempotency key: %w", err)
		}
		now := row.CreatedAt
		switch {
		case !now.Before(old.ExpiresAt):
			// Expired, not purged yet: a new request.
		case old.Fingerprint != c.Fingerprint:
			return nil, application.ErrKeyMismatch
		case old.Status != 0:
			return old.response()
		case now.Before(old.LockedUntil):
			return nil, application.ErrKeyInFlight
		}
		n, err = affected(db.NewUpdate().Model(&row).
			Column("fingerprint", "token", "status", "headers", "body", "created_at", "locked_until", "expires_at").
			Where("k.user_id = ?", row.UserID).
			Where("k.idem_key = ?", row.Key).
			Where("k.token = ?", old.Token).
			Exec(ctx))
		if err != nil {
			return nil, fmt.Errorf("take over idempotency key: %w", err)
		}
		if n == 1 {
			return nil, nil
		}
		// Someone else took it over first: look again.
	}
	return nil, application.ErrKeyInFlight
}

func (r *keyRow) response() (*application.StoredResponse, error) {
	resp := &application.StoredResponse{Status: r.Status, Body: r.Body}
	if r.Headers != nil {
		if err := json.Unmarshal([]byte(*r.Headers), &resp.Header); err != nil {
			return nil, fmt.Errorf("read idempotency key headers: %w", err)
		}
	}
	return resp, nil
}

// Finish stores the response on the key, if this claim still holds it.
func (s *IdempotencyStore) Finish(ctx context.Context, c application.IdempotencyClaim, r application.StoredResponse) error {
	h, err := json.Marshal(r.Header)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	headers := string(h)
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	_, err = conn(ctx, s.db).NewUpdate().Model((*keyRow)(nil)).
		Set("status = ?", r.Status).
		Set("headers = ?", headers).
		Set("body = ?", body).
		ApplyQueryBuilder(heldBy(c)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// heldBy narrows a statement to the key c claimed, while c still holds it
// unfinished: the same owner, key and claim token, no response stored yet.
func heldBy(c application.IdempotencyClaim) func(bun.QueryBuilder) bun.QueryBuilder {
	return func(q bun.QueryBuilder) bun.QueryBuilder {
		return q.Where("k.user_id = ?", string(c.Key.Owner)).
			Where("k.idem_key = ?", c.Key.Value).
			Where("k.token = ?", c.Token).
			Where("k.status = 0")
	}
}

// Abandon deletes the key, if this claim still holds it unfinished.
func (s *IdempotencyStore) Abandon(ctx context.Context, c application.IdempotencyClaim) error {
	_, err := conn(ctx, s.db).NewDelete().Model((*keyRow)(nil)).
		ApplyQueryBuilder(heldBy(c)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// Purge deletes at most limit expired keys, the oldest first, in one
// statement that reads idempotency_keys_expires_idx.
func (s *IdempotencyStore) Purge(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	n, err := affected(conn(ctx, s.db).NewRaw(
		"DELETE FROM idempotency_keys WHERE (user_id, idem_key) IN ("+
			"SELECT user_id, idem_key FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
		now.UTC().Truncate(time.Microsecond), limit).Exec(ctx))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return int(n), nil
}
