package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todo-backend/todo/adapters/httpapi/mw"
	"github.com/todo-backend/todo/application"
)

// Calendar feeds (issue 20). Creating a feed does not honour
// Idempotency-Key, as a ticket does not: the stored replay would keep the
// secret's URL in plain text for a day; a retry makes a second feed, which
// the user can revoke. The three routes under /api manage a user's
// feeds with their token; GET /calendar/{secret}.ics is public: the secret
// in the URL is the credential, never a JWT, and the operation has no
// security requirement, so authenticate and authorize pass it by and the
// IP limit still counts it (mw.IPLimited).

const (
	calendarFeedsPath = "/api/{user_id}/calendar-feeds"
	calendarFeedPath  = calendarFeedsPath + "/{id}"
	calendarPath      = "/calendar/{secret}.ics"
	msgFeedNotFound   = "Calendar feed not found"
	// calendarCacheControl lets a calendar app (a private cache) keep the
	// file 5 minutes before it asks again with If-None-Match.
	calendarCacheControl = "private, max-age=300"
)

// CalendarFeedJSON is a feed as listed: never its secret.
type CalendarFeedJSON struct {
	_         struct{}  `json:"-" additionalProperties:"false"`
	ID        string    `json:"id" example:"cf_0123456789abcdef"`
	Name      string    `json:"name" doc:"What the user called it; \"\" when unnamed."`
	CreatedAt time.Time `json:"created_at"`
}

// CreatedCalendarFeedJSON is a feed just created, with its URL: the only
// time the secret is shown.
type CreatedCalendarFeedJSON struct {
	_         struct{}  `json:"-" additionalProperties:"false"`
	ID        string    `json:"id" example:"cf_0123456789abcdef"`
	Name      string    `json:"name"`
	URL       string    `json:"url" doc:"The subscription URL, /calendar/<secret>.ics: absolute on PUBLIC_URL (or what a trusted proxy forwards), relative otherwise. Shown only now; the service keeps only the SHA-256 of the secret."`
	CreatedAt time.Time `json:"created_at"`
}

type calendarFeedsInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
}

// createCalendarFeedBody is optional; a body that is sent names the feed
// (a body without name, such as a misspelt one, is 422 rather than a
// nameless feed).
type createCalendarFeedBody struct {
	Name string `json:"name" maxLength:"100" doc:"A name for the feed (the calendar app it is for)."`
}

type createCalendarFeedInput struct {
	UserID string                  `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Body   *createCalendarFeedBody `required:"false"`

	origin origin // where the request came from, for the URL's base
}

// Resolve keeps where the request came from (see links.base).
func (in *createCalendarFeedInput) Resolve(ctx huma.Context) []error {
	in.origin = originOf(ctx)
	return nil
}

type calendarFeedInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ID     string `path:"id" pattern:"^cf_[0-9a-f]{16}$" doc:"The feed's id." example:"cf_0123456789abcdef"`
}

type createCalendarFeedOutput struct {
	Body CreatedCalendarFeedJSON
}

type listCalendarFeedsOutput struct {
	Body []CalendarFeedJSON `nullable:"false"`
}

type calendarInput struct {
	Secret      string `path:"secret" maxLength:"64" doc:"The feed's secret, as its URL was given."`
	IfNoneMatch string `header:"If-None-Match" doc:"The ETag of the copy the client has: 304 while it is current."`
}

func (h *handlers) createCalendarFeed(ctx context.Context, in *createCalendarFeedInput) (*createCalendarFeedOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	var name string
	if in.Body != nil {
		name = in.Body.Name
	}
	f, err := h.svc.CreateCalendarFeed(ctx, a, name)
	if err != nil {
		return nil, h.calendarError(ctx, err, "body")
	}
	base := h.links.base(in.origin)
	return &createCalendarFeedOutput{Body: CreatedCalendarFeedJSON{
		ID: f.ID, Name: f.Name, CreatedAt: f.CreatedAt, URL: base + strings.Replace(calendarPath, "{secret}", f.Secret, 1),
	}}, nil
}

func (h *handlers) listCalendarFeeds(ctx context.Context, in *calendarFeedsInput) (*listCalendarFeedsOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	feeds, err := h.svc.ListCalendarFeeds(ctx, a)
	if err != nil {
		return nil, h.calendarError(ctx, err, "path")
	}
	out := make([]CalendarFeedJSON, len(feeds))
	for i, f := range feeds {
		out[i] = CalendarFeedJSON{ID: f.ID, Name: f.Name, CreatedAt: f.CreatedAt}
	}
	return &listCalendarFeedsOutput{Body: out}, nil
}

func (h *handlers) revokeCalendarFeed(ctx context.Context, in *calendarFeedInput) (*struct{}, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if err := h.svc.RevokeCalendarFeed(ctx, a, in.ID); err != nil {
		return nil, h.calendarError(ctx, err, "path")
	}
	return nil, nil
}

// calendar serves a feed's file to whoever has its URL.
func (h *handlers) calendar(ctx context.Context, in *calendarInput) (*huma.StreamResponse, error) {
	feed, err := h.svc.RenderCalendarFeed(ctx, in.Secret)
	if err != nil {
		return nil, h.calendarError(ctx, err, "path")
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("ETag", feed.ETag)
		hc.SetHeader("Cache-Control", calendarCacheControl)
		if noneMatch(in.IfNoneMatch, feed.ETag) {
			hc.SetStatus(http.StatusNotModified)
			return
		}
		hc.SetHeader("Content-Type", feed.MediaType)
		hc.SetStatus(http.StatusOK)
		_, _ = hc.BodyWriter().Write(feed.Body)
	}}, nil
}

func (h *handlers) calendarError(ctx context.Context, err error, loc string) error {
	if errors.Is(err, application.ErrNoCalendarFeed) {
		return newHTTPError(http.StatusNotFound, msgFeedNotFound)
	}
	return h.errs.toResponse(ctx, err, loc)
}

// calendarResponses documents the public feed: text/calendar, its ETag
// and Cache-Control, 304, and that the IP limit counts it.
func calendarResponses(_ huma.API, op *huma.Operation) {
	ok := op.Responses["200"]
	if ok == nil {
		ok = &huma.Response{}
		op.Responses["200"] = ok
	}
	str := &huma.Schema{Type: huma.TypeString}
	ok.Description = "The feed: an RFC 5545 calendar of VTODOs."
	ok.Content = map[string]*huma.MediaType{"text/calendar; charset=utf-8": {Schema: str}}
	ok.Headers = map[string]*huma.Param{
		"ETag":          etagHeaderDoc,
		"Cache-Control": {Description: calendarCacheControl, Schema: str},
	}
	notModified(nil, op)
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[mw.IPLimited] = true
}
