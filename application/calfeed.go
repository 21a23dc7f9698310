package application

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-backend/todo/application/portable"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/task"
)

// Calendar feeds (issue 20): a read-only ICS subscription URL that a
// calendar app polls without logging in. Its secret is random (32 bytes,
// base64url), shown once when the feed is created; stores keep only its
// SHA-256, so a leaked database names no working URL. A feed is revoked by
// deleting it.

// CalendarFeed is a feed as stored: never its secret.
type CalendarFeed struct {
	ID         string // "cf_" and 16 hex digits, random
	Owner      auth.UserID
	SecretHash string // hex SHA-256 of the secret
	Name       string
	CreatedAt  time.Time
}

// CalendarFeedStore keeps calendar feeds.
type CalendarFeedStore interface {
	// PutFeed stores a new feed.
	PutFeed(ctx context.Context, f CalendarFeed) error
	// ListFeeds returns owner's feeds, oldest first (then by id).
	ListFeeds(ctx context.Context, owner auth.UserID) ([]CalendarFeed, error)
	// DeleteFeed deletes owner's feed id: ErrNoCalendarFeed when owner has
	// no such feed (another user's is the same).
	DeleteFeed(ctx context.Context, owner auth.UserID, id string) error
	// FeedBySecret returns the feed whose secret hashes to hash:
	// ErrNoCalendarFeed when none.
	FeedBySecret(ctx context.Context, hash string) (CalendarFeed, error)
}

// ErrNoCalendarFeed is a feed that does not exist, was revoked or belongs
// to another user.
var ErrNoCalendarFeed = errors.New("calendar feed not found")

// ErrNoCalendarFeeds means the service was built without
// WithCalendarFeeds.
var ErrNoCalendarFeeds = errors.New("application: no calendar feed store (WithCalendarFeeds)")

// WithCalendarFeeds gives the service its store of calendar feeds.
func WithCalendarFeeds(st CalendarFeedStore) Option { return func(s *Service) { s.feeds = st } }

// CalendarFeedWindow is how long a completed task stays in a feed after
// it was completed: a calendar keeps showing what was done last month.
const CalendarFeedWindow = 30 * 24 * time.Hour

// calendarFeedNameMax bounds a feed's name, in code points.
const calendarFeedNameMax = 100

// NewCalendarFeed is a feed just created, with its secret (shown once).
type NewCalendarFeed struct {
	CalendarFeed
	Secret string
}

// CreateCalendarFeed makes a feed of the actor's tasks named name (may be
// empty).
func (s *Service) CreateCalendarFeed(ctx context.Context, a Actor, name string) (NewCalendarFeed, error) {
	if s.feeds == nil {
		return NewCalendarFeed{}, ErrNoCalendarFeeds
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > calendarFeedNameMax || strings.ContainsRune(name, 0) {
		return NewCalendarFeed{}, check.Invalid("name", fmt.Sprintf("must be at most %d characters, without NUL", calendarFeedNameMax), "string_too_long")
	}
	var secret [32]byte
	var id [8]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return NewCalendarFeed{}, fmt.Errorf("feed secret: %w", err)
	}
	if _, err := rand.Read(id[:]); err != nil {
		return NewCalendarFeed{}, fmt.Errorf("feed id: %w", err)
	}
	sec := base64.RawURLEncoding.EncodeToString(secret[:])
	f := CalendarFeed{
		ID: "cf_" + hex.EncodeToString(id[:]), Owner: a.owner, SecretHash: feedSecretHash(sec),
		Name: name, CreatedAt: s.now().UTC().Truncate(time.Microsecond),
	}
	if err := s.feeds.PutFeed(ctx, f); err != nil {
		return NewCalendarFeed{}, fmt.Errorf("store feed: %w", err)
	}
	return NewCalendarFeed{CalendarFeed: f, Secret: sec}, nil
}

// ListCalendarFeeds returns the actor's feeds, oldest first.
func (s *Service) ListCalendarFeeds(ctx context.Context, a Actor) ([]CalendarFeed, error) {
	if s.feeds == nil {
		return nil, ErrNoCalendarFeeds
	}
	return s.feeds.ListFeeds(ctx, a.owner)
}

// RevokeCalendarFeed deletes the actor's feed id: its URL answers 404 from
// then on.
func (s *Service) RevokeCalendarFeed(ctx context.Context, a Actor, id string) error {
	if s.feeds == nil {
		return ErrNoCalendarFeeds
	}
	return s.feeds.DeleteFeed(ctx, a.owner, id)
}

// feedSecretHash is the hex SHA-256 of a feed's secret.
func feedSecretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ValidFeedSecret reports whether secret has the shape of one: 43
// base64url characters (32 bytes). Anything else is not looked up.
func ValidFeedSecret(secret string) bool {
	if len(secret) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(secret)
	return err == nil
}

// CalendarFeedBody is a feed's file and its strong validator.
type CalendarFeedBody struct {
	MediaType string
	Body      []byte
	ETag      string // quoted: the SHA-256 of the body and the feed's id
}

// RenderCalendarFeed renders the feed whose secret is secret, with no
// actor: the secret is the credential. The file holds the owner's live
// tasks with a due date that are open, or were completed within
// CalendarFeedWindow, as the ICS export writes them (format "ics").
// ErrNoCalendarFeed when the secret names no feed. The body is rendered
// whole (a feed holds a user's dated tasks, not an archive) so that its
// ETag is the hash of what is sent.
func (s *Service) RenderCalendarFeed(ctx context.Context, secret string) (CalendarFeedBody, error) {
	if s.feeds == nil {
		return CalendarFeedBody{}, ErrNoCalendarFeeds
	}
	if !ValidFeedSecret(secret) {
		return CalendarFeedBody{}, ErrNoCalendarFeed
	}
	f, err := s.feeds.FeedBySecret(ctx, feedSecretHash(secret))
	if err != nil {
		return CalendarFeedBody{}, err
	}
	ics, ok := s.formats.Export["ics"]
	if !ok {
		return CalendarFeedBody{}, ErrNoFormats
	}
	now := s.now().UTC()
	since := now.Add(-CalendarFeedWindow)
	src := portable.Source{
		ExportedAt: now.Truncate(24 * time.Hour), // the stamp changes daily, not on every poll
		Lists:      func(func(portable.List, error) bool) {},
		Tasks: func(yield func(portable.Task, error) bool) {
			q := task.Query{Limit: exportPage, Sort: task.SortCreated, Order: task.OrderAsc}
			for {
				page, err := s.tasks.List(ctx, f.Owner, q)
				if err != nil {
					yield(portable.Task{}, err)
					return
				}
				for _, t := range page.Tasks {
					if !inCalendarFeed(t, since) {
						continue
					}
					out := taskOut(t, nil)
					out.ListRef = "" // lists are not in the feed
					if !yield(out, nil) {
						return
					}
				}
				if page.Next == nil {
					return
				}
				q.After = page.Next
			}
		},
	}
	var buf bytes.Buffer
	if err := ics.Write(&buf, src); err != nil {
		return CalendarFeedBody{}, fmt.Errorf("render feed: %w", err)
	}
	sum := sha256.New()
	sum.Write([]byte(f.ID))
	sum.Write(buf.Bytes())
	return CalendarFeedBody{MediaType: ics.MediaType, Body: buf.Bytes(), ETag: `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`}, nil
}

// inCalendarFeed reports whether t belongs in a calendar feed: it has a
// due date and is open, or was completed since since.
func inCalendarFeed(t *task.Task, since time.Time) bool {
	if t.Due().IsZero() {
		return false
	}
	if !t.Completed() {
		return true
	}
	at := t.CompletedAt()
	return at != nil && !at.Before(since)
}
